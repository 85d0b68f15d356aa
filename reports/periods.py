"""Reporting periods: calendar months, financial-year quarters and financial years.

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
        out, month = [], self.start
        while month <= self.end:
            out.append(month)
            month = add_months(month, 1)
        return out

    @property
    def label(self) -> str:
        if self.kind == "monthly":
            return self.start.strftime("%B %Y")
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


def period_containing(kind: PeriodKind, month: dt.date, fy_start_month: int = 7) -> Period:
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
    """The period named ``key`` (``2025-07``, ``FY2026-Q1``, ``FY2026``, ``2025-Q3``, ``2025``)."""
    try:
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
    seen: dict[str, Period] = {}
    for month in sorted(complete_months):
        period = period_containing(kind, month, fy_start_month)
        if period.key not in seen and all(m in complete_months for m in period.months):
            seen[period.key] = period
    return list(seen.values())


def previous(period: Period, fy_start_month: int = 7) -> Period:
    return period_containing(period.kind, add_months(period.start, -1), fy_start_month)
