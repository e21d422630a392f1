"""Configuration: these defaults, then instance/config.py, then TELLCITY_* environment
variables, then the mapping given to create_app (tests)."""

import os
import secrets
import tempfile
from pathlib import Path

from flask import Flask

#: Defaults. Every key can be set in instance/config.py or as TELLCITY_<KEY>.
DEFAULTS = {
    # An empty URL means the SQLite file instance/tellcity.sqlite3.
    "DATABASE_URL": "",
    # The city pages and APIs serve when the request names none (its slug).
    "DEFAULT_CITY": "issy-les-moulineaux",
    "UPLOAD_FOLDER": "",
    # Where photos are kept: empty for UPLOAD_FOLDER (instance/uploads), or s3://bucket/prefix
    # for an S3-compatible store shared by several machines, through boto3 and its standard
    # AWS_* configuration (tellcity.photos.storage); seconds to wait for that store.
    "PHOTO_STORAGE": "",
    "PHOTO_STORAGE_TIMEOUT": 5,
    # Photo uploads: refused past this many bytes, or this many pixels (read before decoding).
    "PHOTO_MAX_BYTES": 15 * 1024 * 1024,
    "PHOTO_MAX_PIXELS": 40_000_000,
    # Geocoding through geopy: a service name geopy knows ("banfrance", the French national
    # address base, or "nominatim"...), keyword arguments for its constructor (a self-hosted
    # server: {"domain": "ban.example.org"}), and how long to wait before giving up.
    "GEOCODER": "banfrance",
    "GEOCODER_OPTIONS": {},
    "GEOCODER_TIMEOUT": 3,
    "GEOCODER_USER_AGENT": "TellCity",
    "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
    # Bytes of whole answers each app process keeps for the anonymous reads programs poll
    # (Open311's; tellcity.core.kept_answers); 0 keeps none.
    "KEPT_ANSWERS_BYTES": 8 * 1024 * 1024,
    # A JSON body (no photos in it) is refused past this many bytes (tellcity.core.bodies).
    "JSON_MAX_BYTES": 1024 * 1024,
    # "argon2id" (tellcity.accounts.passwords), or a method werkzeug knows; tests use a cheap one.
    "PASSWORD_HASH_METHOD": "argon2id",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "JSON_SORT_KEYS": False,
    # Languages: French unless the resident chooses English (or their browser prefers it).
    "BABEL_DEFAULT_LOCALE": "fr",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
    "BABEL_TRANSLATION_DIRECTORIES": "translations",
    # How many proxies in front of the app add X-Forwarded-For and X-Forwarded-Proto (a load
    # balancer: 1). 0 ignores those headers, which any client can send: the client's address,
    # which rate limits count by, is then the peer's.
    "TRUSTED_PROXIES": 0,
    # Rate limits on public writes; use a shared store (redis://host:6379) with several processes.
    # process:// counts in this process's memory (tellcity.core.ratelimit). RATELIMIT_KEY_PREFIX
    # sets the counters apart when several sites share one Redis.
    "RATELIMIT_STORAGE_URI": "process://",
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_SUBMIT": "10 per minute;100 per day",
    # A program's reports, counted per API key (tellcity.accounts.budgets); an administrator
    # can give a key its own budget in the admin pages.
    "RATELIMIT_API_KEY": "300 per minute;20000 per day",
    "RATELIMIT_SUPPORT": "30 per minute",
    "RATELIMIT_SIGNIN": "10 per minute;50 per hour",
    # Responses compressed by Flask-Compress (tellcity.core.static_files): Brotli first, which
    # makes Leaflet 40.6 KB at level 6 where zstd's level 3 (the library's first choice, which
    # Chromium accepts) makes it 45.5 KB and gzip 42.7 KB; a 10 KB page takes 0.5 ms at level 6.
    "COMPRESS_ALGORITHM": ["br", "gzip", "zstd", "deflate"],
    "COMPRESS_BR_LEVEL": 6,
    # Every kind of answer the app writes: pages, JSON (the APIs, GeoJSON), XML (Open311), CSV
    # (exports, open data), feeds, and the static files' types. Streamed answers (the exports)
    # are compressed too, with Brotli, zstd or deflate (the library streams no gzip).
    "COMPRESS_MIMETYPES": [
        "text/html",
        "text/css",
        "text/plain",
        "text/csv",
        "text/xml",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/geo+json",
        "application/manifest+json",
        "application/xml",
        "application/atom+xml",
        "application/rss+xml",
        "image/svg+xml",
        "image/x-icon",
    ],
    "COMPRESS_ALGORITHM_STREAMING": ["br", "zstd", "deflate"],
    # The public map's tiles (OpenStreetMap by default); pages stay usable when they cannot load.
    "MAP_TILE_URL": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    "MAP_TILE_ATTRIBUTION": "&copy; OpenStreetMap contributors",
    # "Is it the same problem?": open reports of the same category this near and this recent.
    "NEARBY_RADIUS_M": 150,
    # The staff queue counts the tickets of each status up to this many, then shows "1,000+".
    "QUEUE_COUNT_CAP": 1000,
    "NEARBY_DAYS": 30,
    # Absolute links in emails (unsubscribe, confirm a fix, staff tickets) and the API's
    # tracking_url start with this. Unset: DEFAULT_BASE_URL, or under `tellcity demo` the
    # address it serves on.
    "BASE_URL": "",
    # Outgoing mail. MAIL_USE_TLS is STARTTLS on a plain port; MAIL_USE_SSL is TLS from the start.
    "MAIL_SERVER": "localhost",
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_SENDER": "TellCity <no-reply@localhost>",
    "MAIL_TIMEOUT": 10,
    "WEBHOOK_TIMEOUT": 10,
    # Seconds to wait for a department's Open311 system (tellcity.open311.client).
    "OPEN311_TIMEOUT": 10,
    # Following the reports forwarded to departments' own Open311 systems: at most this many
    # requests asked about per run of the worker's job (tellcity.open311.client.updates).
    "OPEN311_SYNC_BATCH": 100,
    # The outbox worker: a message is given up (dead) after this many failed attempts; a claimed
    # message goes back to the queue if its worker has not finished with it after the lease; the
    # wait before a retry starts at the backoff and doubles each attempt, up to 6 hours.
    "OUTBOX_MAX_ATTEMPTS": 8,
    "OUTBOX_LEASE_SECONDS": 300,
    "OUTBOX_BACKOFF_SECONDS": 30,
    # The statistics pages and GET /api/v1/stats answer from figures computed at most this many
    # seconds ago (shared by every process through the stats_snapshots table; the worker
    # recomputes the views the pages open by default before they expire). 0: always compute.
    "STATS_CACHE_SECONDS": 300,
    # The operator's signals (tellcity.core.metrics, tellcity.core.request_log): GET /metrics
    # answers a Prometheus scraper sending "Authorization: Bearer <METRICS_TOKEN>", and is a
    # 404 while the token is empty; "json" writes one JSON line per request to standard error.
    "METRICS_TOKEN": "",
    "LOG_FORMAT": "text",
}

SECRET_FILE = "secret_key"
#: The links' address when BASE_URL is not configured: the development server's.
DEFAULT_BASE_URL = "http://127.0.0.1:5000"


def load_config(app: Flask, overrides: dict | None) -> None:
    """Fill app.config in order of precedence and derive the settings built from others."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("TELLCITY")
    if overrides:
        app.config.from_mapping(overrides)
    # Whether some source named the address: `tellcity demo` leaves a named one alone.
    app.config["BASE_URL_IS_SET"] = bool(app.config["BASE_URL"])
    app.config["BASE_URL"] = app.config["BASE_URL"] or DEFAULT_BASE_URL
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(app)
    app.config["UPLOAD_FOLDER"] = app.config["UPLOAD_FOLDER"] or os.path.join(
        app.instance_path, "uploads"
    )
    # Behind HTTPS, cookies only travel over HTTPS.
    if app.config["BASE_URL"].startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = True
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret(Path(app.instance_path))


def database_uri(app: Flask) -> str:
    """The SQLAlchemy URL: psycopg 3 for PostgreSQL URLs that name no driver."""
    url = app.config.get("DATABASE_URL") or app.config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        return "sqlite:///" + os.path.join(app.instance_path, "tellcity.sqlite3")
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


def instance_secret(instance: Path) -> str:
    """The secret key kept in the instance folder, generated on first use.

    The key is written whole to a temporary file and then linked into place, so two processes
    starting together agree on one key and neither reads a half-written file.
    """
    path = instance / SECRET_FILE
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=instance, prefix=".secret-")
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)  # atomic: fails if another process published its key first
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()
