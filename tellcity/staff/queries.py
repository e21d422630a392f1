"""The queue: the tickets a member of staff may see, filtered, counted, sorted and paged by
keyset (so page 50 costs what page 1 does), all from parameters that live in the URL."""

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from tellcity.accounts.models import Role, User
from tellcity.categories.models import Category
from tellcity.cities.models import Zone
from tellcity.core.bodies import load_json
from tellcity.core.db import utcnow
from tellcity.core.errors import Malformed
from tellcity.core.i18n import shown_zone
from tellcity.core.params import id_param, int_param
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.open311.client.models import RemoteRequest
from tellcity.reports.models import Photo, Report, ReportEvent
from tellcity.reports.states import OPEN_STATUSES, Priority, Status
from tellcity.sla.queries import at_risk, overdue
from tellcity.staff.models import ReplyTemplate

REFERENCE = re.compile(r"[A-Z0-9]{1,8}-\d{4}-\d{6}")
PAGE_SIZE = 50

#: Status values that stand for several statuses ("all": no condition on the status).
GROUPS = {
    "open": frozenset(str(s) for s in OPEN_STATUSES),
    "closed": frozenset(str(s) for s in Status) - frozenset(str(s) for s in OPEN_STATUSES),
    "all": frozenset(),
}
#: Parameters that ask for particular tickets: a URL with one of them and no status (a
#: bookmark, a search for a reference, a link from the statistics) shows every status, as it
#: did before the queue opened on the open tickets.
ASKING = (
    "category",
    "zone",
    "priority",
    "assignee",
    "sla",
    "from",
    "to",
    "photo",
    "q",
    "department",
)

#: Each sort: (column, descending?) pairs, the last one unique, for the keyset.
SORTS = {
    "newest": ((Report.created_at, True), (Report.id, True)),
    "oldest": ((Report.created_at, False), (Report.id, False)),
    "due": ((Report.due_at, False), (Report.id, False)),
    "priority": ((Report.priority, False), (Report.created_at, True), (Report.id, True)),
}


@dataclass
class QueueFilters:
    """What the queue shows; every field round-trips through the URL's query string."""

    status: list[str] = field(default_factory=list)
    category: str = ""
    zone: str = ""
    priority: int | None = None
    assignee: str = ""  # "me", "none" or a user id
    sla: str = ""  # "at_risk" or "overdue"
    created_from: date | None = None
    created_to: date | None = None
    has_photo: bool = False
    q: str = ""
    department: int | None = None  # for the mayor's office and administrators
    sort: str = "newest"

    @classmethod
    def from_args(cls, args) -> "QueueFilters":
        def as_date(name):
            try:
                return date.fromisoformat(args.get(name, ""))
            except ValueError:
                return None

        statuses = [s for s in args.getlist("status") if s in set(Status) or s in GROUPS]
        if "status" not in args and not any(args.get(name) for name in ASKING):
            statuses = ["open"]  # the bare queue: the work to do; a link that asks keeps all
        sort = args.get("sort", "newest")
        return cls(
            status=statuses,
            category=args.get("category", "")[:64],
            zone=args.get("zone", "")[:64],
            priority=int_param(args.get("priority"), minimum=1, maximum=max(Priority.NAMES)),
            assignee=args.get("assignee", "")[:16],
            sla=args.get("sla", "") if args.get("sla") in ("at_risk", "overdue") else "",
            created_from=as_date("from"),
            created_to=as_date("to"),
            has_photo=args.get("photo") == "1",
            q=args.get("q", "").strip()[:100],
            department=id_param(args.get("department")),
            sort=sort if sort in SORTS else "newest",
        )

    def to_args(self) -> dict:
        """The query string of these filters (without the page cursor). Every status is said
        as "all", so that a link made from them does not fall back to the open tickets."""
        args = {
            "status": self.status or ["all"],
            "category": self.category,
            "zone": self.zone,
            "priority": self.priority,
            "assignee": self.assignee,
            "sla": self.sla,
            "from": self.created_from.isoformat() if self.created_from else None,
            "to": self.created_to.isoformat() if self.created_to else None,
            "photo": "1" if self.has_photo else None,
            "q": self.q,
            "department": self.department,
            "sort": self.sort if self.sort != "newest" else None,
        }
        return {key: value for key, value in args.items() if value not in (None, "", [])}


def visible_to(user: User, *, indexed: bool = True):
    """A filter: the tickets a member of staff may see. `indexed=False` writes it so that no
    index serves it (`+ 0`), for a query another index serves better."""
    if user.role in (Role.AGENT, Role.MANAGER):
        department = Report.department_id if indexed else Report.department_id + 0
        return department == user.department_id
    if user.city_id is not None:
        city = Report.city_id if indexed else Report.city_id + 0
        return city == user.city_id
    return sa.true()


def _conditions(
    user: User, filters: QueueFilters, *, with_status: bool = True, by_category: bool = False
) -> list:
    """The filters as SQL conditions. `by_category`: when a category is asked for, its tickets
    are to be read through (category_id, status, created_at), the department's or city's
    index left aside (for a page of the queue: PostgreSQL would otherwise intersect the
    department's index with every ticket of the category, 157,000 potholes, in 30 to 60 ms;
    a count, which stops early, is best left to the planner)."""
    conditions = [visible_to(user, indexed=not (by_category and filters.category))]
    if with_status and filters.status and "all" not in filters.status:
        wanted = set(filters.status)
        for group in wanted & GROUPS.keys():
            wanted |= GROUPS[group]
        conditions.append(Report.status.in_(sorted(wanted - GROUPS.keys())))
    if filters.category:
        # The ids themselves, not a subquery, so that the planner knows how many rows they hold.
        ids = db.session.scalars(sa.select(Category.id).where(Category.code == filters.category))
        conditions.append(Report.category_id.in_(ids.all()))
    if filters.zone:
        conditions.append(Report.zone_id.in_(sa.select(Zone.id).where(Zone.slug == filters.zone)))
    if filters.priority:
        conditions.append(Report.priority == filters.priority)
    conditions.extend(_assignee(user, filters.assignee))
    if filters.sla:
        now = utcnow()
        conditions.append(overdue(now) if filters.sla == "overdue" else at_risk(now))
    conditions.extend(_dates(user, filters))
    if filters.has_photo:
        conditions.append(sa.exists().where(Photo.report_id == Report.id))
    if filters.q:
        conditions.append(_search(filters.q))
    if filters.department and user.role in (Role.ADMIN, Role.MAYOR):
        conditions.append(Report.department_id == filters.department)
    return conditions


def _assignee(user: User, assignee: str) -> list:
    if assignee == "me":
        return [Report.assignee_id == user.id]
    if assignee == "none":
        return [Report.assignee_id.is_(None)]
    if (assignee_id := id_param(assignee)) is not None:
        return [Report.assignee_id == assignee_id]
    return []


def _dates(user: User, filters: QueueFilters) -> list:
    """Whole local days of the city, from the first to the last included."""
    zone = ZoneInfo(user.city.timezone) if user.city else shown_zone()
    conditions = []
    if filters.created_from:
        conditions.append(Report.created_at >= datetime.combine(filters.created_from, time(), zone))
    if filters.created_to:
        end = datetime.combine(filters.created_to + timedelta(days=1), time(), zone)
        conditions.append(Report.created_at < end)
    return conditions


def _search(q: str):
    """A reference finds its ticket through the unique index; other text is looked for in the
    description and the address."""
    if REFERENCE.fullmatch(q.upper()):
        return Report.reference == q.upper()
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return sa.or_(
        Report.description.ilike(pattern, escape="\\"),
        Report.address.ilike(pattern, escape="\\"),
        Report.reference.ilike(pattern, escape="\\"),
    )


def queue(
    user: User, filters: QueueFilters, after: str | None = None, limit: int = PAGE_SIZE
) -> tuple[list[Report], str | None]:
    """A page of tickets and the cursor of the next page (None on the last one)."""
    order = SORTS[filters.sort]
    query = sa.select(Report).where(*_conditions(user, filters, by_category=True))
    if filters.sort == "due":
        query = query.where(Report.due_at.is_not(None))
    cursor = decode_cursor(after) if after else None
    if cursor is not None and len(cursor) == len(order):
        query = query.where(_after(order, cursor))
    query = query.order_by(*(col.desc() if desc else col.asc() for col, desc in order))
    query = query.limit(limit + 1).options(
        selectinload(Report.category),
        selectinload(Report.zone),
        selectinload(Report.assignee),
        selectinload(Report.department),
    )
    rows = db.session.scalars(query).all()
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor([getattr(last, col.key) for col, _ in order])


def _after(order, values) -> sa.ColumnElement:
    """Rows after the cursor in the sort order: (a > x) or (a = x and (b > y or ...))."""
    (column, desc), *rest = order
    value = values[0]
    beyond = column < value if desc else column > value
    if not rest:
        return beyond
    return sa.or_(beyond, sa.and_(column == value, _after(rest, values[1:])))


def encode_cursor(values: list) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode()


def decode_cursor(cursor: str) -> list | None:
    """The values of a cursor, or None for one that was not made here (the first page)."""
    try:
        values = load_json(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError, Malformed):  # a crafted link: nested deep, a NUL...
        return None
    if not isinstance(values, list) or any(v is None for v in values):
        return None
    return [_revive(value) for value in values]


def _revive(value):
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def status_counts(user: User, filters: QueueFilters, cap: int) -> dict[str, int]:
    """How many tickets per status match the other filters, each counted up to `cap` + 1
    (more than `cap` means "more than `cap`"). One statement; each status reads at most
    `cap` + 1 rows through the (department | category | city, status, created_at) indexes,
    rather than counting every closed ticket of years of history on every page."""
    conditions = _conditions(user, filters, with_status=False)
    capped = [
        sa.select(sa.literal(str(status)).label("status"), sa.func.count().label("n")).select_from(
            sa.select(Report.id)
            .where(*conditions, Report.status == str(status))
            .limit(cap + 1)
            .subquery()
        )
        for status in Status
    ]
    rows = db.session.execute(sa.union_all(*capped))
    return {status: n for status, n in rows if n}


def map_points(user: User, filters: QueueFilters, limit: int = 5000) -> list[dict]:
    """Positions of the filtered tickets for the staff map (the newest `limit`)."""
    rows = db.session.execute(
        sa.select(Report.reference, Report.lat, Report.lon, Report.status, Report.priority)
        .where(*_conditions(user, filters), Report.lat.is_not(None))
        .order_by(Report.created_at.desc())
        .limit(limit)
    )
    return [
        {"reference": r, "lat": lat, "lon": lon, "status": s, "priority": p}
        for r, lat, lon, s, p in rows
    ]


def export_query(user: User, filters: QueueFilters, columns: tuple[str, ...]) -> sa.Select:
    """The filtered tickets as plain rows of `columns` (report columns, or "category",
    "department", "zone", "assignee" for their names, "answers" for the attributes),
    newest first."""
    assignee = sa.orm.aliased(User)
    named = {
        "category": Category.code,
        "department": Department.name,
        "zone": Zone.name,
        "assignee": assignee.email,
        "answers": Report.attributes,
    }
    return (
        sa.select(*(named.get(c, getattr(Report, c, None)) for c in columns))
        .select_from(Report)
        .join(Category, Category.id == Report.category_id)
        .join(Department, Department.id == Report.department_id)
        .outerjoin(Zone, Zone.id == Report.zone_id)
        .outerjoin(assignee, assignee.id == Report.assignee_id)
        .where(*_conditions(user, filters))
        .order_by(Report.created_at.desc(), Report.id.desc())
    )


def ticket(user: User, reference: str) -> Report | None:
    """One ticket the user may see (hidden ones included)."""
    return db.session.scalar(
        sa.select(Report).where(Report.reference == reference, visible_to(user))
    )


def remote_requests(report: Report) -> list[RemoteRequest]:
    """Where the report stands in the Open311 systems it was forwarded to (with their
    department), oldest first."""
    return db.session.scalars(
        sa.select(RemoteRequest)
        .where(RemoteRequest.report_id == report.id)
        .options(selectinload(RemoteRequest.department))
        .order_by(RemoteRequest.id)
    ).all()


def remote_request(report: Report, remote_id: int) -> RemoteRequest | None:
    """One of the report's forwards, or None."""
    found = db.session.get(RemoteRequest, remote_id)
    return found if found is not None and found.report_id == report.id else None


def colleagues(report: Report) -> list[User]:
    """Whom a ticket can be assigned to: the active staff of its department."""
    return db.session.scalars(
        sa.select(User)
        .where(User.department_id == report.department_id, User.is_active)
        .order_by(User.name, User.email)
    ).all()


def departments(city_id: int, *, internal_only: bool = False) -> list[Department]:
    """The city's departments by name; with `internal_only`, those a ticket can be transferred
    to (not the outside bodies)."""
    query = sa.select(Department).where(Department.city_id == city_id)
    if internal_only:
        query = query.where(Department.is_external.is_(False))
    return db.session.scalars(query.order_by(Department.name)).all()


def department(department_id: int, city_id: int) -> Department | None:
    """One of the city's departments, or None."""
    found = db.session.get(Department, department_id)
    return found if found is not None and found.city_id == city_id else None


def categories(city_id: int, kind: str | None = None) -> list[Category]:
    """The city's categories (of one kind, if given) in their order."""
    query = sa.select(Category).where(Category.city_id == city_id)
    if kind is not None:
        query = query.where(Category.kind == kind)
    return db.session.scalars(query.order_by(Category.position)).all()


def category(city_id: int, code: str) -> Category | None:
    return db.session.scalar(
        sa.select(Category).where(Category.city_id == city_id, Category.code == code)
    )


def zones(city_id: int) -> list[Zone]:
    return db.session.scalars(
        sa.select(Zone).where(Zone.city_id == city_id).order_by(Zone.name)
    ).all()


def user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def reply_template(template_id: int) -> ReplyTemplate | None:
    return db.session.get(ReplyTemplate, template_id)


def event(report: Report, event_id: int) -> ReportEvent | None:
    """One of the ticket's events, or None."""
    found = db.session.get(ReportEvent, event_id)
    return found if found is not None and found.report_id == report.id else None
