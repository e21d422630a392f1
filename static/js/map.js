/* TellCity maps (Leaflet). Each .map element carries its settings in data-* attributes and
   the city boundary in a JSON script tag; the page works without any of this. */
(function () {
  "use strict";

  function boundaryOf(element) {
    var script = document.getElementById(element.id + "-boundary");
    return script ? JSON.parse(script.textContent) : null;
  }

  function link(reference) {
    var anchor = document.createElement("a");
    anchor.href = "/reports/" + encodeURIComponent(reference);
    anchor.textContent = reference;
    return anchor;
  }

  var MAX_ZOOM = 19;

  /* Without tiles (offline, or the tile server down) all the map can show is the city's
     outline and the pins on it: say so, and never zoom past the level that shows the city,
     where a blank square would be all there is to see. A batch of tiles of which none loaded
     means they are unavailable; a tile that loads means they are back. */
  function watchTiles(map, tiles, element, cityZoom) {
    var notice = document.createElement("p");
    notice.className = "map-notice";
    notice.setAttribute("role", "status");
    notice.hidden = true;
    element.appendChild(notice);
    var loaded = 0;
    function available(yes) {
      if (notice.hidden === yes) { return; }
      notice.hidden = yes;
      notice.textContent = yes ? "" : element.dataset.noTiles;
      element.classList.toggle("map-without-tiles", !yes);
      map.setMaxZoom(yes ? MAX_ZOOM : cityZoom);  /* zooms out if beyond */
    }
    tiles.on("loading", function () { loaded = 0; });
    tiles.on("tileload", function () { loaded += 1; available(true); });
    tiles.on("tileerror", function () { if (!loaded) { available(false); } });
    window.addEventListener("online", function () { tiles.redraw(); });
  }

  /* A map of the city with its boundary drawn: readable even when the tiles cannot load. */
  window.TellCityMap = function (element) {
    var d = element.dataset;
    var map = L.map(element, { scrollWheelZoom: false, tap: true })
      .setView([+d.lat, +d.lon], +d.zoom);
    var tiles = L.tileLayer(d.tiles, { attribution: d.attribution, maxZoom: MAX_ZOOM });
    var cityZoom = +d.zoom;
    var boundary = boundaryOf(element);
    if (boundary) {
      var outline = L.geoJSON(boundary, {
        interactive: false,
        style: { color: "#0b5cad", weight: 3, fillOpacity: 0.03 }
      }).addTo(map);
      cityZoom = map.getBoundsZoom(outline.getBounds(), false, L.point(16, 16));
      if (!d.latPoint) { map.fitBounds(outline.getBounds(), { padding: [8, 8] }); }
    }
    watchTiles(map, tiles, element, cityZoom);
    tiles.addTo(map);
    element.classList.add("map-ready");
    return map;
  };

  function showMarkers(element) {
    var map = window.TellCityMap(element);
    var layer = L.layerGroup().addTo(map);
    function load() {
      var b = map.getBounds();
      var box = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].join(",");
      fetch(element.dataset.markers + "?bbox=" + box)
        .then(function (response) { return response.json(); })
        .then(function (data) {
          layer.clearLayers();
          data.features.forEach(function (feature) {
            var p = feature.properties, c = feature.geometry.coordinates;
            L.circleMarker([c[1], c[0]], {
              radius: 8, weight: 2, color: "#fff",
              fillColor: p.open ? "#d9480f" : "#2b8a3e", fillOpacity: 0.9
            }).bindPopup(link(p.reference)).addTo(layer);
          });
        })
        .catch(function () { /* the list below the map says the same */ });
    }
    map.on("moveend", load);
    load();
  }

  function showPoint(element) {
    var map = window.TellCityMap(element);
    var point = [+element.dataset.latPoint, +element.dataset.lonPoint];
    L.circleMarker(point, { radius: 10, weight: 3, color: "#fff", fillColor: "#d9480f", fillOpacity: 1 })
      .addTo(map);
    map.setView(point, 17);
  }

  document.querySelectorAll(".map[data-markers]").forEach(showMarkers);
  document.querySelectorAll(".map[data-lat-point]").forEach(showPoint);
})();
