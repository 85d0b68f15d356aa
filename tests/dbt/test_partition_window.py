"""Nightly window runs, one day at a time as the data arrives, end where a full build does."""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path

import pytest

from siteledger.dbt import dbt_target_dir
from siteledger.settings import Settings
from tests.dbt import hand_expected as expected
from tests.dbt.hand_lake import D1, D2, D3, D4
from tests.dbt.homes import add_hand_site
from tests.dbt.runner import query, run_dbt, shared_home

DAILY_MARTS = ("marts.fct_node_balance_daily", "marts.fct_site_balance_daily")
SEEN = "nightly_results.pickle"


def _window(start: dt.date, end: dt.date) -> dict[str, str]:
    return {"start_day": str(start), "end_day": str(end)}


def _snapshot(home: Path) -> dict[str, list[dict]]:
    return {
        table: query(home, f"select * exclude (month_start) from {table} order by all")
        for table in (*DAILY_MARTS, "intermediate.int_flow_volumes_daily")
    }


def _run_nights(home: Path) -> None:
    """Three window runs as the days land, then the last one again; keeps what each run left."""
    seen: dict[str, object] = {}

    add_hand_site(home, through=D1)
    run_dbt(home, "run", dbt_vars=_window(D1, D1))
    seen["after_d1"] = query(home, "select * from marts.fct_node_balance_daily")

    add_hand_site(home, through=D2)
    run_dbt(home, "run", dbt_vars=_window(D2, D2))
    seen["after_d2"] = query(home, "select * from marts.fct_node_balance_daily")

    add_hand_site(home, through=D4)
    # a build, so the data tests and unit tests also run under a window
    run_dbt(home, "build", dbt_vars=_window(D3, D4))
    seen["final"] = _snapshot(home)

    run_dbt(home, "run", dbt_vars=_window(D3, D4))
    seen["rerun"] = _snapshot(home)
    (home / SEEN).write_bytes(pickle.dumps(seen))


@pytest.fixture(scope="module")
def nightly(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    home = shared_home(tmp_path_factory, "nightly", _run_nights)
    return pickle.loads((home / SEEN).read_bytes())


def _dam(rows: list[dict], day: dt.date) -> dict:
    return next(r for r in rows if r["node_id"] == "dam" and r["day"] == day)


def test_a_day_stays_provisional_until_the_next_midnight_arrives(nightly: dict) -> None:
    dam = _dam(nightly["after_d1"], D1)
    assert dam["opening_storage_m3"] == expected.OPENING_M3[D1]
    assert not dam["is_day_closed"]
    assert not dam["is_complete"]
    # closing carried from the 23:45 level, 3.0 - 0.012 x 95/96 m: 30 000 + 0.988125 x 20 000
    assert dam["closing_storage_m3"] == pytest.approx(49_762.5)
    # the totaliser's last delta (23:45 -> 00:00) needs the D2 reading: 95 x 37.5 m3 so far
    assert dam["inflow_m3"] == pytest.approx(2_400 + 95 * 37.5)


def test_the_next_nights_run_completes_the_day_before(nightly: dict) -> None:
    dam = _dam(nightly["after_d2"], D1)
    assert dam["closing_storage_m3"] == pytest.approx(expected.CLOSING_M3[D1])
    assert dam["inflow_m3"] == pytest.approx(expected.DAM_INFLOW_M3[D1])
    assert dam["balance_error_m3"] == pytest.approx(expected.DAM_ERROR_M3[D1], abs=0.5)
    assert dam["is_day_closed"]
    assert dam["is_complete"]


def test_window_runs_end_with_the_hand_balance(nightly: dict) -> None:
    site = {r["day"]: r for r in nightly["final"]["marts.fct_site_balance_daily"]}
    for day in expected.DAYS:
        assert site[day]["closure_error_m3"] == pytest.approx(expected.CLOSURE_M3[day], abs=0.5)
        assert site[day]["inputs_m3"] == pytest.approx(expected.INPUTS_M3[day], abs=0.5)
    assert set(site) == {D1, D2, D3, D4}


def test_rerunning_a_window_changes_nothing(nightly: dict) -> None:
    # sums of floats aggregated on several threads may differ in the last bits between runs
    for table, rows in nightly["final"].items():
        rerun = nightly["rerun"][table]
        assert len(rerun) == len(rows), table
        for before, after in zip(rows, rerun, strict=True):
            assert after.keys() == before.keys()
            for column, value in before.items():
                if isinstance(value, float):
                    assert after[column] == pytest.approx(value, rel=1e-12, abs=1e-9), column
                else:
                    assert after[column] == value, (table, column)


def test_the_window_can_come_from_the_environment(tmp_path: Path) -> None:
    """The orchestrator passes the window as SITELEDGER_START_DAY / _END_DAY (keeps dbt's partial
    parsing); the compiled SQL of a partitioned model must carry it, widened by the lookback and
    the lookahead."""
    add_hand_site(tmp_path, through=D1)
    window = {"SITELEDGER_START_DAY": str(D3), "SITELEDGER_END_DAY": str(D4)}
    run_dbt(tmp_path, "compile", "--select", "int_flow_volumes_daily", extra_env=window)
    compiled = next(
        (dbt_target_dir(Settings(home=tmp_path)) / "compiled").rglob("int_flow_volumes_daily.sql")
    )
    sql = compiled.read_text()
    assert f"'{D3 - dt.timedelta(days=1)}'" in sql  # start_day - lookback_days (1)
    assert f"'{D4 + dt.timedelta(days=1)}'" in sql  # end_day + lookahead_days (1)


LATE_TABLES = (
    "intermediate.int_store_storage_daily",
    "intermediate.int_totaliser_deltas",
    "marts.fct_node_balance_daily",
)
BALANCE_CHAIN = ("--select", "+fct_node_balance_daily")


def _late_snapshot(home: Path) -> dict[str, list[dict]]:
    return {table: query(home, f"select * from {table} order by all") for table in LATE_TABLES}


def test_a_late_file_for_a_day_also_rewrites_the_day_after_it(tmp_path: Path) -> None:
    """D2's SCADA file arrives after D3 and D4 were built. The window run of D2 must leave what a
    full build of the same lake leaves: D3's opening storage comes from D2's last level reading
    (interpolated across the missing D3 00:00 reading, not carried back from 00:15) and D3's first
    totaliser deltas from D2's last readings (tests/dbt/test_water_mixing.py holds the days
    after that, for a model that carries state from day to day)."""
    add_hand_site(tmp_path)
    scada_d2 = tmp_path / "lake" / "readings" / "site=hand_site" / "source=scada" / f"day={D2}"
    held_back = {path.name: path.read_bytes() for path in scada_d2.iterdir()}
    for path in scada_d2.iterdir():
        path.unlink()
    scada_d2.rmdir()
    run_dbt(tmp_path, "run", *BALANCE_CHAIN)
    stale = _late_snapshot(tmp_path)

    scada_d2.mkdir()
    for name, data in held_back.items():
        (scada_d2 / name).write_bytes(data)
    run_dbt(tmp_path, "run", *BALANCE_CHAIN, dbt_vars=_window(D2, D2))
    windowed = _late_snapshot(tmp_path)
    run_dbt(tmp_path, "run", *BALANCE_CHAIN, "--full-refresh")
    full = _late_snapshot(tmp_path)

    # the late file changes D3's opening (so a stale day would show) ...
    storage = "intermediate.int_store_storage_daily"
    assert _dam(full[storage], D3)["opening_storage_m3"] == pytest.approx(expected.OPENING_M3[D3])
    assert _dam(stale[storage], D3)["opening_storage_m3"] != pytest.approx(
        expected.OPENING_M3[D3], abs=1.0
    )
    # ... and the window run ends where the full build does, day after day
    for table, rows in full.items():
        assert len(windowed[table]) == len(rows), table
        for got, want in zip(windowed[table], rows, strict=True):
            for column, value in want.items():
                if isinstance(value, float):
                    assert got[column] == pytest.approx(value, rel=1e-9, abs=1e-6), (table, want)
                else:
                    assert got[column] == value, (table, column, want)
