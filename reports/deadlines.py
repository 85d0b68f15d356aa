"""Deadline tracking: reports due soon (or overdue) that nobody has submitted.

A report is due at the end of its due date (UTC), the due date being the period's last day plus
the definition's ``due.days_after_period_end``. A period counts once it has ended. Overdue periods
are listed only when a report was generated for them (the data exists), so a deployment is not
flagged for months before its first data; every such period is listed, however long ago it fell
due.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from reports.data import organisation_ids as published_organisations
from reports.data import site_ids as published_sites
from reports.data import site_regulators as published_regulators
from reports.data import water_site_ids as published_water_sites
from reports.definitions import ReportDefinition, load_definitions
from reports.periods import Period, add_months, organisation_fy_start_month, period_containing
from reports.registry import Registry, ReportRecord
from siteledger.site.organisation import DEFAULT_FY_START_MONTH

DEFAULT_HORIZON = dt.timedelta(hours=48)


@dataclass(frozen=True)
class Deadline:
    definition_id: str
    site_id: str
    period_key: str
    due_date: dt.date
    hours_left: float
    latest_status: str | None  # None: not generated yet
    latest_report_id: str | None

    @property
    def overdue(self) -> bool:
        return self.hours_left < 0

    @property
    def days_overdue(self) -> int:
        """Whole days past the deadline (0 while it is not past)."""
        return math.floor(-self.hours_left / 24) if self.overdue else 0

    def describe(self) -> str:
        state = self.latest_status or "not generated"
        when = (
            f"overdue by {span(self.hours_left)}"
            if self.overdue
            else f"due in {span(self.hours_left)}"
        )
        return (
            f"{self.definition_id} {self.site_id} {self.period_key}: {when} "
            f"(due {self.due_date}), {state}"
        )


def span(hours: float) -> str:
    """A time to or past a deadline: in hours within the two days of the deadline window
    ("42 h"), else in whole days ("417 d")."""
    hours = abs(hours)
    if hours < 48:
        return f"{hours:.0f} h"
    return f"{math.floor(hours / 24):,} d"


def _recent_periods(
    definition: ReportDefinition, today: dt.date, months_back: int, fy_start_month: int
) -> list[Period]:
    seen: dict[str, Period] = {}
    if definition.period == "weekly":
        for k in range(months_back * 31 // 7 + 1):
            week = period_containing("weekly", today - dt.timedelta(days=7 * k), fy_start_month)
            seen.setdefault(week.key, week)
        return [p for p in seen.values() if p.end < today]
    month = today.replace(day=1)
    for k in range(months_back + 1):
        period = period_containing(definition.period, add_months(month, -k), fy_start_month)
        seen.setdefault(period.key, period)
    return [p for p in seen.values() if p.end < today]


def unsubmitted_deadlines(
    definitions: list[ReportDefinition],
    site_ids: list[str],
    registry: Registry,
    now: dt.datetime,
    horizon: dt.timedelta = DEFAULT_HORIZON,
    fy_start_month: int = DEFAULT_FY_START_MONTH,
    organisation_ids: list[str] | None = None,
    site_regulators: Mapping[str, Collection[str]] | None = None,
    water_sites: Collection[str] | None = None,
) -> list[Deadline]:
    """Every report due within ``horizon`` of ``now`` (or overdue) without a submitted version;
    ``fy_start_month`` is the organisation's (``reports.periods.organisation_fy_start_month``);
    organisation reports are looked up under ``organisation_ids``. Water reports are due only
    for ``water_sites`` (the sites with a water model; None: every site)."""
    out = []
    today = now.astimezone(dt.UTC).date()
    for definition in definitions:
        if definition.period == "lot":
            continue  # a certificate or a recall report is made when needed: it falls due never
        # the longest due rule is a year: 15 months back covers every period not yet due; the
        # periods of every report generated, however old, cover those overdue
        periods = {
            p.key: p.end
            for p in _recent_periods(
                definition, today, 15, definition.fy_start_month(fy_start_month)
            )
        }
        # every version of the definition in one query, by (site, period), oldest first
        versions_of: dict[tuple[str, str], list[ReportRecord]] = {}
        for record in registry.list(definition_id=definition.id):
            versions_of.setdefault((record.site_id, record.period_key), []).append(record)
            if record.period_end < today:
                periods.setdefault(record.period_key, record.period_end)
        reported_sites = {site for site, _ in versions_of}
        for period_key, period_end in sorted(periods.items(), key=lambda p: p[1]):
            due = definition.due_date(period_end)
            due_at = dt.datetime.combine(due + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
            hours_left = (due_at - now).total_seconds() / 3600.0
            if hours_left > horizon.total_seconds() / 3600.0:
                continue
            # an organisation report is registered under the organisation's id
            scopes = site_ids if definition.scope == "site" else (organisation_ids or [])
            for site_id in scopes:
                regulators = (site_regulators or {}).get(site_id, ())
                if not definition.applies_to(site_id, regulators):
                    continue
                # only a site with energy (materials) data gets energy (materials) reports: one
                # that has had none has nothing due
                if definition.domain != "water" and site_id not in reported_sites:
                    continue
                if (
                    definition.domain == "water"
                    and water_sites is not None
                    and site_id not in water_sites
                ):
                    continue  # a site without a water model (no nodes) files no water report
                versions = versions_of.get((site_id, period_key), [])
                if any(v.status == "submitted" for v in versions):
                    continue
                # an energy or materials report goes out by e-mail without a submission:
                # e-mailed is done
                if definition.domain != "water" and any(
                    a.channel == "email" and a.status == "succeeded"
                    for v in versions
                    for a in registry.attempts(v.report_id)
                ):
                    continue
                if hours_left < 0 and not versions:
                    continue
                latest = versions[-1] if versions else None
                out.append(
                    Deadline(
                        definition.id,
                        site_id,
                        period_key,
                        due,
                        hours_left,
                        latest.status if latest else None,
                        latest.report_id if latest else None,
                    )
                )
    return sorted(out, key=lambda d: (d.hours_left, d.definition_id, d.site_id))


def due_in_home(
    reports_dir: Path,
    published_db: Path,
    organisation_file: Path,
    registry: Registry,
    now: dt.datetime,
    horizon: dt.timedelta = DEFAULT_HORIZON,
) -> list[Deadline]:
    """:func:`unsubmitted_deadlines` for a deployment: its definitions, the sites and
    organisations of its published warehouse (else those of its registry) with their
    regulators, and its organisation's financial year."""
    if published_db.exists():
        sites = published_sites(published_db)
        organisations = published_organisations(published_db)
        regulators = published_regulators(published_db)
        water_sites: list[str] | None = published_water_sites(published_db)
    else:
        sites = sorted({r.site_id for r in registry.list()})
        organisations, regulators, water_sites = [], {}, None
    return unsubmitted_deadlines(
        load_definitions(reports_dir),
        sites,
        registry,
        now,
        horizon,
        organisation_fy_start_month(organisation_file),
        organisations,
        regulators,
        water_sites,
    )
