"""Settings from the environment: one source for each, a clear error for a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from siteledger.dbt import dbt_env
from siteledger.settings import get_settings


def test_settings_default_and_reach_dbt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name in (
        "SITELEDGER_LOOKBACK_DAYS",
        "SITELEDGER_LOOKAHEAD_DAYS",
        "SITELEDGER_SENSOR_INTERVAL_S",
        "SITELEDGER_DUCKDB_MEMORY_LIMIT",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = get_settings(tmp_path)
    assert (settings.lookback_days, settings.lookahead_days) == (1, 1)
    assert settings.sensor_interval_seconds == 30
    assert settings.build_db == tmp_path.resolve() / "warehouse" / "build.duckdb"
    assert settings.published_db == tmp_path.resolve() / "warehouse" / "siteledger.duckdb"
    monkeypatch.setenv("SITELEDGER_LOOKBACK_DAYS", "2")
    monkeypatch.setenv("SITELEDGER_LOOKAHEAD_DAYS", "3")
    monkeypatch.setenv("SITELEDGER_DUCKDB_MEMORY_LIMIT", "3GB")
    env = dbt_env(get_settings(tmp_path), "2025-07-02", "2025-07-03")
    assert env["SITELEDGER_LOOKBACK_DAYS"] == "2"
    assert env["SITELEDGER_LOOKAHEAD_DAYS"] == "3"
    assert env["SITELEDGER_DUCKDB_MEMORY_LIMIT"] == "3GB"
    assert env["SITELEDGER_BUILD_DB"].endswith("warehouse/build.duckdb")


@pytest.mark.parametrize(
    "name",
    ["SITELEDGER_LOOKBACK_DAYS", "SITELEDGER_LOOKAHEAD_DAYS", "SITELEDGER_SENSOR_INTERVAL_S"],
)
@pytest.mark.parametrize("value", ["-1", "one", "1.5", "9" * 5 + "x", " "])
def test_a_setting_that_is_not_a_whole_number_is_refused_by_name(
    name: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"{name}=.* is not a whole number"):
        get_settings(tmp_path)
