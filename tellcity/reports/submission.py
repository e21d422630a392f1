"""Filing a report or an idea: the one use case behind the web form, /api/v1 and Open311.

Each front end only translates: its input into a `Submission` (as sent: a category code, a
position or an address, answers, contact, photos already checked by
tellcity.photos.services.process_upload), and the Invalid raised here into its own shape (the
form again with the message, a JSON 4xx, Open311's error list). Every rule of what may be
filed lives here, once:

- the category: active in this city, and of the kind the front end files (problem or idea);
- the answers to its questions (tellcity.categories.questions);
- the position: latitude and longitude as sent, else the city's address that matches what
  was typed (geocoding, in `locate`); inside the city limits; required for a problem. A
  position sent without an address is filed without one, never waiting on the geocoder: the
  worker fills it in (tellcity.geo.geocoding.fill_missing_addresses);
- the text: description, name, contact (email, phone) and address within their limits, no NUL
  byte anywhere;
- photos: at most MAX_PHOTOS;
- idempotency: a submission repeating a known key returns the report it made the first time.

`prepare` runs every check and finds the position, writing nothing; `submit_report` files a
prepared submission (or prepares it first): route it, number it, give it its deadlines, write
it with its first event, queue the department's notification and the reporter's
acknowledgement.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _

from tellcity.accounts.models import User
from tellcity.categories.models import Category
from tellcity.categories.questions import check_answers
from tellcity.cities.models import City
from tellcity.cities.queries import active_category
from tellcity.core import metrics
from tellcity.core.db import counter_upsert, utcnow, write_new
from tellcity.core.errors import Invalid, Malformed
from tellcity.core.permissions import Actor
from tellcity.core.transaction import savepoint
from tellcity.core.writer_queue import wait_to_write
from tellcity.extensions import db
from tellcity.geo.geocoding import search_address
from tellcity.geo.places import is_inside
from tellcity.notify import services as notify
from tellcity.photos.services import store_photos
from tellcity.reports import versions
from tellcity.reports.events import new_event
from tellcity.reports.models import Report, ReportSequence
from tellcity.reports.states import EventType, Kind, Source, Status
from tellcity.routing.services import Routing, route
from tellcity.sla.services import sla_deadlines
from tellcity.stats import daily

DESCRIPTION_MAX = 4000
NAME_MAX = 120
EMAIL_MAX = 254
PHONE_MAX = 40
ADDRESS_MAX = 300
#: Deliberately simple: one @, no spaces, a dot in the domain. The mail server has the last word.
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
#: A phone number: an optional +, then 6 to 20 digits with spaces, dots, dashes or brackets.
PHONE_PATTERN = re.compile(r"\+?[\d\s.\-()]{6,25}")
MAX_PHOTOS = 3
#: Where an Open311 request's media_url is kept among the report's attributes (staff only:
#: never fetched nor shown to the public, we cannot vouch for it).
MEDIA_URL_KEY = "_media_url"
#: What every front end adds to its answer to a replayed submission (status 200 where a new
#: report is 201), whose body is the first answer's: the report was not made now.
REPLAYED_HEADERS = {"Idempotent-Replayed": "true"}


@dataclass
class Submission:
    """What a resident (or an app, or an Open311 client on their behalf) sends, as sent."""

    #: The category's code (Open311 service_code).
    category: str | None
    lat: float | None = None
    lon: float | None = None
    description: str = ""
    address: str = ""
    #: The answers to the category's questions: {code: value or [values]}, as sent.
    answers: Mapping | None = None
    reporter_name: str | None = None
    reporter_email: str | None = None
    reporter_phone: str | None = None
    reporter: User | None = None
    #: The kind the front end files (the web form's /report or /idea); None: the category's.
    kind: str | None = None
    locale: str = "fr"
    source: str = Source.WEB
    idempotency_key: str | None = None
    #: An Open311 client's link to a photo it holds (kept for the staff only).
    media_url: str | None = None
    #: Photos already checked and re-encoded by tellcity.photos.services.process_upload.
    photos: list = field(default_factory=list)


@dataclass
class Prepared:
    """A submission that passed every check, its category found, its position and address
    known and its answers tidied: what `submit_report` writes."""

    category: Category
    lat: float | None
    lon: float | None
    address: str
    description: str
    attributes: dict | None
    submission: Submission


#: A plain query, built once: no ORM entity to set up for a yes/no on every submission.
_BY_IDEMPOTENCY_KEY = sa.select(Report.__table__.c.id).where(
    Report.__table__.c.idempotency_key == sa.bindparam("key")
)


def replayed(submission: Submission) -> Report | None:
    """The report a submission with the same idempotency key made before, if any."""
    if not submission.idempotency_key:
        return None
    existing = db.session.connection().scalar(
        _BY_IDEMPOTENCY_KEY, {"key": submission.idempotency_key}
    )
    return None if existing is None else db.session.get(Report, existing)


def prepare(city: City, submission: Submission) -> Prepared:
    """Check everything about `submission` and find its position (from the address typed
    when it has none) and its address (from the position when none was typed; left empty when
    the geocoder cannot say). Writes nothing. Raises Invalid, with the machine-readable code
    and the field at fault, for the first thing wrong; Malformed for a NUL byte."""
    check_text(submission)
    category = find_category(city, submission.category, submission.kind)
    attributes = check_answers(category, submission.answers)
    if submission.media_url:
        attributes[MEDIA_URL_KEY] = submission.media_url
    description = (submission.description or "").strip()
    _check_content(category, description, submission.photos)
    _check_contact(submission)
    lat, lon, address = locate(city, submission.lat, submission.lon, submission.address)
    if lat is None and category.kind == Kind.PROBLEM:
        raise Invalid(_("say where the problem is"), code="no_position", field="position")
    return Prepared(
        category=category,
        lat=lat,
        lon=lon,
        address=address,
        description=description,
        attributes=attributes or None,
        submission=submission,
    )


def check_photo_count(count: int) -> None:
    """Refuse more photos than a submission takes (front ends call this before decoding)."""
    if count > MAX_PHOTOS:
        raise Invalid(
            _("at most %(count)s photos", count=MAX_PHOTOS), code="too_many_photos", field="photos"
        )


def check_text(submission: Submission) -> None:
    """No NUL byte in any text sent (PostgreSQL cannot store one, and no resident types it)."""
    texts = [
        submission.category,
        submission.description,
        submission.address,
        submission.reporter_name,
        submission.reporter_email,
        submission.reporter_phone,
        submission.media_url,
        *_answer_texts(submission.answers),
    ]
    if any(isinstance(text, str) and "\x00" in text for text in texts):
        raise Malformed(_("NUL bytes are not allowed in parameters."), code="nul_byte")


def _answer_texts(answers) -> list:
    if not isinstance(answers, Mapping):
        return []
    texts = list(answers)
    for value in answers.values():
        texts.extend(value if isinstance(value, list | tuple) else [value])
    return texts


def find_category(city: City, code: str | None, kind: str | None = None) -> Category:
    """The city's active category `code`, of `kind` when one is given. Raises Invalid
    (unknown_category, wrong_kind) otherwise."""
    category = active_category(city, code)
    if category is None:
        raise Invalid(
            _("this category is not available here"), code="unknown_category", field="category"
        )
    if kind and kind != category.kind:
        message = (
            _("this category is for ideas: suggest it as an idea")
            if category.kind == Kind.SUGGESTION
            else _("this category is for problems: report it as a problem")
        )
        raise Invalid(message, code="wrong_kind", field="category")
    return category


def _check_content(category: Category, description: str, photos: list) -> None:
    check_photo_count(len(photos))
    if category.kind == Kind.PROBLEM and not description and not photos:
        raise Invalid(_("describe the problem or add a photo"), code="empty", field="description")
    if category.kind == Kind.SUGGESTION and not description:
        raise Invalid(_("describe your idea"), code="empty", field="description")
    if len(description) > DESCRIPTION_MAX:
        raise Invalid(
            _("the description is longer than %(count)s characters", count=DESCRIPTION_MAX),
            code="too_long",
            field="description",
        )


def _check_contact(submission: Submission) -> None:
    email, phone = submission.reporter_email, submission.reporter_phone
    for value, limit, name in (
        (submission.reporter_name, NAME_MAX, "name"),
        (email, EMAIL_MAX, "email"),
        (phone, PHONE_MAX, "phone"),
        (submission.address, ADDRESS_MAX, "address"),
    ):
        if value and len(value) > limit:
            raise Invalid(
                _("%(field)s: at most %(count)s characters", field=name, count=limit),
                code="too_long",
                field=name,
            )
    if email and not EMAIL_PATTERN.fullmatch(email.strip()):
        raise Invalid(_("this email address is not valid"), code="invalid_email", field="email")
    if phone and not PHONE_PATTERN.fullmatch(phone.strip()):
        raise Invalid(_("this phone number is not valid"), code="invalid_phone", field="phone")


def locate(
    city: City,
    lat: float | None,
    lon: float | None,
    address: str | None,
) -> tuple[float | None, float | None, str]:
    """The position and address of a place in `city`: latitude and longitude as given, with
    the address given or none (the worker looks it up later, so that no submission waits on
    the reverse geocoder), or the first address in the city matching the one typed. (None,
    None, "") when neither is given. Raises Invalid when the position is off the Earth or
    outside the city, or the address cannot be found or looked up."""
    address = " ".join((address or "").split())
    if (lat is None) != (lon is None):
        raise Invalid(
            _("give both the latitude and the longitude"),
            code="invalid_position",
            field="position",
        )
    if lat is not None:
        check_inside(city, lat, lon)
        return lat, lon, address
    if not address:
        return None, None, ""
    found = search_address(address, city, limit=1)
    if not found.available:
        raise Invalid(
            _(
                "The address search is not available right now: place the pin on the "
                "map, or give the latitude and longitude."
            ),
            code="geocoder_unavailable",
            field="address",
        )
    if not found.places:
        raise Invalid(
            _("We could not find this address in %(city)s.", city=city.name),
            code="address_not_found",
            field="address",
        )
    place = found.places[0]
    return place.lat, place.lon, place.label


def check_inside(city: City, lat: float, lon: float) -> None:
    """Raise Invalid unless the position is on the Earth and inside the city limits."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Invalid(_("this position is not on Earth"), code="invalid_position", field="position")
    if not is_inside(city, lat, lon):
        raise Invalid(
            _(
                "this place is outside %(city)s: we can only pass on reports made inside the"
                " city limits",
                city=city.name,
            ),
            code="outside_city",
            field="position",
        )


def submit_report(
    city: City,
    submission: Submission | Prepared,
    actor: Actor,
    now: datetime | None = None,
) -> tuple[Report, bool]:
    """File a report: check it (unless already `prepare`d), route it, give it its reference
    and SLA deadlines, write its first event (with the routing decision) and queue the
    department's notification and the reporter's acknowledgement.

    Returns (report, created): a submission repeating a known idempotency key returns the
    report it made the first time with created False, even when both were sent at the same
    moment (see `_write_unless_replayed`). Raises what `prepare` raises.
    """
    raw = submission.submission if isinstance(submission, Prepared) else submission
    existing = replayed(raw)
    if existing is not None:
        return existing, False
    prepared = submission if isinstance(submission, Prepared) else prepare(city, submission)
    now = now or utcnow()
    routing = route(city, prepared.category, prepared.lat, prepared.lon)
    report = _new_report(city, prepared, routing, now)
    # Numbered last, just before it is written: the number's upsert is the transaction's first
    # write, and from there to the commit SQLite's write lock is held and PostgreSQL locks the
    # city's sequence row.
    wait_to_write(db.session)
    if (first := _write_unless_replayed(city, report, raw, now)) is not None:
        return first, False
    store_photos(report, raw.photos)
    created = new_event(
        report.id,  # not the report: that would add the event to the report's pending changes
        actor,
        EventType.CREATED,
        data={"routing": routing.data},  # said in the reader's language (reports.history)
        now=now,
    )
    write_new(db.session, created, keep=False)  # read again only through report.events
    versions.bump(db.session, city.id)  # written without the ORM's flush: its hook sees none
    daily.report_filed(db.session, report)  # the statistics' aggregates: the same
    notify.notify_new_report(report, is_new=True)
    notify.notify_acknowledgement(report, is_new=True)
    metrics.SUBMISSIONS.inc()
    return report, True


def _write_unless_replayed(
    city: City, report: Report, submission: Submission, now: datetime
) -> Report | None:
    """Number and write `report`; or, when a submission with the same idempotency key was
    written meanwhile, write nothing and return the report it made.

    Two requests with one key can both pass `replayed` before either writes: the unique
    index on the key then refuses the second INSERT. Numbering and INSERT share a savepoint,
    so the loser leaves nothing behind, not even a number taken from the sequence (nothing
    else has been written yet: photos, event and notifications come after). The first
    report is then read in a new statement, after the winner's commit: SQLite lets one
    writer at a time, so the loser's write began after it; on PostgreSQL the INSERT waited
    on the index for the winner's commit (READ COMMITTED: the next statement sees it)."""
    try:
        with savepoint():
            report.reference = next_reference(city, now)
            # Three known rows, written at once rather than by a flush (see write_new).
            write_new(db.session, report)
    except sa.exc.IntegrityError:
        if (first := replayed(submission)) is None:
            raise  # another constraint than the key's
        return first
    return None


def _new_report(city: City, prepared: Prepared, routing: Routing, now: datetime) -> Report:
    category, submission = prepared.category, prepared.submission
    at_risk_at, due_at = sla_deadlines(city, category, now)
    return Report(
        city=city,  # not city_id: the notification reads the city before the report is written
        kind=category.kind,
        category=category,
        status=Status.NEW,
        priority=category.default_priority,
        department=routing.department,
        zone=routing.zone,
        lat=prepared.lat,
        lon=prepared.lon,
        address=prepared.address[:ADDRESS_MAX],
        description=prepared.description,
        attributes=prepared.attributes,
        at_risk_at=at_risk_at,
        due_at=due_at,
        source=submission.source,
        idempotency_key=submission.idempotency_key,
        reporter_id=submission.reporter.id if submission.reporter else None,
        reporter_name=(submission.reporter_name or "").strip() or None,
        reporter_email=(submission.reporter_email or "").strip().lower() or None,
        reporter_phone=(submission.reporter_phone or "").strip() or None,
        locale=submission.locale,
        created_at=now,
        updated_at=now,
        photos=[],  # known to be none yet: counting them (notify) needs no query
    )


def next_reference(city: City, now: datetime) -> str:
    """The next public reference of `city` for the year of `now` in the city's time zone,
    e.g. ISS-2026-000124. One atomic upsert, safe with concurrent submissions."""
    year = now.astimezone(ZoneInfo(city.timezone)).year
    connection = db.session.connection()
    statement = counter_upsert(
        connection.dialect.name,
        ReportSequence.__table__,
        ("city_id", "year"),
        "last_number",
        returning=True,
    )
    number = connection.execute(statement, {"city_id": city.id, "year": year}).scalar_one()
    return f"{city.reference_prefix}-{year}-{number:06d}"
