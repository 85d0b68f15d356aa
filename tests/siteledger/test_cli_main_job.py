"""The README's main command, end to end on a short demo: import, dbt build, publish, report."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from siteledger.cli.main import cli


@pytest.mark.integration
def test_demo_run_builds_publishes_and_prints_the_monthly_balance(tmp_path: Path):
    result = CliRunner().invoke(cli, ["--home", str(tmp_path), "demo", "run", "--days", "4"])
    assert result.exit_code == 0, result.output
    assert "Site water balance by month" in result.output
    assert "demo_mine │ 2025-07" in result.output
    assert "PASS=" in result.output and "ERROR=0" in result.output
    published = tmp_path / "warehouse" / "siteledger.duckdb"
    assert str(published) in result.output
    with duckdb.connect(str(published), read_only=True) as con:
        days, worst = con.execute(
            "select count(*) filter (where is_complete), max(abs(closure_error_pct)) "
            "from fct_site_balance_daily"
        ).fetchone()
    assert days == 4
    assert worst < 0.5
    # a second run imports nothing new and publishes the same balance again
    again = CliRunner().invoke(cli, ["--home", str(tmp_path), "demo", "run", "--days", "4"])
    assert again.exit_code == 0, again.output
    assert "duplicate" in again.output
