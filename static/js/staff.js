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
