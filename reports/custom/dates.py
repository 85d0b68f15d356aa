"""A custom report's date range: a period key (the shipped reports' own), two dates, or a
period relative to today (``last_month``, ``last_quarter``, ``last_financial_year`` ...).

Quarters and years are the organisation's financial ones (:mod:`reports.periods`), from the
site's ``financial_year_start_month`` in ``dim_sites``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from reports.periods import add_months, month_end, parse_period, period_containing

MAX_DAYS = 3 * 366 + 1
RELATIVE = (
    "last_month",
    "this_month",
    "last_quarter",
    "this_quarter",
    "last_financial_year",
    "this_financial_year",
    "last_7_days",
    "last_30_days",
    "last_12_months",
)
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class DateRange:
    kind: str  # weekly | monthly | quarterly | annual | range
    key: str
    start: dt.date
    end: dt.date  # inclusive
    label: str

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "key": self.key,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "label": self.label,
        }


def _range(start: dt.date, end: dt.date) -> DateRange:
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    if (end - start).days + 1 > MAX_DAYS:
        raise ValueError(f"the range is {(end - start).days + 1} days; the limit is {MAX_DAYS}")
    key = f"{start.isoformat()}..{end.isoformat()}"
    return DateRange("range", key, start, end, f"{start:%d %b %Y} – {end:%d %b %Y}")


def check_period(text: str) -> None:
    """Raise ValueError when ``text`` is no period this module understands (syntax only)."""
    resolve_period(text, 7, dt.date(2000, 1, 1))


def resolve_period(text: str, fy_start_month: int, today: dt.date) -> DateRange:
    """The dates ``text`` names; relative periods are the last complete one before ``today``
    (``last_*``) or the current one up to ``today`` (``this_*``)."""
    text = text.strip()
    if text in RELATIVE:
        return _relative(text, fy_start_month, today)
    match = _RANGE.match(text)
    try:
        if match:
            return _range(dt.date.fromisoformat(match[1]), dt.date.fromisoformat(match[2]))
        if re.fullmatch(r"\d{4}-W\d{2}", text):
            kind = "weekly"
        elif re.fullmatch(r"\d{4}-\d{2}", text):
            kind = "monthly"
        elif re.fullmatch(r"(FY)?\d{4}-Q\d", text, flags=re.IGNORECASE):
            kind = "quarterly"
        elif re.fullmatch(r"(FY)?\d{4}", text, flags=re.IGNORECASE):
            kind = "annual"
        else:
            raise ValueError("not a period")
        p = parse_period(kind, text.upper() if kind != "weekly" else text, fy_start_month)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ValueError(
            f"{text[:40]!r} is not a period ({exc}); write 2025-07, FY2026-Q1, FY2026, 2026-W10, "
            f"2025-07-01..2025-07-15 or one of {', '.join(RELATIVE)}"
        ) from None
    return DateRange(p.kind, p.key, p.start, p.end, p.label)


def _relative(text: str, fy: int, today: dt.date) -> DateRange:
    if text == "last_7_days":
        return _range(today - dt.timedelta(days=7), today - dt.timedelta(days=1))
    if text == "last_30_days":
        return _range(today - dt.timedelta(days=30), today - dt.timedelta(days=1))
    if text == "last_12_months":
        first = add_months(today.replace(day=1), -12)
        return _range(first, month_end(add_months(first, 11)))
    kind = {"month": "monthly", "quarter": "quarterly", "financial_year": "annual"}[
        text.split("_", 1)[1]
    ]
    current = period_containing(kind, today, fy)  # type: ignore[arg-type]
    if text.startswith("this_"):
        end = min(current.end, today)
        return DateRange(current.kind, current.key, current.start, end, f"{current.label} to date")
    p = period_containing(kind, add_months(current.start, -1), fy)  # type: ignore[arg-type]
    return DateRange(p.kind, p.key, p.start, p.end, p.label)
