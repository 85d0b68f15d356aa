"""The alert engine end to end on a hand-made published warehouse: rules from a deployment file,
the lifecycle in a real state store, notifications to real local servers (a webhook receiver
whose signature check is written here from the Standard Webhooks spec, a Slack stand-in, an SMTP
server)."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import duckdb
import pytest

from alerts.engine import Engine
from alerts.rules import load_rules
from alerts.state import AlertStore
from siteledger.settings import Settings
from siteledger.state import StateStore
from tests.alerts.servers import HttpReceiver, SmtpReceiver
from tests.alerts.test_channels import WEBHOOK_SECRET, verify_standard_webhook

T0 = dt.datetime(2025, 7, 10, 6, 0, tzinfo=dt.UTC)

RULES = """
channels:
  hook: {kind: webhook, url: "%(hook)s", secret_env: TEST_HOOK_SECRET, resolved: true}
  chat: {kind: slack, url_env: TEST_SLACK_URL}
  ops: {kind: email, to: [ops@example.com]}
  pager: {kind: webhook, url: "%(pager)s", secret_env: TEST_HOOK_SECRET, resolved: false}
defaults:
  channels: [hook, chat, ops]
rules:
  - id: dam_full
    summary: "{{ labels.node_id }} at {{ labels.site_id }} is {{ value | round(1) }} %% full"
    action: Draw the dam down.
    category: operational
    source: fct_levels
    time: day
    labels: [site_id, node_id]
    metric: fill_pct
    unit: "%%"
    condition: {above: 80}
    for: 2
    repeat_interval: 1h
    escalation: {after_occurrences: 4, channels: [pager], severity: critical}
    lookback: 30d
  - id: broken_source
    summary: "never"
    category: operational
    source: fct_missing
    time: day
    labels: [site_id]
    metric: x
    condition: {above: 0}
"""


def _publish(settings: Settings, fills: list[float]) -> None:
    """The published warehouse with one dam's fill over consecutive days from 2025-07-01."""
    settings.published_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.published_db)) as con:
        con.execute(
            "create or replace table dim_sites as select 's1' as site_id, "
            "cast(null as varchar) as organisation, cast(null as varchar) as regulators"
        )
        con.execute(
            "create or replace table fct_levels "
            "(site_id varchar, node_id varchar, day date, fill_pct double, capacity_m3 double)"
        )
        for i, fill in enumerate(fills):
            con.execute(
                "insert into fct_levels values ('s1', 'dam', ?, ?, 200000)",
                [dt.date(2025, 7, 1) + dt.timedelta(days=i), fill],
            )


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with (
        HttpReceiver() as hook,
        HttpReceiver() as chat,
        HttpReceiver() as pager,
        SmtpReceiver() as smtp,
    ):
        settings = Settings(home=tmp_path / "home")
        settings.ensure_dirs()
        (settings.home / "alerts").mkdir()
        (settings.home / "alerts" / "rules.yaml").write_text(
            RULES % {"hook": hook.url, "pager": pager.url}
        )
        target = smtp.target()
        env = {
            "TEST_HOOK_SECRET": WEBHOOK_SECRET,
            "TEST_SLACK_URL": chat.url,
            "SITELEDGER_SMTP_HOST": target.host,
            "SITELEDGER_SMTP_PORT": str(target.port),
        }
        store = StateStore(settings.state_store_url)

        def evaluate(now: dt.datetime):  # type: ignore[no-untyped-def]
            ruleset = load_rules(settings.home, [])
            return Engine(settings, store, ruleset, env=env, sleep=lambda s: None).evaluate(now)

        yield settings, store, evaluate, hook, chat, pager, smtp
        store.dispose()


def _alerts(body: dict) -> list[tuple[str, str, str]]:
    return [(a["rule_id"], a["status"], a["severity"]) for a in body["data"]["alerts"]]


def test_a_breach_fires_once_repeats_escalates_stops_on_ack_and_resolves_once(world):  # type: ignore[no-untyped-def]
    settings, store, evaluate, hook, chat, pager, smtp = world
    # day 1 below, days 2-3 above 80 %: pending on day 2, firing on day 3 (for: 2)
    _publish(settings, [70, 85, 90])
    result = evaluate(T0)
    assert [(t.from_state, t.to_state) for t in result.transitions] == [
        (None, "pending"),
        ("pending", "firing"),
    ]
    assert "broken_source" in result.errors  # one broken rule does not stop the others
    assert len(hook.requests) == 1 and len(chat.requests) == 1 and len(smtp.messages) == 1
    request = hook.requests[0]
    verify_standard_webhook(WEBHOOK_SECRET, request.headers, request.body, time.time())
    body = request.json()
    assert body["type"] == "alert.digest"
    assert _alerts(body) == [("dam_full", "firing", "warning")]
    alert = body["data"]["alerts"][0]
    assert alert["labels"] == {"site_id": "s1", "node_id": "dam"}
    assert alert["value"] == 90.0 and alert["threshold"] == "80"
    assert alert["observed_at"] == "2025-07-03"
    assert alert["summary"] == "dam at s1 is 90.0 % full"
    assert alert["action"] == "Draw the dam down."
    # what the mart says beside the metric travels with the alert: how big the dam is
    assert alert["details"]["capacity_m3"] == 200000.0
    slack = chat.requests[0].json()
    assert "dam at s1 is 90.0 % full" in slack["text"] and slack["blocks"]
    mail = smtp.messages[0]
    assert "1 firing" in mail.message["Subject"] and "dam at s1 is 90.0" in mail.part("plain")
    assert "Capacity (m³): 200,000" in mail.part("plain")
    assert "— s1" in mail.message["Subject"]  # the site, from the site_id label
    assert pager.requests == []

    # the same data again: nothing moves, nobody is notified
    again = evaluate(T0 + dt.timedelta(minutes=5))
    assert again.transitions == [] and again.observations == 0
    assert len(hook.requests) == 1 and len(chat.requests) == 1 and len(smtp.messages) == 1

    # a new breaching day after the repeat interval: a repeat to the rule's channels
    _publish(settings, [70, 85, 90, 91])
    evaluate(T0 + dt.timedelta(hours=1, minutes=1))
    assert _alerts(hook.requests[-1].json()) == [("dam_full", "repeat", "warning")]
    assert len(hook.requests) == 2 and pager.requests == []

    # the fourth occurrence escalates: critical, and the pager hears of it too
    _publish(settings, [70, 85, 90, 91, 92])
    evaluate(T0 + dt.timedelta(hours=1, minutes=2))
    assert _alerts(hook.requests[-1].json()) == [("dam_full", "escalated", "critical")]
    assert _alerts(pager.requests[-1].json()) == [("dam_full", "escalated", "critical")]
    escalated_hooks = len(hook.requests)

    # acknowledged: later breaches repeat to nobody
    alerts = AlertStore(store)
    (event,) = alerts.events(state="open")
    alerts.ack(event.event_id, "ops-officer", "pumping to the TSF", T0 + dt.timedelta(hours=2))
    _publish(settings, [70, 85, 90, 91, 92, 95])
    evaluate(T0 + dt.timedelta(hours=6))
    assert len(hook.requests) == escalated_hooks

    # back below the mark: resolved automatically, one resolution message where channels take
    # them (the webhook and the pager said resolved: true / false; Slack and e-mail default off)
    _publish(settings, [70, 85, 90, 91, 92, 95, 60])
    result = evaluate(T0 + dt.timedelta(hours=7))
    assert [(t.from_state, t.to_state) for t in result.transitions] == [("firing", "resolved")]
    assert _alerts(hook.requests[-1].json()) == [("dam_full", "resolved", "critical")]
    resolved_hooks = len(hook.requests)
    evaluate(T0 + dt.timedelta(hours=8))
    assert len(hook.requests) == resolved_hooks
    assert len(pager.requests) == 1

    # a later breach is a new alert, not the old one reopened
    _publish(settings, [70, 85, 90, 91, 92, 95, 60, 99, 99])
    evaluate(T0 + dt.timedelta(hours=9))
    events = alerts.events()
    assert len(events) == 2 and {e.state for e in events} == {"resolved", "firing"}
    history = [h.kind for h in alerts.history(event_id=event.event_id)]
    assert "ack" in history and history.count("notification") >= 5


def test_silence_holds_notifications_but_not_the_lifecycle(world):  # type: ignore[no-untyped-def]
    settings, store, evaluate, hook, chat, _pager, smtp = world
    alerts = AlertStore(store)
    alerts.silence(
        ["node_id=dam"], T0 - dt.timedelta(hours=1), T0 + dt.timedelta(hours=1), "ops", "works"
    )
    _publish(settings, [85, 85])
    result = evaluate(T0)
    assert [t.to_state for t in result.transitions] == ["pending", "firing"]
    assert hook.requests == [] and chat.requests == [] and smtp.messages == []
    # the silence over, the firing alert is told
    evaluate(T0 + dt.timedelta(hours=2))
    assert _alerts(hook.requests[-1].json()) == [("dam_full", "firing", "warning")]


def test_an_unset_secret_is_a_recorded_failed_attempt_not_a_crash(world):  # type: ignore[no-untyped-def]
    settings, store, *_ = world
    _publish(settings, [85, 85])
    ruleset = load_rules(settings.home, [])
    engine = Engine(settings, store, ruleset, env={}, sleep=lambda s: None)
    result = engine.evaluate(T0)
    assert result.notifications == 0 and result.failed_notifications == 3
    errors = sorted(a.error or "" for a in result.attempts)
    assert any("TEST_SLACK_URL" in e and "not set" in e for e in errors)
    assert any("SITELEDGER_SMTP_HOST" in e for e in errors)
    history = AlertStore(store).history()
    failures = [h.detail for h in history if h.kind == "notification"]
    assert failures and all(not d["ok"] for d in failures)
    assert WEBHOOK_SECRET not in json.dumps(failures)


def test_rows_sharing_a_scope_and_a_time_are_the_rules_error_not_a_silent_choice(world):  # type: ignore[no-untyped-def]
    settings, store, evaluate, hook, *_ = world
    _publish(settings, [85, 90])
    with duckdb.connect(str(settings.published_db)) as con:
        # a second row for dam on 2025-07-02 (a join gone wrong upstream): which one is true?
        con.execute("insert into fct_levels values ('s1', 'dam', date '2025-07-02', 10, 200000)")
        con.execute("create or replace table fct_other as select * from fct_levels limit 0")
    result = evaluate(T0)
    error = result.errors["dam_full"]
    assert "2 rows that share a scope and a time" in error
    assert "node_id=dam" in error and "2025-07-02" in error
    assert AlertStore(store).events() == [] and hook.requests == []
    # the duplicate gone, the same rows are judged: nothing was marked as seen meanwhile
    _publish(settings, [85, 90])
    result = evaluate(T0 + dt.timedelta(minutes=1))
    assert "dam_full" not in result.errors
    assert [t.to_state for t in result.transitions] == ["pending", "firing"]


def test_a_live_source_that_fails_is_its_rules_error_and_the_others_go_on(world):  # type: ignore[no-untyped-def]
    settings, _store, evaluate, hook, *_ = world
    _publish(settings, [85, 90])
    with duckdb.connect(str(settings.published_db)) as con:
        # a warehouse from before the organisation columns: the report deadlines cannot be read
        con.execute("create or replace table dim_sites as select 's1' as site_id")
    result = evaluate(T0)
    for rule_id in ("report_overdue", "report_due_soon", "report_requirement_breached"):
        assert result.errors[rule_id].startswith("cannot read reports_due:"), rule_id
    assert [t.to_state for t in result.transitions] == ["pending", "firing"]
    assert _alerts(hook.requests[0].json()) == [("dam_full", "firing", "warning")]
