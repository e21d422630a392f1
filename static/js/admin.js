/* The administration pages, enhanced: a question before deleting or revoking, and a click on
   the routing tester's map to choose the point. Everything works without it. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });

  var box = document.getElementById("tester-map");
  if (!box || !window.L) { return; }
  var lat = document.getElementById("lat");
  var lon = document.getElementById("lon");
  var centre = [parseFloat(box.dataset.lat), parseFloat(box.dataset.lon)];
  var map = L.map(box).setView(centre, parseInt(box.dataset.zoom, 10) || 14);
  L.tileLayer(box.dataset.tiles, { attribution: box.dataset.attribution, maxZoom: 19 }).addTo(map);
  var pin = L.marker(centre).addTo(map);
  map.on("click", function (event) {
    pin.setLatLng(event.latlng);
    lat.value = event.latlng.lat.toFixed(6);
    lon.value = event.latlng.lng.toFixed(6);
  });
})();
