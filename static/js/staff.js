/* The dashboard, enhanced: keyboard shortcuts, select all, reply templates filled in, and the
   clustered map of the filtered tickets. Everything works without it. */
(function () {
  "use strict";

  function typing(event) {
    var tag = (event.target.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable;
  }

  /* Queue: "/" search, j/k move, Enter opens, x selects. */
  var rows = Array.prototype.slice.call(document.querySelectorAll("table.queue tbody tr"));
  var current = -1;
  function focusRow(index) {
    if (!rows.length) { return; }
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, i) { row.classList.toggle("current", i === current); });
    rows[current].scrollIntoView({ block: "nearest" });
    rows[current].querySelector("a").focus();
  }

  var selectAll = document.getElementById("select-all");
  if (selectAll) {
    selectAll.addEventListener("change", function () {
      document.querySelectorAll("input[name=ticket]").forEach(function (box) { box.checked = selectAll.checked; });
    });
  }

  /* Ticket: a/s/r choose acknowledge, start, resolve; n writes a note. */
  var statusSelect = document.getElementById("to");
  function choose(status, focus) {
    if (!statusSelect) { return; }
    var option = statusSelect.querySelector("option[value=" + status + "]");
    if (!option) { return; }
    statusSelect.value = status;
    statusSelect.dispatchEvent(new Event("change"));
    var target = document.getElementById(focus || "status-text");
    if (target) { target.focus(); }
  }

  document.addEventListener("keydown", function (event) {
    if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var search = document.getElementById("q");
    var keys = {
      "/": function () { if (search) { search.focus(); } },
      j: function () { focusRow(current + 1); },
      k: function () { focusRow(current - 1); },
      x: function () { if (current >= 0) { var box = rows[current].querySelector("input[type=checkbox]"); box.checked = !box.checked; } },
      a: function () { choose("acknowledged"); },
      s: function () { choose("in_progress"); },
      r: function () { choose("resolved"); },
      n: function () { var note = document.getElementById("note-text"); if (note) { note.focus(); } }
    };
    if (keys[event.key]) { event.preventDefault(); keys[event.key](); }
  });

  /* On a phone the filters start folded, so that the tickets (or the map) come first; without
     JavaScript they stay open. */
  var filters = document.querySelector("details.filters");
  if (filters && window.matchMedia("(max-width: 40rem)").matches) { filters.open = false; }

  /* Status form: only the fields the chosen move needs (each says which in data-for). A hidden
     field is disabled too, so that nothing typed for another move is sent, and a shown one is
     required, as the server will require it; the reason codes are those of the chosen move. */
  var statusForm = document.getElementById("status-form");
  function showMoveFields() {
    var status = statusSelect.value;
    statusForm.querySelectorAll("[data-for]").forEach(function (part) {
      var applies = part.dataset.for.split(" ").indexOf(status) >= 0;
      part.hidden = !applies;
      part.querySelectorAll("input, select, textarea").forEach(function (control) {
        control.disabled = !applies;
        control.required = applies;
      });
    });
    statusForm.querySelectorAll("optgroup[data-status]").forEach(function (group) {
      var mine = group.dataset.status === status;
      group.hidden = !mine;
      group.disabled = !mine;
    });
    var reason = document.getElementById("reason");
    var code = reason && reason.options[reason.selectedIndex];
    if (code && code.parentNode.disabled) { reason.value = ""; }
  }
  if (statusForm && statusSelect) {
    statusSelect.addEventListener("change", showMoveFields);
    showMoveFields();
  }

  /* Reply templates: choosing one fills the text box, to be read and edited before sending. */
  document.querySelectorAll("select[data-fill]").forEach(function (select) {
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      if (!option.dataset.url) { return; }
      fetch(option.dataset.url, { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) { document.querySelector(select.dataset.fill).value = data.text; });
    });
  });

  /* The clustered map of the filtered tickets. */
  var mapElement = document.querySelector(".map[data-points]");
  if (mapElement && window.L) {
    var map = window.TellCityMap(mapElement);
    fetch(mapElement.dataset.points, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var cluster = L.markerClusterGroup ? L.markerClusterGroup() : L.layerGroup();
        data.points.forEach(function (point) {
          var link = document.createElement("a");
          link.href = "/staff/tickets/" + encodeURIComponent(point.reference);
          link.textContent = point.reference + " · " + point.status;
          cluster.addLayer(L.marker([point.lat, point.lon]).bindPopup(link));
        });
        map.addLayer(cluster);
      });
  }
})();
