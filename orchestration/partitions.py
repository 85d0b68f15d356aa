"""Partitions from the home's configuration: site-local days and the organisation's report periods.

Day partitions start at the organisation's first day of data (``organisation.yaml``) and are
site-local days for every site whatever its zone: key D means each site's local day D (dbt
filters on the site-local day). Their zone, and so the nightly schedule's, is the zone whose
midnight comes last among the sites, so day D is over everywhere when it is built. Report
partitions follow the organisation's financial year.
"""

import hashlib
from dataclasses import dataclass

from dagster import (
    DailyPartitionsDefinition,
    MonthlyPartitionsDefinition,
    PartitionsDefinition,
    TimeWindowPartitionsDefinition,
)

from ingestion.files.recovery import days_to_rebuild
from orchestration.resources import load_site_cached
from siteledger.settings import Settings
from siteledger.site import SiteConfig, SiteConfigError
from siteledger.site.organisation import data_start, load_organisation, schedule_timezone

REPORT_KINDS = ("monthly", "quarterly", "annual")


@dataclass(frozen=True)
class Partitions:
    daily: DailyPartitionsDefinition
    reports: dict[str, PartitionsDefinition]
    timezone: str
    fy_start_month: int

    @property
    def quarter_months(self) -> list[int]:
        return sorted((self.fy_start_month - 1 + 3 * k) % 12 + 1 for k in range(4))


def readable_sites(settings: Settings) -> list[SiteConfig]:
    """Every valid site file; an invalid one is reported where it is used, not here."""
    sites = []
    for path in sorted(settings.sites_dir.glob("*.yaml")):
        try:
            sites.append(load_site_cached(path))
        except SiteConfigError:
            continue
    return sites


def build_partitions(settings: Settings) -> Partitions:
    org = load_organisation(settings.organisation_file)
    sites = readable_sites(settings)
    first_day = data_start(org, sites)
    zone = schedule_timezone(org, sites)
    fy = org.organisation.financial_year_start_month
    first_month = first_day.replace(day=1).isoformat()
    quarter_months = sorted((fy - 1 + 3 * k) % 12 + 1 for k in range(4))
    reports: dict[str, PartitionsDefinition] = {
        "monthly": MonthlyPartitionsDefinition(start_date=first_month, timezone=zone),
        "quarterly": TimeWindowPartitionsDefinition(
            cron_schedule=f"0 0 1 {','.join(str(m) for m in quarter_months)} *",
            start=first_month,
            fmt="%Y-%m-%d",
            timezone=zone,
        ),
        "annual": TimeWindowPartitionsDefinition(
            cron_schedule=f"0 0 1 {fy} *", start=first_month, fmt="%Y-%m-%d", timezone=zone
        ),
    }
    return Partitions(
        daily=DailyPartitionsDefinition(start_date=first_day.isoformat(), timezone=zone),
        reports=reports,
        timezone=zone,
        fy_start_month=fy,
    )


def days_of_data(settings: Settings) -> list[str]:
    """Every site-local day the raw lake holds readings for (file drops and devices), and the
    days a rolled-back batch left to rebuild (they may hold no reading any more)."""
    lake = settings.readings_lake
    days = {p.name.removeprefix("day=") for p in lake.glob("site=*/source=*/day=*") if p.is_dir()}
    return sorted(days | set(days_to_rebuild(settings)))


def window_within(days: list[str], partitions: DailyPartitionsDefinition) -> tuple[str, str] | None:
    """First and last partition key covering ``days``, clamped to the partitions that exist."""
    keys = partitions.get_partition_keys()
    if not keys or not days:
        return None
    first, last = max(min(days), keys[0]), min(max(days), keys[-1])
    if first > last:
        return None
    return first, last


def range_tags(window: tuple[str, str]) -> dict[str, str]:
    """Run tags that make a run cover a range of partitions."""
    return {
        "dagster/asset_partition_range_start": window[0],
        "dagster/asset_partition_range_end": window[1],
    }


def without_alert_rules(text: bytes) -> bytes:
    """A site file's bytes without its top-level ``alerts:`` block: the alert rules change no
    model, so editing them must not rebuild the warehouse."""
    out: list[bytes] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        top_level = line[:1] not in (b" ", b"\t", b"#", b"\n", b"\r", b"")
        if top_level:
            skipping = line.startswith(b"alerts:")
        if not skipping:
            out.append(line)
    return b"".join(out)


def site_files_fingerprint(settings: Settings) -> str | None:
    """A digest of every site file (names and bytes, alert rules left out); None when there is
    none."""
    files = sorted(settings.sites_dir.glob("*.yaml"))
    if not files:
        return None
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + without_alert_rules(path.read_bytes()))
    return digest.hexdigest()[:20]
