"""Flask extensions, created unbound and bound to the app in `create_app`."""

from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from tellcity.core import ratelimit  # noqa: F401  (registers the process:// rate-limit storage)
from tellcity.core.db import Base

db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
login_manager.login_view = "accounts.signin"
csrf = CSRFProtect()
babel = Babel()
#: Pages, JSON and static files compressed (zstd, Brotli or gzip: what the client accepts).
compress = Compress()
#: Limits are declared on the public write routes; none apply by default.
limiter = Limiter(key_func=get_remote_address)
