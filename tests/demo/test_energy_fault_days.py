"""A full year of the demo power station with its faults, through the real pipeline: the
station's drops imported by the file importer, its site tables written, the energy marts built
by dbt and published, and the shipped energy rules (alerts/rules/energy.yaml) judged by the
alert engine. Every recorded energy fault raises its alert on exactly the day its manifest entry
names, and no energy rule fires on any other day of the year; the same year without faults
raises none.

Only the station goes into the home: a site whose meters, file layouts and ``energy:`` section
are the station's (demo/energy.py), with one water node. The fuel log's delivery dockets (the
demo mine writes them into its manual workbook) arrive here as a CSV of their own.

The engine judges the whole year in one evaluation: with each scope's watermark on the eve of
the year it reads every row after it, judges each day's row and applies the observations to
the alerts' lifecycle in time order per scope, as a nightly evaluation a day at a time would
(the energy rules judge each row on its own: no rate of change, one breach fires).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from alerts import watermarks
from alerts.engine import Engine
from alerts.rules import load_rules
from alerts.state import AlertStore
from alerts.types import fingerprint
from demo import energy as en
from ingestion.files import import_landing
from ingestion.site_tables import write_site_tables
from siteledger.settings import Settings
from siteledger.site import load_site
from siteledger.site.loader import dump_site
from siteledger.site.models import SiteConfig
from siteledger.state import StateStore
from siteledger.warehouse import Warehouse
from tests.dbt.runner import query, run_dbt, shared_home

pytestmark = [pytest.mark.slow]

START = date(2025, 7, 1)
YEAR = 365
SEED = 7
LAST_DAY = START + timedelta(days=YEAR - 1)
SITE = "power_station"
FUEL_LOG_LAYOUT = {
    "id": "fuel_log",
    "format": "csv_long",
    "pattern": "fuel_log_*.csv",
    "timezone": "UTC",
    "timestamp_column": "time_utc",
    "timestamp_format": "%Y-%m-%dT%H:%M:%SZ",
    "meter_column": "meter",
    "value_column": "value",
    "unit_column": "unit",
}
ENERGY_RULES = [r for r in load_rules(None, []).all_rules if r.category == "energy"]
# the alert each physical fault raises, on the day demo/energy.py records for the default year
RECORDED = {
    "genset_degradation": ("generator_efficiency_decline", "2025-11-30"),
    "pv_string_failure": ("solar_underperformance", "2026-02-06"),
    "fuel_theft": ("energy_fuel_unaccounted", "2026-03-31"),
}


def station_site() -> SiteConfig:
    """The station alone as a site: its meters, its drops' layouts and its energy section."""
    return SiteConfig.model_validate(
        {
            "site": {
                "id": SITE,
                "name": "Demo power station",
                "timezone": en.TIMEZONE,
                "data_start": START,
            },
            "nodes": [{"id": "station", "kind": "task"}],
            "meters": en.station_meter_dicts(),
            "file_layouts": [*en.station_layouts(), FUEL_LOG_LAYOUT],
            "energy": en.energy_section(),
        }
    )


def simulate(faults: bool) -> en.PowerStation:
    plan = en.plan_energy_faults(YEAR) if faults else None
    return en.simulate_energy(START, YEAR, SEED, faults=plan)


def build(home: Path, faults: bool) -> None:
    """Write the station's year into ``home``'s landing folder, import it, write the site
    tables, build the energy marts and publish them; the fault manifest goes to
    ``home/faults.json``."""
    settings = Settings(home=home)
    settings.ensure_dirs()
    site_file = settings.sites_dir / f"{SITE}.yaml"
    site_file.write_text(dump_site(station_site()), encoding="utf-8")
    site = load_site(site_file)

    ps = simulate(faults)
    readings = en.station_readings(ps)
    landing = settings.landing
    logger, n_logger = en.write_logger_files(ps, readings, landing)
    ha_files, n_ha = en.write_ha_files(ps, readings, landing)
    log = en.delivery_readings(ps)
    log["time_utc"] = log["ts_utc"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    log[["meter_id", "time_utc", "value", "unit"]].rename(columns={"meter_id": "meter"}).to_csv(
        landing / "fuel_log_2025-2026.csv", index=False, lineterminator="\n"
    )
    manifest: list[dict[str, Any]] = []
    if faults:
        manifest = en.physics_fault_records(ps, en.truth_tables(ps))
        manifest += en.ha_fault_records(ps, ha_files)
    (home / "faults.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")

    store = StateStore(settings.state_store_url)
    try:
        results = import_landing(settings, site, store)
        assert {r.status for r in results} == {"committed"}, [
            (r.file_name, r.status, r.error) for r in results if r.status != "committed"
        ]
        assert len(results) == len(logger) + len(ha_files) + 1
        # every reading is imported but the camp sensor's 'unavailable' and 'unknown' rows
        states = pd.to_numeric(en.ha_states(ps, readings)["state"], errors="coerce")
        words = int(states.isna().sum())
        assert words == (4 if faults else 0)
        assert [sum(getattr(r, k) for r in results) for k in ("imported", "skipped", "failed")] == [
            n_logger + n_ha + len(log) - words,
            words,
            0,
        ]
        write_site_tables(settings, site)
        run_dbt(home, "run", "--select", "+path:models/marts/energy")
        Warehouse(settings, store).publish(["marts"], note="energy fault year")
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def faulty_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_home(tmp_path_factory, "station_fault_year", lambda h: build(h, True))


@pytest.fixture(scope="module")
def clean_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_home(tmp_path_factory, "station_clean_year", lambda h: build(h, False))


# -- the alert engine over the year ------------------------------------------------------------
def scopes(rule_labels: list[str]) -> list[dict[str, str]]:
    """Every scope of the station an energy rule's labels name."""
    energy = station_site().energy
    assert energy is not None
    ids = {
        "tank_id": [t.id for t in energy.fuel.tanks],
        "array_id": [a.id for a in energy.pv_arrays],
        "generator_id": [g.id for g in energy.generators],
        "load_id": [ld.id for ld in energy.loads],
    }
    (label,) = [x for x in rule_labels if x != "site_id"] or [None]
    if label is None:
        return [{"site_id": SITE}]
    return [{"site_id": SITE, label: value} for value in ids[label]]


Breaches = dict[tuple[str, tuple[str, ...]], list[str]]


def evaluate_year(built: Path, home: Path) -> tuple[Any, list[Any], dict[str, int], Breaches]:
    """Publish ``built``'s marts into a fresh ``home`` and evaluate the energy rules over the
    whole year in one go, every scope's watermark on the eve of the year. Returns the
    evaluation, the alert events, and from each rule's own ``assess`` over the whole published
    mart: the rows it judges and the days it is breached, per (rule, scope)."""
    settings = Settings(home=home)
    settings.ensure_dirs()
    settings.build_db.parent.mkdir(parents=True, exist_ok=True)
    source = Settings(home=built)
    shutil.copy(source.build_db, settings.build_db)
    shutil.copy(source.sites_dir / f"{SITE}.yaml", settings.sites_dir / f"{SITE}.yaml")
    store = StateStore(settings.state_store_url)
    try:
        Warehouse(settings, store).publish(["marts"], note="energy fault year")
        engine = Engine(settings, store, load_rules(None, []), env={}, sleep=lambda s: None)
        eve = (START - timedelta(days=1)).isoformat()
        watermarks.advance(
            store,
            {
                (rule.id, fingerprint(rule.id, scope)): eve
                for rule in ENERGY_RULES
                for scope in scopes(rule.labels)
            },
        )
        sources = sorted({rule.source for rule in ENERGY_RULES})
        now = dt.datetime.combine(LAST_DAY + timedelta(days=1), dt.time(6), tzinfo=dt.UTC)
        result = engine.evaluate(now, only_sources=sources, send=False)
        events = AlertStore(store).events()
    finally:
        store.dispose()
    judged: dict[str, int] = {}
    breaches: Breaches = {}
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        for rule in ENERGY_RULES:
            order = ", ".join([*rule.labels, rule.time])
            frame = con.execute(
                f"select {', '.join(rule.columns)} from {rule.source} order by {order}"
            ).df()
            assessed = rule.assess(frame)
            judged[rule.id] = len(assessed)
            hit = frame.loc[assessed.index[assessed["breached"].fillna(False).to_numpy(bool)]]
            days = pd.to_datetime(hit[rule.time]).dt.strftime("%Y-%m-%d")
            for key, group in days.groupby([hit[label].astype(str) for label in rule.labels]):
                scope = key if isinstance(key, tuple) else (key,)
                breaches[(rule.id, scope)] = group.tolist()
    return result, events, judged, breaches


def raised(events: list[Any]) -> set[tuple[str, tuple[str, ...], str]]:
    """(rule, scope, first day) of every alert event."""
    return {(e.rule_id, tuple(e.labels.values()), e.first_observed_at) for e in events}


def fault_scope(meter_id: str) -> tuple[str, ...]:
    """The scope of the alert a fault on ``meter_id`` raises: the generator whose fuel it
    meters, the array whose output, the tank whose contents."""
    energy = station_site().energy
    assert energy is not None
    (scope,) = [
        *(g.id for g in energy.generators if g.fuel_meter == meter_id),
        *(a.id for a in energy.pv_arrays if a.power_meter == meter_id),
        *(t.id for t in energy.fuel.tanks if t.level_meter == meter_id),
    ]
    return (SITE, scope)


def days_from(first: str, last: date = LAST_DAY) -> list[str]:
    start = date.fromisoformat(first)
    return [(start + timedelta(days=i)).isoformat() for i in range((last - start).days + 1)]


# -- the tests -----------------------------------------------------------------------------------
def test_the_manifest_records_the_default_years_alert_days(faulty_home: Path) -> None:
    manifest = json.loads((faulty_home / "faults.json").read_text())
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for entry in manifest:
        by_kind.setdefault(entry["kind"], []).append(entry)
    recorded = {k: (v[0]["alert"], v[0]["alert_day"]) for k, v in by_kind.items() if v[0]["alert"]}
    # the camp sensor's unavailable runs raise a data-quality rule, not an energy one
    assert recorded.pop("ha_unavailable")[0] == "meter_completeness_low"
    assert recorded == RECORDED
    assert [e["alert"] for e in by_kind["ha_counter_reset"]] == [None]


def test_each_energy_fault_raises_its_alert_on_its_recorded_day_and_nothing_else(
    faulty_home: Path, tmp_path: Path
) -> None:
    manifest = json.loads((faulty_home / "faults.json").read_text())
    rule_ids = {r.id for r in ENERGY_RULES}
    faults = [e for e in manifest if e["alert"] in rule_ids]
    assert len(faults) == 3
    result, events, judged, breaches = evaluate_year(faulty_home, tmp_path / "alerts")
    assert result.errors == {}
    # the whole year was judged: every row of each rule's mart where its `where` holds (the
    # tank's: the year and the morning after, whose row has an opening level only)
    assert result.observations == sum(judged.values())
    assert judged["energy_fuel_unaccounted"] == YEAR + 1
    assert judged["solar_underperformance"] == judged["energy_cost_threshold"] == YEAR
    # the alerts raised, each from its first day: exactly the recorded ones
    assert raised(events) == {
        (e["alert"], fault_scope(e["meter_id"]), e["alert_day"]) for e in faults
    }
    # breached from the recorded day (not the day before) on: the degradation is held and the
    # string stays open to the year's end; the theft is one day's
    kinds = {e["kind"]: e for e in faults}
    theft = kinds["fuel_theft"]
    assert breaches == {
        **{
            (e["alert"], fault_scope(e["meter_id"])): days_from(e["alert_day"])
            for e in (kinds["genset_degradation"], kinds["pv_string_failure"])
        },
        (theft["alert"], fault_scope(theft["meter_id"])): [theft["alert_day"]],
    }
    states = {e.rule_id: (e.state, e.last_observed_at) for e in events}
    next_day = (date.fromisoformat(theft["alert_day"]) + timedelta(days=1)).isoformat()
    assert states == {
        "generator_efficiency_decline": ("firing", LAST_DAY.isoformat()),
        "solar_underperformance": ("firing", LAST_DAY.isoformat()),
        "energy_fuel_unaccounted": ("resolved", next_day),
    }


def test_the_fault_free_year_raises_no_energy_alert(clean_home: Path, tmp_path: Path) -> None:
    assert json.loads((clean_home / "faults.json").read_text()) == []
    result, events, judged, breaches = evaluate_year(clean_home, tmp_path / "alerts")
    assert result.errors == {}
    assert result.observations == sum(judged.values())
    assert judged["energy_fuel_unaccounted"] == YEAR + 1
    assert breaches == {}
    assert raised(events) == set()


def _solar(home: Path) -> pd.DataFrame:
    rows = pd.DataFrame(
        query(
            home,
            "select day, energy_kwh, expected_kwh, performance_index from marts.fct_solar_daily "
            f"where site_id = '{SITE}' and array_id = 'pv_1' order by day",
        )
    )
    assert len(rows) == YEAR
    return rows


def _within_two_percent(rows: pd.DataFrame) -> None:
    sunny = rows[rows["expected_kwh"] > 0]
    assert len(sunny) == len(rows)  # the sun rises every day of the year
    pi = sunny["performance_index"].to_numpy(dtype=float)
    outside = sunny[(pi < 0.98) | (pi > 1.02)]
    assert outside.empty, outside


def test_measured_solar_is_within_two_percent_of_the_model_until_the_string_fails(
    faulty_home: Path, clean_home: Path
) -> None:
    string_day = simulate(True).faults.string_day
    assert string_day is not None
    failed = START + timedelta(days=string_day)
    rows = _solar(faulty_home)
    _within_two_percent(rows[rows["day"] < failed])
    assert (rows["day"] < failed).sum() == string_day
    # from the failure on, 7 of 8 strings: below the alert's 0.90 every day
    assert rows[rows["day"] >= failed]["performance_index"].max() < 0.90
    # and every day of the fault-free year
    _within_two_percent(_solar(clean_home))


def test_the_camp_loads_daily_kwh_survives_the_sensors_reset_and_gaps(faulty_home: Path) -> None:
    ps = simulate(True)
    f = ps.faults
    assert f.ha_reset_day is not None and len(f.ha_unavailable_days) == 2
    truth = en.truth_tables(ps)["energy_loads_daily"]
    camp = truth[truth["load_id"] == "camp"].set_index("day")["energy_kwh"]
    rows = query(
        faulty_home,
        f"select day, energy_kwh from marts.fct_load_daily where site_id = '{SITE}' "
        "and load_id = 'camp'",
    )
    measured = {r["day"]: r["energy_kwh"] for r in rows}
    assert len(measured) == YEAR
    for i in (f.ha_reset_day, *f.ha_unavailable_days):
        day = START + timedelta(days=i)
        assert measured[day] == pytest.approx(camp[day], abs=0.1), day
    # and on every other day of the year
    error = np.array([measured[d] - camp[d] for d in sorted(measured)])
    assert np.abs(error).max() <= 0.1
