"""The site file's ``air_quality`` settings: defaults, the wind direction measurand, and every
cross-reference problem reported with its path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from siteledger.site import SiteConfigError, dump_site, parse_site_text
from siteledger.site.air_quality import AirQualitySettings
from siteledger.units import MEASURANDS, resolve_unit, unit_fits_measurand

FIXTURE = Path(__file__).parents[1] / "fixtures" / "small_site.yaml"

AIR_METERS = [
    {"id": "AQ-1", "measurand": "pm10", "unit": "ug/m3", "tag": "AQ1"},
    {"id": "AQ-2", "measurand": "pm25", "unit": "µg/m³", "tag": "AQ2"},
    {"id": "WS-1", "measurand": "wind_speed", "unit": "km/h", "tag": "WS1"},
    {"id": "WD-1", "measurand": "wind_direction", "unit": "°", "tag": "WD1"},
    {"id": "RH-1", "measurand": "humidity", "unit": "%", "tag": "RH1"},
]


def _site(air_quality: dict) -> dict:
    data = yaml.safe_load(FIXTURE.read_text())
    data["meters"] += AIR_METERS
    data["air_quality"] = air_quality
    return data


def _problems(data: dict) -> list[str]:
    with pytest.raises(SiteConfigError) as info:
        parse_site_text(yaml.safe_dump(data, sort_keys=False), "site.yaml")
    return [str(p) for p in info.value.problems]


VALID = {
    "monitors": [{"id": "fence", "pm10_meter": "AQ-1", "pm25_meter": "AQ-2"}],
    "weather": {
        "wind_speed_meter": "WS-1",
        "wind_direction_meter": "WD-1",
        "humidity_meter": "RH-1",
    },
    "dust_suppression_flows": ["dam_to_plant"],
}


def test_wind_direction_is_measured_in_degrees():
    assert MEASURANDS["wind_direction"].canonical_unit == "deg"
    assert resolve_unit("°").symbol == "deg" and resolve_unit("degrees").symbol == "deg"
    assert unit_fits_measurand("deg", "wind_direction")
    assert not unit_fits_measurand("m/s", "wind_direction")


def test_defaults_are_the_us_naaqs_and_the_2024_aqi():
    settings = AirQualitySettings()
    assert not settings.enabled
    assert settings.trigger_pm10_ug_m3 == 150.0
    assert settings.aqi_edition == "us_epa_2024"
    assert settings.min_completeness_pct == 75.0


def test_a_valid_air_quality_block_loads_and_round_trips():
    site = parse_site_text(yaml.safe_dump(_site(VALID), sort_keys=False))
    assert site.air_quality.enabled
    assert site.air_quality.pm10_monitor().id == "fence"
    assert site.air_quality.meter_roles() == [
        ("AQ-1", "pm10", "fence"),
        ("AQ-2", "pm25", "fence"),
        ("WS-1", "wind_speed", None),
        ("WD-1", "wind_direction", None),
        ("RH-1", "humidity", None),
    ]
    assert parse_site_text(dump_site(site)) == site


def test_unknown_and_wrong_meters_flows_and_monitors_are_reported_with_their_path():
    problems = _problems(
        _site(
            {
                "monitors": [
                    {"id": "fence", "pm10_meter": "AQ-9", "pm25_meter": "AQ-1"},
                    {"id": "fence", "pm10_meter": "AQ-1", "pm25_meter": "AQ-2"},
                    {"id": "hill", "pm25_meter": "AQ-2"},
                ],
                "weather": {"wind_direction_meter": "WS-1"},
                "dust_suppression_flows": ["water_cart"],
                "forecast_monitor": "gate",
            }
        )
    )
    expected = [
        ("air_quality.monitors[0].pm10_meter", "unknown meter 'AQ-9'"),
        ("air_quality.monitors[0].pm25_meter", "meter 'AQ-1' measures pm10, not pm25"),
        ("air_quality.weather.wind_direction_meter", "meter 'WS-1' measures wind_speed"),
        ("air_quality.dust_suppression_flows[0]", "unknown flow 'water_cart'"),
        ("air_quality.forecast_monitor", "unknown monitor 'gate'"),
        ("air_quality.monitors", "monitor 'fence' appears 2 times"),
        (
            "air_quality.monitors[2].pm25_meter",
            "meter 'AQ-2' is already air_quality.monitors[1].pm25_meter",
        ),
    ]
    for path, reason in expected:
        assert any(path in p and reason in p for p in problems), (path, reason, problems)


def test_a_monitor_needs_a_particulate_meter_and_the_trigger_must_be_positive():
    problems = _problems(_site({"monitors": [{"id": "fence"}], "trigger_pm10_ug_m3": 0}))
    assert any("needs pm10_meter, pm25_meter or both" in p for p in problems)
    assert any("trigger_pm10_ug_m3" in p for p in problems)
    problems = _problems(_site({**VALID, "aqi_edition": "us_epa_1999"}))
    assert any("aqi_edition" in p for p in problems)
