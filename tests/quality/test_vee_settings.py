"""VEE thresholds in the site YAML: site defaults, per-meter overrides, export to dbt."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.site_tables import site_tables
from siteledger.site import SiteConfigError, parse_site_text

FIXTURE = Path(__file__).parents[1] / "fixtures" / "small_site.yaml"


def _site(extra: str = "", meter_vee: str = ""):
    text = FIXTURE.read_text(encoding="utf-8")
    if meter_vee:
        text = text.replace(
            "valid_range: [0, 5], tag: DAM_LT300}",
            f"valid_range: [0, 5], tag: DAM_LT300, vee: {meter_vee}}}",
        )
    return parse_site_text(text + extra, "site.yaml")


def _vee_rows(site) -> dict[str, dict]:
    return {row["meter_id"]: row for row in site_tables(site)["meter_vee_settings"].to_pylist()}


def test_defaults_apply_to_every_meter_and_flat_lines_skip_exempt_measurands():
    rows = _vee_rows(_site())
    assert rows["FT-100"]["spike_ratio"] == 6.0
    assert rows["FT-100"]["flat_line_hours"] == 6.0
    assert rows["FT-100"]["estimation_cap_hours"] == 6.0
    # registers stand still while pumps are off; rain is 0 for weeks; stores sit at set points
    for meter in ("FQ-200", "LT-300", "RG-1", "EP-1"):
        assert rows[meter]["flat_line_hours"] is None, meter
    quality = site_tables(_site())["quality_settings"].to_pylist()
    assert quality == [
        {
            "site_id": "small_site",
            "excellent_min": 95.0,
            "good_min": 85.0,
            "fair_min": 70.0,
            "publish_floor": 50.0,
            "block_on_closure_exceeded": False,
        }
    ]


def test_site_defaults_and_meter_overrides_combine():
    site = _site(
        "quality:\n  publish_floor: 60\n  vee:\n    spike_ratio: 4\n    late_arrival_hours: 48\n",
        meter_vee="{flat_line_hours: 12, spike_step: 0.2, disabled_flags: [gap, spike]}",
    )
    rows = _vee_rows(site)
    assert rows["FT-100"]["spike_ratio"] == 4.0
    assert rows["FT-100"]["late_arrival_hours"] == 48.0
    # a level meter that sets its own flat-line window is checked although levels are exempt
    assert rows["LT-300"]["flat_line_hours"] == 12.0
    assert rows["LT-300"]["spike_step"] == 0.2
    assert rows["LT-300"]["spike_ratio"] == 4.0  # not overridden: the site's value
    assert rows["LT-300"]["disabled_flags"] == "gap,spike"
    assert rows["FT-100"]["disabled_flags"] == ""
    assert site_tables(site)["quality_settings"].to_pylist()[0]["publish_floor"] == 60.0


@pytest.mark.parametrize(
    ("extra", "meter_vee", "message"),
    [
        ("quality:\n  vee:\n    spike_ratio: 1\n", "", "greater than 1"),
        ("quality:\n  vee:\n    flat_line_hours: -2\n", "", "greater than 0"),
        ("quality:\n  excellent_min: 80\n  good_min: 90\n", "", "must descend"),
        ("quality:\n  publish_floor: 120\n", "", "less than or equal to 100"),
        ("quality:\n  vee:\n    spiek_ratio: 3\n", "", "spiek_ratio"),
        ("", "{disabled_flags: [stuck]}", "meters[2].vee.disabled_flags[0]"),
        ("", "{profile_days: 60}", "less than or equal to 14"),
    ],
)
def test_bad_quality_settings_are_rejected_with_their_path(extra: str, meter_vee: str, message):
    with pytest.raises(SiteConfigError) as excinfo:
        _site(extra, meter_vee)
    assert message in str(excinfo.value)
