"""Reporting periods: ISO weeks, calendar months, financial-year quarters and financial years,
and lots.

A week is the ISO week, Monday to Sunday, keyed ``2026-W10`` (the ISO year, which at the turn of
the year may differ from the calendar year of some of its days).

A lot is the "period" of a per-lot document (a certificate of analysis, a recall report): keyed
by the lot id, from the day the lot was made or received to the day its testing finished (or
the same day). Lots come from the warehouse (:mod:`reports.materials.data`), never from a key
alone.

The financial year is the organisation's (``financial_year_start_month`` in
``$SITELEDGER_HOME/organisation.yaml``, default 7 = July): :func:`organisation_fy_start_month`
reads it; the marts cut their quarters and years with the same value (``dim_sites``).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from reports.definitions import PeriodKind


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    key: str
    start: dt.date
    end: dt.date  # last day, inclusive

    @property
    def months(self) -> list[dt.date]:
        """The first days of the calendar months the period touches."""
        out, month = [], self.start.replace(day=1)
        while month <= self.end:
            out.append(month)
            month = add_months(month, 1)
        return out

    @property
    def label(self) -> str:
        if self.kind == "lot":
            return f"Lot {self.key}"
        if self.kind == "monthly":
            return self.start.strftime("%B %Y")
        if self.kind == "weekly":
            return f"Week {self.key} ({self.start:%d %b} – {self.end:%d %b %Y})"
        return f"{self.key} ({self.start:%d %b %Y} – {self.end:%d %b %Y})"

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "key": self.key,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "label": self.label,
            "months": [m.isoformat() for m in self.months],
        }


def organisation_fy_start_month(organisation_file: Path) -> int:
    """First month of the organisation's financial year (7 when there is no organisation file)."""
    from siteledger.site.organisation import load_organisation

    return load_organisation(organisation_file).organisation.financial_year_start_month


def add_months(day: dt.date, n: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _fy_start(month: dt.date, fy_start_month: int) -> dt.date:
    year = month.year if month.month >= fy_start_month else month.year - 1
    return dt.date(year, fy_start_month, 1)


def _fy_name(fy_start: dt.date) -> str:
    # a financial year is named by the calendar year it ends in (FY2026 = Jul 2025 - Jun 2026);
    # a calendar financial year is just the year
    if fy_start.month == 1:
        return str(fy_start.year)
    return f"FY{fy_start.year + 1}"


def lot_period(lot_id: str, start: dt.date, end: dt.date | None = None) -> Period:
    """The period of a per-lot document: the lot's first day to ``end`` (default the same)."""
    return Period("lot", lot_id, start, max(start, end or start))


def week_containing(day: dt.date) -> Period:
    """The ISO week (Monday to Sunday) holding ``day``."""
    year, week, weekday = day.isocalendar()
    start = day - dt.timedelta(days=weekday - 1)
    return Period("weekly", f"{year}-W{week:02d}", start, start + dt.timedelta(days=6))


def period_containing(kind: PeriodKind, month: dt.date, fy_start_month: int = 7) -> Period:
    """The period of ``kind`` holding ``month`` (for a week, holding that very day)."""
    if kind == "lot":
        raise ValueError("a lot is no calendar period: its dates come from the warehouse")
    if kind == "weekly":
        return week_containing(month)
    month = month.replace(day=1)
    if kind == "monthly":
        return Period(kind, month.strftime("%Y-%m"), month, month_end(month))
    fy = _fy_start(month, fy_start_month)
    if kind == "annual":
        return Period(kind, _fy_name(fy), fy, month_end(add_months(fy, 11)))
    offset = (month.year * 12 + month.month) - (fy.year * 12 + fy.month)
    quarter = offset // 3
    start = add_months(fy, 3 * quarter)
    return Period(kind, f"{_fy_name(fy)}-Q{quarter + 1}", start, month_end(add_months(start, 2)))


def parse_period(kind: PeriodKind, key: str, fy_start_month: int = 7) -> Period:
    """The period named ``key`` (``2026-W10``, ``2025-07``, ``FY2026-Q1``, ``FY2026``,
    ``2025-Q3``, ``2025``)."""
    if kind == "lot":
        raise ValueError(f"{key!r} names a lot: its dates come from the warehouse")
    try:
        if kind == "weekly":
            iso_year, sep, week = key.partition("-W")
            if not sep or len(iso_year) != 4 or len(week) != 2:
                raise ValueError("a week is written YYYY-Www, as in 2026-W10")
            return week_containing(dt.date.fromisocalendar(int(iso_year), int(week), 1))
        if kind == "monthly":
            return period_containing(kind, dt.date.fromisoformat(key + "-01"), fy_start_month)
        fy_part, _, quarter = key.partition("-Q")
        year = int(fy_part[2:]) if fy_part.upper().startswith("FY") else int(fy_part)
        fy = dt.date(year - 1 if fy_start_month != 1 else year, fy_start_month, 1)
        if kind == "annual":
            if quarter:
                raise ValueError("an annual period has no quarter")
            return period_containing(kind, fy, fy_start_month)
        q = int(quarter)
        if not 1 <= q <= 4:
            raise ValueError("quarter must be 1-4")
        return period_containing(kind, add_months(fy, 3 * (q - 1)), fy_start_month)
    except ValueError as exc:
        raise ValueError(f"{key!r} is not a {kind} period key ({exc})") from exc


def complete_periods(
    kind: PeriodKind, complete_months: set[dt.date], fy_start_month: int = 7
) -> list[Period]:
    """Periods every month of which is in ``complete_months`` (months with a full set of days)."""
    if kind == "weekly":
        raise ValueError("a week is complete by its days, not its months: use complete_weeks")
    seen: dict[str, Period] = {}
    for month in sorted(complete_months):
        period = period_containing(kind, month, fy_start_month)
        if period.key not in seen and all(m in complete_months for m in period.months):
            seen[period.key] = period
    return list(seen.values())


def complete_weeks(complete_days: set[dt.date]) -> list[Period]:
    """ISO weeks every day of which is in ``complete_days``, oldest first."""
    weeks = {week_containing(day) for day in complete_days}
    return sorted(
        (
            w
            for w in weeks
            if all(w.start + dt.timedelta(days=i) in complete_days for i in range(7))
        ),
        key=lambda w: w.start,
    )


def previous(period: Period, fy_start_month: int = 7) -> Period:
    if period.kind == "weekly":
        return week_containing(period.start - dt.timedelta(days=7))
    return period_containing(period.kind, add_months(period.start, -1), fy_start_month)
