"""The installable app (a PWA) around the resident's pages:

- views.py: the web app manifest, the service worker (/sw.js, from templates/pwa/sw.js) with
  the list of what it keeps for offline use, and "My reports" on this phone (/mine);
- icons.py: draws the icons under static/icons/.

What runs on the phone is in static/js/offline.js (the reports waiting to be sent and those
already filed, kept in IndexedDB; shared by the pages and the service worker) and
static/js/report-send.js (the report form: photos made smaller, kept when offline). A report
kept on the phone is sent to tellcity.reports.views.offline, which files it through
tellcity.reports.submission like every other front end.
"""
