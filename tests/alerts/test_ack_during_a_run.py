"""An operator acknowledges and resolves alerts from the CLI while Dagster runs of the alert
evaluation (in another process) keep judging new data and moving the same alerts: no lock
error, no lost transition, no acknowledgement lost — on the SQLite state store and on
PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from alerts.state import AlertStore
from cli.main import cli
from siteledger.settings import Settings
from siteledger.state import StateStore
from tests.postgres import scratch_database

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
METERS = 30
RUNS = 8
RULES = """
rules:
  - id: flow_high
    summary: "{{ labels.meter_id }} at {{ value }}"
    category: operational
    source: fct_flows
    time: day
    labels: [site_id, meter_id]
    metric: flow
    condition: {above: 100}
    channels: []
    lookback: 30d
"""

# the evaluating process: each run publishes one more day (meters flapping above and below the
# limit in runs of different lengths) and runs alert_evaluation_job through Dagster
EVALUATOR = textwrap.dedent(
    f"""
    import datetime as dt, json, sys
    import duckdb
    from orchestration.runner import run_job
    from siteledger.settings import get_settings

    settings = get_settings(sys.argv[1])
    out = {{"runs": [], "transitions": 0}}
    for run in range({RUNS}):
        with duckdb.connect(str(settings.published_db)) as con:
            con.execute(
                "create or replace table dim_sites as select 's1' as site_id, "
                "cast(null as varchar) as organisation, cast(null as varchar) as regulators"
            )
            con.execute(
                "create or replace table fct_flows as select 's1' as site_id, "
                "'M' || cast(m as varchar) as meter_id, date '2025-07-01' + cast(d as integer) "
                "as day, case when (d + m) % (2 * (2 + m % 3)) < 2 + m % 3 then 150.0 else 50.0 "
                "end as flow from range({METERS}) t(m), range(?) u(d)",
                [run + 1],
            )
        job = run_job(settings, "alert_evaluation_job")
        meta = [e.materialization.metadata for e in job.result.get_asset_materialization_events()]
        moved = meta[0]["transitions"].value if meta else {{}}
        out["runs"].append(job.success)
        out["transitions"] += sum(moved.values())
    json.dump(out, open(sys.argv[2], "w"))
    """
)


def _home(tmp_path: Path) -> Settings:
    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    (settings.home / "alerts").mkdir()
    (settings.home / "alerts" / "rules.yaml").write_text(RULES)
    # the shipped packs read marts this home does not have: switched off here
    from alerts.rules import load_rules

    off = [r.id for r in load_rules(None, []).rules_for("s1")]
    (settings.home / "alerts" / "packs_off.yaml").write_text(
        "rules:\n" + "".join(f"  - {{id: {rule_id}, enabled: false}}\n" for rule_id in off)
    )
    return settings


def _operator_while_runs_evaluate(tmp_path: Path, state_url: str | None) -> None:
    settings = _home(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DAGSTER_DISABLE_TELEMETRY": "1"}
    if state_url:
        env["SITELEDGER_STATE_URL"] = state_url
    result_file = tmp_path / "evaluator.json"
    evaluator = subprocess.Popen(
        [sys.executable, "-c", EVALUATOR, str(settings.home), str(result_file)],
        env=env,
        cwd=ROOT,
        stderr=subprocess.PIPE,
    )
    runner = CliRunner(env={"SITELEDGER_STATE_URL": state_url} if state_url else None)
    home = ["--home", str(settings.home)]
    acked: set[str] = set()
    resolved: set[str] = set()
    refused = 0
    deadline = time.monotonic() + 240
    while evaluator.poll() is None and time.monotonic() < deadline:
        listed = runner.invoke(cli, [*home, "alerts", "list", "--state", "firing", "--json"])
        assert listed.exit_code == 0, listed.output
        for line in listed.stdout.splitlines()[:6]:
            event = json.loads(line)
            if event["acked_by"] is None and event["event_id"] not in acked:
                done = runner.invoke(
                    cli,
                    [*home, "alerts", "ack", event["event_id"], "--by", "kim", "--note", "on it"],
                )
            else:
                done = runner.invoke(
                    cli, [*home, "alerts", "resolve", event["event_id"], "--by", "kim"]
                )
            if done.exit_code == 0:
                (acked if "acknowledged" in done.output else resolved).add(event["event_id"])
            else:
                # the run resolved it first: refused with a reason, never a lock error
                assert "resolved" in done.output, done.output
                assert "locked" not in done.output.lower(), done.output
                refused += 1
    _, errors = evaluator.communicate(timeout=60)
    assert evaluator.returncode == 0, errors.decode()[-3000:]
    outcome = json.loads(result_file.read_text())
    assert all(outcome["runs"]) and len(outcome["runs"]) == RUNS
    assert acked, "the operator acknowledged alerts while the runs evaluated"

    store = StateStore(state_url or settings.state_store_url)
    alerts = AlertStore(store)
    history = alerts.history()
    kinds = Counter(h.kind for h in history)
    # every transition the runs reported is in the history, and every operator action too
    run_moves = [h for h in history if h.kind == "transition" and h.actor != "kim"]
    assert len(run_moves) == outcome["transitions"]
    assert kinds["ack"] == len(acked)
    assert {h.event_id for h in history if h.kind == "ack"} == acked
    for event_id in acked:
        event = alerts.get(event_id)
        assert (event.acked_by, event.ack_note) == ("kim", "on it")  # never overwritten
    for event_id in resolved:
        assert alerts.get(event_id).resolution == "manual"
    store.dispose()


def test_acks_from_the_cli_during_evaluation_runs_on_sqlite(tmp_path: Path) -> None:
    _operator_while_runs_evaluate(tmp_path, None)


def test_acks_from_the_cli_during_evaluation_runs_on_postgresql(tmp_path: Path) -> None:
    with scratch_database() as url:
        _operator_while_runs_evaluate(
            tmp_path, url.replace("postgresql://", "postgresql+psycopg://")
        )
