"""The manifest, the service worker and the resident's reports kept on this phone."""

import hashlib
import json
from pathlib import Path

from flask import Blueprint, current_app, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from tellcity.cities.queries import default_city
from tellcity.reports.states import Kind

bp = Blueprint("pwa", __name__)

THEME_COLOUR = "#0b5cad"
#: (file under static/, sizes, purpose)
ICONS = (
    ("icons/icon-192.png", "192x192", "any"),
    ("icons/icon-512.png", "512x512", "any"),
    ("icons/maskable-512.png", "512x512", "maskable"),
)
#: The pages that open without a connection, by endpoint: each is fetched when the service
#: worker installs, and again (network first) whenever it is opened online.
SHELL_PAGES = ("reports.home", "submit.report_problem", "submit.suggest_idea", "pwa.mine")
#: Static files kept when the service worker installs, beyond those the shell pages link to
#: (which it finds in the pages themselves): what scripts and styles load on their own.
SHELL_FILES = (
    "icons/icon-192.png",
    "icons/favicon.svg",
    "vendor/leaflet/images/marker-icon.png",
    "vendor/leaflet/images/marker-icon-2x.png",
    "vendor/leaflet/images/marker-shadow.png",
)


@bp.get("/manifest.webmanifest")
def manifest():
    city = default_city()
    body = {
        "id": "/",
        "name": f"TellCity {city.name}" if city else "TellCity",
        "short_name": "TellCity",
        "description": _("Report a problem or suggest an idea to your city, from your phone."),
        "lang": str(get_locale()),
        "dir": "ltr",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOUR,
        "icons": [
            {
                "src": url_for("static", filename=path),
                "sizes": sizes,
                "type": "image/png",
                "purpose": purpose,
            }
            for path, sizes, purpose in ICONS
        ],
        "shortcuts": [
            {"name": _("Report a problem"), "url": url_for("submit.report_problem")},
            {"name": _("Suggest an idea"), "url": url_for("submit.suggest_idea")},
            {"name": _("My reports"), "url": url_for("pwa.mine")},
        ],
    }
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json"
    )
    response.headers["Cache-Control"] = "no-cache"  # in the page's language: may change
    return response


@bp.get("/sw.js")
def service_worker():
    """The service worker, from the site's root so that it controls every page. Never cached
    by the browser's HTTP cache: the browser compares it byte for byte on each visit, and a
    deploy changes its version, which replaces the old caches."""
    pages = [url_for(endpoint) for endpoint in SHELL_PAGES]
    files = [url_for("static", filename=name) for name in SHELL_FILES]
    script = render_template(
        "pwa/sw.js",
        version=deploy_version(),
        pages=pages,
        files=files,
        static_prefix=current_app.static_url_path + "/",
        offline_js=url_for("static", filename="js/offline.js"),
        send_url=url_for("offline.send_report"),
        forms={
            url_for("submit.report_problem"): Kind.PROBLEM.value,
            url_for("submit.suggest_idea"): Kind.SUGGESTION.value,
        },
        fallback=url_for("pwa.mine"),
        signout=url_for("accounts.signout"),
    )
    response = current_app.response_class(script, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/mine")
def mine():
    """The reports and ideas this phone filed (and those waiting to be sent): kept on the
    phone, not on the server, so that a resident without an account finds them again, even
    offline. The list is drawn by static/js/mine.js."""
    return render_template("pwa/mine.html", city=default_city())


def deploy_version() -> str:
    """A digest of the static files and templates this process serves: the name of the
    service worker's cache, so that a deploy that changes any of them replaces the cache.
    Content, not dates, so that every machine behind a load balancer gives the same. Read once
    per process (about 1 MB)."""
    version = current_app.extensions.get("tellcity.pwa_version")
    if version is None:
        digest = hashlib.sha256()
        for folder in (current_app.static_folder, current_app.template_folder):
            for path in sorted(Path(folder).rglob("*")):
                if path.is_file():
                    digest.update(str(path.relative_to(folder)).encode() + b"\0")
                    digest.update(path.read_bytes())
        version = current_app.extensions["tellcity.pwa_version"] = digest.hexdigest()[:16]
    return version
