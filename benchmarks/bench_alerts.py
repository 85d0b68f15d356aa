#!/usr/bin/env python3
"""Benchmark: the alert engine end to end (rules, lifecycle, channels) on a year of daily marts.

A published warehouse holds ``fct_meter_quality_daily`` for ``--meters`` meters over 365 days;
the shipped data-quality pack (6 rules over that mart) makes ``6 x meters`` rule x scope pairs
(10 002 for 1 667 meters). Times, on a SQLite state store:

* first: the first evaluation, reading each rule's look-back (35 days) — 35 observations per
  rule and scope;
* nightly: one more day published, every rule judged on it for every scope (rule x scope
  evaluations of the new day, reading the year's mart for it);
* again: the same data once more (nothing to judge, nothing sent);
* burst: ``--burst`` meters out of range on one day: that many alerts firing at once, grouped
  into one digest per channel and delivered to local servers (a signed webhook, a Slack
  stand-in, an SMS gateway, an SMTP server), every attempt recorded.

Figures are printed and written to ``benchmarks/results/alerts.json``.

    .venv/bin/python benchmarks/bench_alerts.py [--meters 1667] [--burst 1000]
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

import duckdb  # noqa: E402

from alerts.engine import Engine, Evaluation  # noqa: E402
from alerts.rules import load_rules  # noqa: E402
from siteledger.settings import Settings  # noqa: E402
from siteledger.state.store import StateStore  # noqa: E402
from tests.alerts.servers import HttpReceiver, SmtpReceiver  # noqa: E402

SECRET = "whsec_c2l0ZWxlZGdlci1iZW5jaG1hcmstc2VjcmV0"
FIRST_DAY = dt.date(2025, 7, 1)
DAYS = 365


def _other_rules() -> list[str]:
    rules = load_rules(None, []).rules_for("bench_site")
    return [r.id for r in rules if r.source != "fct_meter_quality_daily"]


OTHER_RULES = _other_rules()


def publish(settings: Settings, meters: int, days: int, burst: int = 0) -> None:
    """The published mart: every meter complete and clean each day; on the last day, ``burst``
    meters have an out-of-range reading."""
    settings.published_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.published_db)) as con:
        con.execute(
            "create or replace table dim_sites as select 'bench_site' as site_id, "
            "cast(null as varchar) as organisation, cast(null as varchar) as regulators"
        )
        con.execute(
            f"""
            create or replace table fct_meter_quality_daily as
            select
                'bench_site' as site_id,
                'M-' || lpad(cast(m as varchar), 5, '0') as meter_id,
                'flow_rate' as measurand,
                cast(? as date) + cast(d as integer) as day,
                true as is_closed,
                96 as n_expected,
                96 as n_received,
                0 as n_missing,
                100.0 as completeness_pct,
                0 as n_invalid,
                0 as n_estimated,
                case when d = {days - 1} and m < {burst} then 1 else 0 end as n_out_of_range,
                0 as n_stuck,
                0 as n_level_jump,
                0 as n_spike,
                0 as n_negative_delta
            from range({meters}) as t(m), range({days}) as u(d)
            """,
            [FIRST_DAY],
        )


def timed(engine: Engine, now: dt.datetime) -> tuple[float, Evaluation]:
    started = time.perf_counter()
    result = engine.evaluate(now)
    return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--meters", type=int, default=1667)
    parser.add_argument("--burst", type=int, default=1000)
    args = parser.parse_args()
    figures: dict[str, Any] = {"meters": args.meters, "burst": args.burst}
    with (
        tempfile.TemporaryDirectory() as tmp,
        HttpReceiver() as hook,
        HttpReceiver() as chat,
        HttpReceiver() as sms,
        SmtpReceiver() as smtp,
    ):
        settings = Settings(home=Path(tmp) / "home")
        settings.ensure_dirs()
        (settings.home / "alerts").mkdir()
        (settings.home / "alerts" / "bench.yaml").write_text(
            "channels:\n"
            f"  hook: {{kind: webhook, url: '{hook.url}', secret_env: BENCH_SECRET}}\n"
            "  chat: {kind: slack, url_env: BENCH_SLACK}\n"
            f"  sms: {{kind: sms, url: '{sms.url}', username_env: BENCH_USER, "
            "password_env: BENCH_PASSWORD, to: ['+61400000000'], sender: siteledger, "
            "min_severity: warning}\n"
            "  mail: {kind: email, to: [ops@example.com]}\n"
            "defaults:\n  channels: [hook, chat, sms, mail]\n"
            # the packs' rules over other sources: not part of this benchmark
            + "rules:\n"
            + "".join(f"  - {{id: {rule_id}, enabled: false}}\n" for rule_id in OTHER_RULES)
        )
        target = smtp.target()
        env = {
            "BENCH_SECRET": SECRET,
            "BENCH_SLACK": chat.url,
            "BENCH_USER": "bench",
            "BENCH_PASSWORD": "bench-password",
            "SITELEDGER_SMTP_HOST": target.host,
            "SITELEDGER_SMTP_PORT": str(target.port),
        }
        store = StateStore(settings.state_store_url)
        ruleset = load_rules(settings.home, [])
        engine = Engine(settings, store, ruleset, env=env, sleep=lambda s: None)
        pairs = args.meters * len(
            [r for r in ruleset.rules_for("bench_site") if r.source == "fct_meter_quality_daily"]
        )
        figures["rule_scope_pairs"] = pairs
        now = dt.datetime(2026, 7, 1, 3, tzinfo=dt.UTC)

        publish(settings, args.meters, DAYS - 1)
        seconds, result = timed(engine, now)
        figures["first"] = {"seconds": round(seconds, 2), **result.summary()}

        publish(settings, args.meters, DAYS)
        seconds, result = timed(engine, now + dt.timedelta(days=1))
        figures["nightly"] = {"seconds": round(seconds, 2), **result.summary()}

        seconds, result = timed(engine, now + dt.timedelta(days=1, minutes=5))
        figures["again"] = {"seconds": round(seconds, 2), **result.summary()}

        publish(settings, args.meters, DAYS + 1, burst=args.burst)
        seconds, result = timed(engine, now + dt.timedelta(days=2))
        figures["burst"] = {
            "seconds": round(seconds, 2),
            **result.summary(),
            "digests": {d.channel: len(d.messages) for d in result.digests},
            "requests": {
                "webhook": len(hook.requests),
                "slack": len(chat.requests),
                "sms": len(sms.requests),
                "email": len(smtp.messages),
            },
        }
        store.dispose()
    figures["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    figures["measured_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    out = ROOT / "benchmarks" / "results" / "alerts.json"
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
