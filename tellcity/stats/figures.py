"""What the statistics queries return: plain values, with the few ratios derived from them."""

from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from datetime import date, datetime
from typing import get_type_hints

from tellcity.stats.sql import Spread

#: Backlog age buckets, in days: lower bound included, upper bound excluded.
AGE_BUCKETS: tuple[tuple[int, int | None], ...] = ((0, 2), (2, 7), (7, 30), (30, 90), (90, None))
TOP_CATEGORIES = 10


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


#: The counts of Figures, which add up from (department, category, zone) cells to any group.
COUNTS = (
    "received",
    "duplicates",
    "closed",
    "closed_with_deadline",
    "closed_on_time",
    "resolved",
    "confirmed",
    "backlog",
    "closed_undated",
)


@dataclass
class Figures:
    """The counts and durations of one group (the whole selection, a department, a category or
    a zone) over the range."""

    received: int = 0
    duplicates: int = 0
    closed: int = 0
    closed_with_deadline: int = 0
    closed_on_time: int = 0
    resolved: int = 0
    confirmed: int = 0
    backlog: int = 0
    #: Received, and closed at a time nobody knows (imported with a closed status and no
    #: usable closing time): neither closed in any range nor ever in the backlog. With them,
    #: received = closed + closed_undated + backlog over a range that covers every report.
    closed_undated: int = 0
    backlog_ages: list[int] = field(default_factory=lambda: [0] * len(AGE_BUCKETS))
    time_to_acknowledge: Spread = field(default_factory=Spread)
    time_to_close: Spread = field(default_factory=Spread)

    @property
    def sla_compliance(self) -> float | None:
        return ratio(self.closed_on_time, self.closed_with_deadline)

    @property
    def confirmed_fix_rate(self) -> float | None:
        return ratio(self.confirmed, self.resolved)

    @property
    def is_empty(self) -> bool:
        return not (self.received or self.closed or self.backlog or self.closed_undated)

    def add(self, other: "Figures") -> None:
        """Add another group's counts (not its durations, which do not add up)."""
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.backlog_ages = [
            mine + theirs
            for mine, theirs in zip(self.backlog_ages, other.backlog_ages, strict=True)
        ]


@dataclass
class GroupRow:
    """One row of a department, category or zone table."""

    id: int | None
    code: str
    name: str
    figures: Figures
    population: int | None = None

    def per_1000(self, count: int) -> float | None:
        return count * 1000 / self.population if self.population else None


@dataclass(frozen=True)
class SeriesPoint:
    start: date
    received: int
    closed: int


@dataclass(frozen=True)
class Outcomes:
    """Fixes that held, fixes reopened by their reporter, fixes confirmed by them."""

    resolved: int = 0
    reopened: int = 0
    confirmed: int = 0

    @property
    def reopen_rate(self) -> float | None:
        return ratio(self.reopened, self.resolved + self.reopened)

    @property
    def confirmed_fix_rate(self) -> float | None:
        return ratio(self.confirmed, self.resolved)


@dataclass(frozen=True)
class Transfers:
    count: int = 0
    reports: int = 0


@dataclass(frozen=True)
class Hotspot:
    lat: float
    lon: float
    south: float
    west: float
    north: float
    east: float
    count: int
    open: int


@dataclass(frozen=True)
class SuggestionRow:
    reference: str
    category: str
    status: str
    support_count: int
    created_at: datetime
    summary: str
    category_id: int | None = None


@dataclass
class Headline:
    """The figures a period is summed up by, compared with the previous period."""

    received: int
    closed: int
    backlog: int
    median_time_to_close: float | None
    sla_compliance: float | None
    confirmed_fix_rate: float | None

    NAMES = (
        "received",
        "closed",
        "backlog",
        "median_time_to_close",
        "sla_compliance",
        "confirmed_fix_rate",
    )

    @classmethod
    def of(cls, totals: Figures) -> "Headline":
        return cls(
            received=totals.received,
            closed=totals.closed,
            backlog=totals.backlog,
            median_time_to_close=totals.time_to_close.median,
            sla_compliance=totals.sla_compliance,
            confirmed_fix_rate=totals.confirmed_fix_rate,
        )


# --- As JSON ------------------------------------------------------------------------------------


def as_plain(value):
    """A figure (a dataclass above, or a list of them) as data `json` can write: dicts, lists,
    numbers, strings; dates and times in ISO 8601."""
    if is_dataclass(value):
        return {item.name: as_plain(getattr(value, item.name)) for item in fields(value)}
    if isinstance(value, list | tuple):
        return [as_plain(item) for item in value]
    if isinstance(value, date):  # and datetime, a date too
        return value.isoformat()
    return value


def from_plain(cls, data: dict):
    """The `cls` (a dataclass above) that as_plain gave `data` for. A figure added since
    `data` was written (a snapshot kept by an older version) takes its default."""
    types = get_type_hints(cls)
    values = {}
    for item in fields(cls):
        if item.name not in data and item.default is not MISSING:
            continue
        kind, value = types[item.name], data[item.name]
        if is_dataclass(kind):
            value = from_plain(kind, value)
        elif kind is datetime:
            value = datetime.fromisoformat(value)
        elif kind is date:
            value = date.fromisoformat(value)
        values[item.name] = value
    return cls(**values)
