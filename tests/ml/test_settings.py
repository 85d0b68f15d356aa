"""analytics.yaml and scenario files: bad files give located problems, the analytics wait for a
valid settings file without holding back the publish, a bad scenario file is skipped alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from ml.service import run_analytics
from ml.settings import SiteConfigError, load_analytics_settings
from ml.tables import TABLES
from siteledger.settings import Settings
from siteledger.state.store import StateStore
from tests.ml.test_service import NOW
from tests.ml.test_service import home as home

BAD = {
    "unknown key": ("forecasts:\n  horizon: 30\n", "analytics.yaml:2: forecasts.horizon"),
    "wrong type": ("overflow:\n  n_paths: many\n", "analytics.yaml:2: overflow.n_paths"),
    "out of range": ("overflow:\n  n_paths: 5\n", "analytics.yaml:2: overflow.n_paths"),
    "bad target": (
        "forecasts:\n  targets:\n    - {name: x, scope: node, metric: m, horizon_days: 0}\n",
        "analytics.yaml:3: forecasts.targets[0].horizon_days",
    ),
    "not yaml": ("forecasts: [\n", "analytics.yaml:2"),
    "not a mapping": ("- 1\n- 2\n", "analytics.yaml:1"),
    "solar horizon out of range": (
        "forecasts:\n  solar:\n    horizon_days: 0\n",
        "analytics.yaml:3: forecasts.solar.horizon_days",
    ),
    "solar unknown key": (
        "forecasts:\n  solar:\n    weather_feed: true\n",
        "analytics.yaml:3: forecasts.solar.weather_feed",
    ),
    "solar window not a number": (
        "forecasts:\n  solar:\n    season_window_days: wide\n",
        "analytics.yaml:3: forecasts.solar.season_window_days",
    ),
    "unknown method": (
        "anomalies:\n  methods: [robust_z, crystal_ball]\n",
        "analytics.yaml:2: anomalies.methods[1]",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_settings_are_located_problems(case: str, tmp_path: Path) -> None:
    text, where = BAD[case]
    (tmp_path / "analytics.yaml").write_text(text)
    with pytest.raises(SiteConfigError) as exc:
        load_analytics_settings(tmp_path)
    assert any(str(p).startswith(str(tmp_path / where)) for p in exc.value.problems), [
        str(p) for p in exc.value.problems
    ]


def test_defaults_and_a_valid_file(tmp_path: Path) -> None:
    assert [t.name for t in load_analytics_settings(tmp_path).forecasts.targets] == [
        "store_volume",
        "site_demand",
        "site_fuel",
        "site_energy_cost",
        "load_demand",
        "material_demand",
        "material_unit_cost",
    ]
    (tmp_path / "analytics.yaml").write_text(
        "forecasts:\n  targets:\n"
        "    - {name: fuel, scope: site, metric: diesel_l, horizon_days: 14, use_rain: false}\n"
    )
    (target,) = load_analytics_settings(tmp_path).forecasts.targets
    assert (target.name, target.horizon_days, target.use_rain) == ("fuel", 14, False)


def test_a_bad_settings_file_stops_the_analytics_not_the_run(home: Settings) -> None:
    (home.home / "analytics.yaml").write_text("forecasts:\n  horizon: 30\n")
    result = run_analytics(home, StateStore(home.state_store_url), now=NOW)
    assert result.problems and "forecasts.horizon: unknown key" in result.problems[0]
    assert set(result.tables) == set(TABLES)
    assert result.tables["fct_forecast_daily"].empty
    status = result.tables["fct_analytics_status"]
    assert status["status"].tolist() == ["invalid_settings"]
    assert "analytics.yaml:2" in status["reason"].iloc[0]
    bad = CliRunner().invoke(cli, ["--home", str(home.home), "analytics", "check"])
    assert bad.exit_code == 1 and "analytics.yaml:2: forecasts.horizon" in bad.output


def test_a_bad_scenario_file_is_skipped_alone(home: Settings) -> None:
    folder = home.home / "scenarios"
    folder.mkdir()
    (folder / "good.yaml").write_text(
        "scenarios:\n  - {id: wet, name: Wet year, rain_factor: 1.2}\n"
        "  - {id: pump, name: More draw, pump_m3_per_day: {dam: -400}}\n"
        "  - {id: elsewhere, name: Another site's, rain_factor: 2, sites: [s2]}\n"
    )
    (folder / "bad.yaml").write_text("scenarios:\n  - {id: dry, name: Dry, rain_factor: -1}\n")
    result = run_analytics(home, StateStore(home.state_store_url), now=NOW)
    assert any("bad.yaml:2" in p and "rain_factor" in p for p in result.problems)
    projection = result.tables["fct_scenario_projection"]
    assert set(projection["scenario_id"]) == {"base", "wet", "pump"}
    ends = projection[projection["node_id"] == "dam"].groupby("scenario_id")["p50_volume_m3"]
    last = ends.last()
    # 400 m3/d more drawn for 90 days: the median ends about 36 000 m3 lower than the base
    assert last["base"] - last["pump"] == pytest.approx(36_000, rel=0.1)
    assert last["wet"] > last["base"]
    check = CliRunner().invoke(cli, ["--home", str(home.home), "analytics", "check"])
    assert check.exit_code == 1 and "bad.yaml:2" in check.output
