"""Reading the rows of a 311 export: from CSV fields to the values of a report, or the reason
the row cannot be one. Pure functions and small classes, no database."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from tellcity.imports.dates import DateParser
from tellcity.imports.mapping import (
    OPTIONAL_FIELDS,
    REQUIRED_FIELDS,
    ImportMapping,
    MappingError,
)
from tellcity.imports.rejects import is_rejects, unescaped
from tellcity.reports.states import OPEN_STATUSES, Status

#: Column widths of the reports table the values must fit in.
EXTERNAL_ID_MAX = 64
ADDRESS_MAX = 300
NAME_MAX = 200


class Skip(StrEnum):
    """Why a row of the file did not become a report."""

    UNDECODABLE = "undecodable"
    MALFORMED = "malformed"
    NO_ID = "no_id"
    ID_TOO_LONG = "id_too_long"
    DUPLICATE_ID = "duplicate_id"
    BAD_CREATED = "bad_created"
    UNKNOWN_STATUS = "unknown_status"
    NO_POSITION = "no_position"
    OUTSIDE_CITY = "outside_city"
    STRAY_POSITION = "stray_position"


class Change(StrEnum):
    """What was changed or filled in on a row that did become a report."""

    CLOSED_BEFORE_OPENED = "closed_before_opened"
    BAD_CLOSED = "bad_closed"
    CLOSED_WITHOUT_DATE = "closed_without_date"
    OPEN_WITH_CLOSED_DATE = "open_with_closed_date"
    DUPLICATE_WITHOUT_ORIGINAL = "duplicate_without_original"
    NO_AGENCY = "no_agency"
    NO_CATEGORY = "no_category"
    SHORTENED = "shortened"


SKIP_MESSAGES = {
    Skip.UNDECODABLE: "with bytes the mapping's encoding cannot read",
    Skip.MALFORMED: "malformed (not as many fields as the header)",
    Skip.NO_ID: "without an id",
    Skip.ID_TOO_LONG: f"with an id longer than {EXTERNAL_ID_MAX} characters",
    Skip.DUPLICATE_ID: "repeating an id seen earlier in the file",
    Skip.BAD_CREATED: "without a readable creation date",
    Skip.UNKNOWN_STATUS: "with a status the mapping does not list",
    Skip.NO_POSITION: "without a position (empty, unreadable or a placeholder)",
    Skip.OUTSIDE_CITY: "outside the city limits",
    Skip.STRAY_POSITION: "far from the positions of the other rows",
}
CHANGE_MESSAGES = {
    Change.CLOSED_BEFORE_OPENED: "closed before they were opened (closing date dropped)",
    Change.BAD_CLOSED: "with an unreadable closing date (dropped)",
    Change.CLOSED_WITHOUT_DATE: "closed without a closing date (closing time left empty)",
    Change.OPEN_WITH_CLOSED_DATE: "still open but with a closing date (dropped)",
    Change.DUPLICATE_WITHOUT_ORIGINAL: (
        "duplicates whose original is unknown (imported as duplicates of nothing)"
    ),
    Change.NO_AGENCY: "without an agency (sent to the triage department)",
    Change.NO_CATEGORY: "without a category (filed under Other)",
    Change.SHORTENED: "with an address or a name shortened to fit",
}

#: The fields of a report read from a row, in the order RowParser.values gives them.
FIELDS = (*REQUIRED_FIELDS, *OPTIONAL_FIELDS)

#: The category of rows that name none.
OTHER_CATEGORY = "Other"


class Skipped(Exception):
    """Raised by RowParser.parse: the row cannot become a report, for `reason`."""

    def __init__(self, reason: Skip, detail: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(slots=True)
class Row:
    """The values of one report, as read from one row."""

    external_id: str
    created_at: datetime  # aware, UTC
    closed_at: datetime | None  # aware, UTC; only on a closed status
    status: Status
    source_status: str
    category: str
    agency: str  # "" for none
    lat: float
    lon: float
    address: str
    description: str
    changes: tuple[Change, ...]
    #: The line of the file the row starts on, and its fields as read (for the rejects file).
    line: int = 0
    fields: list[str] | None = None


class RowParser:
    """Turns the fields of one CSV row into a Row, following a mapping."""

    def __init__(self, mapping: ImportMapping, header: list[str]):
        """Raises MappingError when a column the mapping names is not in `header`."""
        self.mapping = mapping
        self.width = len(header)
        #: The column of each field, in FIELDS order; None for a field the mapping does not map.
        self.index = [
            column_index(header, mapping.columns[name]) if name in mapping.columns else None
            for name in FIELDS
        ]
        self.missing = mapping.missing_values
        #: Longer cells cannot be a missing value (case folding never shortens a text): they
        #: are not case-folded to be compared.
        self.missing_length = max(map(len, self.missing))
        self.dates = DateParser(mapping.date_formats, ZoneInfo(mapping.city.timezone))
        self.lat_index = self.index[FIELDS.index("lat")]
        self.lon_index = self.index[FIELDS.index("lon")]
        #: A rejects file imported again: its cells lose the apostrophe put before formulas.
        self.is_rejects = is_rejects(header)

    def values(self, fields: list[str]) -> list[str]:
        """Every field of the mapping, in FIELDS order, stripped; "" for a field the mapping
        has no column for, or a cell holding one of its missing values ("NA", "N/A"...)."""
        missing, length = self.missing, self.missing_length
        values = []
        for index in self.index:
            value = fields[index].strip() if index is not None else ""
            if len(value) <= length and value.casefold() in missing:
                value = ""
            values.append(value)
        if self.is_rejects:
            return [unescaped(value) for value in values]
        return values

    def position(self, fields: list[str]) -> tuple[float, float] | None:
        """The position of a row, or None when it has none (or is malformed)."""
        if len(fields) != self.width:
            return None
        values = [fields[self.lat_index].strip(), fields[self.lon_index].strip()]
        if self.is_rejects:
            values = [unescaped(value) for value in values]
        try:
            return self._position(*values)
        except Skipped:
            return None

    def parse(self, fields: list[str]) -> Row:
        """The report values of one row. Raises Skipped when it cannot be a report."""
        if len(fields) != self.width:
            raise Skipped(Skip.MALFORMED)
        (  # FIELDS, in order
            external_id,
            created,
            source_status,
            category,
            lat_text,
            lon_text,
            closed,
            agency,
            address,
            description,
        ) = self.values(fields)
        changes: list[Change] = []
        external_id = _external_id(external_id)
        created_at = self.dates(created)
        if created_at is None:
            raise Skipped(Skip.BAD_CREATED)
        status = self.mapping.statuses.get(source_status.casefold())
        if status is None:
            raise Skipped(Skip.UNKNOWN_STATUS, source_status)
        lat, lon = self._position(lat_text, lon_text)
        return Row(
            external_id=external_id,
            created_at=created_at,
            closed_at=self._closed_at(closed, status, created_at, changes),
            status=status,
            source_status=source_status,
            category=_category(category, changes),
            agency=_agency(self.mapping.agencies.get(agency, agency), changes),
            lat=lat,
            lon=lon,
            address=_shortened(address, ADDRESS_MAX, changes),
            description=description,
            changes=tuple(dict.fromkeys(changes)) if changes else (),
        )

    def _position(self, lat_text: str, lon_text: str) -> tuple[float, float]:
        try:
            lat, lon = float(lat_text), float(lon_text)
        except ValueError:
            raise Skipped(Skip.NO_POSITION) from None
        # NaN fails every comparison, so it is caught here too.
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise Skipped(Skip.NO_POSITION)
        if (lat, lon) in self.mapping.placeholder_positions:
            raise Skipped(Skip.NO_POSITION)
        return lat, lon

    def _closed_at(
        self, text: str, status: Status, created_at: datetime, changes: list[Change]
    ) -> datetime | None:
        """The closing time, kept only where it makes sense: on a closed status, not before the
        report was created. Each dropped or missing date is noted in `changes`."""
        closed_at = self.dates(text) if text else None
        if text and closed_at is None:
            changes.append(Change.BAD_CLOSED)
        if status in OPEN_STATUSES:
            if closed_at is not None:
                changes.append(Change.OPEN_WITH_CLOSED_DATE)
            return None
        if closed_at is None:
            if not text:
                changes.append(Change.CLOSED_WITHOUT_DATE)
            return None
        if closed_at < created_at:
            changes.append(Change.CLOSED_BEFORE_OPENED)
            return None
        return closed_at


def _external_id(value: str) -> str:
    if not value:
        raise Skipped(Skip.NO_ID)
    if len(value) > EXTERNAL_ID_MAX:
        raise Skipped(Skip.ID_TOO_LONG)
    return value


def _category(name: str, changes: list[Change]) -> str:
    if not name:
        changes.append(Change.NO_CATEGORY)
        return OTHER_CATEGORY
    return _shortened(name, NAME_MAX, changes)


def _agency(name: str, changes: list[Change]) -> str:
    if not name:
        changes.append(Change.NO_AGENCY)
    return _shortened(name, NAME_MAX, changes)


def _shortened(text: str, length: int, changes: list[Change]) -> str:
    if len(text) <= length:
        return text
    changes.append(Change.SHORTENED)
    return text[:length]


def column_index(header: list[str], column: str) -> int:
    """The position of `column` in the header: an exact match, else one ignoring case and
    surrounding spaces. Raises MappingError when it is not there."""
    if column in header:
        return header.index(column)
    wanted = column.strip().casefold()
    for index, name in enumerate(header):
        if name.strip().casefold() == wanted:
            return index
    raise MappingError(f"the file has no column {column!r} (its columns: {', '.join(header)})")
