"""The pipeline benchmark reads dbt's own running time from its log line, whatever its units."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_pipeline.py"


@pytest.fixture(scope="module")
def dbt_seconds():
    spec = importlib.util.spec_from_file_location("bench_pipeline", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dbt_seconds


@pytest.mark.parametrize(
    ("line", "seconds"),
    [
        ("Finished running 12 view models in 0 hours 0 minutes and 6.25 seconds (6.25s).", 6.25),
        ("Finished running 180 nodes in 0 hours 1 minutes and 46.54 seconds (106.54s).", 106.54),
        ("Finished running 3 tests in 2 hours 0 minutes and 0.50 seconds (7200.50s).", 7200.5),
        ("Finished running 1 seed in 4.00 seconds", 4.0),
    ],
)
def test_dbt_running_time_counts_minutes_and_hours(dbt_seconds, line, seconds):
    output = f"12:00:00  Concurrency: 2 threads\n12:00:09  {line}\n"
    assert dbt_seconds(output) == pytest.approx(seconds)


def test_no_finish_line_gives_none(dbt_seconds):
    assert dbt_seconds("12:00:00  Encountered an error") is None
