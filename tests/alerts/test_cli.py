"""``siteledger alerts``: an operator lists, inspects, acknowledges, resolves and silences alerts,
checks the rule files and sends a test message — against a real state store and real local
receivers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from alerts.state import AlertStore
from alerts.types import LifecyclePolicy, Observation
from cli.main import cli
from siteledger.settings import Settings
from siteledger.state import StateStore
from tests.alerts.servers import HttpReceiver
from tests.alerts.test_channels import WEBHOOK_SECRET, verify_standard_webhook

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    store = StateStore(settings.state_store_url)
    alerts = AlertStore(store)
    policy = LifecyclePolicy(severity="critical")
    alerts.observe(
        [
            (
                policy,
                Observation(
                    rule_id="store_level_high",
                    labels={"site_id": "demo_mine", "node_id": "process_water_dam"},
                    breached=True,
                    observed_at="2025-07-14",
                    evaluated_at=NOW,
                    value=81.2,
                    threshold="80",
                    summary="Store process_water_dam at demo_mine is 81.2 % full",
                ),
                {"category": "operational", "unit": "%"},
            ),
            (
                LifecyclePolicy(severity="warning"),
                Observation(
                    rule_id="meter_stuck",
                    labels={"site_id": "demo_highveld", "meter_id": "FT-150"},
                    breached=True,
                    observed_at="2025-07-15",
                    evaluated_at=NOW,
                    value=48,
                    threshold="0",
                    summary="FT-150 stuck",
                ),
                {"category": "data_quality"},
            ),
        ]
    )
    store.dispose()
    return settings.home


def _run(home: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--home", str(home), "alerts", *args])


def _event_ids(home: Path) -> dict[str, str]:
    result = _run(home, "list", "--state", "all", "--json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    return {row["rule_id"]: row["event_id"] for row in rows}


def test_list_filters_and_show_tells_the_history(home: Path):
    listed = _run(home, "list")
    assert listed.exit_code == 0, listed.output
    assert "store_level_high" in listed.output and "meter_stuck" in listed.output
    critical = _run(home, "list", "--severity", "critical")
    assert "store_level_high" in critical.output and "meter_stuck" not in critical.output
    site = _run(home, "list", "--site", "demo_highveld")
    assert "meter_stuck" in site.output and "store_level_high" not in site.output
    event_id = _event_ids(home)["store_level_high"]
    shown = _run(home, "show", event_id.split("-")[1][:8])  # its random part, shortened
    assert shown.exit_code == 0, shown.output
    assert "81.2 % full" in shown.output and "transition" in shown.output
    missing = _run(home, "show", "nosuchalert")
    assert missing.exit_code == 1 and "nosuchalert" in missing.output


def test_ack_resolve_and_their_mistakes(home: Path):
    ids = _event_ids(home)
    acked = _run(
        home, "ack", ids["store_level_high"], "--note", "pumping to the TSF", "--by", "kim"
    )
    assert acked.exit_code == 0, acked.output
    assert "acknowledged" in acked.output
    resolved = _run(home, "resolve", ids["meter_stuck"], "--note", "probe replaced", "--by", "kim")
    assert resolved.exit_code == 0, resolved.output
    again = _run(home, "ack", ids["meter_stuck"], "--by", "kim")
    assert again.exit_code == 1  # a resolved alert cannot be acknowledged
    store = StateStore(Settings(home=home).state_store_url)
    alerts = AlertStore(store)
    event = alerts.get(ids["store_level_high"])
    assert (event.acked_by, event.ack_note) == ("kim", "pumping to the TSF")
    stuck = alerts.get(ids["meter_stuck"])
    assert (stuck.state, stuck.resolution, stuck.resolved_by) == ("resolved", "manual", "kim")
    store.dispose()
    open_now = _run(home, "list")
    assert "meter_stuck" not in open_now.output


def test_silence_and_unsilence(home: Path):
    made = _run(
        home, "silence", "--match", "site_id=demo_mine", "--match", "rule_id=~store_.*",
        "--for", "2h", "--comment", "dam works", "--by", "kim",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    silence_id = made.output.split()[1]
    listed = _run(home, "silences")
    assert "site_id=demo_mine" in listed.output and "rule_id=~store_.*" in listed.output
    bad = _run(home, "silence", "--match", "site_id", "--comment", "x")
    assert bad.exit_code == 2 and "label=value" in bad.output
    bad_regex = _run(home, "silence", "--match", "site_id=~(", "--comment", "x")
    assert bad_regex.exit_code == 1
    bad_time = _run(home, "silence", "--match", "site_id=x", "--for", "2 hours", "--comment", "x")
    assert bad_time.exit_code == 2
    ended = _run(home, "unsilence", silence_id, "--by", "kim")
    assert ended.exit_code == 0, ended.output
    assert "site_id=demo_mine" not in _run(home, "silences").output


def test_rules_check_and_test_notify(home: Path, monkeypatch: pytest.MonkeyPatch):
    listed = _run(home, "rules", "--site", "demo_mine")
    assert listed.exit_code == 0, listed.output
    assert "closure_error_high" in listed.output and "meter_stuck" in listed.output
    assert _run(home, "rules", "--check").exit_code == 0
    monkeypatch.setenv("CLI_HOOK_SECRET", WEBHOOK_SECRET)
    with HttpReceiver() as hook:
        (home / "alerts").mkdir()
        (home / "alerts" / "channels.yaml").write_text(
            "channels:\n"
            f"  hook: {{kind: webhook, url: '{hook.url}', secret_env: CLI_HOOK_SECRET}}\n"
        )
        sent = _run(home, "test-notify", "hook")
        assert sent.exit_code == 0, sent.output
        assert "attempt 1 -> webhook" in sent.output and ": ok" in sent.output
        (request,) = hook.requests
        verify_standard_webhook(WEBHOOK_SECRET, request.headers, request.body, NOW.timestamp())
        assert request.json()["data"]["alerts"][0]["rule_id"] == "test_notification"
    unknown = _run(home, "test-notify", "nowhere")
    assert unknown.exit_code == 1 and "configured: hook" in unknown.output
    # a bad rule file: listed as file:line problems, the check fails, nothing else breaks
    (home / "alerts" / "bad.yaml").write_text(
        "rules:\n  - id: x\n    summary: s\n    category: data_quality\n    source: t\n"
        "    time: day\n    labels: [site_id]\n    metric: v\n"
        "    condition: {expression: \"__import__('os').system('true')\"}\n"
    )
    checked = _run(home, "rules", "--check")
    assert checked.exit_code == 1
    assert "bad.yaml:9" in checked.output and "condition.expression" in checked.output
