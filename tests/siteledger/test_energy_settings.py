"""A site's ``energy:`` settings: a full valid example, the fuel curve defaults, every
cross-reference problem with its key path, hostile values refused with file and line, and the
site tables (tariff periods and operating hours split across midnight)."""

from __future__ import annotations

import copy
import datetime
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from ingestion.site_tables import ENERGY_SCHEMAS, SCHEMAS, site_tables
from siteledger.site import SiteConfigError, dump_site, load_site, parse_site_text
from siteledger.site.carbon import carbon_meters
from siteledger.site.energy import EnergySettings, Window, default_f0
from siteledger.units import MEASURANDS, unit_fits_measurand

FIXTURE = Path(__file__).parents[1] / "fixtures" / "small_site.yaml"

ENERGY_METERS = [
    {"id": "LT-901", "measurand": "tank_contents", "unit": "L", "tag": "LT901"},
    {"id": "FD-901", "measurand": "fuel", "unit": "L", "interval": "1d", "manual": True},
    {"id": "JG-911", "measurand": "power", "unit": "kW", "tag": "JG911"},
    {"id": "EG-911", "measurand": "energy", "unit": "kWh", "tag": "EG911"},
    {"id": "FG-911", "measurand": "fuel", "unit": "L", "tag": "FG911"},
    {"id": "JG-912", "measurand": "power", "unit": "kW", "tag": "JG912"},
    {"id": "JP-921", "measurand": "power", "unit": "kW", "tag": "JP921"},
    {"id": "RI-921", "measurand": "irradiance", "unit": "W/m2", "tag": "RI921"},
    {"id": "TT-921", "measurand": "temperature", "unit": "degC", "tag": "TT921"},
    {"id": "WS-921", "measurand": "wind_speed", "unit": "m/s", "tag": "WS921"},
    {"id": "EI-931", "measurand": "energy", "unit": "kWh", "tag": "EI931"},
    {"id": "EX-931", "measurand": "energy", "unit": "kWh", "tag": "EX931"},
    {"id": "EL-941", "measurand": "energy", "unit": "kWh", "tag": "EL941"},
    {"id": "JL-942", "measurand": "power", "unit": "kW", "tag": "JL942"},
]

ENERGY: dict[str, Any] = {
    "currency": "AUD",
    "location": {"latitude": -31.95, "longitude": 116.05, "altitude_m": 250},
    "fuel": {
        "prices": [
            {"from": "2025-07-01", "price_per_l": 1.95},
            {"from": "2025-01-01", "price_per_l": 1.80},
        ],
        "unaccounted_alert_l_per_day": 50,
        "tanks": [
            {
                "id": "diesel_tank",
                "name": "Bulk diesel tank",
                "capacity_l": 60000,
                "level_meter": "LT-901",
                "delivery_meter": "FD-901",
            }
        ],
    },
    "generators": [
        {
            "id": "genset_1",
            "name": "Genset 1",
            "rated_kw": 800,
            "f0_l_per_h_per_kw_rated": 0.015,
            "f1_l_per_h_per_kw": 0.25,
            "power_meter": "JG-911",
            "energy_meter": "EG-911",
            "fuel_meter": "FG-911",
            "tank": "diesel_tank",
            "cost_centre": "power_station",
        },
        {"id": "genset_2", "rated_kw": 100, "power_meter": "JG-912", "tank": "diesel_tank"},
    ],
    "pv_arrays": [
        {
            "id": "pv_1",
            "name": "Plant roof PV",
            "kwp": 500,
            "tilt_deg": 20,
            "azimuth_deg": 0,
            "inverter_kw": 450,
            "power_meter": "JP-921",
            "irradiance_meter": "RI-921",
            "temperature_meter": "TT-921",
            "wind_meter": "WS-921",
        }
    ],
    "grid": {
        "import_meter": "EI-931",
        "export_meter": "EX-931",
        "tariff": {
            "energy_rate_per_kwh": 0.15,
            "periods": [
                {
                    "name": "peak",
                    "rate_per_kwh": 0.32,
                    "days": ["mon", "tue", "wed", "thu", "fri"],
                    "start": "07:00",
                    "end": "23:00",
                },
                {
                    "name": "overnight",
                    "rate_per_kwh": 0.08,
                    "days": ["fri", "sun"],
                    "start": "23:00",
                    "end": "06:00",
                },
            ],
            "demand_charge_per_kw_month": 18.50,
            "demand_interval_minutes": 30,
            "daily_charge": 2.40,
        },
    },
    "solar_cost_per_kwh": 0.02,
    "loads": [
        {
            "id": "plant",
            "name": "Concentrator",
            "meter": "EL-941",
            "cost_centre": "processing",
            "operating_hours": {"start": "06:00", "end": "18:00"},
        },
        {
            "id": "camp",
            "meter": "JL-942",
            "anomaly_kwh_per_day": 120,
            "operating_hours": [{"days": ["sat"], "start": "20:00", "end": "02:00"}],
        },
    ],
    "cost_centres": [
        {"id": "processing", "name": "Processing plant"},
        {"id": "power_station"},
    ],
    "daily_cost_alert": 5000,
}


def _data(energy: dict[str, Any] | None = None) -> dict[str, Any]:
    data = yaml.safe_load(FIXTURE.read_text())
    data["meters"] += copy.deepcopy(ENERGY_METERS)
    data["energy"] = copy.deepcopy(ENERGY if energy is None else energy)
    return data


def _text(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def energy_site_text() -> str:
    """The small test site with the full energy example (also used by the dbt tests)."""
    return _text(_data())


def _problems_in(text: str, tmp_path: Path) -> list[str]:
    """Problems of ``text`` loaded from a file by the site loader, as 'file:line: path: why'."""
    path = tmp_path / "site.yaml"
    path.write_text(text)
    with pytest.raises(SiteConfigError) as info:
        load_site(path)
    return [str(p).replace(str(path), "site.yaml") for p in info.value.problems]


def _problems(data: dict[str, Any], tmp_path: Path) -> list[str]:
    return _problems_in(_text(data), tmp_path)


def _only(problems: list[str], needle: str) -> str:
    found = [p for p in problems if needle in p]
    assert len(found) == 1, (needle, problems)
    return found[0]


def _line(text: str, needle: str, after: str = "energy:") -> int:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(after))
    return next(i for i, line in enumerate(lines[start:], start + 1) if needle in line)


# -- the measurand and the defaults ------------------------------------------------------------


def test_tank_contents_is_a_volume_in_litres_and_not_a_register():
    tank = MEASURANDS["tank_contents"]
    assert (tank.dimension, tank.canonical_unit, tank.cumulative) == ("volume", "L", False)
    assert unit_fits_measurand("m3", "tank_contents")
    assert not unit_fits_measurand("kWh", "tank_contents")


def test_f0_by_size_follows_the_domain_figures():
    assert default_f0(20) == 0.08
    assert default_f0(40) == 0.08
    assert default_f0(100) == 0.035
    assert default_f0(500) == 0.02
    assert default_f0(2000) == 0.02
    # linear in log(size): 200 kW is ln 2 / ln 5 = 0.4307 of the way from 100 to 500 kW
    assert default_f0(200) == pytest.approx(0.035 - 0.015 * math.log(2) / math.log(5), abs=1e-12)
    assert default_f0(200) == pytest.approx(0.0285398, abs=1e-7)
    # 63.25 kW is halfway in log between 40 and 100 kW
    assert default_f0(math.sqrt(40 * 100)) == pytest.approx(0.0575, abs=1e-12)


def test_a_site_without_energy_has_empty_settings_and_empty_tables():
    site = load_site(FIXTURE)
    assert not site.energy.enabled
    assert site.energy.currency == "AUD"
    tables = site_tables(site)
    for name in ENERGY_SCHEMAS:
        if name != "energy_settings":
            assert tables[name].num_rows == 0, name
            assert tables[name].schema.equals(SCHEMAS[name]), name
    [row] = tables["energy_settings"].to_pylist()
    assert row == {
        "site_id": "small_site",
        "currency": "AUD",
        "latitude": None,
        "longitude": None,
        "altitude_m": None,
        "unaccounted_alert_l_per_day": 50.0,
        "solar_cost_per_kwh": 0.0,
        "daily_cost_alert": None,
    }


# -- a full valid example ---------------------------------------------------------------------


def test_the_full_example_loads_with_its_defaults():
    site = parse_site_text(_text(_data()))
    energy = site.energy
    assert energy.enabled
    gen1, gen2 = energy.generators
    assert (gen1.f0, gen1.f0_defaulted) == (0.015, False)
    assert (gen2.f0, gen2.f0_defaulted, gen2.f1_l_per_h_per_kw) == (0.035, True, 0.25)
    assert (gen2.low_load_fraction, gen2.low_load_alert_hours) == (0.30, 4.0)
    assert gen2.efficiency_alert_ratio == 1.10
    array = energy.pv_arrays[0]
    assert (array.losses_pct, array.inverter_efficiency, array.gamma_pdc_per_c) == (
        14.08,
        0.96,
        -0.0037,
    )
    assert (array.pi_alert_threshold, array.pi_alert_days) == (0.90, 3)
    assert array.zero_production_irradiance_w_m2 == 50.0
    assert energy.grid is not None
    assert (energy.grid.id, energy.grid.name) == ("grid", "Grid connection")
    assert energy.loads[0].operating_hours[0].days == [
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
    ]
    assert energy.loads[0].anomaly_kwh_per_day == 300.0
    # a site dumped and read again is the same site
    assert parse_site_text(dump_site(site)).energy == energy


def test_site_tables_of_the_full_example(tmp_path: Path):
    site = parse_site_text(_text(_data()))
    tables = {name: table.to_pylist() for name, table in site_tables(site).items()}
    assert tables["energy_fuel_prices"] == [
        {"site_id": "small_site", "valid_from": datetime.date(2025, 1, 1), "price_per_l": 1.80},
        {"site_id": "small_site", "valid_from": datetime.date(2025, 7, 1), "price_per_l": 1.95},
    ]
    generators = {r["generator_id"]: r for r in tables["energy_generators"]}
    assert generators["genset_1"]["f0_l_per_h_per_kw_rated"] == 0.015
    assert generators["genset_1"]["f0_defaulted"] is False
    assert generators["genset_2"]["f0_l_per_h_per_kw_rated"] == 0.035
    assert generators["genset_2"]["f0_defaulted"] is True
    assert generators["genset_2"]["generator_name"] == "genset_2"
    assert generators["genset_2"]["fuel_meter_id"] is None
    assert generators["genset_1"]["cost_centre_id"] == "power_station"
    assert tables["energy_tanks"] == [
        {
            "site_id": "small_site",
            "tank_id": "diesel_tank",
            "tank_name": "Bulk diesel tank",
            "capacity_l": 60000.0,
            "level_meter_id": "LT-901",
            "delivery_meter_id": "FD-901",
        }
    ]
    [array] = tables["energy_pv_arrays"]
    assert (array["kwp"], array["inverter_kw"], array["pi_alert_days"]) == (500.0, 450.0, 3)
    assert array["irradiance_meter_id"] == "RI-921"
    assert tables["energy_grid"] == [
        {
            "site_id": "small_site",
            "grid_id": "grid",
            "grid_name": "Grid connection",
            "import_meter_id": "EI-931",
            "export_meter_id": "EX-931",
            "energy_rate_per_kwh": 0.15,
            "demand_charge_per_kw_month": 18.5,
            "demand_interval_minutes": 30,
            "daily_charge": 2.4,
        }
    ]
    periods = [
        (r["period_name"], r["iso_dow"], r["start_minute"], r["end_minute"], r["rate_per_kwh"])
        for r in tables["energy_tariff_periods"]
    ]
    # peak 07:00-23:00 Monday to Friday; overnight 23:00-06:00 from Friday and from Sunday:
    # Fri 23:00-24:00 + Sat 00:00-06:00, Sun 23:00-24:00 + Mon 00:00-06:00
    assert periods == [
        ("peak", 1, 420, 1380, 0.32),
        ("peak", 2, 420, 1380, 0.32),
        ("peak", 3, 420, 1380, 0.32),
        ("peak", 4, 420, 1380, 0.32),
        ("peak", 5, 420, 1380, 0.32),
        ("overnight", 1, 0, 360, 0.08),
        ("overnight", 5, 1380, 1440, 0.08),
        ("overnight", 6, 0, 360, 0.08),
        ("overnight", 7, 1380, 1440, 0.08),
    ]
    assert tables["energy_loads"] == [
        {
            "site_id": "small_site",
            "load_id": "plant",
            "load_name": "Concentrator",
            "meter_id": "EL-941",
            "cost_centre_id": "processing",
            "anomaly_kwh_per_day": 300.0,
        },
        {
            "site_id": "small_site",
            "load_id": "camp",
            "load_name": "camp",
            "meter_id": "JL-942",
            "cost_centre_id": None,
            "anomaly_kwh_per_day": 120.0,
        },
    ]
    hours = [
        (r["load_id"], r["iso_dow"], r["start_minute"], r["end_minute"])
        for r in tables["energy_load_hours"]
    ]
    assert hours == [("plant", day, 360, 1080) for day in range(1, 8)] + [
        ("camp", 6, 1200, 1440),
        ("camp", 7, 0, 120),
    ]
    assert tables["energy_cost_centres"] == [
        {
            "site_id": "small_site",
            "cost_centre_id": "processing",
            "cost_centre_name": "Processing plant",
        },
        {
            "site_id": "small_site",
            "cost_centre_id": "power_station",
            "cost_centre_name": "power_station",
        },
    ]
    [settings] = tables["energy_settings"]
    assert (settings["latitude"], settings["longitude"], settings["altitude_m"]) == (
        -31.95,
        116.05,
        250.0,
    )
    assert (settings["solar_cost_per_kwh"], settings["daily_cost_alert"]) == (0.02, 5000.0)
    built = site_tables(site)
    for name in ENERGY_SCHEMAS:
        assert built[name].schema.equals(SCHEMAS[name]), name


def test_one_price_applies_from_the_first_day_there_is():
    energy = copy.deepcopy(ENERGY)
    energy["fuel"].pop("prices")
    energy["fuel"]["price_per_l"] = 1.95
    site = parse_site_text(_text(_data(energy)))
    assert site_tables(site)["energy_fuel_prices"].to_pylist() == [
        {"site_id": "small_site", "valid_from": datetime.date(1, 1, 1), "price_per_l": 1.95}
    ]


def test_a_sunday_night_window_wraps_to_monday_and_midnight_ends_the_day():
    sunday = Window.model_validate({"days": ["sun"], "start": "22:00", "end": "06:30"})
    assert sunday.day_rows() == [(1, 0, 390), (7, 1320, 1440)]
    evening = Window.model_validate({"days": ["Monday"], "start": "18:00", "end": "00:00"})
    assert evening.day_rows() == [(1, 1080, 1440)]
    whole = Window.model_validate({"days": ["tue"], "start": "0:00", "end": "24:00"})
    assert (whole.start, whole.day_rows()) == ("00:00", [(2, 0, 1440)])


# -- cross-references -------------------------------------------------------------------------


def test_every_cross_reference_problem_is_reported_with_its_path(tmp_path: Path):
    data = _data()
    energy = data["energy"]
    energy["fuel"]["tanks"][0]["level_meter"] = "FD-901"  # a fuel meter, and a second role
    energy["generators"][0]["power_meter"] = "EG-911"  # energy, not power; and a second role
    energy["generators"][0]["tank"] = "diesel_tnk"
    energy["generators"][1]["cost_centre"] = "power_statn"
    energy["generators"][1]["id"] = "pv_1"
    energy["pv_arrays"][0]["irradiance_meter"] = "TT-921"
    energy["grid"]["import_meter"] = "EI-391"
    energy["loads"][0]["cost_centre"] = "procesing"
    energy["loads"][1]["meter"] = "FG-911"
    energy["cost_centres"].append({"id": "processing"})
    energy["fuel"]["prices"][1]["from"] = "2025-07-01"
    problems = _problems(data, tmp_path)
    expected = {
        "energy.fuel.tanks[0].level_meter": "meter 'FD-901' measures fuel, not tank_contents",
        "energy.generators[0].power_meter": "meter 'EG-911' measures energy, not power",
        "energy.generators[0].energy_meter": "meter 'EG-911' already has a role at "
        "energy.generators[0].power_meter",
        "energy.generators[0].tank": "unknown tank 'diesel_tnk' (did you mean 'diesel_tank'?)",
        "energy.generators[1].cost_centre": "unknown cost centre 'power_statn' (did you mean "
        "'power_station'?)",
        "energy.pv_arrays[0].id": "duplicate id 'pv_1' (first at energy.generators[1].id)",
        "energy.pv_arrays[0].irradiance_meter": "meter 'TT-921' measures temperature, not "
        "irradiance",
        "energy.pv_arrays[0].temperature_meter": "meter 'TT-921' already has a role at "
        "energy.pv_arrays[0].irradiance_meter",
        "energy.grid.import_meter": "unknown meter 'EI-391' (did you mean 'EI-931'?)",
        "energy.loads[0].cost_centre": "unknown cost centre 'procesing' (did you mean "
        "'processing'?)",
        "energy.loads[1].meter": "meter 'FG-911' measures fuel, not energy or power",
        "energy.cost_centres[2].id": "duplicate cost centre 'processing' (first at "
        "energy.cost_centres[0].id)",
        "energy.fuel.prices[1].from": "a second price from 2025-07-01",
    }
    for path, message in expected.items():
        assert _only(problems, f": {path}: {message}")
    # the delivery meter's second role and the fuel meter's are reported where they repeat
    assert _only(problems, "meter 'FD-901' already has a role at energy.fuel.tanks[0].level_meter")
    assert _only(problems, "meter 'FG-911' already has a role at energy.generators[0].fuel_meter")
    assert len(problems) == len(expected) + 2, problems
    text = _text(data)
    assert _only(problems, "unknown tank").startswith(f"site.yaml:{_line(text, 'diesel_tnk')}:")


def test_weather_meters_may_serve_several_arrays_but_not_two_roles(tmp_path: Path):
    data = _data()
    second = copy.deepcopy(data["energy"]["pv_arrays"][0])
    second.update({"id": "pv_2", "power_meter": "JG-912"})
    data["energy"]["pv_arrays"].append(second)
    data["energy"]["generators"].pop()
    site = parse_site_text(_text(data))
    assert [a.irradiance_meter for a in site.energy.pv_arrays] == ["RI-921", "RI-921"]
    data["energy"]["pv_arrays"][1]["power_meter"] = "JP-921"
    assert _only(_problems(data, tmp_path), "energy.pv_arrays[1].power_meter: meter 'JP-921'")


def test_pv_arrays_need_the_location(tmp_path: Path):
    data = _data()
    del data["energy"]["location"]
    assert _only(_problems(data, tmp_path), "energy.location: PV arrays need the site's location")
    data["energy"]["pv_arrays"] = []
    assert parse_site_text(_text(data)).energy.location is None


def test_overlapping_tariff_periods_are_refused_on_the_day_they_meet(tmp_path: Path):
    data = _data()
    periods = data["energy"]["grid"]["tariff"]["periods"]
    periods.append(
        {"name": "shoulder", "rate_per_kwh": 0.2, "days": ["sat"], "start": "05:00", "end": "09:00"}
    )
    periods.append(
        {"name": "evening", "rate_per_kwh": 0.25, "days": ["wed"], "start": "22:00", "end": "23:30"}
    )
    problems = _problems(data, tmp_path)
    # Friday's overnight period runs to 06:00 on Saturday
    assert _only(
        problems,
        "energy.grid.tariff.periods[2]: period 'shoulder' overlaps period 'overnight' on sat "
        "05:00-06:00",
    )
    assert _only(
        problems,
        "energy.grid.tariff.periods[3]: period 'evening' overlaps period 'peak' on wed 22:00-23:00",
    )
    assert len(problems) == 2


def test_a_demand_charge_needs_readings_as_often_as_its_interval(tmp_path: Path):
    data = _data()
    data["meters"][[m["id"] for m in data["meters"]].index("EI-931")]["interval"] = "1h"
    problem = _only(_problems(data, tmp_path), "energy.grid.import_meter")
    assert "reads every 1h; a 30-minute demand charge" in problem
    data["energy"]["grid"]["tariff"]["demand_charge_per_kw_month"] = 0
    parse_site_text(_text(data))


# -- hostile values, through the loader with file and line -------------------------------------


def test_nan_inf_and_negative_ratings_are_refused_with_their_line(tmp_path: Path):
    text = _text(_data())
    text = text.replace("rated_kw: 800", "rated_kw: .nan")
    text = text.replace("kwp: 500", "kwp: .inf")
    text = text.replace("inverter_kw: 450", "inverter_kw: -450")
    text = text.replace("capacity_l: 60000", "capacity_l: 0")
    text = text.replace("rated_kw: 100", "rated_kw: -100")
    problems = _problems_in(text, tmp_path)
    assert _only(problems, "energy.generators[0].rated_kw").startswith(
        f"site.yaml:{_line(text, 'rated_kw: .nan')}:"
    )
    assert "finite number" in _only(problems, "energy.generators[0].rated_kw")
    assert "finite number" in _only(problems, "energy.pv_arrays[0].kwp")
    assert _only(problems, "energy.pv_arrays[0].inverter_kw").endswith("greater than 0")
    assert _only(problems, "energy.pv_arrays[0].inverter_kw").startswith(
        f"site.yaml:{_line(text, 'inverter_kw: -450')}:"
    )
    assert _only(problems, "energy.fuel.tanks[0].capacity_l").endswith("greater than 0")
    assert _only(problems, "energy.generators[1].rated_kw").endswith("greater than 0")
    assert len(problems) == 5


def test_wrong_types_unknown_keys_and_bad_choices_are_refused(tmp_path: Path):
    data = _data()
    energy = data["energy"]
    energy["currency"] = "dollars"
    energy["generators"][0]["rated_kw"] = "big"
    energy["generators"][1]["colour"] = "yellow"
    energy["pv_arrays"][0]["pi_alert_days"] = 2.5
    energy["grid"]["tariff"]["demand_interval_minutes"] = 20
    energy["loads"][0]["operating_hours"] = "always"
    energy["fuel"]["price_per_l"] = 1.9  # beside prices
    problems = _problems(data, tmp_path)
    assert "should match pattern" in _only(problems, "energy.currency")
    assert "valid number" in _only(problems, "energy.generators[0].rated_kw")
    assert _only(problems, "energy.generators[1].colour").endswith("unknown key")
    assert "valid integer" in _only(problems, "energy.pv_arrays[0].pi_alert_days")
    assert "15 or 30" in _only(problems, "demand_interval_minutes")
    assert _only(problems, "energy.loads[0].operating_hours")
    assert _only(problems, "energy.fuel: give price_per_l or prices, not both")
    assert len(problems) == 7, problems


def test_a_quoted_number_or_a_yaml_boolean_is_not_a_rating(tmp_path: Path):
    text = _text(_data())
    text = text.replace("rated_kw: 800", "rated_kw: '800'").replace(
        "rated_kw: 100", "rated_kw: yes"
    )
    text = text.replace("daily_charge: 2.4", "daily_charge: on")
    problems = _problems_in(text, tmp_path)
    assert "valid number" in _only(problems, "energy.generators[0].rated_kw")
    assert "valid number" in _only(problems, "energy.generators[1].rated_kw")
    assert _only(problems, "energy.grid.tariff.daily_charge").startswith(
        f"site.yaml:{_line(text, 'daily_charge: on')}:"
    )
    assert len(problems) == 3, problems


def test_a_generator_and_an_array_need_an_output_meter(tmp_path: Path):
    data = _data()
    del data["energy"]["generators"][1]["power_meter"]
    del data["energy"]["pv_arrays"][0]["power_meter"]
    problems = _problems(data, tmp_path)
    assert _only(problems, "energy.generators[1]: generator 'genset_2' needs power_meter")
    assert _only(problems, "energy.pv_arrays[0]: PV array 'pv_1' needs power_meter")


def test_bad_days_and_times_name_the_value_and_its_line(tmp_path: Path):
    data = _data()
    periods = data["energy"]["grid"]["tariff"]["periods"]
    periods[0]["days"] = ["mon", "tues", "frday", "holiday"]
    periods[1]["end"] = "25:00"
    data["energy"]["loads"][0]["operating_hours"] = {"start": "06:00", "end": "06:00"}
    data["energy"]["loads"][1]["operating_hours"][0]["start"] = "8am"
    text = _text(data)
    problems = _problems_in(text, tmp_path)
    assert "unknown day 'tues' (did you mean 'tue'?)" in _only(problems, "periods[0].days[1]")
    assert "unknown day 'frday' (did you mean 'fri'?)" in _only(problems, "periods[0].days[2]")
    assert "unknown day 'holiday'" in _only(problems, "periods[0].days[3]")
    assert "time '25:00' is not a time of day" in _only(problems, "periods[1].end")
    assert _only(problems, "periods[1].end").startswith(f"site.yaml:{_line(text, '25:00')}:")
    assert "start 06:00 equals end 06:00" in _only(problems, "energy.loads[0].operating_hours")
    assert "time '8am' is not like '07:30'" in _only(problems, "loads[1].operating_hours[0].start")
    assert len(problems) == 6, problems


def test_an_unquoted_time_is_read_by_yaml_as_a_number_and_refused_with_the_fix(tmp_path: Path):
    text = _text(_data()).replace("start: 07:00", "start: 7:00").replace("'07:00'", "7:00")
    problems = _problems_in(text, tmp_path)
    problem = _only(problems, "energy.grid.tariff.periods[0].start")
    assert 'got 420; write it in quotes, e.g. "07:00"' in problem


def test_the_same_meter_in_two_roles_is_refused(tmp_path: Path):
    data = _data()
    data["energy"]["loads"][0]["meter"] = "EI-931"
    problems = _problems(data, tmp_path)
    assert problems == [
        f"site.yaml:{_line(_text(data), 'meter: EI-931', after='  loads:')}: "
        "energy.loads[0].meter: meter 'EI-931' already has a role at energy.grid.import_meter"
    ]


def test_settings_class_defaults_match_the_docs():
    settings = EnergySettings()
    assert (settings.currency, settings.solar_cost_per_kwh, settings.daily_cost_alert) == (
        "AUD",
        0.0,
        None,
    )
    assert settings.fuel.unaccounted_alert_l_per_day == 50.0
    assert settings.meter_roles() == []


def test_an_empty_energy_key_is_no_energy_accounting():
    data = _data()
    data["energy"] = None
    site = parse_site_text(_text(data))
    assert site.energy == EnergySettings()
    assert not site.energy.enabled


def test_a_period_may_take_several_windows_at_one_rate(tmp_path: Path):
    data = _data()
    periods = data["energy"]["grid"]["tariff"]["periods"]
    saturday = {"name": "peak", "rate_per_kwh": 0.32, "days": ["sat"], "start": "08:00"}
    periods.append({**saturday, "end": "12:00"})
    site = parse_site_text(_text(data))
    peak = [
        (r["iso_dow"], r["start_minute"], r["end_minute"])
        for r in site_tables(site)["energy_tariff_periods"].to_pylist()
        if r["period_name"] == "peak"
    ]
    assert peak == [(day, 420, 1380) for day in range(1, 6)] + [(6, 480, 720)]
    periods[-1]["rate_per_kwh"] = 0.4
    assert _problems(data, tmp_path) == [
        f"site.yaml:{_line(_text(data), 'rate_per_kwh: 0.4')}: "
        "energy.grid.tariff.periods[2].rate_per_kwh: period 'peak' is already at 0.32 per kWh; "
        "name a different rate differently"
    ]


def test_carbon_counts_the_grid_import_and_burned_fuel_only():
    site = parse_site_text(_text(_data()))
    # generator, PV and load meters are not grid supply; the tank's deliveries are not burns
    assert carbon_meters(site) == [("FG-911", "diesel", 1), ("EI-931", "grid_electricity", 2)]
    data = _data()
    data["carbon"] = {"grid_meters": ["EL-941"], "fuel_meters": ["FD-901"]}
    listed = parse_site_text(_text(data))
    assert carbon_meters(listed) == [("FD-901", "diesel", 1), ("EL-941", "grid_electricity", 2)]
    # an off-grid site: no meter is grid electricity
    data = _data()
    del data["energy"]["grid"]
    assert [m for m in carbon_meters(parse_site_text(_text(data))) if m[1] != "diesel"] == []


def test_the_documented_example_is_a_valid_site():
    doc = (Path(__file__).parents[2] / "docs" / "energy.md").read_text()
    block = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    example = yaml.safe_load(block)
    data = yaml.safe_load(FIXTURE.read_text())
    data["meters"] += example["meters"]
    data["energy"] = example["energy"]
    site = parse_site_text(_text(data))
    tables = site_tables(site)
    overnight = [
        (r["iso_dow"], r["start_minute"], r["end_minute"])
        for r in tables["energy_tariff_periods"].to_pylist()
        if r["period_name"] == "overnight"
    ]
    assert overnight == [(1, 0, 360), (5, 1380, 1440), (6, 0, 360), (7, 1380, 1440)]
    camp = [
        (r["iso_dow"], r["start_minute"], r["end_minute"])
        for r in tables["energy_load_hours"].to_pylist()
        if r["load_id"] == "camp"
    ]
    assert camp == [(d, 300, 1320) for d in range(1, 6)] + [(6, 420, 1320), (7, 420, 1320)]
    assert site.energy.generators[1].f0 == 0.035
    assert carbon_meters(site) == [("FG-911", "diesel", 1), ("EI-931", "grid_electricity", 2)]


def test_a_standing_tank_is_not_a_stuck_sensor():
    site = parse_site_text(_text(_data()))
    vee = {r["meter_id"]: r for r in site_tables(site)["meter_vee_settings"].to_pylist()}
    # a tank's contents stay put while its generators stand: no flat-line rule unless asked
    assert vee["LT-901"]["flat_line_hours"] is None
    assert vee["RI-921"]["flat_line_hours"] == 6.0


def test_a_loads_windows_may_not_overlap(tmp_path: Path):
    data = _data()
    data["energy"]["loads"][1]["operating_hours"].append(
        {"days": ["sun"], "start": "01:00", "end": "03:00"}
    )
    # Saturday's 20:00-02:00 window runs to 02:00 on Sunday
    assert _only(
        _problems(data, tmp_path),
        "energy.loads[1].operating_hours[1]: window '#1' overlaps window '#0' on sun 01:00-02:00",
    )
