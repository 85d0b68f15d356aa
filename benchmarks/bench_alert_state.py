#!/usr/bin/env python3
"""Benchmark: the alert lifecycle in the state store, 10 000 alerts (one per meter).

On a fresh SQLite file database and, when a server answers, a fresh PostgreSQL database, times:

* open: one evaluation breaching for 10 000 fingerprints (for_count 2: 10 000 pending events);
* fire: the next evaluation, all still breaching (10 000 pending -> firing);
* again: the same evaluation once more (nothing changes: the data was seen);
* due: the first-firing notices of the 10 000 events, two channels each;
* record: the deliveries of those notices, one call per channel (a digest), and one call per
  event and channel (20 000 transactions) on the first 1 000 events only;
* ack: 100 operator acknowledgements, one transaction each.

Figures are printed and written to ``benchmarks/results/alert_state.json``.

    .venv/bin/python benchmarks/bench_alert_state.py [--alerts 10000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerts.state import AlertStore  # noqa: E402
from alerts.types import Attempt, LifecyclePolicy, Observation  # noqa: E402
from siteledger.state.store import StateStore  # noqa: E402

POLICY = LifecyclePolicy(for_count=2, channels=("email", "slack"))
META = {"category": "operational", "unit": "m3/h"}
T0 = dt.datetime(2025, 7, 1, 6, tzinfo=dt.UTC)


def batch(count: int, day: int) -> list[tuple[LifecyclePolicy, Observation, dict[str, Any]]]:
    return [
        (
            POLICY,
            Observation(
                "meter_flow_high",
                {"site": "demo_mine", "meter": f"m{i:05d}"},
                breached=True,
                observed_at=f"2025-07-{day:02d}",
                evaluated_at=T0 + dt.timedelta(days=day),
                value=float(i),
                threshold="> 120",
                summary=f"flow of m{i:05d} above 120 m3/h",
            ),
            META,
        )
        for i in range(count)
    ]


def timed(figures: dict[str, float], name: str, work: Any) -> Any:
    started = time.perf_counter()
    result = work()
    figures[name] = round(time.perf_counter() - started, 3)
    return result


def run(url: str, count: int) -> dict[str, Any]:
    store = StateStore(url)
    alerts = AlertStore(store)
    figures: dict[str, Any] = {}
    first, second = batch(count, 1), batch(count, 2)
    opened = timed(figures, "open_s", lambda: alerts.observe(first))
    fired = timed(figures, "fire_s", lambda: alerts.observe(second))
    again = timed(figures, "again_s", lambda: alerts.observe(second))
    assert len(opened) == count and len(fired) == count and again == []
    now = T0 + dt.timedelta(days=2)
    dues = timed(
        figures, "due_s", lambda: alerts.due_notifications(now, {"meter_flow_high": POLICY})
    )
    assert len(dues) == count
    ok = {ch: Attempt(f"dg-{ch}", ch, ch, f"{ch}:***", 1, True, now) for ch in POLICY.channels}
    single, digest = dues[: count // 10], dues[count // 10 :]

    def one_by_one() -> None:
        for due in single:
            for channel in due.channels:
                alerts.record_notification(due, channel, [ok[channel]], now)

    def per_digest() -> None:
        for channel in POLICY.channels:
            alerts.record_notifications([(d, channel, [ok[channel]]) for d in digest], now)

    timed(figures, f"record_one_by_one_{len(single)}x2_s", one_by_one)
    timed(figures, f"record_per_digest_{len(digest)}x2_s", per_digest)
    assert alerts.due_notifications(now, {"meter_flow_high": POLICY}) == []
    ids = [d.event_id for d in dues[:100]]
    timed(figures, "ack_100_s", lambda: [alerts.ack(i, "ana", "seen", now=now) for i in ids])
    figures["history_rows"] = len(alerts.history())
    store.dispose()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "alerts": args.alerts,
    }
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = run(f"sqlite:///{tmp}/state.db", args.alerts)
        print("sqlite", results["sqlite"])
    try:
        from tests.postgres import scratch_database

        with scratch_database() as url:
            pg = url.replace("postgresql://", "postgresql+psycopg://", 1)
            results["postgresql"] = run(pg, args.alerts)
            print("postgresql", results["postgresql"])
    except BaseException as exc:  # pytest.skip when no server answers
        print(f"postgresql skipped: {exc}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "alert_state.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
