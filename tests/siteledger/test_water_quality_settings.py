"""The ``water_quality:`` part of a site file: every cross-reference problem reported at once,
with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from siteledger.site import SiteConfigError, parse_site_text
from siteledger.units import conversion_factor

SMALL_SITE = Path(__file__).parents[1] / "fixtures" / "small_site.yaml"

WATER_QUALITY = """\
water_quality:
  sample_points:
    - {id: SP-DIS, flow: dam_to_creek, role: discharge}
    - {id: SP-X, flow: dam_to_river, role: monitoring}
    - {id: SP-Y, node: pond, role: treatment_in}
    - {id: SP-DIS, node: dam}
  limits:
    - {id: L1, sample_point: SP-X, parameter: tds, max: 1500}
    - {id: L2, sample_point: SP-DIS, parameter: copper_total, max: 20}
    - {id: L3, sample_point: SP-DIS, parameter: tds, max: 20, unit: NTU}
  treatments:
    - {id: T1, inlet: SP-DIS, outlet: SP-Q}
"""


def test_every_water_quality_problem_is_reported_with_its_line():
    text = SMALL_SITE.read_text() + WATER_QUALITY
    first = len(SMALL_SITE.read_text().splitlines()) + 1  # the 'water_quality:' line

    with pytest.raises(SiteConfigError) as caught:
        parse_site_text(text, "site.yaml")

    found = [(p.line - first if p.line else None, p.path, p.message) for p in caught.value.problems]
    assert found == [
        (5, "water_quality.sample_points[3].id", "duplicate id 'SP-DIS'"),
        (
            3,
            "water_quality.sample_points[1].flow",
            "unknown flow 'dam_to_river' (did you mean 'dam_to_creek'?)",
        ),
        (4, "water_quality.sample_points[2].node", "unknown node 'pond'"),
        (
            7,
            "water_quality.limits[0].sample_point",
            "licence limits apply to discharge points; 'SP-X' is monitoring",
        ),
        (8, "water_quality.limits[1].parameter", "unknown parameter 'copper_total'"),
        (9, "water_quality.limits[2].unit", "unit 'NTU' cannot be converted to tds's unit 'mg/L'"),
        (11, "water_quality.treatments[0].inlet", "'SP-DIS' is discharge, not treatment_in"),
        (
            11,
            "water_quality.treatments[0].outlet",
            "unknown sample point 'SP-Q' (did you mean 'SP-Y'?)",
        ),
    ]


def test_a_sample_point_samples_one_node_or_one_flow():
    text = SMALL_SITE.read_text() + (
        "water_quality:\n  sample_points:\n    - {id: SP, node: dam, flow: dam_to_creek}\n"
    )
    with pytest.raises(SiteConfigError) as caught:
        parse_site_text(text, "site.yaml")
    assert [p.message for p in caught.value.problems] == [
        "a sample point samples one node or one flow (give node or flow)"
    ]


def test_water_quality_units_convert():
    assert conversion_factor("µg/L", "mg/L") == pytest.approx(1e-3)
    assert conversion_factor("mS/cm", "uS/cm") == pytest.approx(1000.0)
    assert conversion_factor("pH units", "pH") == 1.0
    assert conversion_factor("ntu", "NTU") == 1.0
