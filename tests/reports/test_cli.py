"""``siteledger reports``: generate, list, show, submit (only validated), reject, due."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli

pytestmark = pytest.mark.integration


def _run(home: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--home", str(home), "reports", *args], catch_exceptions=False)


def test_generate_list_show_submit_and_reject(home: Path, monkeypatch: pytest.MonkeyPatch):
    for var in ("SITELEDGER_S3_BUCKET", "SITELEDGER_SMTP_HOST"):
        monkeypatch.delenv(var, raising=False)
    result = _run(
        home,
        "generate",
        "-d",
        "quarterly_discharge_report",
        "--period",
        "FY2026-Q1",
        "--period",
        "FY2026-Q2",
        "--by",
        "officer@mine",
    )
    assert result.exit_code == 0, result.output
    assert "2 generated" in result.output
    listed = _run(home, "list")
    assert listed.exit_code == 0
    lines = [line for line in listed.output.splitlines() if "quarterly_discharge_report." in line]
    assert len(lines) == 2
    from reports.registry import Registry
    from siteledger.settings import get_settings
    from siteledger.state import StateStore

    registry = Registry(StateStore(get_settings(home).state_store_url))
    records = {r.period_key: r for r in registry.list()}
    q1, q2 = records["FY2026-Q1"], records["FY2026-Q2"]
    shown = _run(home, "show", q1.report_id.rsplit("-", 1)[0])
    assert f"status {q1.status}" in shown.output and "pdf" in shown.output
    if q1.status == "draft":  # the demo's Q1 discharge exceeds the licence limit
        refused = CliRunner().invoke(cli, ["--home", str(home), "reports", "submit", q1.report_id])
        assert refused.exit_code != 0
        assert "is draft; it cannot become submitted" in refused.output
        assert "discharge-licence-limit" in refused.output
    submitted = _run(home, "submit", q2.report_id, "--by", "env.officer@mine")
    assert submitted.exit_code == 0, submitted.output
    assert "no S3 bucket or SMTP host configured" in submitted.output
    assert registry.get(q2.report_id).submitted_by == "env.officer@mine"
    rejected = _run(
        home, "reject", q2.report_id, "--reason", "wrong licence number", "--by", "regulator"
    )
    assert rejected.exit_code == 0
    assert registry.get(q2.report_id).status == "rejected"
    assert "wrong licence number" in registry.get(q2.report_id).status_note
    due = CliRunner().invoke(
        cli, ["--home", str(home), "reports", "due", "--now", "2025-10-27T06:00:00"]
    )
    assert due.exit_code == 1
    assert "quarterly_discharge_report demo_mine FY2026-Q1: due in 42 h" in due.output
    unknown = CliRunner().invoke(cli, ["--home", str(home), "reports", "show", "nope"])
    assert unknown.exit_code != 0 and "no report 'nope'" in unknown.output
