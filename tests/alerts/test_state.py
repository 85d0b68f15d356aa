"""The alert lifecycle in the state store (SQLite file database): transitions by hand-written
sequences of observations, notifications due and recorded, operator actions and silences."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import duckdb
import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from alerts.state import (
    AlertEvent,
    AlertHistory,
    AlertStateError,
    AlertStore,
    Due,
    Matcher,
    Transition,
)
from alerts.types import Attempt, Escalation, LifecyclePolicy, Observation, fingerprint
from siteledger.state.store import StateStore
from tests.postgres import scratch_database

T0 = dt.datetime(2025, 7, 1, 6, 0, tzinfo=dt.UTC)
RULE = "closure_error"
LABELS = {"site": "demo_mine", "node": "tsf"}
META = {
    "category": "data_quality",
    "description": "Water balance closure error above 5 %",
    "action": "Check the inflow meters",
    "unit": "%",
}
FP = fingerprint(RULE, LABELS)


@pytest.fixture
def alerts(tmp_path) -> Iterator[AlertStore]:
    state = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        yield AlertStore(state)
    finally:
        state.dispose()


def at(day: int, hours: float = 0) -> dt.datetime:
    """The wall-clock time of the evaluation of data day ``day``."""
    return T0 + dt.timedelta(days=day, hours=hours)


def see(
    alerts: AlertStore,
    policy: LifecyclePolicy,
    day: int,
    breached: bool | None,
    value: float | None = None,
    labels: Mapping[str, str] = LABELS,
    rule_id: str = RULE,
    meta: Mapping[str, Any] = META,
) -> list[Transition]:
    obs = Observation(
        rule_id=rule_id,
        labels=labels,
        breached=breached,
        observed_at=f"2025-07-{day:02d}",
        evaluated_at=at(day),
        value=value,
        threshold="5",
        summary=f"closure error {value}% on day {day}",
        details={"day": day},
    )
    return alerts.observe([(policy, obs, dict(meta))])


def moves(transitions: Sequence[Transition]) -> list[tuple[str | None, str]]:
    return [(t.from_state, t.to_state) for t in transitions]


def only_event(alerts: AlertStore) -> AlertEvent:
    events = alerts.events()
    assert len(events) == 1
    return events[0]


def ok(due: Due, channel: str, when: dt.datetime, attempt: int = 1) -> list[Attempt]:
    return [
        Attempt(
            digest_id=f"dg-{due.event_id}-{channel}",
            channel=channel,
            kind=channel,
            target=f"{channel}:o***@example.org",
            attempt=attempt,
            ok=True,
            at=when,
            status_code=200,
            event_ids=(due.event_id,),
        )
    ]


def failed(due: Due, channel: str, when: dt.datetime, tries: int = 3) -> list[Attempt]:
    return [
        Attempt(
            digest_id=f"dg-{due.event_id}-{channel}",
            channel=channel,
            kind=channel,
            target="https://hooks.slack.com/services/T***",
            attempt=n,
            ok=False,
            at=when,
            status_code=503,
            error="service unavailable",
        )
        for n in range(1, tries + 1)
    ]


def deliver(alerts: AlertStore, dues: Sequence[Due], when: dt.datetime) -> None:
    for due in dues:
        for channel in due.channels:
            alerts.record_notification(due, channel, ok(due, channel, when), when)


def kinds(alerts: AlertStore, kind: str) -> list[AlertHistory]:
    return [row for row in alerts.history() if row.kind == kind]


# -- lifecycle --------------------------------------------------------------------------------


def test_three_breaches_fire_and_two_clears_resolve(alerts):
    policy = LifecyclePolicy(for_count=3, keep_firing_count=2)
    assert moves(see(alerts, policy, 1, True, 6.1)) == [(None, "pending")]
    assert see(alerts, policy, 2, True, 6.4) == []
    event = only_event(alerts)
    assert (event.state, event.occurrences, event.fired_at) == ("pending", 2, None)
    fired = see(alerts, policy, 3, True, 7.0)
    assert moves(fired) == [("pending", "firing")]
    assert fired[0].at == at(3) and fired[0].observed_at == "2025-07-03"
    # one clear is not enough; a breach in between starts the count again
    assert see(alerts, policy, 4, False, 4.0) == []
    assert only_event(alerts).consecutive_clears == 1
    assert see(alerts, policy, 5, True, 5.5) == []
    event = only_event(alerts)
    assert (event.consecutive_clears, event.occurrences) == (0, 4)
    assert see(alerts, policy, 6, False, 3.0) == []
    resolved = see(alerts, policy, 7, False, 2.5)
    assert moves(resolved) == [("firing", "resolved")]
    event = only_event(alerts)
    assert event.state == "resolved" and event.resolution == "auto"
    assert (event.opened_at, event.fired_at, event.resolved_at) == (at(1), at(3), at(7))
    assert (event.first_observed_at, event.last_observed_at) == ("2025-07-01", "2025-07-07")
    assert event.value == 2.5 and event.summary == "closure error 2.5% on day 7"
    assert event.details == {"day": 7} and event.unit == "%" and event.category == "data_quality"
    assert event.site == "demo_mine" and event.labels == LABELS and event.fingerprint == FP
    history = [(h.from_state, h.to_state) for h in kinds(alerts, "transition")]
    assert history == [(None, "pending"), ("pending", "firing"), ("firing", "resolved")]
    assert all(h.event_id == event.event_id for h in alerts.history())


def test_for_count_one_opens_firing_at_once(alerts):
    transitions = see(alerts, LifecyclePolicy(for_count=1), 1, True, 9.0)
    assert moves(transitions) == [(None, "firing")]
    event = only_event(alerts)
    assert event.fired_at == at(1) and event.opened_at == at(1) and event.occurrences == 1


def test_pending_that_clears_closes_without_firing_and_history_shows_it(alerts):
    policy = LifecyclePolicy(for_count=3)
    see(alerts, policy, 1, True, 6.0)
    see(alerts, policy, 2, True, 6.0)
    assert moves(see(alerts, policy, 3, False, 1.0)) == [("pending", "resolved")]
    closed = only_event(alerts)
    assert closed.resolution == "cleared_before_firing" and closed.fired_at is None
    assert closed.resolved_at == at(3)
    # the count starts again: a new event, pending, one occurrence
    assert moves(see(alerts, policy, 4, True, 6.0)) == [(None, "pending")]
    newest = alerts.events()[0]
    assert newest.event_id != closed.event_id and newest.occurrences == 1
    assert [(h.event_id, h.to_state) for h in kinds(alerts, "transition")] == [
        (closed.event_id, "pending"),
        (closed.event_id, "resolved"),
        (newest.event_id, "pending"),
    ]


@pytest.mark.parametrize(
    ("no_data", "expected_state", "expected_moves"),
    [
        ("ok", "resolved", [("firing", "resolved")]),
        ("keep_last", "firing", []),
        ("alerting", "firing", []),
    ],
)
def test_no_data_on_a_firing_alert(alerts, no_data, expected_state, expected_moves):
    policy = LifecyclePolicy(for_count=1, no_data=no_data)
    see(alerts, policy, 1, True, 8.0)
    assert moves(see(alerts, policy, 2, None)) == expected_moves
    event = only_event(alerts)
    assert event.state == expected_state
    if no_data == "keep_last":
        # nothing changes, not even the data last seen: day 2 may still arrive
        assert (event.last_observed_at, event.value, event.occurrences) == ("2025-07-01", 8.0, 1)
        assert moves(see(alerts, policy, 2, False, 1.0)) == [("firing", "resolved")]
        assert only_event(alerts).last_observed_at == "2025-07-02"
    elif no_data == "alerting":
        assert event.occurrences == 2 and event.value is None


def test_no_data_alerting_counts_towards_firing_and_ok_never_opens(alerts):
    alerting = LifecyclePolicy(for_count=2, no_data="alerting")
    assert moves(see(alerts, alerting, 1, None)) == [(None, "pending")]
    assert moves(see(alerts, alerting, 2, None)) == [("pending", "firing")]
    other = {"site": "demo_mine", "node": "pond"}
    assert see(alerts, LifecyclePolicy(no_data="ok"), 1, None, labels=other) == []
    assert see(alerts, LifecyclePolicy(no_data="keep_last"), 2, None, labels=other) == []
    assert len(alerts.events()) == 1


def test_observing_the_same_data_again_changes_nothing(alerts):
    policy = LifecyclePolicy(for_count=2, keep_firing_count=1)
    see(alerts, policy, 1, True, 6.0)
    see(alerts, policy, 2, True, 7.0)
    before = only_event(alerts).as_dict()
    rows = len(alerts.history())
    # the same days again, even with other outcomes: nothing moves
    assert see(alerts, policy, 1, False, 1.0) == []
    assert see(alerts, policy, 2, False, 1.0) == []
    assert see(alerts, policy, 2, True, 9.0) == []
    assert only_event(alerts).as_dict() == before
    assert len(alerts.history()) == rows
    # after the resolution, re-running a breaching day opens nothing either
    assert moves(see(alerts, policy, 3, False, 1.0)) == [("firing", "resolved")]
    assert see(alerts, policy, 2, True, 7.0) == []
    assert len(alerts.events()) == 1


def test_resolved_stays_closed_and_a_later_breach_opens_a_new_event(alerts):
    policy = LifecyclePolicy(for_count=1)
    see(alerts, policy, 1, True, 6.0)
    see(alerts, policy, 2, False, 1.0)
    first = only_event(alerts)
    assert first.state == "resolved"
    see(alerts, policy, 3, False, 1.0)
    assert alerts.get(first.event_id).resolved_at == at(2)
    assert moves(see(alerts, policy, 4, True, 6.0)) == [(None, "firing")]
    events = alerts.events()
    assert [e.state for e in events] == ["firing", "resolved"]
    assert events[0].event_id > first.event_id and events[0].fingerprint == first.fingerprint
    assert events[0].first_observed_at == "2025-07-04"


def test_one_batch_applies_its_observations_in_order(alerts):
    policy = LifecyclePolicy(for_count=2, keep_firing_count=1)
    pond = {"site": "demo_mine", "node": "pond"}

    def obs(day: int, breached: bool, labels: Mapping[str, str] = LABELS) -> Observation:
        return Observation(RULE, labels, breached, f"2025-07-{day:02d}", at(day), value=day)

    batch = [
        (policy, obs(1, True), META),
        (policy, obs(1, True, pond), META),
        (policy, obs(2, True), META),
        (policy, obs(3, False), META),
        (policy, obs(2, False, pond), META),
        (policy, obs(1, True), META),  # older than what the batch applied: ignored
    ]
    transitions = alerts.observe(batch)
    assert [(t.fingerprint == FP, t.from_state, t.to_state) for t in transitions] == [
        (True, None, "pending"),
        (False, None, "pending"),
        (True, "pending", "firing"),
        (True, "firing", "resolved"),
        (False, "pending", "resolved"),
    ]
    assert all(e.state == "resolved" for e in alerts.events())


def test_auto_resolve_off_waits_for_a_person(alerts):
    policy = LifecyclePolicy(for_count=1, auto_resolve=False)
    see(alerts, policy, 1, True, 6.0)
    for day in range(2, 6):
        assert see(alerts, policy, day, False, 1.0) == []
    event = only_event(alerts)
    assert event.state == "firing" and event.consecutive_clears == 4
    resolved = alerts.resolve(event.event_id, "ana", "meter replaced", now=at(5, 2))
    assert resolved.state == "resolved" and resolved.resolution == "manual"
    assert (resolved.resolved_by, resolved.resolve_note) == ("ana", "meter replaced")
    assert resolved.resolved_at == at(5, 2)
    row = kinds(alerts, "resolve")[0]
    assert (row.from_state, row.to_state, row.actor) == ("firing", "resolved", "ana")
    with pytest.raises(AlertStateError, match="resolved already"):
        alerts.resolve(event.event_id, "ben")
    assert moves(see(alerts, policy, 6, True, 6.0)) == [(None, "firing")]


def test_error_policies(alerts):
    alerting = LifecyclePolicy(for_count=2, on_error="alerting")
    see(alerts, alerting, 1, True, 6.0)
    pond = {"site": "demo_mine", "node": "pond"}
    see(alerts, LifecyclePolicy(for_count=1), 1, True, 6.0, labels=pond)
    see(alerts, LifecyclePolicy(for_count=1), 2, False, 1.0, labels=pond)
    assert alerts.error(RULE, LifecyclePolicy(on_error="keep_last"), None, "boom", at(3)) == []
    # alerting: the pending one counts a breach (fires); the closed one reopens with its labels
    transitions = alerts.error(RULE, alerting, None, "source unreadable", at(3))
    assert set(moves(transitions)) == {(None, "pending"), ("pending", "firing")}
    by_labels = {e.labels["node"]: e for e in (alerts.get(t.event_id) for t in transitions)}
    assert by_labels["tsf"].state == "firing"
    assert by_labels["tsf"].details["error"] == "source unreadable"
    assert by_labels["pond"].labels == pond and by_labels["pond"].state == "pending"
    # ok: the rule's open events count a clear; restricted to one fingerprint here
    cleared = alerts.error(
        RULE, LifecyclePolicy(on_error="ok"), [fingerprint(RULE, pond)], "timeout", at(4)
    )
    assert moves(cleared) == [("pending", "resolved")]
    assert alerts.get(by_labels["tsf"].event_id).state == "firing"


def test_a_second_open_event_for_a_fingerprint_is_refused_by_sqlite(alerts):
    second_open_event_is_refused(alerts)


@pytest.mark.integration
def test_a_second_open_event_for_a_fingerprint_is_refused_by_postgresql():
    with scratch_database() as url:
        state = StateStore(url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            second_open_event_is_refused(AlertStore(state))
        finally:
            state.dispose()


def second_open_event_is_refused(alerts: AlertStore) -> None:
    see(alerts, LifecyclePolicy(for_count=1), 1, True, 6.0)
    row = only_event(alerts).as_dict()
    table = AlertEvent.__table__
    with pytest.raises(IntegrityError), alerts.store.session() as s:
        s.execute(insert(table).values({**row, "event_id": "x-second-open", "state": "pending"}))
    # closed events of the same fingerprint are fine, as many as there are
    with alerts.store.session() as s:
        for n in range(2):
            s.execute(insert(table).values({**row, "event_id": f"x-old-{n}", "state": "resolved"}))
        opened = s.scalars(
            select(AlertEvent.event_id).where(AlertEvent.state.in_(("pending", "firing")))
        ).all()
    assert opened == [row["event_id"]]


# -- notifications ----------------------------------------------------------------------------

NOTIFY = LifecyclePolicy(for_count=2, channels=("email", "slack"))


def test_pending_never_notifies_firing_notifies_once_then_repeats(alerts):
    policy = LifecyclePolicy(for_count=2, channels=("email", "slack"))
    policies = {RULE: policy}
    see(alerts, policy, 1, True, 6.0)
    assert alerts.due_notifications(at(1, 1), policies) == []
    see(alerts, policy, 2, True, 6.5)
    dues = alerts.due_notifications(at(2), policies)
    assert [(d.status, d.channels, d.notice) for d in dues] == [
        ("firing", ("email", "slack"), "firing")
    ]
    message = dues[0].message
    assert (message.severity, message.category, message.unit) == ("warning", "data_quality", "%")
    assert message.started_at == at(2) and message.observed_at == "2025-07-02"
    assert message.value == 6.5 and message.labels == LABELS and message.action == META["action"]
    deliver(alerts, dues, at(2))
    assert alerts.due_notifications(at(2), policies) == []
    assert alerts.due_notifications(at(2, 3.9), policies) == []
    repeat = alerts.due_notifications(at(2, 4), policies)
    assert [(d.status, d.channels, d.notice) for d in repeat] == [
        ("repeat", ("email", "slack"), "repeat:1")
    ]
    deliver(alerts, repeat, at(2, 4))
    assert alerts.due_notifications(at(2, 4), policies) == []
    event = only_event(alerts)
    assert (event.notify_count, event.repeat_count) == (2, 1)
    assert event.notified_firing_at == at(2) and event.last_notified_at == at(2, 4)
    assert len(kinds(alerts, "notification")) == 4
    # a rule no longer configured notifies nothing
    assert alerts.due_notifications(at(5), {}) == []


def test_ack_stops_repeats_and_escalation_until_the_ack_times_out(alerts):
    policy = LifecyclePolicy(
        for_count=1,
        channels=("email",),
        repeat_interval=dt.timedelta(hours=1),
        ack_timeout=dt.timedelta(hours=3),
        escalation=Escalation(after=dt.timedelta(hours=2), channels=("sms",)),
    )
    policies = {RULE: policy}
    see(alerts, policy, 1, True, 6.0)
    deliver(alerts, alerts.due_notifications(at(1), policies), at(1))
    event = alerts.ack(only_event(alerts).event_id[-12:-6], "ana", "on my way", now=at(1, 0.5))
    assert (event.acked_by, event.ack_note, event.acked_at) == ("ana", "on my way", at(1, 0.5))
    # acknowledged: no repeat after 1 h, no escalation after 2 h
    for hours in (1, 2, 3):
        assert alerts.due_notifications(at(1, hours), policies) == []
    # the ack is 3 h old at 3.5 h: escalation (2 h since firing) and repeats are back
    dues = alerts.due_notifications(at(1, 3.5), policies)
    assert [(d.status, d.channels) for d in dues] == [("escalated", ("email", "sms"))]
    assert dues[0].message.acknowledged_by == "ana"
    deliver(alerts, dues, at(1, 3.5))
    assert alerts.due_notifications(at(1, 4), policies) == []
    assert [(d.status, d.channels) for d in alerts.due_notifications(at(1, 4.5), policies)] == [
        ("repeat", ("email", "sms"))
    ]
    # acking again stops repeats again; unack resumes them
    alerts.ack(event.event_id, "ben", None, now=at(1, 4.6))
    assert alerts.due_notifications(at(1, 5), policies) == []
    alerts.unack(event.event_id, "ben", "handing over", now=at(1, 5))
    assert [d.status for d in alerts.due_notifications(at(1, 5), policies)] == ["repeat"]
    assert [h.actor for h in kinds(alerts, "ack")] == ["ana", "ben"]
    unack = kinds(alerts, "unack")[0]
    assert unack.detail["previous"] == {"acked_by": "ben", "ack_note": None}


def test_escalation_after_occurrences_happens_once(alerts):
    policy = LifecyclePolicy(
        severity="warning",
        for_count=2,
        channels=("email",),
        repeat_interval=dt.timedelta(days=7),
        escalation=Escalation(after_occurrences=4, channels=("sms",), severity="critical"),
    )
    policies = {RULE: policy}
    for day in (1, 2):
        see(alerts, policy, day, True, 6.0)
    deliver(alerts, alerts.due_notifications(at(2), policies), at(2))
    see(alerts, policy, 3, True, 6.0)
    assert alerts.due_notifications(at(3), policies) == []
    see(alerts, policy, 4, True, 6.0)
    dues = alerts.due_notifications(at(4), policies)
    assert [(d.status, d.channels, d.message.severity) for d in dues] == [
        ("escalated", ("email", "sms"), "critical")
    ]
    deliver(alerts, dues, at(4))
    for day in (5, 6):
        see(alerts, policy, day, True, 6.0)
        assert alerts.due_notifications(at(day), policies) == []
    event = only_event(alerts)
    assert event.severity == "critical" and event.escalated_at == at(4)
    escalations = kinds(alerts, "escalate")
    assert len(escalations) == 1
    assert escalations[0].detail["severity_from"] == "warning"
    assert escalations[0].detail["trigger"] == "after_occurrences=4"
    # repeats now go to the escalation's channels too
    repeat = alerts.due_notifications(at(11), policies)
    assert [(d.status, d.channels) for d in repeat] == [("repeat", ("email", "sms"))]


def test_escalation_after_repeats_happens_once(alerts):
    policy = LifecyclePolicy(
        for_count=1,
        channels=("email",),
        repeat_interval=dt.timedelta(hours=1),
        escalation=Escalation(after_repeats=2, channels=("pager",)),
    )
    policies = {RULE: policy}
    see(alerts, policy, 1, True, 6.0)
    statuses = []
    for hours in range(6):
        dues = alerts.due_notifications(at(1, hours), policies)
        statuses.append([(d.status, d.channels) for d in dues])
        deliver(alerts, dues, at(1, hours))
    assert statuses == [
        [("firing", ("email",))],
        [("repeat", ("email",))],
        [("repeat", ("email",))],
        [("escalated", ("email", "pager"))],
        [("repeat", ("email", "pager"))],
        [("repeat", ("email", "pager"))],
    ]
    assert len(kinds(alerts, "escalate")) == 1
    assert only_event(alerts).severity == "warning"  # the escalation raises no severity


def test_escalation_after_time_unacknowledged_happens_once(alerts):
    policy = LifecyclePolicy(
        for_count=1,
        channels=("email",),
        escalation=Escalation(after=dt.timedelta(minutes=30), severity="critical"),
    )
    policies = {RULE: policy}
    see(alerts, policy, 1, True, 6.0)
    deliver(alerts, alerts.due_notifications(at(1), policies), at(1))
    assert alerts.due_notifications(at(1, 0.4), policies) == []
    dues = alerts.due_notifications(at(1, 0.5), policies)
    assert [(d.status, d.channels, d.message.severity) for d in dues] == [
        ("escalated", ("email",), "critical")
    ]
    deliver(alerts, dues, at(1, 0.5))
    assert alerts.due_notifications(at(1, 1), policies) == []
    assert len(kinds(alerts, "escalate")) == 1


def test_resolution_is_notified_once_to_the_channels_that_heard_of_the_alert(alerts):
    policy = LifecyclePolicy(for_count=1, channels=("email", "slack"))
    policies = {RULE: policy}
    see(alerts, policy, 1, True, 6.0)
    first = alerts.due_notifications(at(1), policies)[0]
    # e-mail got it, Slack never did
    alerts.record_notification(first, "email", ok(first, "email", at(1)), at(1))
    alerts.record_notification(first, "slack", failed(first, "slack", at(1)), at(1))
    see(alerts, policy, 2, False, 1.0)
    dues = alerts.due_notifications(at(2), policies)
    assert [(d.status, d.channels) for d in dues] == [("resolved", ("email",))]
    assert dues[0].message.resolved_at == at(2)
    deliver(alerts, dues, at(2))
    assert alerts.due_notifications(at(2), policies) == []
    assert alerts.due_notifications(at(9), policies) == []
    event = only_event(alerts)
    assert event.resolution_notified_at == at(2) and not event.resolution_pending
    # nothing announced, nothing to resolve: a quiet policy and a pending alert
    quiet = LifecyclePolicy(for_count=1, channels=("email",), notify_resolved=False)
    pond = {"site": "demo_mine", "node": "pond"}
    see(alerts, quiet, 3, True, 6.0, labels=pond)
    deliver(alerts, alerts.due_notifications(at(3), {RULE: quiet}), at(3))
    see(alerts, quiet, 4, False, 1.0, labels=pond)
    assert alerts.due_notifications(at(4), {RULE: quiet}) == []
    manual = LifecyclePolicy(for_count=3, channels=("email",))
    see(alerts, manual, 5, True, 6.0)
    alerts.resolve(alerts.events(state="pending")[0].event_id, "ana", now=at(5, 1))
    assert alerts.due_notifications(at(5, 1), {RULE: manual}) == []


def test_partial_delivery_is_retried_only_where_it_failed(alerts):
    policy = LifecyclePolicy(for_count=1, channels=("email", "slack"))
    policies = {RULE: policy}
    see(alerts, policy, 1, True, 6.0)
    due = alerts.due_notifications(at(1), policies)[0]
    alerts.record_notification(due, "email", ok(due, "email", at(1)), at(1))
    alerts.record_notification(due, "slack", failed(due, "slack", at(1)), at(1))
    retry = alerts.due_notifications(at(1, 0.25), policies)
    assert [(d.status, d.channels, d.notice) for d in retry] == [("firing", ("slack",), "firing")]
    alerts.record_notification(retry[0], "slack", failed(retry[0], "slack", at(1, 0.25), 1), at(1))
    retry = alerts.due_notifications(at(1, 0.5), policies)
    assert [d.channels for d in retry] == [("slack",)]
    alerts.record_notification(retry[0], "slack", ok(retry[0], "slack", at(1, 0.5), 2), at(1, 0.5))
    assert alerts.due_notifications(at(1, 0.5), policies) == []
    event = only_event(alerts)
    # one notice, delivered in two goes: counted once, timed by its first delivery
    assert (event.notify_count, event.last_notified_at) == (1, at(1))
    rows = kinds(alerts, "notification")
    assert [(r.detail["channel"], r.detail["attempt"], r.detail["ok"]) for r in rows] == [
        ("email", 1, True),
        ("slack", 1, False),
        ("slack", 2, False),
        ("slack", 3, False),
        ("slack", 1, False),
        ("slack", 2, True),
    ]
    assert rows[1].detail["status_code"] == 503 and rows[1].detail["error"] == "service unavailable"
    assert rows[1].detail["target"] == "https://hooks.slack.com/services/T***"
    assert rows[0].detail["digest_id"] == f"dg-{event.event_id}-email"
    # the resolution goes to both: both heard of the alert
    see(alerts, policy, 2, False, 1.0)
    assert [d.channels for d in alerts.due_notifications(at(2), policies)] == [("email", "slack")]


def test_a_resolution_notice_is_retried_where_it_failed_then_given_up(alerts):
    policy = LifecyclePolicy(
        for_count=1, channels=("email", "slack"), repeat_interval=dt.timedelta(hours=2)
    )
    policies = {RULE: policy}
    see(alerts, policy, 1, True, 6.0)
    deliver(alerts, alerts.due_notifications(at(1), policies), at(1))
    see(alerts, policy, 2, False, 1.0)
    due = alerts.due_notifications(at(2), policies)[0]
    alerts.record_notification(due, "email", ok(due, "email", at(2)), at(2))
    alerts.record_notification(due, "slack", failed(due, "slack", at(2)), at(2))
    event = only_event(alerts)
    assert event.resolution_notified_at == at(2) and event.resolution_pending
    retry = alerts.due_notifications(at(2, 1), policies)
    assert [(d.status, d.channels, d.notice) for d in retry] == [
        ("resolved", ("slack",), "resolved")
    ]
    alerts.record_notification(retry[0], "slack", failed(retry[0], "slack", at(2, 1)), at(2, 1))
    # a whole repeat interval of failures: the channel is given up, and the history says so
    assert alerts.due_notifications(at(2, 2), policies) == []
    assert alerts.due_notifications(at(3), policies) == []
    gave_up = [r for r in kinds(alerts, "notification") if "gave_up" in r.detail]
    assert [r.detail["gave_up"] for r in gave_up] == [["slack"]]
    assert not only_event(alerts).resolution_pending


def test_a_digest_is_recorded_in_one_call(alerts):
    policy = LifecyclePolicy(for_count=1, channels=("webhook",))
    for node in ("tsf", "pond", "dam"):
        see(alerts, policy, 1, True, 6.0, labels={"site": "demo_mine", "node": node})
    dues = alerts.due_notifications(at(1), {RULE: policy})
    assert len(dues) == 3
    attempt = Attempt("dg-1", "webhook", "webhook", "https://ops.example.org/***", 1, True, at(1))
    events = alerts.record_notifications([(d, "webhook", [attempt]) for d in dues], at(1))
    assert [e.event_id for e in events] == [d.event_id for d in dues]
    assert all(e.notify_count == 1 and e.notified_firing_at == at(1) for e in events)
    assert alerts.due_notifications(at(1), {RULE: policy}) == []
    assert {r.detail["digest_id"] for r in kinds(alerts, "notification")} == {"dg-1"}
    unknown = dataclasses.replace(dues[0].message, event_id="20250101T000000-000000000000")
    gone = Due(unknown, ("webhook",), "firing")
    with pytest.raises(AlertStateError, match="no alert event"):
        alerts.record_notifications([(gone, "webhook", [attempt])], at(1))
    assert len(kinds(alerts, "notification")) == 3


def test_a_rule_without_channels_is_quiet_until_it_escalates(alerts):
    policy = LifecyclePolicy(
        for_count=1,
        repeat_interval=dt.timedelta(hours=1),
        escalation=Escalation(after_occurrences=3, channels=("pager",)),
    )
    policies = {RULE: policy}
    see(alerts, policy, 1, True, 6.0)
    see(alerts, policy, 2, True, 6.0)
    assert alerts.due_notifications(at(2), policies) == []
    assert only_event(alerts).delivery == {}
    see(alerts, policy, 3, True, 6.0)
    dues = alerts.due_notifications(at(3), policies)
    assert [(d.status, d.channels) for d in dues] == [("escalated", ("pager",))]
    deliver(alerts, dues, at(3))
    repeat = alerts.due_notifications(at(3, 1), policies)
    assert [(d.status, d.channels) for d in repeat] == [("repeat", ("pager",))]


# -- silences ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matcher", "silenced"),
    [
        ({"label": "site", "op": "=", "value": "demo_mine"}, True),
        ({"label": "site", "op": "=", "value": "other_mine"}, False),
        ({"label": "site", "op": "!=", "value": "other_mine"}, True),
        ({"label": "site", "op": "!=", "value": "demo_mine"}, False),
        ({"label": "node", "op": "=~", "value": "ts."}, True),
        ({"label": "node", "op": "=~", "value": "ts"}, False),  # the whole value must match
        ({"label": "node", "op": "!~", "value": "pond|dam"}, True),
        ({"label": "node", "op": "!~", "value": "t.*"}, False),
        ({"label": "meter", "op": "=", "value": ""}, True),  # a missing label reads as empty
        ("rule_id=closure_error", True),
        ("severity=~warning|critical", True),
        ("category!=data_quality", False),
    ],
)
def test_silence_matchers(alerts, matcher, silenced):
    policy = LifecyclePolicy(for_count=1, channels=("email",))
    see(alerts, policy, 1, True, 6.0)
    alerts.silence([matcher], at(0), at(3), "ana", "maintenance", now=at(0))
    dues = alerts.due_notifications(at(1), {RULE: policy})
    assert (dues == []) is silenced
    assert len(kinds(alerts, "suppressed")) == (1 if silenced else 0)


def test_silence_window_and_suppression_recorded_once(alerts):
    policy = LifecyclePolicy(for_count=1, channels=("email",))
    policies = {RULE: policy}
    see(alerts, policy, 1, True, 6.0)
    site = alerts.silence(["site=demo_mine"], at(1, 1), at(1, 3), "ana", "pump swap", now=at(1))
    node = alerts.silence([Matcher.of("node=~t.*")], at(1, 2), at(1, 3), "ben", now=at(1))
    assert [len(alerts.due_notifications(at(1, 0.5), policies))] == [1]  # before the window
    for hours in (1, 1.5, 2, 2.5, 2.9):
        assert alerts.due_notifications(at(1, hours), policies) == []
    suppressed = kinds(alerts, "suppressed")
    assert [(r.detail["silence_id"], r.actor) for r in suppressed] == [
        (site.silence_id, "ana"),
        (node.silence_id, "ben"),
    ]
    assert [s.silence_id for s in alerts.silences(now=at(1, 2))] == [
        s.silence_id for s in alerts.silences(active_only=False)
    ]
    assert alerts.silences(now=at(1, 3)) == []
    # after the window the firing notice (never sent) goes out
    dues = alerts.due_notifications(at(1, 3), policies)
    assert [(d.status, d.channels) for d in dues] == [("firing", ("email",))]
    # lifted early: notifications flow at once
    deliver(alerts, dues, at(1, 3))
    later = alerts.silence(["site=demo_mine"], at(1, 3), at(9), "ana", now=at(1, 3))
    assert alerts.due_notifications(at(1, 7), policies) == []
    lifted = alerts.unsilence(later.silence_id[-12:-4], "ben", now=at(1, 8))
    assert (lifted.expired_by, lifted.expired_at) == ("ben", at(1, 8))
    assert [d.status for d in alerts.due_notifications(at(1, 8), policies)] == ["repeat"]
    with pytest.raises(AlertStateError, match="lifted already"):
        alerts.unsilence(later.silence_id, "ana", now=at(1, 9))
    assert [h.kind for h in alerts.history() if h.event_id is None] == [
        "silence",
        "silence",
        "silence",
        "unsilence",
    ]


@pytest.mark.parametrize(
    ("matchers", "message"),
    [
        ([{"label": "node", "op": "=~", "value": "ts("}], "bad regex"),
        ([{"label": "node", "op": "==", "value": "x"}], "not one of"),
        (["node ~ x"], "not 'label op value'"),
        ([{"label": "node", "value": "x"}], "lacks"),
        ([], "at least one matcher"),
    ],
)
def test_invalid_silences_are_refused(alerts, matchers, message):
    with pytest.raises(AlertStateError, match=message):
        alerts.silence(matchers, at(1), at(2), "ana")
    assert alerts.silences(active_only=False) == []


def test_silence_times_must_make_sense(alerts):
    with pytest.raises(AlertStateError, match="before it starts"):
        alerts.silence(["site=x"], at(2), at(1), "ana")
    with pytest.raises(AlertStateError, match="timezone-aware"):
        alerts.silence(["site=x"], dt.datetime(2025, 7, 1), at(1), "ana")


# -- operators, reading -----------------------------------------------------------------------


def test_operator_errors_are_clear(alerts):
    policy = LifecyclePolicy(for_count=1)
    see(alerts, policy, 1, True, 6.0)
    see(alerts, policy, 1, True, 6.0, labels={"site": "demo_mine", "node": "pond"})
    events = alerts.events()
    with pytest.raises(AlertStateError, match="no alert event"):
        alerts.ack("nope-nope", "ana")
    with pytest.raises(AlertStateError, match="several"):
        alerts.ack(events[0].event_id[:10], "ana")  # both opened the same second
    event = alerts.ack(events[0].event_id[-12:], "ana", now=at(1, 1))  # the random part
    assert event.event_id == events[0].event_id
    with pytest.raises(AlertStateError, match="not acknowledged"):
        alerts.unack(events[1].event_id, "ana")
    alerts.resolve(events[1].event_id, "ana", now=at(1, 1))
    with pytest.raises(AlertStateError, match="only an open one"):
        alerts.ack(events[1].event_id, "ana")
    with pytest.raises(AlertStateError, match="no silence"):
        alerts.unsilence("nope-nope", "ana")


def test_events_filters_history_and_frames(alerts):
    policy = LifecyclePolicy(for_count=1, severity="critical")
    see(alerts, policy, 1, True, 6.0)
    see(alerts, LifecyclePolicy(for_count=2), 2, True, 1.0, labels={"site": "other", "node": "x"})
    see(alerts, LifecyclePolicy(), 2, True, 1.0, rule_id="store_level", labels={"site": "other"})
    assert len(alerts.events()) == 3 and len(alerts.events(limit=2)) == 2
    assert [e.rule_id for e in alerts.events(state="firing")] == ["store_level", RULE]
    assert len(alerts.events(state="open")) == 3 and alerts.events(state="resolved") == []
    assert [e.labels for e in alerts.events(state="pending")] == [{"site": "other", "node": "x"}]
    assert [e.state for e in alerts.events(severity="critical")] == ["firing"]
    assert len(alerts.events(site="other")) == 2 and len(alerts.events(rule_id=RULE)) == 2
    with pytest.raises(AlertStateError, match="unknown state"):
        alerts.events(state="acked")
    first = alerts.events(site="demo_mine")[0]
    assert [h.kind for h in alerts.history(first.event_id)] == ["transition"]
    assert [h.id for h in alerts.history(limit=2)] == [h.id for h in alerts.history()[-2:]]

    events, history = alerts.events_frame(), alerts.history_frame()
    assert len(events) == 3 and len(history) == 3
    assert list(events["event_id"]) == sorted(events["event_id"])
    dtypes = {name: str(dtype) for name, dtype in events.dtypes.items()}
    assert dtypes["event_id"] == "string" and dtypes["value"] == "Float64"
    assert dtypes["opened_at"] == "datetime64[us, UTC]" and dtypes["occurrences"] == "Int64"
    assert dtypes["resolution_pending"] == "boolean" and dtypes["labels"] == "string"
    assert events.loc[events["event_id"] == first.event_id, "labels"].item() == (
        '{"node": "tsf", "site": "demo_mine"}'
    )
    assert events["fired_at"].isna().sum() == 1
    assert str(history.dtypes["at"]) == "datetime64[us, UTC]"
    assert str(history.dtypes["id"]) == "Int64"


def test_frames_have_the_same_columns_and_types_when_empty(alerts, tmp_path):
    see(alerts, LifecyclePolicy(for_count=1), 1, True, 6.0)
    full_events, full_history = alerts.events_frame(), alerts.history_frame()
    empty = AlertStore(StateStore(f"sqlite:///{tmp_path / 'empty.db'}"))
    assert empty.events_frame().dtypes.to_dict() == full_events.dtypes.to_dict()
    assert empty.history_frame().dtypes.to_dict() == full_history.dtypes.to_dict()
    assert len(empty.events_frame()) == 0
    # published as marts: DuckDB reads the same column types from both
    con = duckdb.connect()
    for name, frame in {
        "events_full": full_events,
        "events_empty": empty.events_frame(),
        "history_full": full_history,
        "history_empty": empty.history_frame(),
    }.items():
        con.register(name, frame)
    described = {
        name: con.execute(f"describe select * from {name}").fetchall()
        for name in ("events_full", "events_empty", "history_full", "history_empty")
    }
    assert described["events_full"] == described["events_empty"]
    assert described["history_full"] == described["history_empty"]
    types = {row[0]: row[1] for row in described["events_full"]}
    assert types["opened_at"] == "TIMESTAMP WITH TIME ZONE" and types["notify_count"] == "BIGINT"
    assert types["labels"] == "VARCHAR" and types["resolution_pending"] == "BOOLEAN"


def test_ten_thousand_observations_in_one_batch(alerts):
    policy = LifecyclePolicy(for_count=2)

    def batch(day: int) -> list[tuple[LifecyclePolicy, Observation, dict[str, Any]]]:
        return [
            (
                policy,
                Observation(
                    "meter_flow_high",
                    {"site": "demo_mine", "meter": f"m{i:05d}"},
                    breached=i % 10 != day,
                    observed_at=f"2025-07-{day:02d}",
                    evaluated_at=at(day),
                    value=float(i),
                ),
                META,
            )
            for i in range(10_000)
        ]

    # speed is measured by benchmarks/bench_alert_state.py, not asserted here
    opened = alerts.observe(batch(1))
    moved = alerts.observe(batch(2))
    assert len(opened) == 9_000 and {t.to_state for t in opened} == {"pending"}
    # day 2: 8 000 fire, 1 000 clear before firing, 1 000 open
    assert Counter(moves(moved)) == {
        ("pending", "firing"): 8_000,
        ("pending", "resolved"): 1_000,
        (None, "pending"): 1_000,
    }
    assert len(alerts.events(state="firing")) == 8_000
    assert alerts.observe(batch(2)) == []
