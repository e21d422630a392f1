"""Route guards for the staff pages. The domain services check again (tellcity.core.permissions):
a guard only keeps people out of pages that are not for them."""

from functools import wraps

from flask import abort
from flask_login import current_user

from tellcity.accounts.models import STAFF_ROLES
from tellcity.core.permissions import Actor
from tellcity.extensions import login_manager


def staff_required(*roles: str):
    """Only signed-in staff (of `roles`, when given) reach the view: anonymous visitors are sent
    to sign in, residents and other roles get a 403."""

    def decorator(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            allowed = roles or STAFF_ROLES
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorator


def current_actor() -> Actor:
    return Actor.of(current_user._get_current_object())
