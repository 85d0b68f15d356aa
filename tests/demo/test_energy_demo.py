"""The demo power station: fuel curve and pvwatts by hand, determinism, horizon independence,
a self-consistent truth, the recorded faults, and a fault-free year that trips no energy alert.

The mart-side quantities are recomputed here from the meter readings the way the contract
defines them (fuel curve on the measured kW, pvwatts on the measured POA, temperature and wind,
tank opening - closing + delivered - metered), so these tests say what the marts must find.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from demo import energy as en
from demo.drivers import STEPS_PER_DAY

START = date(2025, 7, 1)
YEAR = 365
G1, G2 = (next(g for g in en.DEMO_STATION.gensets if g.id == i) for i in ("genset_1", "genset_2"))
PV = en.DEMO_STATION.arrays[0]


@pytest.fixture(scope="module")
def clean() -> en.PowerStation:
    return en.simulate_energy(START, YEAR, 7)


@pytest.fixture(scope="module")
def faulty() -> en.PowerStation:
    return en.simulate_energy(START, YEAR, 7, faults=en.plan_energy_faults(YEAR))


def _daily(values: np.ndarray, days: int) -> np.ndarray:
    return values[: days * STEPS_PER_DAY].reshape(days, -1).sum(axis=1)


# -- physics by hand ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("genset", "fraction", "l_per_kwh"),
    [
        # SFC = F1 + F0 / p: 0.25 + 0.016 / p (800 kW), 0.25 + 0.020 / p (500 kW)
        (G1, 0.10, 0.41),
        (G1, 0.25, 0.314),
        (G1, 0.50, 0.282),
        (G1, 1.00, 0.266),
        (G2, 0.10, 0.45),
        (G2, 0.25, 0.33),
        (G2, 0.50, 0.29),
        (G2, 1.00, 0.27),
    ],
)
def test_fuel_curve_litres_per_kwh(genset: en.Genset, fraction: float, l_per_kwh: float) -> None:
    p = fraction * genset.rated_kw
    litres_per_hour = en.fuel_l_per_h(genset.rated_kw, genset.f0, genset.f1, np.array([p]))[0]
    assert litres_per_hour / p == pytest.approx(l_per_kwh, abs=1e-12)
    assert en.specific_fuel_l_per_kwh(fraction, genset.f0, genset.f1) == pytest.approx(l_per_kwh)


def test_the_domain_notes_small_set_curve() -> None:
    # F0 0.08 / F1 0.25: 0.33 L/kWh at full load, 0.41 at 50 %, 0.57 at 25 %, 1.05 at 10 %
    sfc = en.specific_fuel_l_per_kwh(np.array([1.0, 0.5, 0.25, 0.1]), 0.08, 0.25)
    np.testing.assert_allclose(sfc, [0.33, 0.41, 0.57, 1.05], atol=1e-12)


def test_a_stopped_genset_burns_nothing() -> None:
    assert en.fuel_l_per_h(800, 0.016, 0.25, np.array([0.0]))[0] == 0.0


def test_pvwatts_chain_by_hand() -> None:
    poa, t_air, wind = 800.0, 25.0, 1.0
    t_cell = t_air + poa / (25.0 + 6.84 * wind)
    pdc = poa / 1000 * 500 * (1 - 0.0037 * (t_cell - 25)) * (1 - 0.1408)
    pdc0 = 450 / 0.96
    zeta = pdc / pdc0
    eta = 0.96 / 0.9637 * (-0.0162 * zeta - 0.0059 / zeta + 0.9858)
    ac = min(eta * pdc, 450.0)
    got = en.pvwatts_ac_kw(np.array([poa]), np.array([t_air]), np.array([wind]), PV)[0]
    assert got == pytest.approx(ac, rel=1e-12)
    assert got == pytest.approx(300.02, abs=0.01)
    # clipped at the inverter's 450 kW; nothing at night
    bright = en.pvwatts_ac_kw(np.array([1400.0, 0.0]), np.array([10.0] * 2), np.ones(2), PV)
    assert bright.tolist() == [450.0, 0.0]


# -- determinism and horizon -------------------------------------------------------------------
def test_same_arguments_same_station() -> None:
    a = en.simulate_energy(START, 20, 7)
    b = en.simulate_energy(START, 20, 7)
    for name in ("load", "solar", "grid", "genset", "fuel", "tank", "poa"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), name)
    ra, rb = en.station_readings(a), en.station_readings(b)
    for meter in ra:
        np.testing.assert_array_equal(ra[meter], rb[meter], meter)
    other = en.simulate_energy(START, 20, 8)
    assert not np.array_equal(a.load, other.load)


def test_a_day_is_the_same_in_a_short_and_a_long_period() -> None:
    short = en.simulate_energy(START, 40, 7)
    long = en.simulate_energy(START, 70, 7)
    n = 40 * STEPS_PER_DAY
    for name in ("load", "solar", "grid", "genset", "fuel", "poa", "delivered"):
        np.testing.assert_array_equal(getattr(short, name), getattr(long, name)[:n], name)
    np.testing.assert_array_equal(short.tank, long.tank[: n + 1])
    rs, rl = en.station_readings(short), en.station_readings(long)
    for meter, values in rs.items():
        np.testing.assert_array_equal(values[:n], rl[meter][:n], meter)
    ts, tl = en.truth_tables(short), en.truth_tables(long)
    for name, frame in ts.items():
        cut = tl[name][tl[name]["day"] <= START + timedelta(days=39)].reset_index(drop=True)
        pd.testing.assert_frame_equal(frame, cut, obj=name)
    # and a period starting mid-month has the same days
    late = en.simulate_energy(START + timedelta(days=10), 5, 7)
    np.testing.assert_array_equal(late.load, long.load[10 * 96 : 15 * 96])
    np.testing.assert_array_equal(late.solar, long.solar[10 * 96 : 15 * 96])


# -- the truth is self-consistent --------------------------------------------------------------
def test_generation_and_import_equal_the_loads_every_interval(clean: en.PowerStation) -> None:
    supply = clean.genset.sum(axis=1) + clean.solar.sum(axis=1) + clean.grid
    np.testing.assert_allclose(supply, clean.load.sum(axis=1), rtol=0, atol=1e-9)
    site = en.truth_tables(clean)["energy_site_daily"]
    assert site["balance_kwh"].abs().max() < 1e-6
    assert (clean.grid >= 0).all() and (clean.grid <= clean.design.grid_limit_kw + 1e-9).all()
    # the solar is never curtailed: the loads stay above the inverter's 450 kW
    assert clean.load.sum(axis=1).min() > PV.inverter_kw


def test_the_metered_balance_closes_within_the_meters_accuracy(clean: en.PowerStation) -> None:
    """Power meters read to 0.1 kW with 0.2 % noise and registers to 0.1 kWh: each day's
    metered generation + import matches the metered loads within 0.1 %."""
    r, days = en.station_readings(clean), clean.days
    gen = sum(_daily(r[g.power_meter][:-1] * 0.25, days) for g in clean.design.gensets)
    solar = _daily(r[PV.power_meter][:-1] * 0.25, days)
    grid = np.diff(r["EI-931"][::STEPS_PER_DAY])
    loads = sum(np.diff(r[ld.meter][::STEPS_PER_DAY]) for ld in clean.design.loads)
    error = (gen + solar + grid - loads) / loads
    assert np.abs(error).max() < 0.001


def test_tank_contents_follow_burn_and_deliveries(clean: en.PowerStation) -> None:
    tank = en.truth_tables(clean)["energy_tank_daily"]
    assert tank["unaccounted_l"].abs().max() < 1e-6
    assert (tank["closing_l"] > 0).all()
    assert (tank["opening_l"] <= clean.design.tank_capacity_l).all()
    deliveries = en.truth_tables(clean)["energy_deliveries"]
    assert len(deliveries) >= 20  # ~2 650 L/day of diesel: a 30 kL truck every 11 days
    assert set(deliveries["delivered_l"]) == {30_000.0}
    log = en.delivery_readings(clean)
    # the fuel log: a reading every day at 00:00 local (16:00 UTC), the day's litres
    assert len(log) == YEAR and set(log["ts_utc"].dt.hour) == {16}
    np.testing.assert_array_equal(log["value"].to_numpy(), tank["delivered_l"].to_numpy())
    assert (log["value"] > 0).sum() == len(deliveries)
    # the trucks arrive at 10:00 local (02:00 UTC)
    assert {t[11:13] for t in deliveries["ts_utc"]} == {"02"}


def test_costs_and_carbon_follow_the_tariff(clean: en.PowerStation) -> None:
    t = en.truth_tables(clean)
    grid, site = t["energy_grid_daily"], t["energy_site_daily"]
    by_hand = 0.32 * grid["peak_kwh"] + 0.15 * grid["offpeak_kwh"]
    np.testing.assert_allclose(grid["energy_cost"], by_hand, rtol=1e-12)
    # weekends carry no peak-rate energy
    weekend = np.array([d.weekday() >= 5 for d in grid["day"]])
    assert (grid.loc[weekend, "peak_kwh"] == 0).all() and (grid.loc[~weekend, "peak_kwh"] > 0).all()
    np.testing.assert_allclose(site["generator_cost"], 1.95 * site["fuel_l"], rtol=1e-12)
    expected_co2 = 2.70972 * site["fuel_l"] + 0.51 * site["grid_kwh"] + 0.041 * site["solar_kwh"]
    np.testing.assert_allclose(site["co2e_kg"], expected_co2, rtol=1e-12)
    assert grid["demand_charge_to_date"].iloc[-1] == pytest.approx(
        18.5 * grid["month_peak_kw_to_date"].iloc[-1]
    )


# -- what the marts will see: fault-free days clear of every alert -----------------------------
def _from_readings(ps: en.PowerStation) -> dict[str, np.ndarray]:
    r, days = en.station_readings(ps), ps.days
    out: dict[str, np.ndarray] = {}
    for g in ps.design.gensets:
        p = r[g.power_meter][:-1]
        fuel = _daily(r[g.fuel_meter][:-1], days)
        expected = _daily(en.fuel_l_per_h(g.rated_kw, g.f0, g.f1, p) * 0.25, days)
        running = _daily((p > 0) * 1.0, days) > 0
        _, _, ratio, n30 = en.rolling_ratio(fuel, expected, running)
        out[f"{g.id}_ratio30"] = np.where(n30 >= 20, ratio, np.nan)
        frac = np.where(p > 0, p / g.rated_kw, np.inf)
        out[f"{g.id}_min_fraction"] = frac.min()
    ac = r[PV.power_meter][:-1] * 0.25
    expected = en.pvwatts_ac_kw(r[PV.irradiance_meter][:-1], r["TT-921"][:-1], r["WS-921"][:-1], PV)
    out["pi"] = _daily(ac, days) / _daily(expected * 0.25, days)
    out["zero_production"] = _daily(
        ((r[PV.irradiance_meter][:-1] > 50) & (r[PV.power_meter][:-1] == 0)) * 1.0, days
    )
    level = r["LT-901"][::STEPS_PER_DAY]
    metered = sum(_daily(r[g.fuel_meter][:-1], days) for g in ps.design.gensets)
    out["unaccounted"] = level[:-1] - level[1:] + _daily(ps.delivered, days) - metered
    return out


def test_fault_free_year_trips_no_energy_alert(clean: en.PowerStation) -> None:
    m = _from_readings(clean)
    for g in clean.design.gensets:
        # efficiency: the 30-day ratio stays within 0.1 % of 1 (threshold 1.10)
        assert np.nanmax(np.abs(m[f"{g.id}_ratio30"] - 1)) < 0.001, g.id
        # low load: dispatched at 40 % at least, read within 1 % (threshold 30 %)
        assert m[f"{g.id}_min_fraction"] >= 0.39, g.id
    # solar: measured vs expected from the measured weather within 1 % (threshold 0.90)
    assert np.abs(m["pi"] - 1).max() < 0.01
    assert m["zero_production"].max() == 0
    # fuel: the level gauge (3 L noise) leaves at most 20 L/day unaccounted (threshold 50 L)
    assert np.abs(m["unaccounted"]).max() < 20
    t = en.truth_tables(clean)
    loads = t["energy_loads_daily"]
    for load_id, limit in en.LOAD_ANOMALY_KWH_PER_DAY.items():
        peak = loads.loc[loads["load_id"] == load_id, "energy_kwh"].max()
        assert peak < 0.95 * limit, (load_id, peak)
    assert t["energy_site_daily"]["total_cost"].max() < 0.85 * en.DAILY_COST_ALERT


def test_solar_measured_is_within_two_percent_of_the_clean_model(clean, faulty) -> None:  # type: ignore[no-untyped-def]
    for ps in (clean, faulty):
        pi = _from_readings(ps)["pi"]
        healthy = np.arange(ps.days) < (ps.faults.string_day or ps.days)
        assert np.abs(pi[healthy] - 1).max() < 0.02
        truth = en.truth_tables(ps)["energy_solar_daily"]
        measured = truth["energy_kwh"].to_numpy()[healthy]
        assert np.abs(measured / truth["expected_kwh"].to_numpy()[healthy] - 1).max() < 1e-12


# -- the faults --------------------------------------------------------------------------------
def test_faults_fire_on_the_recorded_days(faulty: en.PowerStation) -> None:
    f = faulty.faults
    tables = en.truth_tables(faulty)
    days = en.fault_alert_days(faulty, tables)
    assert (f.degrade_day, f.string_day, f.theft_day) == (127, 218, 273)
    assert days == {"genset_degradation": 152, "pv_string_failure": 220, "fuel_theft": 273}
    m = _from_readings(faulty)
    # the readings cross each threshold on the same day as the truth
    ratio = m["genset_2_ratio30"]
    assert np.flatnonzero(ratio > 1.10)[0] == days["genset_degradation"]
    assert np.nanmax(m["genset_1_ratio30"]) < 1.001  # the other set stays healthy
    below = en.consecutive_below(m["pi"], 0.90)
    assert np.flatnonzero(below >= 3)[0] == days["pv_string_failure"]
    assert m["pi"][f.string_day :].max() < 0.885
    unaccounted = m["unaccounted"]
    assert np.flatnonzero(unaccounted > 50).tolist() == [273]
    assert unaccounted[273] == pytest.approx(400, abs=15)
    records = {r["kind"]: r for r in en.physics_fault_records(faulty, tables)}
    assert records["genset_degradation"]["alert_day"] == "2025-11-30"
    assert records["pv_string_failure"]["alert_day"] == "2026-02-06"
    assert records["fuel_theft"]["alert_day"] == "2026-03-31"
    assert records["fuel_theft"]["alert"] == "energy_fuel_unaccounted"


def test_degradation_ramps_to_a_quarter_more_fuel(faulty: en.PowerStation) -> None:
    g = en.truth_tables(faulty)["energy_generators_daily"]
    g2 = g[g["generator_id"] == "genset_2"].reset_index(drop=True)
    assert g2.loc[126, "efficiency_ratio"] == pytest.approx(1.0)
    assert g2.loc[127, "efficiency_ratio"] == pytest.approx(1 + 0.25 / 28)
    assert g2.loc[200, "efficiency_ratio"] == pytest.approx(1.25)


# -- landing files -----------------------------------------------------------------------------
def _ha_daily_kwh(rows: pd.DataFrame, ps: en.PowerStation) -> pd.Series:
    """Home Assistant sum rules: numbers only; a fall below 0.9 x the previous is a reset and
    counts the new reading; each delta on the local day of the earlier reading."""
    numbers = rows[pd.to_numeric(rows["state"], errors="coerce").notna()].copy()
    numbers["v"] = numbers["state"].astype(float)
    numbers["t"] = pd.to_datetime(numbers["last_changed"], utc=True)
    prev = numbers["v"].shift()
    delta = np.where(numbers["v"] < 0.9 * prev, numbers["v"], numbers["v"] - prev)
    day = numbers["t"].shift().dt.tz_convert(en.TIMEZONE).dt.date
    return pd.Series(delta[1:], index=day.iloc[1:]).groupby(level=0).sum()


def test_home_assistant_export_with_reset_and_unavailable_keeps_daily_kwh(
    faulty: en.PowerStation, tmp_path: Path
) -> None:
    r = en.station_readings(faulty)
    files, n = en.write_ha_files(faulty, r, tmp_path)
    assert [p.name for p in files][:2] == [
        "home_assistant_history_2025-07.csv",
        "home_assistant_history_2025-08.csv",
    ]
    assert len(files) == 12
    rows = pd.concat([pd.read_csv(p, dtype=str) for p in files], ignore_index=True)
    assert list(rows.columns) == ["entity_id", "state", "last_changed"]
    assert len(rows) == n and set(rows["entity_id"]) == {"sensor.camp_energy"}
    assert rows["last_changed"].iloc[0] == "2025-06-30T16:00:00.000Z"
    # only changes: no state repeats its predecessor
    assert (rows["state"] != rows["state"].shift()).all()
    f = faulty.faults
    assert (rows["state"] == "unavailable").sum() == len(f.ha_unavailable_days) == 2
    assert (rows["state"] == "unknown").sum() == 2
    # the reset: the camp sensor falls to the kWh of one interval at 14:00 local
    reset_at = (START + timedelta(days=f.ha_reset_day)).isoformat() + "T06:00:00.000Z"
    value = float(rows.loc[rows["last_changed"] == reset_at, "state"].iloc[0])
    assert 20 < value < 100
    truth = en.truth_tables(faulty)["energy_loads_daily"]
    camp = truth[truth["load_id"] == "camp"].set_index("day")["energy_kwh"]
    daily = _ha_daily_kwh(rows, faulty)
    assert len(daily) == YEAR
    # the sensor reads to 0.01 kWh: a day within 0.01 of the truth, also across the reset
    np.testing.assert_allclose(daily.to_numpy(), camp.to_numpy(), rtol=0, atol=0.0101)
    records = en.ha_fault_records(faulty, files)
    assert [x["kind"] for x in records] == ["ha_counter_reset"] + ["ha_unavailable"] * 4
    assert records[0]["file"] == "home_assistant_history_2025-12.csv"
    # each run of non-numbers: 09:00-11:45 local 'unavailable', 20:00 'unknown'
    assert [(x["start_utc"], x["end_utc"]) for x in records[1:3]] == [
        ("2025-12-30T01:00:00Z", "2025-12-30T03:45:00Z"),
        ("2025-12-30T12:00:00Z", "2025-12-30T12:00:00Z"),
    ]
    # 13 of the 96 readings of an unavailable day are missing: 86.5 % complete (SLA 95 %)
    assert [x["alert_day"] for x in records[1:]] == ["2025-12-30"] * 2 + ["2026-01-06"] * 2
    assert {x["alert"] for x in records[1:]} == {"meter_completeness_low"}
    assert records[0]["alert"] is None


def test_logger_files_hold_every_reading(tmp_path: Path) -> None:
    ps = en.simulate_energy(START, 3, 7)
    r = en.station_readings(ps)
    files, n = en.write_logger_files(ps, r, tmp_path)
    assert [p.name for p in files] == [
        "power_station_20250701.csv",
        "power_station_20250702.csv",
        "power_station_20250703.csv",
        "power_station_20250704.csv",
    ]
    frame = pd.concat([pd.read_csv(p) for p in files], ignore_index=True)
    assert len(frame) == n
    assert list(frame.columns) == ["meter", "time_utc", "value", "unit"]
    # the camp is read from Home Assistant, not the logger
    assert "EL-942" not in set(frame["meter"])
    assert len(set(frame["meter"])) == len(ps.design.interval_meters) - 1
    # the day after holds the closing instant of the registers and the tank gauge only
    closing = pd.read_csv(files[-1])
    assert set(closing["meter"]) == {"EI-931", "LT-901", "EL-941"}
    grid = frame[frame["meter"] == "EI-931"].sort_values("time_utc")["value"].to_numpy()
    assert grid[-1] - grid[0] == pytest.approx(ps.grid.sum() * 0.25, abs=0.1)
    fuel = frame[frame["meter"] == "FG-912"]["value"].sum()
    assert fuel == pytest.approx(ps.fuel[:, 0].sum(), abs=0.1)
    assert math.isclose(frame[frame["meter"] == "LT-901"]["value"].iloc[0], ps.tank[0], abs_tol=15)


# -- the station in the site model -------------------------------------------------------------
def _station_site(design: en.StationDesign) -> object:
    from siteledger.site.models import SiteConfig

    return SiteConfig.model_validate(
        {
            "site": {"id": "station", "name": "Station", "timezone": en.TIMEZONE},
            "nodes": [{"id": "station", "kind": "task"}],
            "meters": en.station_meter_dicts(design),
            "energy": en.energy_section(design),
        }
    )


@pytest.mark.parametrize("design", [en.DEMO_STATION, en.scaled_station(200)], ids=["demo", "200"])
def test_the_energy_section_names_the_station_meters_in_their_roles(design) -> None:  # type: ignore[no-untyped-def]
    from siteledger.site.models import semantic_problems

    site = _station_site(design)
    assert semantic_problems(site) == []  # type: ignore[arg-type]
    assert len(site.meters) == design.n_meters  # type: ignore[attr-defined]
    energy = site.energy  # type: ignore[attr-defined]
    assert [g.rated_kw for g in energy.generators][:2] == [g.rated_kw for g in design.gensets][:2]
    assert energy.grid.import_meter == design.grid_meter
    assert energy.fuel.tanks[0].level_meter == design.tank_level_meter
    assert site.meter(design.tank_level_meter).measurand == "tank_contents"  # type: ignore[attr-defined]


def test_the_scaled_station_has_200_meters_and_no_curtailment() -> None:
    design = en.scaled_station(200)
    assert design.n_meters == 200
    ps = en.simulate_energy(START, 14, 7, design=design)
    assert ps.load.sum(axis=1).min() > sum(a.inverter_kw for a in design.arrays)
    supply = ps.genset.sum(axis=1) + ps.solar.sum(axis=1) + ps.grid
    np.testing.assert_allclose(supply, ps.load.sum(axis=1), atol=1e-6)
    assert (ps.tank > 0).all()


def test_the_demo_mine_writes_its_power_station(tmp_path: Path) -> None:
    import json

    from demo.write import write_demo

    out = write_demo(tmp_path, days=40, faults=True, sites=("demo_mine",))
    mine = out.sites["demo_mine"]
    names = {p.name for p in mine.drop_files}
    assert "power_station_20250701.csv" in names and "power_station_20250810.csv" in names
    assert {"home_assistant_history_2025-07.csv", "home_assistant_history_2025-08.csv"} <= names
    faults = json.loads(mine.faults_manifest.read_text())  # type: ignore[union-attr]
    alerts = {f["kind"]: f.get("alert_day") for f in faults if "alert" in f}
    # 40 days: the degradation ramps from day 14 and its 30-day ratio passes 1.10 on the last
    # day; the string fails on day 23 (its third day below 0.90 is day 25), the theft on day 29
    assert alerts["genset_degradation"] == "2025-08-09"
    assert alerts["pv_string_failure"] == "2025-07-26"
    assert alerts["fuel_theft"] == "2025-07-30"
    truth = {p.name for p in mine.ground_truth_files}
    assert {"energy_site_daily.csv", "energy_generators_daily.csv"} <= truth
