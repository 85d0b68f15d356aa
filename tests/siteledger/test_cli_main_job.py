"""The README's main command, end to end on a short demo: import, dbt build, publish, report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from cli.main import cli


@pytest.mark.integration
def test_demo_run_builds_publishes_and_prints_the_monthly_balance(tmp_path: Path):
    # the table at a stated width: pytest-xdist workers run with COLUMNS=80
    result = CliRunner(env={"COLUMNS": "120"}).invoke(
        cli, ["--home", str(tmp_path), "demo", "run", "--days", "4"]
    )
    assert result.exit_code == 0, result.output
    assert "Site water balance by month" in result.output
    # both mines of the demo organisation, one row each
    assert re.search(r"demo_mine +│ 2025-07", result.output)
    assert re.search(r"demo_highveld +│ 2025-07", result.output)
    assert "PASS=" in result.output and "ERROR=0" in result.output
    published = tmp_path / "warehouse" / "siteledger.duckdb"
    assert str(published) in result.output
    with duckdb.connect(str(published), read_only=True) as con:
        per_site = con.execute(
            "select site_id, count(*) filter (where is_complete), max(abs(closure_error_pct)) "
            "from fct_site_balance_daily group by site_id order by site_id"
        ).fetchall()
    assert [(site, days) for site, days, _ in per_site] == [
        ("demo_highveld", 4),
        ("demo_mine", 4),
    ]
    assert max(worst for _, _, worst in per_site) < 0.5
    # a second run imports nothing new and publishes the same balance again
    again = CliRunner().invoke(cli, ["--home", str(tmp_path), "demo", "run", "--days", "4"])
    assert again.exit_code == 0, again.output
    assert "duplicate" in again.output

    # an upgrade that changes an incremental model's columns: the run stops, keeps the published
    # version, and says how to recover; --full-refresh rebuilds and publishes again
    with duckdb.connect(str(tmp_path / "warehouse" / "build.duckdb")) as con:
        con.execute("alter table intermediate.int_flow_rate_volumes drop column n_estimated")
    stale = CliRunner().invoke(cli, ["--home", str(tmp_path), "run"])
    assert stale.exit_code == 1
    assert "siteledger run --full-refresh" in stale.output
    assert "published warehouse was left as it was" in stale.output
    fixed = CliRunner().invoke(cli, ["--home", str(tmp_path), "run", "--full-refresh"])
    assert fixed.exit_code == 0, fixed.output
    assert "published warehouse version" in fixed.output


def test_a_demo_with_other_parameters_warns_and_fresh_clears_earlier_data(tmp_path: Path):
    home = ["--home", str(tmp_path)]
    first = CliRunner().invoke(cli, [*home, "demo", "generate", "--days", "5"])
    assert first.exit_code == 0, first.output
    recorded = tmp_path / "demo" / "parameters.json"
    parameters = json.loads(recorded.read_text())
    assert parameters["sites"] == [
        "demo_mine",
        "demo_highveld",
        "demo_soapworks",
        "demo_coating",
        "demo_waterco",
    ]
    # a home whose last demo wrote one mine only: the same options now mean other sites
    one_mine = {key: value for key, value in parameters.items() if key != "sites"}
    recorded.write_text(json.dumps(one_mine))
    upgraded = CliRunner().invoke(cli, [*home, "demo", "generate", "--days", "5"])
    assert "holds an earlier demo (--days 5 " in upgraded.output
    assert json.loads(recorded.read_text()) == parameters
    # stand-ins for what a run of the first demo leaves behind
    old_batch = tmp_path / "lake" / "readings" / "site=demo_mine" / "old.parquet"
    old_batch.parent.mkdir(parents=True)
    old_batch.write_bytes(b"PAR1")
    (tmp_path / "state.db").write_bytes(b"")
    (tmp_path / "dagster").mkdir()

    same = CliRunner().invoke(cli, [*home, "demo", "generate", "--days", "5"])
    assert "earlier demo" not in same.output
    other = CliRunner().invoke(cli, [*home, "demo", "generate", "--days", "6", "--faults"])
    assert other.exit_code == 0, other.output
    assert "holds an earlier demo (--days 5 " in other.output and "--fresh" in other.output
    assert old_batch.exists()

    fresh = CliRunner().invoke(cli, [*home, "demo", "generate", "--days", "6", "--fresh"])
    assert fresh.exit_code == 0, fresh.output
    assert not old_batch.exists() and not (tmp_path / "state.db").exists()
    # configuration survives: the site file is rewritten, the Dagster instance is kept
    assert (tmp_path / "sites" / "demo_mine.yaml").exists() and (tmp_path / "dagster").is_dir()
    assert len(list((tmp_path / "landing").iterdir())) > 0
