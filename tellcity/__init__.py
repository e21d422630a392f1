"""TellCity: residents report problems and suggest ideas, departments fix, the city sees where it
stands."""

import os
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from tellcity.config import load_config
from tellcity.core import kept_answers
from tellcity.core.transaction import App
from tellcity.extensions import babel, compress, csrf, db, limiter, login_manager

#: The repository root, which holds templates/ and static/.
ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the app. `config` (a mapping) overrides every other source of configuration; its
    INSTANCE_PATH key, or TELLCITY_INSTANCE_PATH, moves the instance folder."""
    config = dict(config or {})
    instance_path = config.pop("INSTANCE_PATH", None) or os.environ.get("TELLCITY_INSTANCE_PATH")
    app = App(
        __name__,
        instance_path=os.path.abspath(instance_path) if instance_path else None,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    load_config(app, config)
    os.makedirs(app.config["UPLOAD_FOLDER"], exist_ok=True)
    kept_answers.init_app(app)  # inside ProxyFix: it sees the client's scheme as the app does
    _trust_proxies(app)

    _init_extensions(app)
    _register_blueprints(app)
    _register_commands(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES proxies, take the client's address and scheme from what the
    nearest of them appended to X-Forwarded-For and set in X-Forwarded-Proto (an earlier
    address in the chain is the client's word, not a proxy's). The Host is not taken from
    X-Forwarded-Host, which many proxies pass on as the client sent it: a proxy passes the
    Host on, or TELLCITY_BASE_URL names the site."""
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies < 0:
        raise ValueError(f"TRUSTED_PROXIES must be 0 or more, not {proxies}")
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


def _init_extensions(app: Flask) -> None:
    # Every table (for the metadata and migrations), and the session hooks of the cities'
    # configuration versions and of their public reports' versions.
    import tellcity.accounts.services
    import tellcity.cities.versions
    import tellcity.models
    import tellcity.reports.versions  # noqa: F401
    from tellcity.core import (
        caches,
        i18n,
        metrics,
        params,
        private_pages,
        request_log,
        security,
        static_files,
    )

    request_log.init_app(app)  # first: its clock starts before any other hook runs
    metrics.init_app(app)
    params.init_app(app)  # before any route: `<int:...>` reads ASCII digits within bounds
    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    i18n.init_app(app)
    security.init_app(app)
    private_pages.init_app(app)
    caches.init_app(app)
    compress.init_app(app)
    static_files.init_app(app)  # after Flask-Compress: its hook reads the file for it


def _register_blueprints(app: Flask) -> None:
    from tellcity.accounts.views import bp as accounts_bp
    from tellcity.admin.views import bp as admin_bp
    from tellcity.api.views import bp as api_bp
    from tellcity.core import errors, i18n
    from tellcity.core.views import bp as core_bp
    from tellcity.notify.views import bp as notify_bp
    from tellcity.open311.views import bp as open311_bp
    from tellcity.photos.views import bp as photos_bp
    from tellcity.pwa.views import bp as pwa_bp
    from tellcity.reports.views import feeds, offline, public, submit, tracking
    from tellcity.staff import ticket
    from tellcity.staff.views import bp as staff_bp
    from tellcity.stats import api as stats_api
    from tellcity.stats import public as public_stats
    from tellcity.stats.views import bp as stats_bp

    errors.register(app)
    blueprints = (
        core_bp,
        i18n.bp,
        public.bp,
        submit.bp,
        offline.bp,
        tracking.bp,
        feeds.bp,
        accounts_bp,
        staff_bp,
        ticket.bp,
        admin_bp,
        api_bp,
        open311_bp,
        photos_bp,
        notify_bp,
        stats_bp,
        stats_api.bp,
        public_stats.bp,
        pwa_bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)


def _register_commands(app: Flask) -> None:
    from tellcity.cli import commands

    for command in commands:
        app.cli.add_command(command)
