/* The administration pages, enhanced: a question before deleting or revoking, maps of the
   zones, and a click on the routing tester's map to choose the point. Everything works
   without it. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });

  if (!window.L) { return; }

  /* A map in `box` with its tiles, the city's limits and its zones (named on hover). */
  function zoneMap(box) {
    var map = L.map(box);
    L.tileLayer(box.dataset.tiles, { attribution: box.dataset.attribution, maxZoom: 19 }).addTo(map);
    var data = document.getElementById("zones-data");
    var layer = L.geoJSON(data ? JSON.parse(data.textContent) : [], {
      style: function (feature) {
        return feature.properties.kind === "city"
          ? { color: "#14213d", weight: 2, fill: false }
          : { color: "#1971c2", weight: 1, fillOpacity: 0.08 };
      },
      onEachFeature: function (feature, shape) {
        if (feature.properties.kind === "zone") { shape.bindTooltip(feature.properties.name); }
      }
    }).addTo(map);
    return { map: map, bounds: layer.getBounds() };
  }

  var zones = document.getElementById("zones-map");
  if (zones) {
    var overview = zoneMap(zones);
    if (overview.bounds.isValid()) { overview.map.fitBounds(overview.bounds); }
  }

  var tester = document.getElementById("tester-map");
  if (tester) {
    var lat = document.getElementById("lat");
    var lon = document.getElementById("lon");
    var centre = [parseFloat(tester.dataset.lat), parseFloat(tester.dataset.lon)];
    var map = zoneMap(tester).map;
    map.setView(centre, parseInt(tester.dataset.zoom, 10) || 14);
    var pin = L.marker(centre).addTo(map);
    map.on("click", function (event) {
      pin.setLatLng(event.latlng);
      lat.value = event.latlng.lat.toFixed(6);
      lon.value = event.latlng.lng.toFixed(6);
    });
  }
})();
