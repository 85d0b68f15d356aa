"""``siteledger analytics`` on the demo: the main job trains and forecasts, the retrain job runs
through Dagster (the run, its metadata and the published tables are there afterwards), the home's
analytics.yaml is honoured, and the commands show the registry, the risk, a forecast and the
anomalies."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from dagster import AssetKey, DagsterInstance

from cli.main import cli

# six weeks of the demo: too little for the defaults, so the home asks for less
ANALYTICS_YAML = """\
forecasts:
  min_history_days: 30
  backtest_origins: 2
  backtest_step_days: 7
overflow:
  n_paths: 2000
"""

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("analytics")
    (target / "analytics.yaml").write_text(ANALYTICS_YAML)
    for args in (["demo", "run", "--days", "45", "--customers", "60"], ["analytics", "retrain"]):
        result = CliRunner().invoke(cli, ["--home", str(target), *args])
        assert result.exit_code == 0, result.output
    return target


def run(home: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--home", str(home), "analytics", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_retrain_is_a_dagster_run_with_backtests_in_its_metadata(home: Path) -> None:
    instance = DagsterInstance.from_config(str(home / "dagster"))
    try:
        runs = instance.get_runs()  # newest first
        assert runs[0].job_name == "model_retrain_job" and runs[0].is_success
        event = instance.get_latest_materialization_event(AssetKey(["marts", "fct_model_registry"]))
        assert event is not None and event.asset_materialization is not None
        meta = event.asset_materialization.metadata
        # every model trained again: the two mines' nine stores and their demand, and the demo
        # mine's power station: site fuel, site energy cost and its two loads' demand (15); the
        # workshops' materials, 31 at the soapworks and 12 powders, each daily demand and unit
        # cost
        assert meta["trained_this_run"].value == 15 + 2 * (31 + 12)
        assert "| demo_mine/node/raw_water_dam/closing_storage_m3 | ok |" in str(
            meta["backtest"].value
        )
    finally:
        instance.dispose()


def test_the_published_warehouse_carries_the_analytics(home: Path) -> None:
    with duckdb.connect(str(home / "warehouse" / "siteledger.duckdb"), read_only=True) as con:
        status = dict(con.execute("select series_id, status from fct_forecast_status").fetchall())
        assert status["demo_mine/node/raw_water_dam/closing_storage_m3"] == "ok"
        assert status["demo_mine/site/demo_mine/demand_m3"] == "ok"
        (n_days,) = con.execute(
            "select count(*) from fct_forecast_daily "
            "where series_id = 'demo_mine/node/raw_water_dam/closing_storage_m3'"
        ).fetchone() or (0,)
        assert n_days == 90
        risk = con.execute(
            "select count(*), min(p_above_80), max(p_above_80) from fct_overflow_risk "
            "where status = 'ok'"
        ).fetchone()
        assert risk is not None and risk[0] == 9 * 3  # nine stores x 1, 30 and 90 days
        assert 0.0 <= risk[1] <= risk[2] <= 1.0


def test_models_risk_forecast_and_anomalies_commands(home: Path) -> None:
    models = run(home, "models")
    assert "pit_sump" in models and "closing_storage_m3" in models
    assert "demand_m3" in models
    risk = run(home, "risk", "--site", "demo_mine")
    assert "raw_water_dam" in risk and "spill" in risk and "below 20 % full" in risk
    forecast = run(home, "forecast", "raw_water_dam", "--every", "30")
    # days 1, 31 and 61 of the 90
    assert forecast.count("demo_mine/node/raw_water_dam/closing_storage_m3") == 3
    anomalies = run(home, "anomalies", "--min-severity", "1")
    assert "anomalies" in anomalies
    missing = CliRunner().invoke(cli, ["--home", str(home), "analytics", "forecast", "nowhere"])
    assert missing.exit_code != 0 and "no published forecast" in missing.output
