/* Reports kept on this phone, in IndexedDB, for the pages and the service worker alike:
   "outbox", those waiting to be sent, each under its form's idempotency key (so that sending
   one twice files it once); "mine", those filed from this phone (reference, tracking link,
   title, date), listed by "My reports" (/mine). On a page it also installs the service worker
   (/sw.js), sends what waits whenever the page opens online or the connection
   comes back, and remembers the report of a tracking page. */
(function (scope) {
  "use strict";
  var NAME = "tellcity", SYNC_TAG = "tellcity-outbox";
  var sendUrl = "/report/send", listeners = [], sending = null;
  var channel = scope.BroadcastChannel ? new BroadcastChannel("tellcity-outbox") : null;

  function open() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore("outbox", { keyPath: "key" });
        request.result.createObjectStore("mine", { keyPath: "reference" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  /* One transaction on one store; resolves with the result of `work`'s request once done. */
  function withStore(name, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(name, mode), result;
        var request = work(transaction.objectStore(name));
        request.onsuccess = function () { result = request.result; };
        transaction.oncomplete = function () { db.close(); resolve(result); };
        transaction.onerror = transaction.onabort = function () { db.close(); reject(transaction.error); };
      });
    });
  }

  function all(name) { return withStore(name, "readonly", function (s) { return s.getAll(); }); }
  function put(name, value) { return withStore(name, "readwrite", function (s) { return s.put(value); }); }
  function remove(name, key) { return withStore(name, "readwrite", function (s) { return s.delete(key); }); }

  function tell(message) {
    listeners.forEach(function (listener) { listener(message); });
    if (channel) { channel.postMessage(message); }
  }
  if (channel) {
    channel.onmessage = function (event) {
      listeners.forEach(function (listener) { listener(event.data); });
    };
  }

  /* Keep a form's fields (files as Blobs) until it can be sent. */
  function keep(formData, details) {
    var fields = [];
    formData.forEach(function (value, name) {
      if (name === "csrf_token") { return; }  // it will have expired: the send needs none
      if (value instanceof Blob) {
        if (value.size) { fields.push([name, value, value.name || "photo.jpg"]); }
      } else {
        fields.push([name, value]);
      }
    });
    var entry = {
      key: formData.get("submission_key"),
      kind: details.kind,
      title: details.title || "",
      keptAt: new Date().toISOString(),
      fields: fields,
      error: null
    };
    return put("outbox", entry).then(function () { tell({ key: entry.key, state: "waiting" }); return entry; });
  }

  /* Send one kept report. Resolves with the filed report; a refusal (4xx) stays on the phone
     with its message, for the resident to see; no connection or a server in trouble rejects,
     to be tried again later. */
  function send(entry) {
    var body = new FormData();
    entry.fields.forEach(function (field) {
      if (field.length > 2) { body.append(field[0], field[1], field[2]); } else { body.append(field[0], field[1]); }
    });
    body.set("kind", entry.kind);
    return fetch(sendUrl, {
      method: "POST", body: body, credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.ok) { return filed(entry, data); }
        if (response.status === 429 || response.status >= 500 || !data.error) { throw new Error(response.status); }
        entry.error = data.error.message;
        return put("outbox", entry).then(function () {
          tell({ key: entry.key, state: "refused", error: entry.error });
          return null;
        });
      });
    });
  }

  function filed(entry, data) {
    var report = {
      reference: data.reference, trackingUrl: data.tracking_url, title: data.title,
      kind: data.kind, department: data.department, filedAt: data.created_at
    };
    return put("mine", report)
      .then(function () { return remove("outbox", entry.key); })
      .then(function () { tell({ key: entry.key, state: "sent", report: report }); return report; });
  }

  /* Send every report waiting (not those refused): rejects if one could not reach us. */
  function sendAll() {
    if (sending) { return sending; }
    sending = all("outbox").then(function (entries) {
      var failed = false;
      return entries.filter(function (entry) { return !entry.error; }).reduce(function (done, entry) {
        return done.then(function () {
          return send(entry).catch(function () { failed = true; });
        });
      }, Promise.resolve()).then(function () {
        if (failed) { throw new Error("not sent"); }
      });
    });
    var clear = function () { sending = null; };
    sending.then(clear, clear);
    return sending;
  }

  scope.TellCityOutbox = {
    SYNC_TAG: SYNC_TAG,
    configure: function (url) { sendUrl = url; },
    keep: keep,
    send: send,
    sendAll: sendAll,
    waiting: function () { return all("outbox"); },
    mine: function () { return all("mine"); },
    remember: function (report) { return put("mine", report); },
    forget: function (store, key) { return remove(store, key).then(function () { tell({ key: key, state: "removed" }); }); },
    listen: function (listener) { listeners.push(listener); }
  };

  if (!scope.document) { return; }  // in the service worker: it calls sendAll itself

  var script = document.currentScript;
  scope.TellCityOutbox.configure(script.dataset.send);

  /* Ask the service worker to send what waits when the connection is back, where the browser
     can (Background Sync); the pages also send on their own. */
  scope.TellCityOutbox.syncLater = function () {
    if (!("serviceWorker" in navigator)) { return Promise.resolve(); }
    return navigator.serviceWorker.ready.then(function (registration) {
      return registration.sync && registration.sync.register(SYNC_TAG);
    }).catch(function () {});
  };

  function sendWaiting() { if (navigator.onLine) { sendAll().catch(function () {}); } }
  addEventListener("online", sendWaiting);

  var tracked = document.querySelector("[data-remember-reference]");
  if (tracked) {
    scope.TellCityOutbox.remember({
      reference: tracked.dataset.rememberReference, trackingUrl: location.pathname,
      title: tracked.dataset.rememberTitle, kind: tracked.dataset.rememberKind,
      department: tracked.dataset.rememberDepartment, filedAt: tracked.dataset.rememberDate
    }).catch(function () {});
  }

  addEventListener("load", function () {
    sendWaiting();
    if ("serviceWorker" in navigator && script.dataset.sw) {
      navigator.serviceWorker.register(script.dataset.sw).catch(function () {});
    }
  });
})(self);
