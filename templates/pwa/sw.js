/* TellCity's service worker, rendered by tellcity/pwa/views.py (its lists made there with
   url_for, so that content-hashed static addresses stay right). Pages: network first, the last
   copy of the resident's pages kept to open them offline. Static files: cache first when their
   address carries a content hash (?v=), else network first. A form sent while the network
   fails is kept on the phone (static/js/offline.js) and sent when the connection is back. */
"use strict";
importScripts({{ offline_js|tojson }});
TellCityOutbox.configure({{ send_url|tojson }});

var CACHE = "tellcity-" + {{ version|tojson }};
var PAGES = {{ pages|tojson }};
var FILES = {{ files|tojson }};
var STATIC = {{ static_prefix|tojson }};
var FALLBACK = {{ fallback|tojson }};
/* The form pages, and the kind of what each files. */
var FORMS = {{ forms|tojson }};
var SLOW_PAGE_MS = 4000;
/* Pages kept for offline use besides the shell: each tracking page the resident opens. */
var KEPT = /^\/track\//;
/* Signing out forgets the pages kept while signed in (the form carries the name and email). */
var SIGNOUT = {{ signout|tojson }};

/* The static files a page links to (its scripts, styles, icons), as written in its HTML. */
function linked(html) {
  var found = [], pattern = /(?:src|href)="([^"]+)"/g, match;
  while ((match = pattern.exec(html))) {
    var url = match[1].replace(/&amp;/g, "&");
    if (url.indexOf(STATIC) === 0) { found.push(url); }
  }
  return found;
}

/* Marked as kept (X-TellCity-Keep): for a visitor who has no session yet the server starts
   none, so that this answer cannot replace the session of a form the visitor opened meanwhile
   (tellcity/core/security.py). */
function keepPage(cache, url) {
  var options = { credentials: "same-origin", headers: { "X-TellCity-Keep": "1" } };
  return fetch(url, options).then(function (response) {
    if (!response.ok || response.redirected) { throw new Error(url + ": " + response.status); }
    return response.clone().text().then(function (html) {
      return cache.put(url, response).then(function () { return linked(html); });
    });
  });
}

function keepShell(cache) {
  return Promise.all(PAGES.map(function (url) { return keepPage(cache, url); }));
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return keepShell(cache)
      .then(function (lists) {
        var files = FILES.concat.apply(FILES, lists).filter(function (url, i, every) {
          return every.indexOf(url) === i;
        });
        // A file that fails is left out, not the whole cache: the page works without it.
        return Promise.all(files.map(function (url) { return cache.add(url).catch(function () {}); }));
      });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("tellcity-") === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }));
});

function fromCache(request) {
  return caches.match(request, { ignoreSearch: request.mode === "navigate", ignoreVary: true });
}

/* A form page opened from the cache: given its own idempotency key, as each page the server
   draws is (else two reports filed offline from the same copy would be one), and marked as a
   copy, so that it is sent by static/js/report-send.js (its CSRF token may have expired). */
function freshCopy(response) {
  var type = response.headers.get("Content-Type") || "";
  if (type.indexOf("text/html") !== 0) { return response; }
  return response.text().then(function (html) {
    var key = self.crypto.randomUUID ? self.crypto.randomUUID() : String(Date.now()) + Math.random();
    html = html.replace(/(name="submission_key" value=")[^"]*"/, "$1" + key + '"')
      .replace('class="panel report-form"', 'class="panel report-form" data-offline-copy');
    return new Response(html, { headers: { "Content-Type": type } });
  });
}

function networkFirst(request, keep) {
  var network = fetch(request).then(function (response) {
    if (keep && response.ok && !response.redirected && response.type === "basic") {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  });
  var kept = function (error) {
    return fromCache(request).then(function (found) {
      if (found) { return request.mode === "navigate" ? freshCopy(found) : found; }
      if (request.mode === "navigate") {
        return caches.match(FALLBACK).then(function (page) { return page || Response.error(); });
      }
      throw error;
    });
  };
  if (request.mode !== "navigate") { return network.catch(kept); }
  /* A page the network is slow to give (a bad connection outdoors): the kept copy after
     SLOW_PAGE_MS, the network's answer still kept for next time when it comes. */
  return new Promise(function (resolve, reject) {
    var slow = setTimeout(function () {
      fromCache(request).then(function (found) { if (found) { resolve(freshCopy(found)); } });
    }, SLOW_PAGE_MS);
    network.then(function (response) {
      clearTimeout(slow);
      resolve(response);
    }, function (error) {
      clearTimeout(slow);
      kept(error).then(resolve, reject);
    });
  });
}

function cacheFirst(request) {
  return fromCache(request).then(function (found) { return found || networkFirst(request, true); });
}

/* The form, sent while the network fails: kept on the phone, and "My reports" says so. */
function sendOrKeep(request, kind) {
  var copy = request.clone();
  return fetch(request).catch(function () {
    return copy.formData()
      .then(function (data) { return TellCityOutbox.keep(data, { kind: kind }); })
      .then(function () {
        self.registration.sync && self.registration.sync.register(TellCityOutbox.SYNC_TAG).catch(function () {});
        return Response.redirect(FALLBACK, 303);
      });
  });
}

/* Signed out: the pages kept are dropped at once, then kept again as anyone sees them. */
function signOut(event) {
  return fetch(event.request).then(function (response) {
    return caches.open(CACHE).then(function (cache) {
      return cache.keys().then(function (requests) {
        return Promise.all(requests.filter(function (kept) {
          return new URL(kept.url).pathname.indexOf(STATIC) !== 0;
        }).map(function (kept) { return cache.delete(kept); }));
      }).then(function () {
        event.waitUntil(keepShell(cache).catch(function () {}));
        return response;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (url.origin !== location.origin) { return; }  // map tiles: the network's alone
  if (request.method === "POST" && request.mode === "navigate" && FORMS[url.pathname]) {
    event.respondWith(sendOrKeep(request, FORMS[url.pathname]));
  } else if (request.method === "POST" && url.pathname === SIGNOUT) {
    event.respondWith(signOut(event));
  } else if (request.method !== "GET") {
    return;
  } else if (url.pathname.indexOf(STATIC) === 0) {
    event.respondWith(/[?&]v=/.test(url.search) ? cacheFirst(request) : networkFirst(request, true));
  } else if (request.mode === "navigate") {
    // One copy of each page: "/report?category=..." is not kept beside "/report".
    var keep = !url.search && (PAGES.indexOf(url.pathname) >= 0 || KEPT.test(url.pathname));
    event.respondWith(networkFirst(request, keep));
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag === TellCityOutbox.SYNC_TAG) { event.waitUntil(TellCityOutbox.sendAll()); }
});
