"""With the Dagster daemon running, a month of file drops reaches the published warehouse, the
compliance reports and the alert channels with nobody typing a command: landing sensor → import
→ lake-days sensor → backfill of those days → publish → published-warehouse sensor → the reports
of every complete period → alert-evaluation sensor → the alerts still firing, sent as a signed
webhook. No sensor tick fails on the way, every run succeeds."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._core.scheduler.instigation import TickStatus

from alerts.state import AlertStore
from demo import write_demo
from demo.site import MINE_SITE_IDS
from reports.registry import Registry
from siteledger.settings import Settings
from siteledger.state import StateStore
from tests.alerts.servers import HttpReceiver
from tests.alerts.test_channels import WEBHOOK_SECRET, verify_standard_webhook
from tests.orchestration.daemon import running_daemon, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAYS = 31  # July 2025: one complete month, so its monthly return is due
SENSOR_INTERVAL_S = "5"


def _published_days(settings: Settings) -> int:
    if not settings.published_db.exists():
        return 0
    try:
        with duckdb.connect(str(settings.published_db), read_only=True) as con:
            row = con.execute(
                "select count(*) from fct_site_balance_daily where site_id = 'demo_mine'"
            ).fetchone()
    except duckdb.Error:
        return 0  # mid-swap or not published yet
    return int(row[0]) if row else 0


def _july_report(settings: Settings) -> str | None:
    store = StateStore(settings.state_store_url)
    try:
        versions = Registry(store).versions("monthly_water_return", "demo_mine", "2025-07")
    finally:
        store.dispose()
    return versions[-1].report_id if versions else None


def _settled(home: Path) -> bool:
    with DagsterInstance.from_config(str(home / "dagster")) as instance:
        busy = instance.get_runs(
            RunsFilter(
                statuses=[
                    DagsterRunStatus.QUEUED,
                    DagsterRunStatus.NOT_STARTED,
                    DagsterRunStatus.STARTING,
                    DagsterRunStatus.STARTED,
                ]
            )
        )
    return not busy


def _failed_ticks(instance: DagsterInstance) -> tuple[list, list]:
    """Failed sensor and schedule ticks, and apart from them the ticks that failed only because
    the code server did not answer in time and that a later tick of the same sensor got past."""
    failed, hiccups = [], []
    for state in instance.all_instigator_state():
        ticks = sorted(
            instance.get_ticks(state.instigator_origin_id, state.selector_id),
            key=lambda t: t.timestamp,
        )
        for index, tick in enumerate(ticks):
            if tick.status != TickStatus.FAILURE:
                continue
            unreachable = tick.error is not None and "DagsterUserCodeUnreachableError" in (
                tick.error.message + (tick.error.cls_name or "")
            )
            recovered = any(
                t.status in (TickStatus.SUCCESS, TickStatus.SKIPPED) for t in ticks[index + 1 :]
            )
            (hiccups if unreachable and recovered else failed).append(
                (state.instigator_name, tick.error)
            )
    return failed, hiccups


@pytest.mark.timeout(1500)
def test_a_dropped_month_is_published_and_reported_by_the_daemon(tmp_path: Path):
    # the drops are generated aside; the home holds only its organisation and site files
    generated = tmp_path / "generated"
    # the mines: this test is about a month of readings (the workshops add nothing to it)
    write_demo(generated, days=DAYS, sites=MINE_SITE_IDS)
    home = tmp_path / "home"
    settings = Settings(home=home)
    settings.ensure_dirs()
    shutil.copy(generated / "organisation.yaml", settings.organisation_file)
    for site_file in (generated / "sites").glob("*.yaml"):
        shutil.copy(site_file, settings.sites_dir / site_file.name)
    log = tmp_path / "daemon.log"
    hook = HttpReceiver().start()
    (home / "alerts").mkdir()
    (home / "alerts" / "channels.yaml").write_text(
        f"channels:\n  hook: {{kind: webhook, url: '{hook.url}', secret_env: E2E_HOOK_SECRET}}\n"
        "defaults:\n  channels: [hook]\n"
    )

    env = {"SITELEDGER_SENSOR_INTERVAL_S": SENSOR_INTERVAL_S, "E2E_HOOK_SECRET": WEBHOOK_SECRET}
    with running_daemon(home, log, env):
        time.sleep(5)  # let the daemon start its sensor loop before anything waits in landing
        dropped = time.monotonic()
        for path in sorted((generated / "landing").iterdir()):
            # written under a hidden name, then renamed: the sensor never sees half a file
            hidden = settings.landing / f".{path.name}.part"
            shutil.copy(path, hidden)
            os.replace(hidden, settings.landing / path.name)
        wait_for(
            "the month to be published",
            # ~7 min alone on 2 cores; beside the rest of the suite it has needed over 10
            lambda: _published_days(settings) >= DAYS,
            timeout=1000,
            log=log,
        )
        published_s = time.monotonic() - dropped
        report_id = wait_for("July's monthly return", lambda: _july_report(settings), 300, log)
        reported_s = time.monotonic() - dropped
        # the alerts still firing once the month is judged (the second mine's faults open and
        # close within the month; a store below its low mark at the month's end stays open)
        wait_for("an alert notification", lambda: hook.requests, 300, log)
        notified_s = time.monotonic() - dropped
        wait_for("the runs the sensors started to finish", lambda: _settled(home), 300, log)
    hook.stop()
    # wall-clock time of the first notification (the receiver stamps requests on the monotonic
    # clock), against the publish before it: the breach-to-notification latency of the sensors
    first_told = time.time() - (time.monotonic() - hook.requests[0].received_at)
    for request in hook.requests:
        verify_standard_webhook(WEBHOOK_SECRET, request.headers, request.body, time.time())
    store = StateStore(settings.state_store_url)
    firing = {e.event_id for e in AlertStore(store).events(state="firing")}
    store.dispose()
    told = {a["event_id"] for r in hook.requests for a in r.json()["data"]["alerts"]}
    assert told and told <= firing

    assert not any(settings.landing.iterdir()), "every drop was imported"
    assert report_id.startswith("monthly_water_return")
    with DagsterInstance.from_config(str(home / "dagster")) as instance:
        runs = instance.get_runs()
        by_job: dict[str, list[str]] = {}
        for run in runs:
            by_job.setdefault(run.job_name, []).append(run.status.value)
        # every run the sensors started finished well (none queued or failed at the end)
        assert all(run.status == DagsterRunStatus.SUCCESS for run in runs), by_job
        assert {"ingest_landing_job", "backfill_job"} <= set(by_job), by_job
        assert "compliance_report_monthly_job" in by_job, by_job
        assert "alert_evaluation_job" in by_job, by_job
        publishes = [
            r.timestamp
            for r in instance.fetch_materializations(
                AssetKey(["warehouse", "published"]), limit=100
            ).records
            if r.timestamp <= first_told
        ]
        failed_ticks, passing_hiccups = _failed_ticks(instance)
        assert not failed_ticks, failed_ticks
        # the code server missing a deadline on a loaded machine is retried on the next tick
        assert len(passing_hiccups) <= 3, passing_hiccups
    print(
        json.dumps(
            {
                "drop_to_published_s": round(published_s, 1),
                "drop_to_reported_s": round(reported_s, 1),
                "drop_to_alert_notified_s": round(notified_s, 1),
                "published_to_alert_notified_s": round(first_told - max(publishes), 1),
            }
        )
    )
