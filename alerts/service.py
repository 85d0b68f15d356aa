"""The alert engine for a deployment: its rules, one evaluation, and the alert marts BI tools
read (``fct_alert_events``, ``fct_alert_history``, written into the build warehouse just before
each publish, so every published version carries the alerts as they stood)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from alerts.engine import Engine, Evaluation
from alerts.rules import RuleSet, load_rules
from alerts.state import AlertStore
from siteledger.settings import Settings
from siteledger.state.store import StateStore
from siteledger.warehouse import write_build_tables

MARTS = "marts"
EVENTS_TABLE = "fct_alert_events"
HISTORY_TABLE = "fct_alert_history"


def deployment_rules_dir(settings: Settings) -> Path:
    """``$SITELEDGER_HOME/alerts``: the deployment's rules, channels and defaults."""
    return settings.home / "alerts"


def home_rules(settings: Settings) -> RuleSet:
    """Shipped packs, each site file's own rules and the deployment's, with their problems."""
    return load_rules(settings.home, sorted(settings.sites_dir.glob("*.yaml")))


def evaluate_home(
    settings: Settings,
    store: StateStore,
    now: dt.datetime | None = None,
    *,
    pushed: Mapping[str, pd.DataFrame] | None = None,
    only_sources: Iterable[str] | None = None,
    env: Mapping[str, str] | None = None,
    send: bool = True,
) -> tuple[Evaluation, RuleSet]:
    ruleset = home_rules(settings)
    engine = Engine(settings, store, ruleset, env=env)
    return engine.evaluate(now, pushed=pushed, only_sources=only_sources, send=send), ruleset


def stage_alert_marts(settings: Settings, store: StateStore) -> dict[str, int]:
    """Write the alert events and their history into the build warehouse's marts (replacing
    them), for the publish that follows. Returns the row counts."""
    alerts = AlertStore(store)
    frames = {EVENTS_TABLE: alerts.events_frame(), HISTORY_TABLE: alerts.history_frame()}
    return write_build_tables(settings, frames, MARTS)


def open_alerts(store: StateStore) -> dict[str, int]:
    """Open (pending or firing) alerts by severity."""
    counts: dict[str, int] = {}
    for event in AlertStore(store).events(state="open"):
        counts[event.severity] = counts.get(event.severity, 0) + 1
    return counts
