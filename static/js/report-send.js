/* The report form, sent from a phone: photos made smaller before they leave it (longest side
   at most 2,048 px, JPEG: a 5 MB camera photo costs a few hundred KB), and, without a
   connection, the form kept on the phone (static/js/offline.js) and sent by itself once the
   connection is back, the page then showing its reference and tracking link. The server
   checks and resizes the photos again whatever is sent. Without JavaScript the form is sent
   as it is. */
(function () {
  "use strict";
  var form = document.querySelector("form.report-form");
  var outbox = window.TellCityOutbox, kept = document.getElementById("kept-report");
  if (!form || !outbox || !kept || !window.FormData) { return; }
  var MAX_SIDE = 2048, SMALL_ENOUGH = 1024 * 1024, QUALITY = 0.8;
  var photos = document.getElementById("photos"), ready = false;
  /* A copy the phone kept (see /sw.js) is always sent as a kept report: its CSRF token may
     have expired since the copy was made. */
  var copy = form.hasAttribute("data-offline-copy");

  /* The photo as a JPEG at most MAX_SIDE on its longest side, or as it is when it is already
     small enough or the browser cannot redraw it (the server then does). */
  function smaller(file) {
    if (!window.createImageBitmap || !/^image\//.test(file.type)) { return Promise.resolve(file); }
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      if (scale === 1 && file.size <= SMALL_ENOUGH) { bitmap.close(); return file; }
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      var pen = canvas.getContext("2d");
      pen.fillStyle = "#fff";  // a transparent PNG on white, not on JPEG's black
      pen.fillRect(0, 0, canvas.width, canvas.height);
      pen.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob || blob.size >= file.size) { resolve(file); return; }
          var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
          resolve(new File([blob], name, { type: "image/jpeg", lastModified: file.lastModified }));
        }, "image/jpeg", QUALITY);
      });
    }).catch(function () { return file; });
  }

  /* Put the smaller photos in the file input itself, so that the form sends them. One at a
     time: a 12-megapixel photo takes 48 MB of memory while it is redrawn. */
  function shrinkPhotos() {
    if (!photos || !photos.files.length || !window.DataTransfer) { return Promise.resolve(); }
    var transfer = new DataTransfer();
    return Array.prototype.reduce.call(photos.files, function (done, file) {
      return done.then(function () { return smaller(file); }).then(function (small) {
        transfer.items.add(small);
      });
    }, Promise.resolve()).then(function () { photos.files = transfer.files; });
  }

  function categoryLabel() {
    var category = document.getElementById("category");
    var option = category && category.options[category.selectedIndex];
    return option && option.value ? option.textContent.trim() : "";
  }

  /* The page after keeping the report: its state, then its reference once it is sent. */
  function showKept(key, sending) {
    var panel = kept.content.firstElementChild.cloneNode(true);
    var slot = function (name) { return panel.querySelector("[data-slot=" + name + "]"); };
    function show(state) {
      panel.querySelectorAll("[data-state]").forEach(function (part) {
        part.hidden = part.dataset.state !== state;
      });
    }
    outbox.listen(function (message) {
      if (message.key !== key) { return; }
      if (message.state === "sent") {
        slot("reference").textContent = message.report.reference;
        slot("department").textContent = message.report.department;
        slot("tracking").href = message.report.trackingUrl;
        show("sent");
      } else if (message.state === "refused") {
        slot("error").textContent = message.error;
        show("refused");
      }
    });
    /* Refused: the form comes back as it was filled in, the reason above it, to be sent again. */
    slot("correct").addEventListener("click", function () {
      outbox.forget("outbox", key).then(function () {
        var reason = panel.querySelector("[data-state=refused] [role=alert]");
        panel.replaceWith(reason);
        form.hidden = false;
        ready = false;
        reason.scrollIntoView();
      });
    });
    show(sending ? "sending" : "waiting");
    form.hidden = true;
    form.before(panel);
    scrollTo(0, 0);
    panel.focus();
    return show;
  }

  function keep() {
    var data = new FormData(form);
    return outbox.keep(data, { kind: form.dataset.kind, title: categoryLabel() }).then(function (entry) {
      var show = showKept(entry.key, navigator.onLine);
      outbox.syncLater();
      if (navigator.onLine) { outbox.send(entry).catch(function () { show("waiting"); }); }
    });
  }

  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (ready || (button && button.hasAttribute("formaction"))) { return; }  // "me too"
    event.preventDefault();
    // Offline, what the browser can check is checked now: the server's answer comes later.
    if ((!navigator.onLine || copy) && !form.checkValidity()) { form.reportValidity(); return; }
    shrinkPhotos().then(function () {
      if (!navigator.onLine || copy) { return keep(); }
      ready = true;
      form.submit();
    }).catch(function () {
      ready = true;
      form.submit();
    });
  });
})();
