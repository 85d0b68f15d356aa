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

from siteledger.site.loader import (
    ConfigProblem,
    SiteConfigError,
    parse_model_text,
    read_config_text,
)
from siteledger.site.models import Identifier, SiteConfig, _Model, semantic_problems

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


def membership_problems(site: SiteConfig, org: Organisation) -> list[tuple[str, str]]:
    """(key path, reason) for each way ``site`` does not fit the organisation file: another
    organisation's id, a region the file does not declare (or none where it declares some), a
    first day of data before the organisation's."""
    info, known = site.site, [region.id for region in org.regions]
    problems = []
    if info.organisation and info.organisation != org.organisation.id:
        problems.append(
            (
                "site.organisation",
                f"organisation {info.organisation!r} is not the organisation file's "
                f"{org.organisation.id!r}",
            )
        )
    declared = ", ".join(known) if known else "none"
    if info.region and info.region not in known:
        problems.append(
            (
                "site.region",
                f"unknown region {info.region!r}; the organisation's regions: {declared}",
            )
        )
    elif not info.region and known:
        problems.append(("site.region", f"no region; the organisation's regions: {declared}"))
    first = org.organisation.data_start
    if info.data_start is not None and first is not None and info.data_start < first:
        problems.append(
            (
                "site.data_start",
                f"{info.data_start} is before the organisation's data_start {first}: "
                "day partitions start there, so earlier days would never be built",
            )
        )
    return problems


def parse_site_in_organisation(text: str, org: Organisation, file: str = "<string>") -> SiteConfig:
    """A site's YAML text checked on its own and against ``org``; every problem with its line."""
    return parse_model_text(
        text,
        SiteConfig,
        file,
        lambda site: semantic_problems(site) + membership_problems(site, org),
    )


def validate_home(home: str | Path) -> list[ConfigProblem]:
    """Every problem of the organisation in a ``SITELEDGER_HOME``: its ``organisation.yaml``
    (optional) and every ``sites/*.yaml``; see :func:`validate_files`."""
    home = Path(home)
    return validate_files(home / "organisation.yaml", sorted((home / "sites").glob("*.yaml")))


def validate_files(organisation_file: Path | None, site_files: list[Path]) -> list[ConfigProblem]:
    """Every problem of an organisation file (none, or one that does not exist, means the
    default organisation) and of each site file, on its own and against the organisation file;
    and site ids defined by more than one file. An empty list means all are valid."""
    problems: list[ConfigProblem] = []
    org = None
    if organisation_file is not None and organisation_file.exists():
        try:
            org = parse_organisation_text(
                read_config_text(organisation_file), str(organisation_file)
            )
        except SiteConfigError as exc:
            problems += exc.problems
    files_of: dict[str, list[str]] = {}
    for path in site_files:
        try:
            text = read_config_text(path)
            if org is None:
                site = parse_model_text(text, SiteConfig, str(path), semantic_problems)
            else:
                site = parse_site_in_organisation(text, org, str(path))
        except SiteConfigError as exc:
            problems += exc.problems
            continue
        files_of.setdefault(site.site.id, []).append(str(path))
    for site_id, files in files_of.items():
        for file in files[1:]:
            problems.append(
                ConfigProblem(file, "site.id", f"site {site_id!r} is also defined in {files[0]}")
            )
    return problems


def data_start(org: Organisation, sites: list[SiteConfig]) -> dt.date:
    """First day of the day partitions: the organisation's ``data_start``, else the earliest
    site ``data_start``, else a fallback."""
    if org.organisation.data_start is not None:
        return org.organisation.data_start
    firsts = [site.site.data_start for site in sites if site.site.data_start is not None]
    return min(firsts) if firsts else FALLBACK_DATA_START


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
