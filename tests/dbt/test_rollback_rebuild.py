"""Rolling back an import batch and running again gives the marts of a home that never imported
it: the days the batch held are rebuilt in every day-partitioned model, and a day left without
readings is emptied there instead of keeping what the earlier run wrote."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from ingestion.files import import_landing, rollback_batch
from ingestion.files.recovery import mark_days_rebuilt
from ingestion.site_tables import write_site_tables
from orchestration.partitions import days_of_data
from siteledger.settings import Settings
from siteledger.site import load_site
from siteledger.site.models import SiteConfig
from siteledger.state.store import StateStore, utcnow
from tests.dbt.hand_lake import D2, D4, write_hand_lake
from tests.dbt.homes import HAND_SITE_FILE
from tests.dbt.runner import query, run_dbt

pytestmark = pytest.mark.integration

D5, D6 = D4 + dt.timedelta(days=1), D4 + dt.timedelta(days=2)
PERTH = dt.timezone(dt.timedelta(hours=8))
STEP = dt.timedelta(minutes=15)


def _site() -> SiteConfig:
    """The hand site with a logger layout for the batch that is rolled back."""
    data = copy.deepcopy(load_site(HAND_SITE_FILE).model_dump(by_alias=True))
    data["file_layouts"] = [
        {
            "id": "logger",
            "format": "csv_long",
            "pattern": "logger_*.csv",
            "timezone": "UTC",
            "timestamp_column": "time_utc",
            "meter_column": "meter",
            "value_column": "value",
            "unit_column": "unit",
        }
    ]
    return SiteConfig.model_validate(data)


def _batch_b() -> str:
    """A late logger file: FT-100 re-delivered at 300 m3/h for an hour of D2 (it wins over the
    lake's copy, loaded later), the rest of D4, and two more days D5 and D6 of the river flow and
    the dam level that no other batch holds."""
    lines = ["time_utc,meter,value,unit"]
    start = dt.datetime.combine(D2, dt.time(10), tzinfo=PERTH)
    lines += [f"{(start + i * STEP).astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ},FT-100,300,m3/h"
              for i in range(4)]  # fmt: skip
    start = dt.datetime.combine(D4, dt.time(0, 15), tzinfo=PERTH)
    for i in range(2 * 96 + 95):
        stamp = f"{(start + i * STEP).astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"
        lines.append(f"{stamp},FT-100,80,m3/h")
        lines.append(f"{stamp},LT-300,{3.05 + i * 0.0001:.4f},m")
    return "\n".join(lines) + "\n"


def _build(home: Path) -> None:
    """What a run does: rebuild every day of data and the days waiting, then mark them done."""
    settings = Settings(home=home)
    days = days_of_data(settings)
    started = utcnow()
    run_dbt(home, "run", dbt_vars={"start_day": days[0], "end_day": days[-1]})
    mark_days_rebuilt(settings, days[0], days[-1], started)


def _marts(home: Path) -> dict[str, list[dict[str, Any]]]:
    tables = query(
        home,
        "select table_name from information_schema.tables where table_schema = 'marts' "
        "order by table_name",
    )
    return {
        t["table_name"]: [
            {key: _rounded(value) for key, value in row.items()}
            for row in query(home, f"select * from marts.{t['table_name']} order by all")
        ]
        for t in tables
    }


def _rounded(value: Any) -> Any:
    # sums over rows stored in another order differ in the last bit (17.68643064516129 against
    # 17.686430645161288): ten significant digits compare the figures, not the summation order
    return float(f"{value:.10g}") if isinstance(value, float) else value


def _differences(got: list[dict], want: list[dict]) -> list[tuple[int, str, Any, Any]]:
    """(row, column, got, wanted) of the first cells that differ, for the failure message."""
    if len(got) != len(want):
        return [(-1, "row count", len(got), len(want))]
    cells = [
        (i, key, row[key], other[key])
        for i, (row, other) in enumerate(zip(got, want, strict=True))
        for key in row
        if row[key] != other[key]
    ]
    return cells[:10]


def _home(root: Path) -> tuple[Settings, StateStore]:
    settings = Settings(home=root.resolve())
    settings.ensure_dirs()
    write_site_tables(settings, _site())
    write_hand_lake(settings.lake)
    return settings, StateStore(settings.state_store_url)


def test_rollback_then_run_gives_the_marts_of_never_importing_the_batch(tmp_path: Path) -> None:
    only_a, store_a = _home(tmp_path / "only_a")
    _build(only_a.home)
    expected = _marts(only_a.home)
    store_a.dispose()

    settings, store = _home(tmp_path / "rolled_back")
    (settings.landing / "logger_b.csv").write_text(_batch_b())
    [result] = import_landing(settings, _site(), store)
    assert (result.status, result.failed) == ("committed", 0)
    _build(settings.home)
    with_b = _marts(settings.home)
    balance = "fct_site_balance_daily"
    assert {r["day"] for r in with_b[balance]} >= {D5, D6}

    rollback_batch(settings, store, result.batch_id)
    waiting = [row.day for row in store.rebuild_days()]
    assert waiting == [str(D2), str(D4), str(D5), str(D6)]
    # D5 and D6 hold no reading any more, yet the run's window still covers them
    assert days_of_data(settings)[-1] == str(D6)
    _build(settings.home)
    assert store.rebuild_days() == []
    restored = _marts(settings.home)
    store.dispose()

    assert sorted(restored) == sorted(expected)
    assert max(r["day"] for r in restored[balance]) == D4
    for table, rows in expected.items():
        assert restored[table] == rows, (table, _differences(restored[table], rows))
    # the batch did change the marts: the comparison is not between two empty builds
    assert with_b[balance] != expected[balance]
