"""Two-factor sign-in for staff: a time-based one-time code (TOTP, RFC 6238, by pyotp) from an
app on the phone, or one of ten one-time recovery codes when the phone is lost.

Who must use it: every administrator, and every member of staff of a city whose
`staff_2fa_required` is set; residents never do. A member of staff who must and has not set it
up is sent to set it up before any other page (tellcity.accounts.views).

Setting it up: a new secret is shown as a QR code (and as text) until a code from the app
confirms it; only then is it stored and the second factor on. The secret is stored as it is:
no encryption library is among the dependencies, and the audit log never copies it
(tellcity.audit.services.SECRET_COLUMNS).

Checking a code: the current 30-second step and one either side (a phone's clock drifts), and
never the step of the last code accepted or an earlier one, so a code seen over a shoulder
cannot be used again. A recovery code is random (79 bits), so its SHA-256 hash is enough
(tellcity.accounts.api_keys.hash_key says why); it is struck off once used. A wrong code counts
towards the same lock as a wrong password (tellcity.accounts.services).

Functions flush; turning the second factor off (by its owner or an administrator) and the
city's setting are recorded in the audit log. The caller commits.
"""

import hmac
import secrets
from datetime import datetime

import pyotp
import segno
from flask_babel import gettext as _
from markupsafe import Markup

from tellcity.accounts.api_keys import hash_key
from tellcity.accounts.models import Role, User
from tellcity.accounts.services import AccountLocked, count_failed_signin, record_signin
from tellcity.admin.access import require_admin
from tellcity.audit.services import record, snapshot
from tellcity.cities.models import City
from tellcity.core.db import utcnow
from tellcity.core.errors import Conflict, Invalid
from tellcity.core.permissions import Actor
from tellcity.extensions import db

#: How many recovery codes a user gets, and their shape: four groups of four characters of an
#: alphabet without look-alikes (0/o, 1/l/i): 31 signs, 79 bits a code.
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_GROUPS, RECOVERY_GROUP = 4, 4
#: Codes of the time steps either side of the current one are accepted too.
STEP_WINDOW = 1


def is_required(user: User) -> bool:
    """Whether `user` must sign in with a second factor: administrators always, the other staff
    when their city says so, residents never."""
    if not user.is_staff:
        return False
    if user.role == Role.ADMIN:
        return True
    return user.city is not None and user.city.staff_2fa_required


def must_set_up(user: User) -> bool:
    """Whether `user` must set up a second factor before doing anything else."""
    return is_required(user) and not user.has_two_factor


def new_secret() -> str:
    """A new TOTP secret (160 bits, in base 32 as the apps expect it)."""
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// address an app reads from the QR code: the account is the email, the
    issuer TellCity and the user's city, so that an app holding several cities tells them
    apart."""
    issuer = f"TellCity {user.city.name}" if user.city is not None else "TellCity"
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_code_svg(uri: str, title: str) -> Markup:
    """The QR code of `uri` as inline SVG markup (dark on white, for any camera)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff", title=title)
    return Markup(svg)  # segno draws it from the address alone; the title is our own text


def set_up(user: User, secret: str, code: str, now: datetime | None = None) -> list[str]:
    """Turn the second factor on with `secret` once `code` proves the app holds it. Returns
    the new recovery codes, to show once: only their hashes are kept.

    Raises Conflict when it is on already; Invalid (field "code") for a wrong code.
    """
    if user.has_two_factor:
        raise Conflict(_("Two-factor sign-in is already on."))
    step = _matching_step(secret, _normalised(code), None, now or utcnow())
    if step is None:
        raise Invalid(_wrong_setup_code(), field="code")
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = secret, now or utcnow(), step
    db.session.flush()
    return _new_recovery_codes(user)


def check_code(user: User, code: str, now: datetime | None = None) -> bool:
    """The second step of signing in: whether `code` is a current code of the user's app or
    one of their unused recovery codes (then used up). A wrong code counts as a failed
    sign-in; a right one completes the sign-in.

    Raises AccountLocked while the account is locked, even for the right code.
    """
    now = now or utcnow()
    if user.locked_until is not None and user.locked_until > now:
        raise AccountLocked(user.locked_until)
    if not _accept(user, _normalised(code), now):
        count_failed_signin(user, now)
        return False
    record_signin(user, now)
    return True


def new_recovery_codes(user: User, code: str, now: datetime | None = None) -> list[str]:
    """Replace the user's recovery codes (the old ones stop working) once `code`, a current
    code of their app, proves it is them. Returns the new codes, to show once.

    Raises Invalid (field "code") for a wrong code.
    """
    if not user.has_two_factor or not _accept_totp(user, _normalised(code), now or utcnow()):
        raise Invalid(_wrong_code(), field="code")
    return _new_recovery_codes(user)


def turn_off(user: User, code: str, now: datetime | None = None) -> None:
    """The user's own reset (a new phone): the second factor is off once `code`, a current or
    a recovery code, proves it is them. If it is required of them they set it up again
    before anything else.

    Raises Invalid (field "code") for a wrong code.
    """
    if not user.has_two_factor or not _accept(user, _normalised(code), now or utcnow()):
        raise Invalid(_wrong_code(), field="code")
    _remove(user, Actor.of(user))


def reset(user: User, *, actor: Actor) -> None:
    """An administrator's reset of another user's second factor (a lost phone): off, and to be
    set up again at their next sign-in if it is required of them.

    Raises NotAllowed (an administrator of another city); Conflict for one's own (reset from
    one's account page, with a code) or a user without a second factor.
    """
    require_admin(actor, user.city_id)
    if actor.user is not None and actor.user.id == user.id:
        raise Conflict(_("Reset your own two-factor sign-in from your account, with a code."))
    if not user.has_two_factor:
        raise Conflict(_("%(email)s does not use two-factor sign-in.", email=user.email))
    _remove(user, actor)


def require_of_staff(city: City, is_required: bool, *, actor: Actor) -> None:
    """Require a second factor of every member of staff of `city` (administrators always use
    one), or of its administrators only. Raises NotAllowed."""
    require_admin(actor, city.id)
    columns = ("staff_2fa_required",)
    before = snapshot(city, columns)
    city.staff_2fa_required = is_required
    record(actor, "update", city, before, city_id=city.id, columns=columns)


def _remove(user: User, actor: Actor) -> None:
    before = snapshot(user)
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    user.recovery_code_hashes = None
    record(actor, "update", user, before)


def _wrong_code() -> str:
    return _("This code is not right: type the 6 digits your app shows now.")


def _wrong_setup_code() -> str:
    return _(
        "This code is not right: type the 6 digits your app shows now (if it is, check that "
        "the phone's clock is on time)."
    )


def _normalised(code: str) -> str:
    """The code as typed, without spaces and dashes, in lower case."""
    return "".join((code or "").split()).replace("-", "").lower()


def _accept(user: User, code: str, now: datetime) -> bool:
    """Whether `code` is a current code or an unused recovery code (struck off)."""
    if code.isdigit():
        return _accept_totp(user, code, now)
    return _use_recovery_code(user, code)


def _accept_totp(user: User, code: str, now: datetime) -> bool:
    step = _matching_step(user.totp_secret, code, user.totp_last_step, now)
    if step is None:
        return False
    user.totp_last_step = step
    return True


def _matching_step(secret: str, code: str, last_step: int | None, now: datetime) -> int | None:
    """The time step near `now`, and after `last_step`, whose code is `code`; None if none."""
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - STEP_WINDOW, current + STEP_WINDOW + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _new_recovery_codes(user: User) -> list[str]:
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    user.recovery_code_hashes = [hash_key(_normalised(code)) for code in codes]
    return codes


def _recovery_code() -> str:
    groups = (
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP))
        for _ in range(RECOVERY_GROUPS)
    )
    return "-".join(groups)


def _use_recovery_code(user: User, code: str) -> bool:
    wanted = hash_key(code)
    kept = list(user.recovery_code_hashes or ())
    matches = [stored for stored in kept if hmac.compare_digest(stored, wanted)]
    if not matches:
        return False
    kept.remove(matches[0])
    user.recovery_code_hashes = kept
    return True
