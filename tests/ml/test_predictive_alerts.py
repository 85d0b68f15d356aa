"""The shipped predictive rules on the published overflow risk: a likely spill within a day is a
critical alert, a likely shortage within a month a warning, and both resolve when the risk
passes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from alerts.engine import Engine
from alerts.rules import load_rules
from alerts.state import AlertStore
from siteledger.settings import Settings
from siteledger.state import StateStore


def _publish(settings: Settings, as_of: dt.date, rows: list[tuple[int, float, float]]) -> None:
    """fct_overflow_risk for one store: (horizon days, P(>100 %), P(<20 %)) rows."""
    settings.published_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.published_db)) as con:
        con.execute(
            "create or replace table dim_sites as select 's1' as site_id, "
            "cast(null as varchar) as organisation, cast(null as varchar) as regulators"
        )
        con.execute(
            "create table if not exists fct_overflow_risk (site_id varchar, node_id varchar, "
            "as_of date, horizon_days bigint, p_above_80 double, p_above_100 double, "
            "p_below_20 double, n_paths bigint, status varchar, reason varchar)"
        )
        for horizon, spill, short in rows:
            con.execute(
                "insert into fct_overflow_risk "
                "values ('s1', 'dam', ?, ?, ?, ?, ?, 20000, 'ok', '')",
                [as_of, horizon, max(spill, 0.5), spill, short],
            )


def test_spill_and_shortage_risks_open_and_resolve_alerts(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    store = StateStore(settings.state_store_url)
    ruleset = load_rules(settings.home, [])
    engine = Engine(settings, store, ruleset, env={}, sleep=lambda s: None)
    day = dt.date(2026, 2, 10)

    # 35 % chance of spilling within a day, 60 % of falling below 20 % within 30 days (a store
    # that may spill in a storm and run dry after: both at once is what the numbers allow)
    _publish(settings, day, [(1, 0.35, 0.0), (30, 0.05, 0.6), (90, 0.08, 0.7)])
    now = dt.datetime(2026, 2, 11, 3, 0, tzinfo=dt.UTC)
    engine.evaluate(now, only_sources=["fct_overflow_risk"], send=False)
    alerts = AlertStore(store)
    open_now = {(e.rule_id, e.severity, e.state) for e in alerts.events(state="open")}
    assert open_now == {
        ("store_overflow_within_24h", "critical", "firing"),
        ("store_shortage_within_30d", "warning", "firing"),
    }
    (spill,) = [e for e in alerts.events(state="open") if e.rule_id == "store_overflow_within_24h"]
    assert spill.labels == {"site_id": "s1", "node_id": "dam"}
    assert spill.value == 0.35
    assert "35 % chance of overflowing within 24 hours" in spill.summary

    # the next day the risk has passed: both resolve, nothing new opens at 5 % within 30 days
    _publish(settings, day + dt.timedelta(days=1), [(1, 0.0, 0.0), (30, 0.05, 0.1)])
    engine.evaluate(now + dt.timedelta(days=1), only_sources=["fct_overflow_risk"], send=False)
    assert alerts.events(state="open") == []
    resolved = {e.rule_id for e in alerts.events(state="resolved")}
    assert resolved == {"store_overflow_within_24h", "store_shortage_within_30d"}
    store.dispose()
