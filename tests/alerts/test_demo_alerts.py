"""The demo with ``--faults``, run as a user runs it (``siteledger demo run``, through Dagster),
raises exactly the alerts its fault manifests and ground truth imply, and no others; a second
evaluation of the same data notifies nobody.

What the manifests imply, rule by rule:

- a gap of more than 5 % of a meter's day → ``meter_completeness_low`` (rows quarantined from a
  malformed file cost one or two readings: 98 %, within the 95 % default);
- a stuck meter → ``meter_stuck``; an error code → ``meter_out_of_range``;
- a spike → ``meter_spikes`` (a level meter's: ``level_jump``), and ``meter_out_of_range`` too
  when the spiked value lies outside the meter's valid range;
- a store whose true closing volume crosses its high (low) mark on a closed day →
  ``store_level_high`` (``store_level_low``): stores within half a percent of a mark on their
  closest day are left out of the comparison, either way being right;
- a power station fault whose ``alert_day`` falls within the period → its ``alert`` (a failed
  PV string, a fuel theft; the camp sensor's unavailable run → ``meter_completeness_low``);
- each report the run rendered whose due date has passed unsubmitted (the power station's
  weekly summaries: the demo e-mails nothing) → ``report_overdue``.

The demo's workshops (sites without a water model, demo/materials.py) raise materials alerts
only, never a water or energy one; their stock is no part of the mines' manifests.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from dagster import AssetKey, DagsterInstance, DagsterRunStatus, RunsFilter

from alerts.rules import load_rules
from alerts.state import AlertStore
from cli.main import cli
from demo.materials import MATERIALS_SITE_IDS
from demo.metering import METERING_SITE_IDS
from reports.registry import Registry
from siteledger.settings import get_settings
from siteledger.state import StateStore
from tests.alerts.servers import HttpReceiver
from tests.alerts.test_channels import WEBHOOK_SECRET

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAYS = 16
# faults in the mines; a small water utility (its detection is scored in tests/demo)
DEMO_OPTIONS = ("--faults", "--customers", "60")
COMPLETENESS_SLA = 95.0
MARGIN_PCT = 0.5


def _site_files(home: Path) -> dict[str, dict]:
    return {p.stem: yaml.safe_load(p.read_text()) for p in sorted((home / "sites").glob("*.yaml"))}


def _manifests(home: Path) -> dict[str, list[dict]]:
    truth = home / "demo" / "ground_truth"
    return {
        "demo_mine": json.loads((truth / "faults.json").read_text()),
        "demo_highveld": json.loads((truth / "demo_highveld" / "faults.json").read_text()),
    }


def _truth_dir(home: Path, site_id: str) -> Path:
    truth = home / "demo" / "ground_truth"
    return truth if site_id == "demo_mine" else truth / site_id


def expected_alerts(home: Path) -> tuple[set[tuple[str, str, str]], set[tuple[str, str, str]]]:
    """(rule, site, meter or store) the demo must raise, and those too close to call."""
    sites = _site_files(home)
    expected: set[tuple[str, str, str]] = set()
    unsure: set[tuple[str, str, str]] = set()
    for site_id, faults in _manifests(home).items():
        meters = {m["id"]: m for m in sites[site_id]["meters"]}
        for fault in faults:
            meter = fault["meter_id"]
            kind = fault["kind"]
            if fault.get("alert_day"):
                # the power station's faults name their alert and the day it fires within the
                # period (demo/energy.py); the energy rules label a tank, array or generator
                per_meter = fault["alert"].startswith("meter_")
                expected.add((fault["alert"], site_id, meter if per_meter else None))
            elif kind == "gap":
                start = dt.datetime.fromisoformat(fault["start_utc"].replace("Z", "+00:00"))
                end = dt.datetime.fromisoformat(fault["end_utc"].replace("Z", "+00:00"))
                missing = (end - start) / dt.timedelta(minutes=15) + 1
                if 100 * (1 - missing / 96) < COMPLETENESS_SLA:
                    expected.add(("meter_completeness_low", site_id, meter))
            elif kind == "stuck":
                expected.add(("meter_stuck", site_id, meter))
            elif kind == "out_of_range":
                expected.add(("meter_out_of_range", site_id, meter))
            elif kind == "spike":
                level = meters[meter]["measurand"] == "level"
                expected.add(("level_jump" if level else "meter_spikes", site_id, meter))
                value = float(re.search(r"([-\d.]+) m3/h", fault["detail"]).group(1))
                low, high = meters[meter]["valid_range"]
                if not low <= value <= high:
                    expected.add(("meter_out_of_range", site_id, meter))
        capacity = {n["id"]: n.get("capacity_m3") for n in sites[site_id]["nodes"]}
        thresholds = sites[site_id].get("thresholds") or {}
        high = float(thresholds.get("store_high_pct", 80))
        low = float(thresholds.get("store_low_pct", 20))
        storage = pd.read_csv(_truth_dir(home, site_id) / "storage_daily.csv")
        for node_id, rows in storage.groupby("node_id"):
            if not capacity.get(node_id):
                continue
            fill = 100 * rows["closing_m3"] / capacity[node_id]
            for rule, crossed, near in (
                (
                    "store_level_high",
                    fill.max() > high + MARGIN_PCT,
                    fill.max() > high - MARGIN_PCT,
                ),
                ("store_level_low", fill.min() < low - MARGIN_PCT, fill.min() < low + MARGIN_PCT),
            ):
                if crossed:
                    expected.add((rule, site_id, str(node_id)))
                elif near:
                    unsure.add((rule, site_id, str(node_id)))
    return expected, unsure


def _latest_materials_rows(home: Path) -> int:
    """Rows the materials rules' sources hold at their latest time, over every such rule."""
    rules = [r for r in load_rules(None, []).all_rules if r.category == "materials"]
    with duckdb.connect(str(get_settings(home).published_db), read_only=True) as con:
        return sum(
            con.execute(
                f'select count(*) from "{r.source}" '
                f'where "{r.time}" = (select max("{r.time}") from "{r.source}")'
            ).fetchone()[0]
            for r in rules
        )


def test_the_faulty_demo_raises_what_its_manifests_imply_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    home = tmp_path / "home"
    (home / "alerts").mkdir(parents=True)
    monkeypatch.setenv("DEMO_HOOK_SECRET", WEBHOOK_SECRET)
    with HttpReceiver() as hook:
        (home / "alerts" / "channels.yaml").write_text(
            "channels:\n"
            f"  hook: {{kind: webhook, url: '{hook.url}', secret_env: DEMO_HOOK_SECRET}}\n"
            "defaults:\n  channels: [hook]\n"
        )
        result = CliRunner().invoke(
            cli,
            ["--home", str(home), "demo", "run", "--days", str(DAYS), *DEMO_OPTIONS],
        )
        assert result.exit_code == 0, result.output
        assert "alerts: " in result.output

        store = StateStore(get_settings(home).state_store_url)
        every_event = AlertStore(store).events()
        # the workshops (sites without a water model, demo/materials.py) raise materials alerts
        # only - their stock runs below its reorder point - and no water or energy alert; the
        # rest of the test is about the mines' faults
        materials_rules = {
            r.id for r in load_rules(None, []).all_rules if r.category == "materials"
        }
        workshops = [e for e in every_event if e.labels["site_id"] in MATERIALS_SITE_IDS]
        assert {e.rule_id for e in workshops} <= materials_rules
        # likewise the water utility (demo/metering.py) raises metering alerts only; what they
        # find is scored against its ground truth in tests/demo/test_metering_demo.py
        metering_rules = {r.id for r in load_rules(None, []).all_rules if r.category == "metering"}
        utility = [e for e in every_event if e.labels["site_id"] in METERING_SITE_IDS]
        assert {e.rule_id for e in utility} <= metering_rules
        others = (*MATERIALS_SITE_IDS, *METERING_SITE_IDS)
        events = [e for e in every_event if e.labels["site_id"] not in others]
        raised = {
            (e.rule_id, e.labels["site_id"], e.labels.get("meter_id") or e.labels.get("node_id"))
            for e in events
        }
        expected, unsure = expected_alerts(home)
        assert expected, "the demo's manifests imply alerts"
        # the reports the run rendered (the power station's complete weeks) whose due date has
        # passed: nobody submitted or e-mailed them (the demo has no e-mail server)
        today = dt.datetime.now(dt.UTC).date()
        overdue = {
            (r.definition_id, r.period_key)
            for r in Registry(store).list()
            if r.site_id == "demo_mine" and r.due_date < today and r.status != "submitted"
        }
        assert overdue, "the demo renders the power station's weekly summaries"
        expected.add(("report_overdue", "demo_mine", None))
        # the week that ended before today is due within 48 h on some weekdays (the deadline
        # clock is the wall clock's, not the data's): either way is right
        unsure.add(("report_due_soon", "demo_mine", None))
        assert raised - unsure == expected
        overdue_events = [e for e in events if e.rule_id == "report_overdue"]
        assert {(e.labels["definition_id"], e.labels["period_key"]) for e in overdue_events} == (
            overdue
        )
        # one event per alert: a fault is one day, so each opened, fired and resolved once
        assert len(events) - len(overdue_events) == len(raised) - 1
        # only what is still firing is told (the rest opened and closed within the data already
        # published): the first evaluation sends one digest, holding the open alerts
        still_open = {e.event_id for e in every_event if e.state == "firing"}
        told = {a["event_id"] for r in hook.requests for a in r.json()["data"]["alerts"]}
        assert told == still_open
        sent = len(hook.requests)

        # the same data again, through Dagster: nobody hears anything new
        again = CliRunner().invoke(cli, ["--home", str(home), "alerts", "evaluate"])
        assert again.exit_code == 0, again.output
        # only the deadlines are observed anew (their clock is now, not the data; each
        # compliance rule reads them): the overdue reports, already told, repeat no sooner than
        # a day later; and the workshops' materials rules read their marts' latest rows again
        # (the watermark is inclusive), at most every such row
        observed = json.loads(again.output)["observations"]
        due_soon = sum(e.rule_id == "report_due_soon" for e in events)
        latest = _latest_materials_rows(home)
        assert latest > 0
        assert 0 < observed <= 3 * (len(overdue) + due_soon) + latest
        assert len(hook.requests) == sent
        # both evaluations are runs of the home's Dagster instance: the UI shows them
        with DagsterInstance.from_config(str(home / "dagster")) as instance:
            runs = instance.get_runs(RunsFilter(job_name="alert_evaluation_job"))
            assert [r.status for r in runs] == [DagsterRunStatus.SUCCESS] * 2
            event = instance.get_latest_materialization_event(
                AssetKey(["alerts", "alert_evaluation"])
            )
            assert event.run_id == runs[0].run_id
            assert event.asset_materialization.metadata["observations"].value == observed

        listed = CliRunner().invoke(cli, ["--home", str(home), "alerts", "list", "--state", "all"])
        assert listed.exit_code == 0 and "meter_stuck" in listed.output
        store.dispose()
