"""A site's ``metering:`` settings: the defaults of the brief, the test site's tariffs and
layouts, every cross-reference problem with its key path and a did-you-mean, and hostile values
(NaN, infinity, quoted numbers, YAML booleans, an unquoted 22:00) refused with file and line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from siteledger.site import SiteConfigError, dump_site, load_site, parse_site_text
from siteledger.site.metering import METERING_COLUMNS, METERING_KINDS, MeteringSettings
from tests.ingestion.metering_site import metering_site, metering_site_data, metering_site_text


def _problems_in(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "site.yaml"
    path.write_text(text)
    with pytest.raises(SiteConfigError) as info:
        load_site(path)
    return [str(p).replace(str(path), "site.yaml") for p in info.value.problems]


def _problems(data: dict[str, Any], tmp_path: Path) -> list[str]:
    return _problems_in(yaml.safe_dump(data, sort_keys=False), tmp_path)


def _only(problems: list[str], needle: str) -> str:
    found = [p for p in problems if needle in p]
    assert len(found) == 1, (needle, problems)
    return found[0]


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_defaults_are_the_briefs_values():
    settings = MeteringSettings()
    assert not settings.enabled
    assert (settings.currency, settings.emergency_credit) == ("IDR", 20000.0)
    assert settings.low_balance_threshold == 25000.0
    assert settings.low_balance_days == [7, 3, 1]
    assert settings.credit_days_window == 7
    assert (settings.leak.night_start_hour, settings.leak.night_end_hour) == (2, 5)
    assert settings.leak.night_flow_l_per_h == 10.0
    assert settings.leak.zero_flow_l_per_h == 1.0
    assert settings.leak.intermittent_min_hours == 12
    assert settings.burst_q3_fraction == 0.2
    assert settings.default_q3_m3_per_h == 2.5
    assert settings.reverse_flow_l == 5.0
    assert settings.offline_after_intervals == 3
    assert (settings.low_battery_pct, settings.weak_signal_dbm) == (10.0, -110.0)
    assert settings.per_capita_benchmark_l == 100.0
    assert settings.peak_hour_starts == [7, 8, 18, 19, 20]
    assert (settings.revenue_drop_pct, settings.maintenance_due_days) == (20.0, 14)
    assert settings.tariffs == settings.districts == settings.layouts == []
    # ``metering:`` with nothing under it is the same
    data = metering_site_data()
    data["metering"] = None
    assert parse_site_text(yaml.safe_dump(data)).metering == MeteringSettings()
    assert set(METERING_COLUMNS) == set(METERING_KINDS)


def test_the_test_site_loads_with_tariff_versions_and_layouts():
    site = metering_site()
    metering = site.metering
    assert metering.enabled
    tariff = metering.tariff("household_iiia")
    assert tariff is not None
    assert tariff.version_on(dt.date(2024, 12, 31)) is None
    first = tariff.version_on(dt.date(2025, 6, 30))
    assert first is not None and first.fixed_charge_per_month == 7500
    assert [b.up_to_m3 for b in first.blocks] == [10, 20, None]
    later = tariff.version_on(dt.date(2025, 7, 1))
    assert later is not None and later.fixed_charge_per_month == 8000
    litres = next(lay for lay in metering.layouts if lay.id == "headend_l")
    assert litres.volume_factor == 0.001
    assert litres.header("meter_id") == "serial"
    assert litres.header("battery_pct") == "battery_pct"
    assert parse_site_text(dump_site(site)).metering == metering


def test_tariff_district_and_layout_problems_name_their_path(tmp_path: Path):
    data = metering_site_data()
    m = data["metering"]
    m["tariffs"][0]["versions"][1]["effective_from"] = "2025-01-01"  # a second version that day
    m["tariffs"][0]["versions"][0]["blocks"][1]["up_to_m3"] = 10  # not above the first
    m["tariffs"][1]["versions"][0]["blocks"] = [{"up_to_m3": 5, "rate": 1}]  # last not open
    m["tariffs"].append(
        {"id": "business", "versions": [{"effective_from": "2025-01-01", "blocks": [{"rate": 1}]}]}
    )
    m["districts"][0]["bulk_meters"] = ["FQ-20", "FT-100"]  # unknown; a flow rate
    m["layouts"].append({"id": "scada", "kind": "meters", "pattern": "m_*.csv", "format": "csv"})
    m["layouts"].append({"id": "dup", "kind": "meters", "pattern": "meters_*.csv", "format": "csv"})
    problems = _problems(data, tmp_path)
    assert "a second version from 2025-01-01 (first at metering.tariffs[0].versions[0])" in _only(
        problems, "metering.tariffs[0].versions[1].effective_from"
    )
    assert "not above the previous block's 10" in _only(
        problems, "metering.tariffs[0].versions[0].blocks[1].up_to_m3"
    )
    assert "the last block is open-ended" in _only(
        problems, "metering.tariffs[1].versions[0].blocks[0].up_to_m3"
    )
    assert "duplicate tariff 'business' (first at metering.tariffs[1])" in _only(
        problems, "metering.tariffs[2].id"
    )
    assert _only(problems, "metering.districts[0].bulk_meters[0]").endswith(
        "unknown bulk meter 'FQ-20' (did you mean 'FQ-200'?)"
    )
    assert "measures flow_rate" in _only(problems, "metering.districts[0].bulk_meters[1]")
    assert "layout id 'scada' is used at file_layouts[0]" in _only(
        problems, "metering.layouts[10].id"
    )
    assert "overlaps 'meters_*.csv'" in _only(problems, "metering.layouts[11].pattern")
    assert len(problems) == 8, problems


def test_hostile_values_are_refused_with_their_line(tmp_path: Path):
    text = metering_site_text()
    text = text.replace("emergency_credit: 20000", "emergency_credit: .nan")
    text = text.replace("fixed_charge_per_month: 7500", "fixed_charge_per_month: '7500'")
    text = text.replace("rate: 4700", "rate: yes")
    text = text.replace("up_to_m3: 20", "up_to_m3: .inf")
    text = text.replace("currency: IDR", "currency: IDR\n  credit_days_window: on")
    text = text.replace("effective_from: '2025-07-01'", "effective_from: 20250701")
    text = text.replace(
        "currency: IDR", "currency: IDR\n  leak:\n    night_start: 22:00\n    night_end: '05:30'"
    )
    problems = _problems_in(text, tmp_path)
    nan = _only(problems, "metering.emergency_credit")
    assert nan.startswith(f"site.yaml:{_line(text, 'emergency_credit: .nan')}:")
    assert "finite number" in nan
    assert "valid number" in _only(
        problems, "metering.tariffs[0].versions[0].fixed_charge_per_month"
    )
    assert _only(problems, "metering.tariffs[0].versions[0].blocks[1].rate").startswith(
        f"site.yaml:{_line(text, 'rate: yes')}:"
    )
    assert "finite number" in _only(problems, "metering.tariffs[0].versions[0].blocks[1].up_to")
    assert "valid integer" in _only(problems, "metering.credit_days_window")
    assert "a date is text like 2025-01-31, got 20250701" in _only(
        problems, "metering.tariffs[0].versions[1].effective_from"
    )
    night = _only(problems, "metering.leak.night_start")
    assert night.startswith(f"site.yaml:{_line(text, 'night_start: 22:00')}:")
    assert 'write it in quotes, e.g. "22:00"' in night
    assert "not on the hour" in _only(problems, "metering.leak.night_end")
    assert len(problems) == 8, problems


def test_bad_values_keys_and_layouts_are_refused(tmp_path: Path):
    data = metering_site_data()
    m = data["metering"]
    m["currency"] = "rupiah"
    m["low_balance_days"] = [7, 3, 3]
    m["peak_hours"] = ["09:00-07:00"]
    m["emergency_credit"] = -1
    m["tariffs"][0]["colour"] = "blue"
    m["tariffs"][1]["versions"][0]["blocks"] = []
    m["layouts"][0]["kind"] = "customer"
    m["layouts"][2]["columns"] = {"meter": "Serial"}
    m["layouts"][3]["unit"] = "L"
    problems = _problems(data, tmp_path)
    assert "should match pattern" in _only(problems, "metering.currency")
    assert "3 days is listed twice" in _only(problems, "metering.low_balance_days")
    assert "ends before it starts" in _only(problems, "metering.peak_hours[0]")
    assert "greater than or equal to 0" in _only(problems, "metering.emergency_credit")
    assert _only(problems, "metering.tariffs[0].colour").endswith("unknown key")
    assert "at least 1 item" in _only(problems, "metering.tariffs[1].versions[0].blocks")
    assert "'customers'" in _only(problems, "metering.layouts[0].kind")
    assert "no column 'meter' (did you mean 'meter_id'?)" in _only(problems, "metering.layouts[2]")
    assert "unit is for readings layouts" in _only(problems, "metering.layouts[3]")
    assert len(problems) == 9, problems


def test_more_credit_day_levels_than_the_ledger_carries_are_refused(tmp_path: Path):
    data = metering_site_data()
    data["metering"]["low_balance_days"] = [14, 7, 3, 1]
    problems = _problems(data, tmp_path)
    assert "at most 3 are alerted" in _only(problems, "metering.low_balance_days")
