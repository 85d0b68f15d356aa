"""The shipped metering rules (alerts/rules/metering.yaml) judged by the real engine on the
hand-built metering warehouse (tests/reports/metering_fixture.py): exactly the alerts worked
out by hand fire, one per crossing (not one per day), a stale meter's day never raises a leak;
and the generic engine features the pack needs (a text metric's one_of, a snapshot table, a
rate against the mean of the observations before, the period in progress left out)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from alerts.engine import Engine
from alerts.rules import Rule, load_rules, parse_rules_text
from alerts.state import AlertStore
from alerts.types import Attempt
from siteledger.settings import Settings
from siteledger.state import StateStore
from tests.reports import metering_fixture as fx

METERING_RULES = {
    "customer_balance_low",
    "customer_credit_exhausted",
    "credit_days_level_1",
    "credit_days_level_2",
    "credit_days_level_3",
    "meter_leak",
    "meter_burst",
    "meter_tamper",
    "meter_reverse_flow",
    "meter_offline",
    "meter_battery_low",
    "maintenance_overdue",
    "metering_revenue_drop",
}
NOW = dt.datetime(2026, 4, 1, 6, tzinfo=dt.UTC)


class World:
    def __init__(self, home: Path) -> None:
        self.settings = Settings(home=home)
        self.settings.ensure_dirs()
        self.store = StateStore(self.settings.state_store_url)
        self.engine = Engine(
            self.settings, self.store, load_rules(None, []), env={}, sleep=lambda s: None
        )
        self.alerts = AlertStore(self.store)

    def evaluate(self, now: dt.datetime = NOW) -> None:
        sources = {r.source for r in load_rules(None, []).all_rules if r.id in METERING_RULES}
        result = self.engine.evaluate(now, only_sources=sources, send=False)
        assert result.errors == {}, result.errors

    def scopes(self, rule_id: str, state: str | None = None) -> Counter[str]:
        """How many events of ``rule_id`` each scope has (labels after site_id joined by '/')."""
        return Counter(
            "/".join(v for k, v in e.labels.items() if k != "site_id")
            for e in self.alerts.events(state=state, rule_id=rule_id)
        )


@pytest.fixture
def world(tmp_path: Path):  # type: ignore[no-untyped-def]
    w = World(tmp_path / "home")
    yield w
    w.store.dispose()


def test_the_pack_reads_only_contract_columns_of_the_metering_marts():
    rules = {r.id: r for r in load_rules(None, []).all_rules if r.category == "metering"}
    assert set(rules) == METERING_RULES
    for rule in rules.values():
        needed = set(rule.columns) - ({rule.time} if rule.snapshot else set())
        assert needed <= set(fx.MARTS[rule.source]), (rule.id, needed - set(fx.MARTS[rule.source]))
        assert rule.labels[0] == "site_id"
        assert rule.labels == ["site_id"] or rule.labels[1] in (
            "customer_id",
            "meter_id",
            "task_id",
        )


def up_to(day: dt.date) -> dict[str, list[dict[str, Any]]]:
    """The fixture's marts as published after the nightly run of ``day`` (the monthly and
    current-state ones whole)."""
    out = {}
    for table, rows in fx.tables().items():
        time = "day" if "day" in fx.MARTS[table] else None
        out[table] = [r for r in rows if time is None or r[time] <= day]
    return out


def evaluate_in_two_runs(world: World) -> None:
    """The first half of March, then the rest, as two nightly runs would: the daily rules look
    back 7 days on a first evaluation and then judge every day after their watermark."""
    fx.publish(world.settings, up_to(fx.mar(14)))
    world.evaluate(dt.datetime(2026, 3, 15, 6, tzinfo=dt.UTC))
    fx.publish(world.settings)
    world.evaluate()


def test_exactly_the_alerts_worked_out_by_hand_fire(world: World) -> None:
    evaluate_in_two_runs(world)
    firing = {r: dict(world.scopes(r, "firing")) for r in METERING_RULES}
    resolved = {r: dict(world.scopes(r, "resolved")) for r in METERING_RULES}
    assert firing == {
        # c1 at 18 000 (threshold 25 000), c2 at 45 000 (its own 50 000), c3 in debt
        "customer_balance_low": {"c1": 1, "c2": 1, "c3": 1},
        "customer_credit_exhausted": {"c3": 1},
        "credit_days_level_1": {"c1": 1, "c3": 1},
        "credit_days_level_2": {"c3": 1},
        "credit_days_level_3": {"c3": 1},
        "meter_leak": {"m3": 1},
        "meter_burst": {"m1/burst": 1},
        "meter_tamper": {"m2/magnetic": 1, "m4/cover_open": 1},
        "meter_reverse_flow": {"m3/reverse_flow": 1},
        "meter_offline": {"m4": 1},
        "meter_battery_low": {"m3": 1},
        "maintenance_overdue": {"t1": 1, "t4": 1},
        "metering_revenue_drop": {"": 1},
    }
    # c1's first fall (21-24 Mar) closed with the top-up of 25 Mar; m1's leak after two clean
    # days; m2's two offline days
    assert {r: v for r, v in resolved.items() if v} == {
        "customer_balance_low": {"c1": 1},
        "credit_days_level_1": {"c1": 1},
        "credit_days_level_2": {"c1": 1},
        "credit_days_level_3": {"c1": 1},
        "meter_leak": {"m1": 1},
        "meter_offline": {"m2": 1},
    }


def test_the_sites_own_credit_days_and_battery_levels_are_the_thresholds(world: World) -> None:
    """A site whose low_balance_days is [5] and low_battery_pct 11.5 (as its marts carry them):
    c1 is told at 5 days (22 Mar, not 21 Mar at 6.5) and again on 31 Mar (5 days; 30 Mar's 6
    is above it); the second and third levels do not exist, so never fire; m3's battery alert
    opens on 29 Mar (11 %), not 31 Mar."""
    tables = fx.tables()
    for row in tables["fct_customer_ledger_daily"]:
        row.update(credit_days_level_1=5, credit_days_level_2=None, credit_days_level_3=None)
    for row in tables["fct_meter_health_daily"]:
        row["low_battery_pct"] = 11.5
    # two nightly runs, as evaluate_in_two_runs: the second judges every day after 14 Mar
    fx.publish(
        world.settings,
        {
            t: [r for r in rows if r.get("day", fx.mar(1)) <= fx.mar(14)]
            for t, rows in tables.items()
        },
    )
    world.evaluate(dt.datetime(2026, 3, 15, 6, tzinfo=dt.UTC))
    fx.publish(world.settings, tables)
    world.evaluate()
    assert world.scopes("credit_days_level_1", "firing") == Counter({"c1": 1, "c3": 1})
    assert world.scopes("credit_days_level_1", "resolved") == Counter({"c1": 1})
    assert not world.alerts.events(rule_id="credit_days_level_2")
    assert not world.alerts.events(rule_id="credit_days_level_3")
    c1 = sorted(
        (
            e
            for e in world.alerts.events(rule_id="credit_days_level_1")
            if "c1" in e.labels.values()
        ),
        key=lambda e: e.first_observed_at,
    )
    assert [e.first_observed_at[:10] for e in c1] == ["2026-03-22", "2026-03-31"]
    (battery,) = world.alerts.events(rule_id="meter_battery_low")
    assert battery.first_observed_at[:10] == "2026-03-29"
    assert battery.value == 9.5  # the last day's reading


def test_one_alert_per_crossing_told_once(world: World) -> None:
    """Published and evaluated day by day as the nightly run does: c1's fall below 7 days on
    21 Mar opens one alert that stays the same alert through 22-24 Mar, the top-up closes it,
    the fall of 30 Mar opens a second; each is notified once."""
    ledger = [r for r in fx.ledger_rows() if r["customer_id"] == "c1"]
    policies = {
        rule_id: dataclasses.replace(policy, channels=("ops",))
        for rule_id, policy in world.engine.policies().items()
    }
    seen: list[tuple[str, ...]] = []
    told: Counter[str] = Counter()
    for day in fx.days(fx.mar(18), fx.LAST):
        rows = [r for r in ledger if r["day"] <= day]
        fx.publish(world.settings, {"fct_customer_ledger_daily": rows})
        now = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(6), tzinfo=dt.UTC)
        world.engine.evaluate(now, only_sources=["fct_customer_ledger_daily"], send=False)
        firing = world.alerts.events(state="firing", rule_id="credit_days_level_1")
        seen.append(tuple(sorted(e.event_id for e in firing)))
        # every notice due is delivered to a channel that takes it
        due = world.alerts.due_notifications(now, policies)
        for item in due:
            told[f"{item.message.rule_id}:{item.message.status}"] += 1
        ok = [
            Attempt("d", "ops", "webhook", "ops", 1, True, now, event_ids=(i.message.event_id,))
            for i in due
        ]
        world.alerts.record_notifications(
            ((i, "ops", [a]) for i, a in zip(due, ok, strict=True)), now
        )
    # 18-20 Mar nothing; 21-24 one alert (the same one); 25-29 none; 30-31 a new one
    assert [len(s) for s in seen] == [0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1]
    assert len(set(seen[3:7])) == 1 and seen[3] != seen[12] and seen[12] == seen[13]
    assert len(world.alerts.events(rule_id="credit_days_level_1")) == 2
    # each crossing told once (no daily repeat: repeat_interval 90d; no resolution notice)
    assert told["credit_days_level_1:firing"] == 2
    assert told["credit_days_level_2:firing"] == 1
    assert told["credit_days_level_3:firing"] == 1
    assert told["customer_balance_low:firing"] == 2
    assert sum(n for k, n in told.items() if k.endswith((":repeat", ":resolved"))) == 0
    assert world.scopes("credit_days_level_2") == Counter({"c1": 1})
    assert world.scopes("credit_days_level_3") == Counter({"c1": 1})


def test_a_stale_day_never_raises_a_leak(world: World) -> None:
    rows = fx.leak_rows()
    stale = [r for r in rows if not r["fresh"]]
    assert [(r["meter_id"], r["day"], r["leak"]) for r in stale] == [("m2", fx.mar(20), True)]
    fx.publish(world.settings, {"fct_meter_leak_days": rows})
    world.engine.evaluate(NOW, only_sources=["fct_meter_leak_days"], send=False)
    assert "m2" not in world.scopes("meter_leak")
    # nor does a stale day clear a leak: m3 leaking on 30 Mar, its 31 Mar stale
    for r in rows:
        if (r["meter_id"], r["day"]) == ("m3", fx.mar(31)):
            r.update(fresh=False, leak=False, leak_kind=None)
    other = World(world.settings.home.parent / "other")
    try:
        fx.publish(other.settings, {"fct_meter_leak_days": rows})
        other.engine.evaluate(NOW, only_sources=["fct_meter_leak_days"], send=False)
        (event,) = other.alerts.events(rule_id="meter_leak", state="firing")
        assert event.labels["meter_id"] == "m3" and event.last_observed_at == "2026-03-30"
    finally:
        other.store.dispose()


def test_repeated_tamper_escalates_and_details_name_the_customer(world: World) -> None:
    evaluate_in_two_runs(world)
    # escalations are decided with the notices due
    world.alerts.due_notifications(NOW, world.engine.policies())
    (magnetic,) = [
        e
        for e in world.alerts.events(rule_id="meter_tamper")
        if e.labels["event_type"] == "magnetic"
    ]
    assert magnetic.severity == "critical"  # two magnetic events: escalated
    (cover,) = [
        e for e in world.alerts.events(rule_id="meter_tamper") if e.labels["meter_id"] == "m4"
    ]
    assert cover.severity == "warning"
    assert "customer c3" in cover.summary and "cover_open" in cover.summary
    (task,) = [
        e for e in world.alerts.events(rule_id="maintenance_overdue") if e.labels["task_id"] == "t1"
    ]
    assert "by 11 days" in task.summary and "Budi" in task.summary and "m4" in task.summary
    (drop,) = world.alerts.events(rule_id="metering_revenue_drop")
    # March (700 000) against the mean of December to February (950 000): -26.3 %
    assert drop.value == pytest.approx(100 * (700_000 - 950_000) / 950_000)
    assert drop.last_observed_at == "2026-03-01"  # April, in progress, is not judged


def test_a_done_task_closes_its_snapshot_alert(world: World) -> None:
    fx.publish(world.settings)
    world.evaluate()
    tasks = fx.maintenance_rows()
    for t in tasks:
        if t["task_id"] == "t1":
            t.update(status="done", due_state="done", days_overdue=None)
    fx.publish(world.settings, {**fx.tables(), "fct_maintenance_tasks": tasks})
    world.engine.evaluate(
        NOW + dt.timedelta(hours=1), only_sources=["fct_maintenance_tasks"], send=False
    )
    assert world.scopes("maintenance_overdue", "firing") == Counter({"t4": 1})
    assert world.scopes("maintenance_overdue", "resolved") == Counter({"t1": 1})


# -- the generic engine features -------------------------------------------------------------

BASE: dict[str, Any] = {
    "id": "r",
    "summary": "{{ value }}",
    "category": "operational",
    "source": "src",
    "time": "day",
    "labels": ["site_id"],
}


def rule(**fields: Any) -> Rule:
    return Rule.model_validate({**BASE, **fields})


def flags(out: pd.DataFrame) -> list[bool | None]:
    return [None if pd.isna(b) else bool(b) for b in out["breached"]]


def test_one_of_breaches_on_a_listed_text_and_null_is_no_data():
    r = rule(metric="status", condition={"one_of": ["offline", "lost"]})
    out = r.assess(
        pd.DataFrame(
            {
                "site_id": ["s"] * 4,
                "day": [1, 2, 3, 4],
                "status": ["online", "offline", None, "lost"],
            }
        )
    )
    assert flags(out) == [False, True, None, True]
    assert set(out["threshold"]) == {"one of offline, lost"}
    assert out["value"].isna().all()


def test_rate_against_the_mean_of_the_observations_before():
    r = rule(
        metric="v",
        condition={
            "rate_of_change": {"window": 3, "below": -20, "relative": True, "baseline": "mean"}
        },
    )
    values = [100.0, 110.0, 90.0, 100.0, 95.0, 70.0]
    out = r.assess(pd.DataFrame({"site_id": ["s"] * 6, "day": range(6), "v": values}))
    # the first three have no three before them
    assert list(out.index) == [3, 4, 5]
    assert out["value"].tolist() == pytest.approx([0.0, -5.0, -100 * 25 / 95])
    assert flags(out) == [False, False, True]
    assert set(out["threshold"]) == {"< -20 % against the mean of the 3 before"}


def test_skip_latest_leaves_the_period_in_progress_out():
    r = rule(metric="v", condition={"below": 10}, skip_latest=True)
    out = r.assess(
        pd.DataFrame({"site_id": ["a", "a", "b"], "day": [1, 2, 2], "v": [5.0, 1.0, 1.0]})
    )
    assert list(out.index) == [0]


def test_snapshot_rules_and_their_limits_are_checked_when_they_load():
    text = """
rules:
  - {id: a, summary: x, category: operational, source: t, time: evaluated_at, labels: [site_id],
     metric: v, snapshot: true, condition: {rate_of_change: {window: 1, above: 1}}}
  - {id: b, summary: x, category: operational, source: t, time: d, labels: [site_id],
     metric: s, metrics: [s], condition: {one_of: [x]}}
"""
    with pytest.raises(Exception) as caught:
        parse_rules_text(text)
    message = str(caught.value)
    assert "snapshot" in message and "one_of" in message


def test_alerts_list_matches_a_customer_or_a_meter_scope(world: World) -> None:
    from click.testing import CliRunner

    from cli.main import cli

    evaluate_in_two_runs(world)

    def listed(*args: str) -> list[tuple[str, str]]:
        result = CliRunner().invoke(
            cli, ["--home", str(world.settings.home), "alerts", "list", "--json", *args]
        )
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in result.output.splitlines() if line.strip()]
        return sorted((r["rule_id"], r["state"]) for r in rows)

    assert listed("--state", "all", "--match", "customer_id=c1") == [
        ("credit_days_level_1", "firing"),
        ("credit_days_level_1", "resolved"),
        ("credit_days_level_2", "resolved"),
        ("credit_days_level_3", "resolved"),
        ("customer_balance_low", "firing"),
        ("customer_balance_low", "resolved"),
    ]
    assert listed("--match", "meter_id=m4", "--match", "site_id=aqua") == [
        ("meter_offline", "firing"),
        ("meter_tamper", "firing"),
    ]
    bad = CliRunner().invoke(
        cli, ["--home", str(world.settings.home), "alerts", "list", "--match", "meter_id"]
    )
    assert bad.exit_code != 0 and "label=value" in bad.output
