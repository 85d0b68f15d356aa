"""The sustainability section of a site file: defaults, validation with the file's line, export."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from ingestion.site_tables import catalogue_tables, site_tables
from siteledger.site import SiteConfigError, parse_site_text
from siteledger.site.sustainability import SUSTAINABILITY_METRICS

FIXTURE = Path(__file__).parents[1] / "fixtures" / "small_site.yaml"

GOALS = """
sustainability:
  at_risk_margin_pct: 5
  components:
    - {metric: water_intensity_m3_per_t, weight: 2, best: 0.3, worst: 1.5}
    - {metric: recycling_ratio_pct, weight: 1, best: 80, worst: 20}
  goals:
    - id: intensity-2026
      metric: water_intensity_m3_per_t
      target: 0.6
      start: 2025-07-01
      due: 2026-06-30
      owner: Environmental officer
    - id: recycle-70
      metric: recycling_ratio_pct
      target: 70
      start: 2025-07-01
      due: 2026-12-31
      owner: Plant metallurgist
      baseline: 55
"""


def _site(extra: str = ""):
    return parse_site_text(FIXTURE.read_text(encoding="utf-8") + extra, "site.yaml")


def test_a_site_without_the_section_gets_the_four_default_components_and_no_goals():
    tables = site_tables(_site())
    components = tables["sustainability_components"].to_pylist()
    assert [c["metric"] for c in components] == [
        "fresh_water_intensity_m3_per_t",
        "recycling_ratio_pct",
        "carbon_kg_per_m3",
        "aqi",
    ]
    assert all(c["weight"] == 1.0 for c in components)
    assert tables["sustainability_goals"].num_rows == 0
    assert tables["sustainability_settings"].to_pylist() == [
        {"site_id": "small_site", "at_risk_margin_pct": 10.0}
    ]


def test_components_and_goals_are_exported_as_written():
    tables = site_tables(_site(GOALS))
    assert tables["sustainability_components"].to_pylist() == [
        {
            "site_id": "small_site",
            "metric": "water_intensity_m3_per_t",
            "weight": 2.0,
            "best": 0.3,
            "worst": 1.5,
        },
        {
            "site_id": "small_site",
            "metric": "recycling_ratio_pct",
            "weight": 1.0,
            "best": 80.0,
            "worst": 20.0,
        },
    ]
    goals = tables["sustainability_goals"].to_pylist()
    assert [(g["goal_id"], g["baseline"]) for g in goals] == [
        ("intensity-2026", None),
        ("recycle-70", 55.0),
    ]
    assert goals[0]["start_day"] == datetime.date(2025, 7, 1)
    assert goals[0]["due_day"] == datetime.date(2026, 6, 30)
    assert goals[1]["owner"] == "Plant metallurgist"
    assert tables["sustainability_settings"].to_pylist()[0]["at_risk_margin_pct"] == 5.0


def test_the_metric_catalogue_is_exported_with_directions():
    rows = {r["metric"]: r for r in catalogue_tables()["sustainability_metrics"].to_pylist()}
    assert set(rows) == set(SUSTAINABILITY_METRICS)
    assert rows["recycling_ratio_pct"]["lower_is_better"] is False
    assert rows["carbon_kg_per_m3"]["lower_is_better"] is True


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            "  components:\n"
            "    - {metric: water_intensty_m3_per_t, weight: 1, best: 0.3, worst: 1}\n",
            "did you mean 'water_intensity_m3_per_t'?",
        ),
        (
            "  components:\n    - {metric: aqi, weight: 1, best: 150, worst: 50}\n",
            "aqi is better when lower: best must be below worst",
        ),
        (
            "  components:\n    - {metric: recycling_ratio_pct, weight: 1, best: 20, worst: 80}\n",
            "better when higher: best must be above worst",
        ),
        (
            "  components:\n    - {metric: aqi, weight: 1, best: 50, worst: 50}\n",
            "best and worst are both 50",
        ),
        ("  components:\n    - {metric: aqi, weight: -1, best: 50, worst: 150}\n", "weight"),
        (
            "  components:\n    - {metric: aqi, weight: 0, best: 50, worst: 150}\n",
            "component weights add up to zero",
        ),
        (
            "  components:\n"
            "    - {metric: aqi, weight: 1, best: 50, worst: 150}\n"
            "    - {metric: aqi, weight: 2, best: 50, worst: 100}\n",
            "components list a metric twice: aqi",
        ),
        (
            "  goals:\n"
            "    - {id: g, metric: aqi, target: 50, start: 2026-01-01, due: 2025-01-01,\n"
            "      owner: x}\n",
            "due 2025-01-01 is not after start 2026-01-01",
        ),
        (
            "  goals:\n"
            "    - {id: g, metric: aqi, target: 50, start: 2025-01-01,"
            " due: 2026-01-01, owner: x}\n"
            "    - {id: g, metric: aqi, target: 40, start: 2025-01-01,"
            " due: 2026-01-01, owner: y}\n",
            "goal ids appear twice: g",
        ),
        (
            "  goals:\n"
            "    - {id: g, metric: aqi, target: 50, start: 2025-01-01,"
            " due: 2026-01-01, owner: ''}\n",
            "owner",
        ),
        (
            "  goals:\n"
            "    - {id: g, metric: aqi, target: 50, baseline: 50, start: 2025-01-01, "
            "due: 2026-01-01, owner: x}\n",
            "the baseline already equals the target",
        ),
        ("  weights: {aqi: 1}\n", "weights"),
    ],
)
def test_bad_sections_are_rejected_with_their_path(section: str, message: str):
    with pytest.raises(SiteConfigError) as excinfo:
        _site("\nsustainability:\n" + section)
    assert message in str(excinfo.value)
    assert "sustainability" in str(excinfo.value)


def test_an_error_names_the_line_of_the_site_file():
    base = FIXTURE.read_text(encoding="utf-8")
    text = (
        base
        + "\nsustainability:\n  goals:\n    - {id: g, metric: nope, target: 1, "
        + ("start: 2025-01-01, due: 2026-01-01, owner: x}\n")
    )
    with pytest.raises(SiteConfigError) as excinfo:
        parse_site_text(text, "site.yaml")
    line = len(base.splitlines()) + 4
    assert f"site.yaml:{line}" in str(excinfo.value)
