"""The organisation the sites belong to: its regions, its financial year and its first day of data.

One optional file, ``$SITELEDGER_HOME/organisation.yaml``; without it every site belongs to one
default organisation whose financial year starts in July. The financial year drives both the
report periods and the Dagster partitions; the first day of data is where day partitions start.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

from pydantic import Field, field_validator

from siteledger.site.loader import parse_model_text, read_config_text
from siteledger.site.models import Identifier, SiteConfig, _Model

DEFAULT_FY_START_MONTH = 7
# day partitions start here when neither the organisation nor any site names a first day of data
FALLBACK_DATA_START = dt.date(2020, 1, 1)


class Region(_Model):
    id: Identifier
    name: str


class OrganisationInfo(_Model):
    id: Identifier = "default"
    name: str = "Default organisation"
    financial_year_start_month: int = Field(
        DEFAULT_FY_START_MONTH, ge=1, le=12, description="1 = calendar year, 7 = July (Australia)"
    )
    data_start: dt.date | None = Field(
        None, description="first site-local day any site reports; day partitions start here"
    )
    timezone: str | None = Field(
        None,
        description="zone of the organisation's schedules; default: the site zone whose midnight "
        "comes last, so a day partition is complete at every site before it is built",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
        return value


class Organisation(_Model):
    organisation: OrganisationInfo = Field(default_factory=OrganisationInfo)
    regions: list[Region] = Field(default_factory=list)

    def region_name(self, region_id: str) -> str:
        return next((r.name for r in self.regions if r.id == region_id), region_id)


def _semantic_problems(org: Organisation) -> list[tuple[str, str]]:
    problems = []
    seen: set[str] = set()
    for i, region in enumerate(org.regions):
        if region.id in seen:
            problems.append((f"regions[{i}].id", f"duplicate region id {region.id!r}"))
        seen.add(region.id)
    return problems


def parse_organisation_text(text: str, file: str = "<string>") -> Organisation:
    return parse_model_text(text, Organisation, file, _semantic_problems)


def load_organisation(path: str | Path) -> Organisation:
    """The organisation file at ``path``, or the default organisation when it does not exist;
    raises :class:`~siteledger.site.loader.SiteConfigError` listing every problem."""
    if not Path(path).exists():
        return Organisation()
    return parse_organisation_text(read_config_text(path), str(path))


def data_start(org: Organisation, sites: list[SiteConfig]) -> dt.date:
    """First day of the day partitions: the organisation's ``data_start``, else a fallback."""
    return org.organisation.data_start or FALLBACK_DATA_START


def schedule_timezone(org: Organisation, sites: list[SiteConfig]) -> str:
    """The organisation's zone, else the site zone whose local midnight comes last (smallest UTC
    offset now), so yesterday is over at every site when a schedule in that zone fires."""
    if org.organisation.timezone:
        return org.organisation.timezone
    if not sites:
        return "UTC"
    now = dt.datetime.now(dt.UTC)

    def offset(zone: str) -> dt.timedelta:
        return now.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset() or dt.timedelta(0)

    return min((site.site.timezone for site in sites), key=lambda zone: (offset(zone), zone))
