"""Requirement checks: every bound of the definition (and of the site file) against the figures.

A breach keeps the report in ``draft`` with the reason listed; a report passes to ``validated``
only when every requirement holds and the period has data on every day.
"""

from __future__ import annotations

from typing import Any

from reports.definitions import ReportDefinition, RequirementSpec
from reports.metrics import METRICS, fmt, to_unit, unit_label

_SITE_PERIOD = {"month": "monthly", "quarter": "quarterly", "year": "annual"}


def site_requirements(
    definition: ReportDefinition, site_requirements: list[Any]
) -> tuple[list[RequirementSpec], list[str]]:
    """Site-file requirements (``siteledger.site.Requirement``) that apply to this report.

    A site requirement on a metric reports do not know is returned as a warning, never silently
    dropped."""
    specs: list[RequirementSpec] = []
    warnings: list[str] = []
    if not definition.include_site_requirements:
        return specs, warnings
    for req in site_requirements:
        if _SITE_PERIOD.get(req.period) != definition.period or req.scope != "site":
            continue
        if req.metric not in METRICS:
            warnings.append(
                f"site requirement {req.id}: metric {req.metric!r} is not a report metric; "
                "not checked"
            )
            continue
        factor = _volume_factor(req.metric, req.unit, definition.unit)
        if factor is None:
            warnings.append(
                f"site requirement {req.id}: unit {req.unit!r} does not fit metric "
                f"{req.metric!r}; not checked"
            )
            continue
        specs.append(
            RequirementSpec(
                id=f"site-{req.id}",
                metric=req.metric,
                min=None if req.min is None else req.min * factor,
                max=None if req.max is None else req.max * factor,
                reference=req.reference or "site file",
            )
        )
    return specs, warnings


_VOLUME_UNITS = {"m3": 1.0, "m³": 1.0, "kl": 1.0, "ml": 1000.0, "gl": 1_000_000.0}


def _volume_factor(metric: str, unit: str | None, report_unit: str) -> float | None:
    """Factor taking a site-file bound into the report's unit. Site files state volumes in m3
    unless they say otherwise (the marts' unit); other kinds of metric pass unchanged."""
    if METRICS[metric].kind != "volume":
        return 1.0
    per_m3 = _VOLUME_UNITS.get((unit or "m3").strip().lower())
    if per_m3 is None:
        return None
    return per_m3 / (1000.0 if report_unit == "ML" else 1.0)


def check(
    definition: ReportDefinition,
    payload: dict[str, Any],
    extra: list[RequirementSpec] | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """(results of every requirement, validation errors). Bounds are in the report's unit."""
    unit = definition.unit
    results, errors = [], []
    metrics = payload["metrics"]
    period = payload["period"]
    if period["kind"] != "lot":  # a lot's "period" is its dates, not days of data
        expected_days = _days(period["start"], period["end"])
        if metrics.get("n_days") != expected_days:
            errors.append(
                f"period {period['key']} has data on {metrics.get('n_days')} of "
                f"{expected_days} days"
            )
    # what the payload itself says stops it (a certificate's failed test, an incomplete trace)
    errors.extend(payload.get("errors", []))
    for req in [*definition.requirements, *(extra or [])]:
        metric = METRICS[req.metric]
        value = to_unit(metric, metrics.get(req.metric), unit)
        label = unit_label(metric, unit)
        if value is None:
            passed = req.allow_missing
            reason = (
                None if passed else f"{req.id}: {metric.label} cannot be computed for the period"
            )
        else:
            low = req.min is not None and value < req.min
            high = req.max is not None and value > req.max
            passed = not (low or high)
            reason = None
            if not passed:
                bound = f"minimum {req.min:,g}" if low else f"maximum {req.max:,g}"
                reason = (
                    f"{req.id}: {metric.label} {fmt(value, metric.kind, unit)} {label} "
                    f"breaches the {bound} {label}"
                    + (f" ({req.reference})" if req.reference else "")
                )
        if reason:
            errors.append(reason.replace("  ", " "))
        results.append(
            {
                "id": req.id,
                "metric": req.metric,
                "label": metric.label,
                "unit": label,
                "min": req.min,
                "max": req.max,
                "value": value,
                "passed": passed,
                "reference": req.reference,
            }
        )
    return results, errors


def _days(start: str, end: str) -> int:
    import datetime as dt

    return (dt.date.fromisoformat(end) - dt.date.fromisoformat(start)).days + 1
