/* The report form, enhanced: a pin to drag or tap, the phone's position, address search,
   the address of the pin, similar reports nearby, photo previews and the photo's position. */
(function () {
  "use strict";
  var form = document.querySelector("form.report-form");
  if (!form || !window.L) { return; }
  document.documentElement.classList.add("js");

  var $ = function (id) { return document.getElementById(id); };
  var lat = $("lat"), lon = $("lon"), address = $("address"), category = $("category");
  var located = $("located"), problem = form.dataset.kind === "problem";
  var map = window.TellCityMap($("form-map"));
  var pin = null, addressWasTyped = !!address.value, photoPosition = null;

  function say(text) { located.textContent = text; }

  function json(url, options) {
    return fetch(url, options).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    });
  }

  function place(latlng, zoom) {
    if (!pin) {
      pin = L.marker(latlng, { draggable: true, autoPan: true }).addTo(map);
      pin.on("dragend", function () { moved(pin.getLatLng()); });
    }
    pin.setLatLng(latlng);
    map.setView(latlng, zoom || Math.max(map.getZoom(), 17));
    moved(latlng);
  }

  function moved(latlng) {
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
    say(form.dataset.placed);
    if (!addressWasTyped) {
      json(form.dataset.reverse + "?lat=" + lat.value + "&lon=" + lon.value)
        .then(function (data) {
          if (data.address) { address.value = data.address; say(form.dataset.placed + " " + data.address); }
        })
        .catch(function () {});
    }
    checkNearby();
  }

  map.on("click", function (event) { place(event.latlng); });

  if (lat.value && lon.value) { place(L.latLng(+lat.value, +lon.value)); }

  $("locate").addEventListener("click", function () {
    if (!navigator.geolocation) { return; }
    say("…");
    navigator.geolocation.getCurrentPosition(
      function (position) { place(L.latLng(position.coords.latitude, position.coords.longitude), 18); },
      function () { say(form.dataset.noGeolocation || "✕"); },
      { enableHighAccuracy: true, timeout: 10000 }
    );
  });

  var typing = null;
  address.addEventListener("input", function () {
    addressWasTyped = true;
    clearTimeout(typing);
    var query = address.value.trim();
    if (query.length < 5) { return; }
    typing = setTimeout(function () {
      json(form.dataset.geocode + "?q=" + encodeURIComponent(query))
        .then(function (data) {
          if (data.places.length) {
            var first = data.places[0];
            addressWasTyped = true;
            place(L.latLng(first.lat, first.lon));
            say(form.dataset.placed + " " + first.label);
          }
        })
        .catch(function () {});
    }, 600);
  });

  /* Similar open reports nearby, while the resident is still filling in the form. */
  var nearbyBox = document.createElement("section");
  nearbyBox.className = "nearby";
  nearbyBox.hidden = true;
  nearbyBox.setAttribute("aria-live", "polite");
  form.querySelector("fieldset.where").after(nearbyBox);

  function checkNearby() {
    if (!problem || !lat.value || !category.value) { return; }
    var url = form.dataset.nearby + "?lat=" + lat.value + "&lon=" + lon.value +
      "&category=" + encodeURIComponent(category.value);
    json(url).then(showNearby).catch(function () {});
  }

  function showNearby(data) {
    nearbyBox.textContent = "";
    nearbyBox.hidden = !data.reports.length;
    if (!data.reports.length) { return; }
    var title = document.createElement("h2");
    title.textContent = form.dataset.sameTitle;
    nearbyBox.appendChild(title);
    var list = document.createElement("ul");
    list.className = "cards";
    data.reports.forEach(function (report) {
      var item = document.createElement("li"), link = document.createElement("a");
      item.className = "card";
      if (report.photo) {
        var img = document.createElement("img");
        img.src = report.photo.thumbnail_url; img.alt = ""; img.className = "thumb";
        item.appendChild(img);
      }
      link.href = report.url; link.className = "card-title";
      link.textContent = report.reference + " — " + report.distance_m + " m";
      item.appendChild(link);
      var text = document.createElement("span");
      text.className = "card-meta"; text.textContent = report.description;
      item.appendChild(text);
      var button = document.createElement("button");
      button.type = "submit"; button.className = "button button-small";
      button.formAction = "/reports/" + encodeURIComponent(report.reference) + "/support";
      button.formNoValidate = true;
      button.textContent = form.dataset.meToo;
      item.appendChild(button);
      list.appendChild(item);
    });
    nearbyBox.appendChild(list);
    var seen = form.querySelector("input[name=not_a_duplicate]");
    if (seen) { seen.checked = true; }
  }
  category.addEventListener("change", checkNearby);

  /* Photo previews, and the position stored in the first photo if it has one. */
  var photos = $("photos"), previews = $("previews");
  photos.addEventListener("change", function () {
    previews.textContent = "";
    Array.prototype.slice.call(photos.files, 0, 3).forEach(function (file) {
      var img = document.createElement("img");
      img.src = URL.createObjectURL(file); img.alt = file.name;
      previews.appendChild(img);
    });
    if (!photos.files.length) { return; }
    var body = new FormData();
    body.append("photo", photos.files[0]);
    json(form.dataset.photoGps, { method: "POST", body: body })
      .then(function (data) {
        photoPosition = data.position;
        $("photo-gps").hidden = !photoPosition;
      })
      .catch(function () {});
  });
  $("use-photo-gps").addEventListener("click", function () {
    if (photoPosition) { place(L.latLng(photoPosition.lat, photoPosition.lon), 18); }
  });
})();
