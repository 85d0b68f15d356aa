"""A report version's identity is its figures and definition: rewording prose keeps the content
hash, changing one figure changes it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from reports.data import content_hash, exact_content_hash, legacy_content_hash, report_identity
from reports.definitions import load_definitions
from reports.validation import check
from tests.reports.sample import sample_payload

Edit = Callable[[dict[str, Any], list[dict[str, Any]]], None]


def _sample() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    payload = sample_payload("annual_water_report")
    definition = next(d for d in load_definitions() if d.id == "annual_water_report")
    results, _ = check(definition, payload)
    return payload, results


def _hash_after(edit: Edit) -> tuple[str, str]:
    payload, results = _sample()
    before = content_hash(payload, results)
    payload, results = copy.deepcopy(payload), copy.deepcopy(results)
    edit(payload, results)
    return before, content_hash(payload, results)


def _set(path: str, value: Any) -> Edit:
    """An edit setting ``payload[a][b]...`` (list items by index) to ``value``."""

    def edit(payload: dict[str, Any], _: list[dict[str, Any]]) -> None:
        *parents, last = path.split(".")
        node: Any = payload
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        old = node[int(last)] if isinstance(node, list) else node[last]
        assert old != value, f"{path} is already {value!r}"
        node[int(last) if isinstance(node, list) else last] = value

    return edit


def _reword_notes(payload: dict[str, Any], _: list[dict[str, Any]]) -> None:
    payload["data_quality"]["notes"] = [
        note.replace("Accuracy:", "How the volumes were obtained:").replace(" days ", " days, ")
        for note in payload["data_quality"]["notes"]
    ] + ["Figures reviewed by the site's water officer."]


def _reword_requirement(_: dict[str, Any], results: list[dict[str, Any]]) -> None:
    results[0]["reference"] = "Licence condition 7(b): the balance closes within 5 %"
    results[0]["label"] = "Balance closure"


PROSE: dict[str, Edit] = {
    "a note reworded": _reword_notes,
    "the narrative reworded": _set("definition.narrative", "The year's water, by source."),
    "the title reworded": _set("definition.title", "Water Report for the Year"),
    "the period label": _set("period.label", "Financial year 2025-26"),
    "a category label": _set("categories.0.label", "Bore water"),
    "a quality-table label": _set("quality_table.0.label", "Creek and river water"),
    "a facility name": _set("facilities.0.name", "Dam one"),
    "a facility type": _set("facilities.0.type", "turkey-nest dam"),
    "a flow name": _set("flows.0.name", "Plant return to dam 1"),
    "a node name of a flow": _set("discharges.0.target_name", "Creek below the weir"),
    "the site name": _set("site.name", "Synthetic Mine"),
    "the organisation": _set("site.organisation", "Example Resources Limited"),
    "a requirement reference": _reword_requirement,
    "the warehouse version": _set("warehouse_version", "another-version"),
    "the previous period": _set("comparison.previous_period", "FY2025"),
}


@pytest.mark.parametrize("edit", list(PROSE.values()), ids=list(PROSE))
def test_rewording_prose_keeps_the_content_hash(edit: Edit):
    before, after = _hash_after(edit)
    assert after == before


def _flip_outcome(_: dict[str, Any], results: list[dict[str, Any]]) -> None:
    results[0]["passed"] = not results[0]["passed"]


def _tighten_bound(_: dict[str, Any], results: list[dict[str, Any]]) -> None:
    results[-1]["max"] = results[-1]["max"] - 1.0


def _add_field(payload: dict[str, Any], _: list[dict[str, Any]]) -> None:
    payload["reuse_target_pct"] = 80.0


FIGURES: dict[str, Edit] = {
    "a metric": _set("metrics.inputs", 54_001.0),
    "a category volume": _set("categories.0.volume", 36_000.5),
    "a quality-table volume": _set("quality_table.0.cat1", 1.0),
    "a facility inflow": _set("facilities.0.inflow", 42_001.0),
    "a facility's balance status": _set("facilities.0.balance_status", "exceeds_threshold"),
    "a facility month": _set("facility_months.store_01.0.closing_storage", 10_301.0),
    "a flow volume": _set("flows.0.volume", 24_000.1),
    "a flow's quality category": _set("flows.0.quality_category", 1),
    "a day of the storage trend": _set("storage_trend.store_01.0.1", 10_000.1),
    "the period": _set("period.end", "2026-06-29"),
    "the site": _set("site.id", "other_site"),
    "the site's closure threshold": _set("site.closure_threshold_pct", 10.0),
    "the scores' availability": _set("data_quality.scores_available", True),
    "the definition": _set("definition.fingerprint", "0" * 64),
    "a requirement outcome": _flip_outcome,
    "a requirement bound": _tighten_bound,
    "a field not named as prose": _add_field,
}


@pytest.mark.parametrize("edit", list(FIGURES.values()), ids=list(FIGURES))
def test_changing_one_figure_changes_the_content_hash(edit: Edit):
    before, after = _hash_after(edit)
    assert after != before


def test_the_identity_holds_figures_and_no_sentence():
    payload, results = _sample()
    identity = report_identity(payload, results)
    assert identity["metrics"] == payload["metrics"]
    assert identity["definition_fingerprint"] == payload["definition"]["fingerprint"]
    assert "definition" not in identity and "warehouse_version" not in identity
    assert "notes" not in identity["data_quality"]
    assert identity["site"] == {
        "id": "synthetic",
        "timezone": "Australia/Perth",
        "water_stressed": False,
        "closure_threshold_pct": 5.0,
        "quality_high_categories": "1,2",
    }
    assert set(identity["requirements"][0]) == {"id", "metric", "min", "max", "value", "passed"}
    # no sentence of the payload survives: every string left is a code, a key or a date
    strings = _strings(identity)
    assert not [s for s in strings if " " in s], strings


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_the_legacy_hash_still_covers_the_prose():
    payload, _ = _sample()
    before = legacy_content_hash(payload)
    _reword_notes(payload, [])
    assert legacy_content_hash(payload) != before


def _scaled(value: Any, factor: float) -> Any:
    """``value`` with every non-zero float multiplied by ``factor``."""
    if isinstance(value, float):
        return value * factor
    if isinstance(value, dict):
        return {k: _scaled(v, factor) for k, v in value.items()}
    if isinstance(value, list):
        return [_scaled(v, factor) for v in value]
    return value


def _floats(value: Any) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for v in value.values() for f in _floats(v)]
    if isinstance(value, list):
        return [f for v in value for f in _floats(v)]
    return []


def test_a_rebuilds_last_bit_noise_keeps_the_hash_and_a_real_change_does_not():
    """A rebuild sums in parallel in another order: every figure off by a relative 1e-15 is the
    same report; every figure off by a relative 1e-6 is a new version."""
    payload, results = _sample()
    assert len(_floats(report_identity(payload, results))) > 50
    before = content_hash(payload, results)
    assert content_hash(_scaled(payload, 1 + 1e-15), _scaled(results, 1 + 1e-15)) == before
    assert content_hash(_scaled(payload, 1 - 1e-15), _scaled(results, 1 - 1e-15)) == before
    assert content_hash(_scaled(payload, 1 + 1e-6), results) != before
    # a decimal on a digit boundary, as readings sum to: its noise keeps the hash too
    payload["metrics"]["inputs"] = 22212.26375
    on_boundary = content_hash(payload, results)
    payload["metrics"]["inputs"] = 22212.263749999995
    assert content_hash(payload, results) == on_boundary


def test_rows_registered_with_the_exact_hash_are_still_recognised():
    payload, results = _sample()
    assert exact_content_hash(payload, results) != content_hash(payload, results)
    assert exact_content_hash(_scaled(payload, 1 + 1e-15), results) != exact_content_hash(
        payload, results
    )
