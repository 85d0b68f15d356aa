"""Export definitions: what to export, in which formats, when, where to, and how many to keep.

They live in ``SITELEDGER_HOME/exports.yaml`` (a list under ``exports:``). The file is read by
the same loader as the site files, so every problem names the file, the line and the key path.
A definition is checked twice: its shape here (names, formats, schedule, destinations), and its
mart, columns and filters against the published warehouse's catalogue
(:func:`reports.exports.query.catalogue_problems`), so a typo is refused before anything runs.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from siteledger.site.loader import (
    ConfigProblem,
    SiteConfigError,
    YamlDocument,
    parse_yaml_mapping,
    read_config_text,
    validation_problems,
)

EXPORTS_FILE = "exports.yaml"
FORMATS = ("csv", "xlsx", "json", "parquet", "xml")
# a mart column or table name: lower-case SQL identifier, never quoted text from the file
IDENT = r"^[a-z_][a-z0-9_]{0,62}$"
# an export's name is its files' stem and part of its Dagster schedule's name
NAME = r"^[a-z0-9][a-z0-9_]{0,62}$"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# the seed's schedule (frequency, HH:MM, day of week for weekly, day of month for monthly); runs
# at 06:00 by default, after the overnight build and the regulatory reports (04:00)
DEFAULT_TIME = "06:00"
DEFAULT_WEEKDAY = "monday"
DEFAULT_MONTH_DAY = 1
RELATIVE_RANGES = (
    "today",
    "yesterday",
    "last_N_days",
    "last_week",
    "week_to_date",
    "last_month",
    "month_to_date",
    "last_year",
    "year_to_date",
)
_LAST_N_DAYS = re.compile(r"^last_([1-9][0-9]{0,3})_days$")


def _identifier(value: str) -> str:
    if not re.match(IDENT, value):
        raise ValueError(
            f"{value!r} is not a table or column name: lower-case letters, digits and _ only, "
            "at most 63 characters"
        )
    return value


Ident = Annotated[str, AfterValidator(_identifier)]
SiteId = Annotated[str, Field(min_length=1, max_length=64)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DateBounds(_Model):
    """An absolute range of days, both ends included."""

    start: dt.date = Field(alias="from")
    end: dt.date = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> DateBounds:
        if self.end < self.start:
            raise ValueError(f"'to' ({self.end}) is before 'from' ({self.start})")
        return self


def resolve_range(dates: str | DateBounds, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day (both included) of ``dates`` for a run on ``as_of``.

    ``last_*`` ranges end before ``as_of`` (complete periods); ``*_to_date`` ranges end on it."""
    if isinstance(dates, DateBounds):
        return dates.start, dates.end
    day = dt.timedelta(days=1)
    if dates == "today":
        return as_of, as_of
    if dates == "yesterday":
        return as_of - day, as_of - day
    if match := _LAST_N_DAYS.match(dates):
        return as_of - int(match.group(1)) * day, as_of - day
    monday = as_of - as_of.weekday() * day
    if dates == "last_week":
        return monday - 7 * day, monday - day
    if dates == "week_to_date":
        return monday, as_of
    first = as_of.replace(day=1)
    if dates == "last_month":
        end = first - day
        return end.replace(day=1), end
    if dates == "month_to_date":
        return first, as_of
    if dates == "last_year":
        return dt.date(as_of.year - 1, 1, 1), dt.date(as_of.year - 1, 12, 31)
    if dates == "year_to_date":
        return dt.date(as_of.year, 1, 1), as_of
    raise ValueError(f"unknown date range {dates!r}")


class Selection(_Model):
    """What is exported: one published mart, the whole of it or a selection of it."""

    mart: Ident
    sites: list[SiteId] = Field(default_factory=list)
    facilities: list[SiteId] = Field(default_factory=list, description="node ids")
    columns: list[Ident] = Field(default_factory=list, description="empty: every column")
    dates: str | DateBounds | None = None
    date_column: Ident | None = None

    @field_validator("dates")
    @classmethod
    def _known_range(cls, value: str | DateBounds | None) -> str | DateBounds | None:
        if (
            isinstance(value, str)
            and value not in RELATIVE_RANGES
            and not _LAST_N_DAYS.match(value)
        ):
            raise ValueError(
                f"unknown date range {value!r}: use {', '.join(RELATIVE_RANGES)} "
                "(N from 1 to 9999) or {from: YYYY-MM-DD, to: YYYY-MM-DD}"
            )
        return value

    @field_validator("columns")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        seen = [c for i, c in enumerate(value) if c in value[:i]]
        if seen:
            raise ValueError(f"column {seen[0]!r} is listed twice")
        return value


class Schedule(_Model):
    """When a scheduled export runs, in the organisation's timezone unless ``timezone`` says."""

    every: Literal["daily", "weekly", "monthly"]
    at: str = Field(DEFAULT_TIME, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    weekday: Literal[WEEKDAYS] | None = None  # type: ignore[valid-type]
    day: int | None = Field(None, ge=1, le=28, description="day of the month, 1 to 28")
    timezone: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"every": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _days(self) -> Schedule:
        if self.weekday is not None and self.every != "weekly":
            raise ValueError(f"'weekday' applies to weekly schedules, not {self.every}")
        if self.day is not None and self.every != "monthly":
            raise ValueError(f"'day' applies to monthly schedules, not {self.every}")
        if self.timezone is not None:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown timezone {self.timezone!r}") from None
        return self

    @property
    def cron(self) -> str:
        hour, minute = (int(x) for x in self.at.split(":"))
        if self.every == "daily":
            return f"{minute} {hour} * * *"
        if self.every == "weekly":
            # cron counts days from Sunday (0)
            weekday = (WEEKDAYS.index(self.weekday or DEFAULT_WEEKDAY) + 1) % 7
            return f"{minute} {hour} * * {weekday}"
        return f"{minute} {hour} {self.day or DEFAULT_MONTH_DAY} * *"


class Retention(_Model):
    """How many of an export's runs a destination keeps: the newest ``keep_last`` runs and/or
    the runs delivered within ``keep_days`` days (both given: a run must pass both)."""

    keep_last: int | None = Field(None, ge=1)
    keep_days: int | None = Field(None, ge=1)


def _relative_path(value: str, what: str) -> str:
    """A path below a root: relative, no ``..``, no NUL, no backslash."""
    if not value or "\x00" in value or "\\" in value:
        raise ValueError(f"{what} must be a non-empty relative path with '/' separators")
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts:
        raise ValueError(
            f"{what} {value!r} must stay below its root: no leading '/', no '..' parts"
        )
    return str(path)


class FolderDestination(_Model):
    """A folder below ``SITELEDGER_HOME/exports`` (or ``SITELEDGER_EXPORT_DIR``)."""

    type: Literal["folder"]
    path: str
    retention: Retention | None = None

    @field_validator("path")
    @classmethod
    def _below_root(cls, value: str) -> str:
        return _relative_path(value, "folder path")


class S3Destination(_Model):
    """The bucket of ``SITELEDGER_S3_*``, under its prefix then ``prefix``."""

    type: Literal["s3"]
    prefix: str = "exports"
    retention: Retention | None = None

    @field_validator("prefix")
    @classmethod
    def _key_prefix(cls, value: str) -> str:
        return _relative_path(value.strip("/"), "S3 prefix")


class EmailDestination(_Model):
    """Recipients of an e-mail with the files attached, through ``SITELEDGER_SMTP_*``."""

    type: Literal["email"]
    to: list[Annotated[str, Field(pattern=r"^[^@\s,<>]+@[^@\s,<>]+$")]] = Field(min_length=1)
    subject: str | None = Field(None, max_length=200)

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and ("\n" in value or "\r" in value):
            raise ValueError("the subject must be one line")
        return value


class SftpDestination(_Model):
    """A folder on the SFTP server of ``SITELEDGER_SFTP_*`` (relative to the login folder)."""

    type: Literal["sftp"]
    path: str = "."
    retention: Retention | None = None

    @field_validator("path")
    @classmethod
    def _below_login(cls, value: str) -> str:
        return "." if value in ("", ".") else _relative_path(value, "SFTP path")


Destination = Annotated[
    FolderDestination | S3Destination | EmailDestination | SftpDestination,
    Field(discriminator="type"),
]


class ExportDefinition(_Model):
    """One named export."""

    name: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.match(NAME, value):
            raise ValueError(
                f"{value!r} is not an export name: lower-case letters, digits and _, "
                "at most 63 characters"
            )
        return value

    description: str = ""
    source: Selection
    formats: list[Literal["csv", "xlsx", "json", "parquet", "xml"]] = Field(min_length=1)
    schedule: Schedule | None = None
    destinations: list[Destination] = Field(default_factory=list)
    retention: Retention | None = None

    @field_validator("formats")
    @classmethod
    def _unique_formats(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a format is listed twice")
        return value

    def retention_for(self, destination: Any) -> Retention | None:
        """The destination's own retention, else the export's."""
        return getattr(destination, "retention", None) or self.retention


class ExportsFile(_Model):
    exports: list[ExportDefinition] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> ExportsFile:
        names = [e.name for e in self.exports]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"export name {twice[0]!r} is used twice")
        return self


class ExportConfigError(SiteConfigError):
    """An exports file that cannot be used; ``problems`` lists every reason with its line."""


def exports_file(home: Path) -> Path:
    return home / EXPORTS_FILE


def parse_exports_text(text: str, file: str = "<string>") -> tuple[ExportsFile, YamlDocument]:
    """The exports file's definitions and its document (for the lines of later problems)."""
    try:
        doc = parse_yaml_mapping(text, file)
    except SiteConfigError as exc:
        raise ExportConfigError(exc.problems) from None
    try:
        parsed = ExportsFile.model_validate(doc.data)
    except ValidationError as exc:
        # pydantic names a destination's type in the key path (destinations[0].folder.path):
        # the file has no such key
        raise ExportConfigError(
            [
                doc.problem(_DESTINATION_TAG.sub(r"\1", p.path), p.message)
                for p in validation_problems(exc, doc)
            ]
        ) from None
    return parsed, doc


_DESTINATION_TAG = re.compile(r"(destinations\[\d+\])\.(?:folder|s3|email|sftp)\b")


def load_exports(path: Path, published_db: Path | None = None) -> list[ExportDefinition]:
    """The definitions of ``path``; with ``published_db``, also checked against its catalogue.
    A missing file holds no exports. Raises :class:`ExportConfigError` listing every problem."""
    if not path.exists():
        return []
    try:
        text = read_config_text(path)
    except SiteConfigError as exc:
        raise ExportConfigError(exc.problems) from None
    parsed, doc = parse_exports_text(text, str(path))
    if published_db is not None:
        from reports.exports.query import catalogue_problems, read_catalogue

        catalogue = read_catalogue(published_db)
        problems: list[ConfigProblem] = []
        for i, export in enumerate(parsed.exports):
            for key, message in catalogue_problems(export.source, catalogue):
                problems.append(doc.problem(f"exports[{i}].source.{key}", message))
        if problems:
            raise ExportConfigError(problems)
    return parsed.exports


def find_export(exports: list[ExportDefinition], name: str) -> ExportDefinition:
    for export in exports:
        if export.name == name:
            return export
    known = ", ".join(e.name for e in exports) or "none"
    raise KeyError(f"no export {name!r} (exports: {known})")
