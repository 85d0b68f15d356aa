"""The shipped energy rules (alerts/rules/energy.yaml) judged by the real engine on a published
warehouse built here with the energy marts' columns, one day published and evaluated at a time
as the nightly run does: each rule fires on the day its limit is passed, not on the limit
itself, reads each scope's own limit from the mart (or the seed's default when the column is
null), honours its `where`, and resolves when the data clears."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from alerts.engine import Engine
from alerts.rules import load_rules
from alerts.state import AlertStore
from siteledger.settings import Settings
from siteledger.state import StateStore

DAY0 = dt.date(2026, 3, 1)

# the energy marts' columns (docs/energy-marts.md) and their types, for hand-built warehouses
TEXT = "varchar"
DATE = "date"
NUM = "double"
INT = "bigint"
ENERGY_MARTS: dict[str, dict[str, str]] = {
    "fct_generator_daily": {
        "site_id": TEXT,
        "generator_id": TEXT,
        "day": DATE,
        "energy_kwh": NUM,
        "running_hours": NUM,
        "mean_load_fraction": NUM,
        "low_load_hours": NUM,
        "max_low_load_run_hours": NUM,
        "fuel_l": NUM,
        "fuel_basis": TEXT,
        "expected_fuel_l": NUM,
        "sfc_l_per_kwh": NUM,
        "expected_sfc_l_per_kwh": NUM,
        "efficiency_ratio": NUM,
        "fuel_30d_l": NUM,
        "expected_fuel_30d_l": NUM,
        "efficiency_ratio_30d": NUM,
        "n_days_30d": INT,
        "low_load_alert_hours": NUM,
        "efficiency_alert_ratio": NUM,
        "fuel_cost": NUM,
        "cost_per_kwh": NUM,
        "co2e_kg": NUM,
    },
    "fct_fuel_tank_daily": {
        "site_id": TEXT,
        "tank_id": TEXT,
        "day": DATE,
        "opening_l": NUM,
        "closing_l": NUM,
        "delivered_l": NUM,
        "drawn_l": NUM,
        "metered_use_l": NUM,
        "unaccounted_l": NUM,
        "unaccounted_alert_l_per_day": NUM,
    },
    "fct_solar_daily": {
        "site_id": TEXT,
        "array_id": TEXT,
        "day": DATE,
        "energy_kwh": NUM,
        "poa_kwh_per_m2": NUM,
        "expected_kwh": NUM,
        "performance_ratio": NUM,
        "performance_index": NUM,
        "zero_production_intervals": INT,
        "pi_alert_threshold": NUM,
        "pi_alert_days": INT,
        "days_below_pi": INT,
        "co2e_kg": NUM,
    },
    "fct_grid_daily": {
        "site_id": TEXT,
        "grid_id": TEXT,
        "day": DATE,
        "import_kwh": NUM,
        "export_kwh": NUM,
        "energy_cost": NUM,
        "daily_charge": NUM,
        "peak_kw": NUM,
    },
    "fct_grid_monthly": {
        "site_id": TEXT,
        "grid_id": TEXT,
        "month": DATE,
        "import_kwh": NUM,
        "energy_cost": NUM,
        "daily_charges": NUM,
        "billed_demand_kw": NUM,
        "demand_charge": NUM,
        "total_cost": NUM,
        "cost_per_kwh": NUM,
    },
    "fct_load_daily": {
        "site_id": TEXT,
        "load_id": TEXT,
        "cost_centre_id": TEXT,
        "day": DATE,
        "energy_kwh": NUM,
        "peak_kw": NUM,
        "mean_kw": NUM,
        "load_factor": NUM,
        "baseload_kw": NUM,
        "out_of_hours_kwh": NUM,
        "out_of_hours_share": NUM,
        "anomaly_kwh_per_day": NUM,
    },
    "fct_energy_cost_daily": {
        "site_id": TEXT,
        "day": DATE,
        "source": TEXT,
        "kwh": NUM,
        "cost": NUM,
        "cost_per_kwh": NUM,
        "co2e_kg": NUM,
    },
    "fct_energy_cost_centre_monthly": {
        "site_id": TEXT,
        "month": DATE,
        "cost_centre_id": TEXT,
        "kwh": NUM,
        "cost": NUM,
        "cost_per_kwh": NUM,
    },
    "fct_energy_site_daily": {
        "site_id": TEXT,
        "day": DATE,
        "generator_kwh": NUM,
        "grid_kwh": NUM,
        "solar_kwh": NUM,
        "load_kwh": NUM,
        "total_cost": NUM,
        "daily_cost_alert": NUM,
        "co2e_kg": NUM,
    },
    "fct_energy_site_monthly": {
        "site_id": TEXT,
        "month": DATE,
        "generator_kwh": NUM,
        "grid_kwh": NUM,
        "solar_kwh": NUM,
        "fuel_l": NUM,
        "total_cost": NUM,
        "co2e_kg": NUM,
        **{
            f"{measure}_{kind}_pct": NUM
            for measure in ("generator_kwh", "grid_kwh", "solar_kwh", "total_cost")
            for kind in ("mom", "yoy")
        },
    },
}


def write_mart(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """Create (or replace) one energy mart with every contract column; columns a row does not
    give are null."""
    schema = ENERGY_MARTS[table]
    unknown = {k for row in rows for k in row} - set(schema)
    assert not unknown, f"{table} has no {sorted(unknown)}"
    frame = pd.DataFrame([{c: row.get(c) for c in schema} for row in rows], columns=list(schema))
    con.register("incoming", frame)
    casts = ", ".join(f'cast("{c}" as {t}) as "{c}"' for c, t in schema.items())
    con.execute(f"create or replace table {table} as select {casts} from incoming")
    con.unregister("incoming")


class World:
    """A deployment with the shipped packs, a published warehouse and a state store."""

    def __init__(self, home: Path) -> None:
        self.settings = Settings(home=home)
        self.settings.ensure_dirs()
        self.store = StateStore(self.settings.state_store_url)
        self.engine = Engine(
            self.settings, self.store, load_rules(None, []), env={}, sleep=lambda s: None
        )
        self.alerts = AlertStore(self.store)

    def publish(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        self.settings.published_db.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(self.settings.published_db)) as con:
            con.execute(
                "create or replace table dim_sites as select * from (values ('s1'), ('s2')) "
                "as t(site_id)"
            )
            write_mart(con, table, rows)

    def run_days(
        self, table: str, rule_id: str, rows: Sequence[dict[str, Any]]
    ) -> list[set[tuple[str, ...]]]:
        """Publish the rows one day more at a time and evaluate after each day, as the nightly
        run does; the scopes of ``rule_id`` firing after each day."""
        days = sorted({r["day"] for r in rows})
        firing: list[set[tuple[str, ...]]] = []
        for day in days:
            self.publish(table, [r for r in rows if r["day"] <= day])
            now = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(6), tzinfo=dt.UTC)
            result = self.engine.evaluate(now, only_sources=[table], send=False)
            assert result.errors == {}, result.errors
            firing.append(
                {
                    tuple(e.labels.values())
                    for e in self.alerts.events(state="firing", rule_id=rule_id)
                }
            )
        return firing

    def event(self, rule_id: str, **labels: str) -> Any:
        (event,) = [
            e
            for e in self.alerts.events(rule_id=rule_id)
            if all(e.labels.get(k) == v for k, v in labels.items())
        ]
        return event


@pytest.fixture
def world(tmp_path: Path):  # type: ignore[no-untyped-def]
    w = World(tmp_path / "home")
    yield w
    w.store.dispose()


def day(n: int) -> dt.date:
    return DAY0 + dt.timedelta(days=n)


def series(scope: dict[str, Any], values: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**scope, "day": day(i), **v} for i, v in enumerate(values)]


def test_the_energy_pack_is_loaded_under_its_own_category():
    rules = {r.id: r for r in load_rules(None, []).all_rules if r.category == "energy"}
    assert set(rules) == {
        "energy_fuel_unaccounted",
        "solar_zero_production",
        "solar_underperformance",
        "load_anomaly",
        "generator_efficiency_decline",
        "generator_low_load",
        "energy_cost_threshold",
    }
    for rule in rules.values():
        assert set(rule.columns) <= set(ENERGY_MARTS[rule.source]), rule.id


def test_unaccounted_fuel_fires_above_each_tanks_own_limit(world: World) -> None:
    rows = [
        # the seed's 50 L a day: 50 L is at the limit, 50.5 L above it
        *series(
            {"site_id": "s1", "tank_id": "bulk", "unaccounted_alert_l_per_day": 50.0},
            [
                {"unaccounted_l": v, "drawn_l": 900.0, "metered_use_l": 900.0 - v}
                for v in (12.0, 50.0, 50.5, 180.0, 20.0)
            ],
        ),
        # a tank whose limit is 200 L never fires at 180 L
        *series(
            {"site_id": "s1", "tank_id": "day_tank", "unaccounted_alert_l_per_day": 200.0},
            [{"unaccounted_l": v} for v in (12.0, 50.0, 50.5, 180.0, 20.0)],
        ),
        # no limit in the mart: the seed's default, 50 L
        *series(
            {"site_id": "s2", "tank_id": "bulk"},
            [{"unaccounted_l": v} for v in (0.0, 0.0, 0.0, 51.0, 0.0)],
        ),
    ]
    firing = world.run_days("fct_fuel_tank_daily", "energy_fuel_unaccounted", rows)
    assert firing == [
        set(),
        set(),
        {("s1", "bulk")},
        {("s1", "bulk"), ("s2", "bulk")},
        set(),
    ]
    event = world.event("energy_fuel_unaccounted", site_id="s1", tank_id="bulk")
    assert (event.first_observed_at, event.last_observed_at) == (str(day(2)), str(day(4)))
    assert event.state == "resolved" and event.resolution == "auto"
    assert event.threshold == "50 (unaccounted_alert_l_per_day)"
    assert event.summary == (
        f"180.0 L of fuel unaccounted for at bulk (s1) on {day(3)} "
        "(limit 50 (unaccounted_alert_l_per_day))"
    )
    # the event carries its last observation's value and details: the day it cleared
    assert event.value == 20.0 and event.details["metered_use_l"] == 880.0


def test_solar_zero_production_fires_from_four_intervals(world: World) -> None:
    rows = series(
        {"site_id": "s1", "array_id": "pv_1"},
        [{"zero_production_intervals": n, "energy_kwh": 2000.0 - 100 * n} for n in (0, 3, 4, 9, 0)],
    )
    firing = world.run_days("fct_solar_daily", "solar_zero_production", rows)
    assert firing == [set(), set(), {("s1", "pv_1")}, {("s1", "pv_1")}, set()]
    event = world.event("solar_zero_production")
    assert event.first_observed_at == str(day(2)) and event.last_observed_at == str(day(4))
    assert (
        event.summary
        == f"PV array pv_1 at s1 produced nothing in 9 intervals of daylight on {day(3)}"
    )


def test_solar_underperformance_needs_each_arrays_own_number_of_days(world: World) -> None:
    rows = [
        # three days running below its limit are needed: the fourth day of the run fires it
        *series(
            {"site_id": "s1", "array_id": "pv_1", "pi_alert_days": 3, "pi_alert_threshold": 0.9},
            [
                {"days_below_pi": n, "performance_index": pi}
                for n, pi in ((0, 0.97), (1, 0.82), (2, 0.81), (3, 0.80), (4, 0.79), (0, 0.96))
            ],
        ),
        # an array that only needs two
        *series(
            {"site_id": "s1", "array_id": "pv_2", "pi_alert_days": 2, "pi_alert_threshold": 0.9},
            [{"days_below_pi": n, "performance_index": 0.85} for n in (0, 1, 2, 3, 4, 5)],
        ),
    ]
    firing = world.run_days("fct_solar_daily", "solar_underperformance", rows)
    assert firing == [
        set(),
        set(),
        {("s1", "pv_2")},
        {("s1", "pv_1"), ("s1", "pv_2")},
        {("s1", "pv_1"), ("s1", "pv_2")},
        {("s1", "pv_2")},
    ]
    event = world.event("solar_underperformance", array_id="pv_1")
    assert (event.first_observed_at, event.last_observed_at) == (str(day(3)), str(day(5)))
    assert event.state == "resolved"
    assert event.summary == (
        f"PV array pv_1 at s1 below its performance index limit for 4 days running "
        f"(PI 0.79 on {day(4)})"
    )


def test_load_anomaly_fires_above_the_loads_limit(world: World) -> None:
    rows = [
        *series(
            {"site_id": "s1", "load_id": "plant", "anomaly_kwh_per_day": 300.0},
            [{"energy_kwh": v, "out_of_hours_kwh": v / 3} for v in (250.0, 300.0, 300.1, 280.0)],
        ),
        *series(
            {"site_id": "s1", "load_id": "camp", "anomaly_kwh_per_day": 500.0},
            [{"energy_kwh": v} for v in (400.0, 499.0, 500.0, 450.0)],
        ),
    ]
    firing = world.run_days("fct_load_daily", "load_anomaly", rows)
    assert firing == [set(), set(), {("s1", "plant")}, set()]
    event = world.event("load_anomaly")
    assert event.labels == {"site_id": "s1", "load_id": "plant"}
    assert event.first_observed_at == str(day(2)) and event.threshold == "300 (anomaly_kwh_per_day)"
    assert event.summary == (
        f"Load plant at s1 used 300.1 kWh on {day(2)} (limit 300 (anomaly_kwh_per_day))"
    )


def test_efficiency_decline_waits_for_twenty_days_of_data(world: World) -> None:
    rows = [
        *series(
            {"site_id": "s1", "generator_id": "genset_1", "efficiency_alert_ratio": 1.10},
            [
                {"efficiency_ratio_30d": r, "n_days_30d": n}
                # 19 days of data: not judged even at 1.30; then 1.10 (the limit), 1.12, 1.05
                for r, n in ((1.30, 19), (1.10, 20), (1.12, 21), (1.15, 22), (1.05, 23))
            ],
        ),
        *series(
            {"site_id": "s1", "generator_id": "genset_2", "efficiency_alert_ratio": 1.25},
            [{"efficiency_ratio_30d": 1.2, "n_days_30d": 30} for _ in range(5)],
        ),
    ]
    firing = world.run_days("fct_generator_daily", "generator_efficiency_decline", rows)
    assert firing == [set(), set(), {("s1", "genset_1")}, {("s1", "genset_1")}, set()]
    event = world.event("generator_efficiency_decline")
    assert (
        event.first_observed_at == str(day(2)) and event.threshold == "1.1 (efficiency_alert_ratio)"
    )
    assert event.summary == (
        f"Generator genset_1 at s1 burnt 15 % more fuel than its fuel curve over the 30 days "
        f"to {day(3)} (limit 1.1 (efficiency_alert_ratio))"
    )


def test_low_load_fires_at_the_generators_number_of_running_hours(world: World) -> None:
    rows = [
        *series(
            {"site_id": "s1", "generator_id": "genset_1", "low_load_alert_hours": 4.0},
            [{"max_low_load_run_hours": h, "low_load_hours": h + 1} for h in (1.5, 3.75, 4.0, 0.0)],
        ),
        *series(
            {"site_id": "s1", "generator_id": "genset_2", "low_load_alert_hours": 6.0},
            [{"max_low_load_run_hours": h} for h in (5.0, 5.75, 5.0, 6.0)],
        ),
    ]
    firing = world.run_days("fct_generator_daily", "generator_low_load", rows)
    assert firing == [set(), set(), {("s1", "genset_1")}, {("s1", "genset_2")}]
    event = world.event("generator_low_load", generator_id="genset_1")
    assert event.first_observed_at == str(day(2)) and event.state == "resolved"
    assert event.details["low_load_hours"] == 1.0
    assert event.summary == (
        f"Generator genset_1 at s1 ran at low load for 4.0 hours running on {day(2)}"
    )


def test_cost_threshold_judges_only_sites_with_a_limit(world: World) -> None:
    rows = [
        *series(
            {"site_id": "s1", "daily_cost_alert": 1000.0},
            [{"total_cost": v} for v in (999.0, 1000.0, 1000.01, 1450.5)],
        ),
        # no limit: a day costing a million is not an observation, neither breach nor no data
        *series({"site_id": "s2"}, [{"total_cost": 1e6} for _ in range(4)]),
    ]
    firing = world.run_days("fct_energy_site_daily", "energy_cost_threshold", rows)
    assert firing == [set(), set(), {("s1",)}, {("s1",)}]
    event = world.event("energy_cost_threshold")
    assert event.value == 1450.5 and event.threshold == "1000 (daily_cost_alert)"
    assert event.summary == f"Energy cost at s1 1450.5 on {day(3)} (limit 1000 (daily_cost_alert))"
    assert [e.labels for e in world.alerts.events(rule_id="energy_cost_threshold")] == [
        {"site_id": "s1"}
    ]


# -- on the energy marts dbt builds ----------------------------------------------------------


@pytest.fixture(scope="module")
def built_energy_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The energy marts of tests/dbt/fixtures/energy_site.yaml built by dbt (the hand-computed
    site of tests/dbt/test_energy_marts.py), shared with those tests under xdist."""
    from tests.dbt.runner import shared_home
    from tests.dbt.test_energy_marts import _build

    return shared_home(tmp_path_factory, "energy_site", _build)


def test_the_pack_on_the_marts_dbt_builds_raises_the_hand_computed_alerts(
    built_energy_site: Path, tmp_path: Path
) -> None:
    import shutil

    from siteledger.warehouse import Warehouse
    from tests.dbt.test_energy_marts import ENERGY_SITE_FILE

    world = World(tmp_path / "home")
    source = Settings(home=built_energy_site)
    world.settings.build_db.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source.build_db, world.settings.build_db)
    shutil.copy(ENERGY_SITE_FILE, world.settings.sites_dir / "energy_site.yaml")
    Warehouse(world.settings, world.store).publish(["marts"], note="energy rules")
    sources = sorted({r.source for r in load_rules(None, []).all_rules if r.category == "energy"})
    result = world.engine.evaluate(
        dt.datetime(2025, 7, 8, 6, tzinfo=dt.UTC), only_sources=sources, send=False
    )
    assert result.errors == {}
    events = sorted(
        (e.rule_id, tuple(e.labels.values()), e.first_observed_at, e.state)
        for e in world.alerts.events()
    )
    # D1 = 2025-07-04 .. D3 = 2025-07-06 (tests/dbt/test_energy_marts.py): the bulk tank loses
    # 124.4 L on D1 (8 L on D2); genset 1 runs 8 h below 30 % on D1; pv_1 makes nothing in 4
    # sunny intervals on D2 and is below PI 0.90 on D2 and D3 (2 days, its limit); the plant
    # uses 1 312 kWh on D1 and 745 on D3 (limit 700), the camp 360 on D1 (the default 300); D1
    # costs more than the site's 900; genset 1 has 2 days of data, not the 20 a decline needs
    site = "energy_site"
    assert events == [
        ("energy_cost_threshold", (site,), "2025-07-04", "resolved"),
        ("energy_fuel_unaccounted", (site, "bulk_tank"), "2025-07-04", "resolved"),
        ("generator_low_load", (site, "genset_1"), "2025-07-04", "resolved"),
        ("load_anomaly", (site, "camp"), "2025-07-04", "firing"),
        ("load_anomaly", (site, "plant"), "2025-07-04", "resolved"),
        ("load_anomaly", (site, "plant"), "2025-07-06", "firing"),
        ("solar_underperformance", (site, "pv_1"), "2025-07-06", "firing"),
        ("solar_zero_production", (site, "pv_1"), "2025-07-05", "resolved"),
    ]
    fuel = world.event("energy_fuel_unaccounted")
    assert "124.4 L of fuel unaccounted for at bulk_tank (energy_site) on 2025-07-04" in (
        fuel.summary
    )
