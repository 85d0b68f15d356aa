"""Operators acting while a run observes and notifies, in separate processes, on a SQLite file
database and on PostgreSQL: no lock error, no lost transition, no acknowledgement overwritten.

One process observes 24 flapping meters for 40 evaluations and records the notifications each
evaluation makes due (Slack failing every third one); two others acknowledge, resolve, silence
and lift silences on whatever is open at that moment, as fast as they can.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import multiprocessing
import random
import threading
import time
import traceback
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from alerts.state import AlertStateError, AlertStore
from alerts.types import Attempt, Escalation, LifecyclePolicy, Observation
from siteledger.state.store import StateStore
from tests.postgres import scratch_database

RULE = "meter_flow_high"
METERS = 24
EVALUATIONS = 40
POLICY = LifecyclePolicy(
    for_count=2,
    keep_firing_count=2,
    channels=("email", "slack"),
    repeat_interval=dt.timedelta(milliseconds=150),
    escalation=Escalation(after_occurrences=4, channels=("sms",), severity="critical"),
)
META = {"category": "operational", "unit": "m3/h"}
DAY0 = dt.date(2025, 7, 1)


def breached(meter: int, evaluation: int) -> bool:
    """Runs of breaches and clears of a length that depends on the meter: every meter opens,
    fires (or clears before firing) and resolves several times."""
    period = 3 + meter % 5
    return (evaluation + meter) % (2 * period) < period


def _write(out: Path, result: dict[str, Any]) -> None:
    out.write_text(json.dumps(result, default=str))


def observer(url: str, out: str, done: Any) -> None:
    result: dict[str, Any] = {"error": None, "transitions": [], "deliveries": 0}
    store = StateStore(url)
    try:
        alerts = AlertStore(store)
        for n in range(EVALUATIONS):
            now = dt.datetime.now(dt.UTC)
            batch = [
                (
                    POLICY,
                    Observation(
                        RULE,
                        {"site": "demo_mine", "meter": f"m{meter:02d}"},
                        breached=breached(meter, n),
                        observed_at=(DAY0 + dt.timedelta(days=n)).isoformat(),
                        evaluated_at=now,
                        value=float(meter * 100 + n),
                    ),
                    META,
                )
                for meter in range(METERS)
            ]
            for t in alerts.observe(batch):
                result["transitions"].append([t.event_id, t.from_state, t.to_state])
            # one digest per channel, recorded in one go, as the engine does
            digests: dict[str, list[Any]] = defaultdict(list)
            for due in alerts.due_notifications(now, {RULE: POLICY}):
                for channel in due.channels:
                    digests[channel].append(due)
            for channel, dues in digests.items():
                ok = not (channel == "slack" and n % 3 == 0)
                attempt = Attempt(
                    digest_id=f"dg-{n}-{channel}",
                    channel=channel,
                    kind=channel,
                    target=f"{channel}:***",
                    attempt=1,
                    ok=ok,
                    at=now,
                    status_code=200 if ok else 503,
                    error=None if ok else "unavailable",
                    event_ids=tuple(d.event_id for d in dues),
                )
                alerts.record_notifications([(d, channel, [attempt]) for d in dues], now)
                result["deliveries"] += ok * len(dues)
            time.sleep(0.02)
    except BaseException:
        result["error"] = traceback.format_exc()
    finally:
        done.set()
        store.dispose()
        _write(Path(out), result)


def operator(url: str, out: str, done: Any, name: str, seed: int) -> None:
    result: dict[str, Any] = {"error": None, "acks": [], "resolves": [], "refused": []}
    rng = random.Random(seed)
    store = StateStore(url)
    try:
        alerts = AlertStore(store)
        n = 0
        while not done.is_set():
            n += 1
            opened = alerts.events(state="open")
            roll = rng.random()
            try:
                if opened and roll < 0.6:
                    event = rng.choice(opened)
                    note = f"{name}-{n}"
                    acked = alerts.ack(event.event_id, name, note)
                    result["acks"].append([acked.event_id, note])
                elif opened and roll < 0.75:
                    event = rng.choice(opened)
                    note = f"{name}-{n}"
                    alerts.resolve(event.event_id, name, note)
                    result["resolves"].append([event.event_id, note])
                elif roll < 0.9:
                    now = dt.datetime.now(dt.UTC)
                    meter = f"m{rng.randrange(METERS):02d}"
                    alerts.silence(
                        [f"meter={meter}"], now, now + dt.timedelta(seconds=0.3), name, "swap"
                    )
                else:
                    current = alerts.silences()
                    if current:
                        alerts.unsilence(rng.choice(current).silence_id, name)
            except AlertStateError as exc:
                # the event closed, or another operator lifted the silence, in between
                result["refused"].append(str(exc))
            time.sleep(rng.uniform(0.001, 0.01))
    except BaseException:
        result["error"] = traceback.format_exc()
    finally:
        store.dispose()
        _write(Path(out), result)


def run_concurrently(url: str, tmp_path: Path) -> None:
    setup = StateStore(url)
    AlertStore(setup)  # the tables, before the writers start
    setup.dispose()
    ctx = multiprocessing.get_context("spawn")
    done = ctx.Event()
    outs = {name: tmp_path / f"{name}.json" for name in ("observer", "ana", "ben")}
    processes = [ctx.Process(target=observer, args=(url, str(outs["observer"]), done))]
    processes += [
        ctx.Process(target=operator, args=(url, str(outs[name]), done, name, seed))
        for seed, name in enumerate(("ana", "ben"))
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0, 0, 0]
    results = {name: json.loads(path.read_text()) for name, path in outs.items()}
    for name, result in results.items():
        assert result["error"] is None, f"{name}: {result['error']}"

    store = StateStore(url)
    try:
        alerts = AlertStore(store)
        history = alerts.history()
        events = {e.event_id: e for e in alerts.events()}
    finally:
        store.dispose()

    # every transition the observer was told of is in the history, and nothing else is
    observed = results["observer"]["transitions"]
    assert len(observed) >= 200
    recorded = [[h.event_id, h.from_state, h.to_state] for h in history if h.kind == "transition"]
    assert Counter(map(tuple, recorded)) == Counter(map(tuple, observed))

    # each event's history is one unbroken chain of states
    chains: dict[str, list[tuple[str | None, str | None]]] = defaultdict(list)
    for h in history:
        if h.kind in ("transition", "resolve"):
            chains[str(h.event_id)].append((h.from_state, h.to_state))
    for event_id, chain in chains.items():
        assert chain[0][0] is None, (event_id, chain)
        for (_, before), (after, _) in itertools.pairwise(chain):
            assert before == after, (event_id, chain)
        assert chain[-1][1] == events[event_id].state

    # every manual resolution is there, and is the event's resolution
    resolves = [r for name in ("ana", "ben") for r in results[name]["resolves"]]
    assert resolves
    rows = {(h.event_id, h.detail["note"]) for h in history if h.kind == "resolve"}
    assert rows == {tuple(r) for r in resolves}
    for event_id, note in resolves:
        event = events[event_id]
        assert (event.state, event.resolution, event.resolve_note) == ("resolved", "manual", note)

    # every ack is in the history, and the last one of each event is still on the event
    acks = [a for name in ("ana", "ben") for a in results[name]["acks"]]
    assert len(acks) >= 20
    ack_rows = [(h.event_id, h.detail["note"], h.actor) for h in history if h.kind == "ack"]
    assert Counter((e, n) for e, n, _ in ack_rows) == Counter(map(tuple, acks))
    last: dict[str, tuple[str, str]] = {}
    for event_id, note, actor in ack_rows:
        last[str(event_id)] = (note, actor)
    for event_id, (note, actor) in last.items():
        event = events[event_id]
        assert (event.ack_note, event.acked_by) == (note, actor)

    # the run went on notifying meanwhile; refusals are about closed events or lifted silences
    assert results["observer"]["deliveries"] > 0
    assert any(h.kind == "notification" for h in history)
    assert any(h.kind == "silence" for h in history)
    for refusal in results["ana"]["refused"] + results["ben"]["refused"]:
        assert "resolved" in refusal or "lifted already" in refusal, refusal
    open_per_fingerprint = Counter(
        e.fingerprint for e in events.values() if e.state in ("pending", "firing")
    )
    assert all(count == 1 for count in open_per_fingerprint.values())


def test_operators_and_a_run_on_sqlite(tmp_path):
    run_concurrently(f"sqlite:///{tmp_path / 'state.db'}", tmp_path)


@pytest.mark.integration
def test_operators_and_a_run_on_postgresql(tmp_path):
    with scratch_database() as url:
        run_concurrently(url.replace("postgresql://", "postgresql+psycopg://", 1), tmp_path)


def two_evaluators(url: str) -> None:
    store = StateStore(url)
    try:
        alerts = AlertStore(store)
        now = dt.datetime.now(dt.UTC)
        batch = [
            (
                LifecyclePolicy(for_count=1),
                Observation(RULE, {"meter": f"m{i:03d}"}, True, "2025-07-01", now, value=1.0),
                META,
            )
            for i in range(300)
        ]
        barrier = threading.Barrier(2)
        told: list[list[Any]] = []
        errors: list[BaseException] = []

        def evaluate() -> None:
            barrier.wait()
            try:
                told.append(alerts.observe(batch))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=evaluate) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        # one evaluator opened every alert; the other then found them open, with this data seen
        assert sorted(len(t) for t in told) == [0, 300]
        assert len(alerts.events(state="firing")) == 300 and len(alerts.events()) == 300
    finally:
        store.dispose()


def test_two_evaluators_open_one_event_per_alert_on_sqlite(tmp_path):
    two_evaluators(f"sqlite:///{tmp_path / 'state.db'}")


@pytest.mark.integration
def test_two_evaluators_open_one_event_per_alert_on_postgresql():
    with scratch_database() as url:
        two_evaluators(url.replace("postgresql://", "postgresql+psycopg://", 1))
