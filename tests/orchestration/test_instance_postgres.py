"""The production Dagster instance file (``orchestration/dagster.postgres.yaml``) on a real
PostgreSQL server: it loads, keeps the DuckDB writer pool at one slot, and stores runs and
materialisations there."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dagster import DagsterInstance, asset, materialize

from tests.postgres import scratch_database

pytestmark = pytest.mark.integration

SHIPPED = Path(__file__).parents[2] / "orchestration" / "dagster.postgres.yaml"


@asset(pool="duckdb_writer")
def probe_table() -> int:
    """A one-row probe written by a run stored in PostgreSQL."""
    return 1


def test_postgres_instance_stores_runs_and_limits_the_duckdb_pool(tmp_path: Path, monkeypatch):
    shutil.copy(SHIPPED, tmp_path / "dagster.yaml")
    with scratch_database() as url:
        monkeypatch.setenv("DAGSTER_PG_URL", url)
        with DagsterInstance.from_config(str(tmp_path)) as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
            assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
            result = materialize([probe_table], instance=instance)
            assert result.success
            runs = instance.get_runs()
            assert [r.run_id for r in runs] == [result.run_id]
            event = instance.get_latest_materialization_event(probe_table.key)
            assert event is not None and event.run_id == result.run_id
