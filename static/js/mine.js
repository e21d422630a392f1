/* "My reports" (/mine): the reports this phone filed and those waiting to be sent, read from
   the phone (static/js/offline.js), newest first; redrawn whenever one is sent. */
(function () {
  "use strict";
  var outbox = window.TellCityOutbox, list = document.getElementById("mine-list");
  if (!outbox || !list) { return; }
  var script = document.currentScript, item = document.getElementById("mine-item");
  var offline = document.querySelector(".js-offline"), lang = document.documentElement.lang;

  function date(iso) {
    var when = new Date(iso);
    return isNaN(when) ? "" : when.toLocaleDateString(lang, { day: "numeric", month: "long", year: "numeric" });
  }

  function untitled(kind) {
    return kind === "suggestion" ? script.dataset.untitledIdea : script.dataset.untitledProblem;
  }

  function card(title, reference, when) {
    var node = item.content.firstElementChild.cloneNode(true);
    var slot = function (name) { return node.querySelector("[data-slot=" + name + "]"); };
    slot("link").textContent = title;
    slot("reference").textContent = reference ? reference + " · " : "";
    slot("date").textContent = date(when);
    slot("date").dateTime = when || "";
    return { node: node, slot: slot };
  }

  function waitingCard(entry) {
    var drawn = card(entry.title || untitled(entry.kind), "", entry.keptAt);
    if (entry.error) {
      drawn.slot("waiting").remove();
      drawn.slot("refused").hidden = false;
      drawn.slot("error").textContent = entry.error;
      drawn.slot("remove").hidden = false;
      drawn.slot("remove").addEventListener("click", function () { outbox.forget("outbox", entry.key); });
    } else {
      drawn.slot("refused").remove();
      drawn.slot("remove").remove();
    }
    return drawn.node;
  }

  function filedCard(report) {
    var drawn = card(report.title || untitled(report.kind), report.reference, report.filedAt);
    drawn.slot("link").href = report.trackingUrl;
    ["waiting", "refused", "remove"].forEach(function (name) { drawn.slot(name).remove(); });
    return drawn.node;
  }

  function newestFirst(a, b) { return (b.at || "").localeCompare(a.at || ""); }

  function draw() {
    Promise.all([outbox.waiting(), outbox.mine()]).then(function (found) {
      var cards = found[0].map(function (entry) { return { at: entry.keptAt, node: waitingCard(entry) }; })
        .sort(newestFirst)
        .concat(found[1].map(function (report) { return { at: report.filedAt, node: filedCard(report) }; })
          .sort(newestFirst));
      list.textContent = "";
      cards.forEach(function (drawn) { list.appendChild(drawn.node); });
      document.getElementById("mine-empty").hidden = cards.length > 0;
    });
  }

  function showConnection() { offline.hidden = navigator.onLine; }
  addEventListener("online", showConnection);
  addEventListener("offline", showConnection);
  showConnection();
  outbox.listen(draw);
  draw();
})();
