"""A small report payload and header built from the synthetic site (no warehouse needed)."""

from __future__ import annotations

from typing import Any

from demo.report_data import synthetic_site
from reports.data import build_payload, content_hash
from reports.definitions import load_definitions
from reports.validation import check


def _definition(definition_id: str = "annual_water_report"):  # type: ignore[no-untyped-def]
    return next(d for d in load_definitions() if d.id == definition_id)


def sample_payload(definition_id: str = "annual_water_report") -> dict[str, Any]:
    data = synthetic_site(n_stores=3, n_months=12)
    definition = _definition(definition_id)
    return build_payload(data, definition, data.periods(definition)[0])


def sample_header(definition_id: str = "annual_water_report") -> dict[str, Any]:
    payload = sample_payload(definition_id)
    results, errors = check(_definition(definition_id), payload)
    return {
        "report_id": f"{definition_id}.synthetic.{payload['period']['key']}.v1-abcdef",
        "version": 1,
        "status": "draft" if errors else "validated",
        "validation_errors": errors,
        "requirements": results,
        "content_hash": content_hash(payload, results),
        "generated_at": "2026-07-02T04:00:00+00:00",
        "generated_by": "tests",
        "due_date": "2026-09-28",
        "branding": {"accent_colour": "#1f4e79", "footer_note": ""},
        "diff": None,
        "diff_against": None,
    }
