"""Column mappings of 311 exports: which column holds each field of a report, how the dates are
written, what each status value means here, which positions are placeholders, and the city the
data belongs to. The shipped ones (profiles) are TOML files in `profiles/`; `--mapping FILE`
reads any other file written the same way (see the README, "Importing 311 data")."""

import codecs
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tellcity.reports.states import PROBLEM_STATUSES, Status

PROFILES = Path(__file__).parent / "profiles"

#: The fields of a report a mapping can fill, each from one column of the export.
REQUIRED_FIELDS = ("id", "created", "status", "category", "lat", "lon")
OPTIONAL_FIELDS = ("closed", "agency", "address", "description")
#: Cell values that mean "no value" unless the mapping says otherwise (compared ignoring case).
DEFAULT_MISSING = ("", "NA", "N/A", "NULL", "None", "nan")
#: The date format name that means ISO 8601 (`2020-01-01T08:05:00`, with or without offset).
ISO = "iso"

_TOP_LEVEL = {
    "name",
    "encoding",
    "delimiter",
    "date_formats",
    "missing_values",
    "placeholder_positions",
    "city",
    "columns",
    "statuses",
    "agencies",
}
_CITY_KEYS = {
    "slug",
    "name",
    "timezone",
    "reference_prefix",
    "locale",
    "holiday_country",
    "holiday_subdivision",
}
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_PREFIX = re.compile(r"^[A-Z0-9]{1,8}$")


class MappingError(ValueError):
    """A mapping that cannot be used; the message says what is wrong and where."""


@dataclass(frozen=True)
class CityDefaults:
    """The city an import creates when the target city does not exist yet."""

    slug: str
    name: str
    timezone: str
    reference_prefix: str
    locale: str = "en"
    holiday_country: str | None = None
    holiday_subdivision: str | None = None


@dataclass(frozen=True)
class ImportMapping:
    """How to read one kind of 311 export."""

    #: What the data is, for messages and the imported reports' first event.
    name: str
    city: CityDefaults
    #: Report field (REQUIRED_FIELDS, OPTIONAL_FIELDS) → column header.
    columns: dict[str, str]
    #: Source status, case-folded → our status.
    statuses: dict[str, Status]
    #: strptime formats tried in order, or ISO; timestamps without an offset are local time.
    date_formats: tuple[str, ...]
    #: Case-folded cell values that mean "no value".
    missing_values: frozenset[str]
    #: (lat, lon) pairs that stand for "no position"; (0, 0) always does.
    placeholder_positions: frozenset[tuple[float, float]]
    #: Agency code in the export → department name (codes not listed are their own name).
    agencies: dict[str, str]
    encoding: str = "utf-8-sig"
    delimiter: str = ","


def profile_names() -> list[str]:
    """The names of the shipped profiles (`--profile NAME`)."""
    return sorted(path.stem for path in PROFILES.glob("*.toml"))


def load_profile(name: str) -> ImportMapping:
    """The shipped profile called `name`. Raises MappingError if there is none."""
    if name not in profile_names():
        known = ", ".join(profile_names())
        raise MappingError(f"no profile {name!r} (known profiles: {known})")
    return load_mapping(PROFILES / f"{name}.toml")


def load_mapping(path: Path) -> ImportMapping:
    """The mapping in the TOML file at `path`. Raises MappingError if it cannot be read or is
    incomplete."""
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except OSError as error:
        raise MappingError(f"cannot read the mapping {path}: {error.strerror}") from error
    except tomllib.TOMLDecodeError as error:
        raise MappingError(f"{path} is not valid TOML: {error}") from error
    return parse_mapping(data, source=str(path))


def parse_mapping(data: dict, source: str = "mapping") -> ImportMapping:
    """Check a mapping read from TOML and build it. Raises MappingError naming the first
    problem found (`source` says where it comes from)."""
    _check_keys(data, _TOP_LEVEL, source)
    formats = tuple(data.get("date_formats", [ISO]))
    if not formats or not all(isinstance(value, str) for value in formats):
        raise MappingError(f"{source}: date_formats must be a list of strptime formats")
    return ImportMapping(
        name=str(data.get("name") or source),
        city=_city(data.get("city"), source),
        columns=_columns(data.get("columns"), source),
        statuses=_statuses(data.get("statuses"), source),
        date_formats=formats,
        missing_values=frozenset(
            {
                "",
                *(
                    str(value).strip().casefold()
                    for value in data.get("missing_values", DEFAULT_MISSING)
                ),
            }
        ),
        placeholder_positions=_placeholders(data.get("placeholder_positions", []), source),
        agencies={str(code): str(name) for code, name in data.get("agencies", {}).items()},
        encoding=_encoding(data.get("encoding", "utf-8-sig"), source),
        delimiter=str(data.get("delimiter", ",")),
    )


def _check_keys(table: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {', '.join(unknown)}")


def _city(table: dict | None, source: str) -> CityDefaults:
    if not isinstance(table, dict):
        raise MappingError(f"{source}: a [city] table is required")
    _check_keys(table, _CITY_KEYS, f"{source} [city]")
    missing = [key for key in ("slug", "name", "timezone", "reference_prefix") if key not in table]
    if missing:
        raise MappingError(f"{source} [city]: missing {', '.join(missing)}")
    if not is_slug(table["slug"]):
        raise MappingError(f"{source} [city]: slug must be lowercase words joined by hyphens")
    if not _PREFIX.match(table["reference_prefix"]):
        raise MappingError(f"{source} [city]: reference_prefix must be 1 to 8 capitals or digits")
    check_timezone(table["timezone"], f"{source} [city]")
    return CityDefaults(**table)


def is_slug(text: str) -> bool:
    """Whether `text` can be a city's slug: lowercase words and digits joined by hyphens."""
    return len(text) <= 64 and _SLUG.match(text) is not None


def check_timezone(name: str, where: str) -> None:
    """Raises MappingError unless `name` is an IANA time zone such as America/New_York."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingError(f"{where}: unknown time zone {name!r}") from None


def _columns(table: dict | None, source: str) -> dict[str, str]:
    if not isinstance(table, dict):
        raise MappingError(f"{source}: a [columns] table is required")
    _check_keys(table, {*REQUIRED_FIELDS, *OPTIONAL_FIELDS}, f"{source} [columns]")
    missing = [name for name in REQUIRED_FIELDS if not table.get(name)]
    if missing:
        raise MappingError(f"{source} [columns]: no column given for {', '.join(missing)}")
    return {name: str(column) for name, column in table.items() if column}


def _statuses(table: dict | None, source: str) -> dict[str, Status]:
    if not isinstance(table, dict) or not table:
        raise MappingError(f"{source}: a [statuses] table is required (source value = status)")
    statuses = {}
    for raw, ours in table.items():
        if ours not in PROBLEM_STATUSES:
            known = ", ".join(PROBLEM_STATUSES)
            raise MappingError(f"{source} [statuses]: {raw!r} = {ours!r} is not one of {known}")
        statuses[raw.strip().casefold()] = Status(ours)
    return statuses


def _encoding(name: str, source: str) -> str:
    try:
        codecs.lookup(name)
    except LookupError:
        raise MappingError(f"{source}: unknown encoding {name!r}") from None
    # Files are split into lines before they are decoded (tellcity.imports.records).
    if "a,\n".encode(name).removeprefix(codecs.BOM_UTF8) != b"a,\n":
        raise MappingError(f"{source}: encoding {name!r} does not write ASCII as ASCII")
    return name


def _placeholders(pairs: list, source: str) -> frozenset[tuple[float, float]]:
    positions = {(0.0, 0.0)}
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2):
            raise MappingError(f"{source}: placeholder_positions holds [lat, lon] pairs")
        positions.add((float(pair[0]), float(pair[1])))
    return frozenset(positions)
