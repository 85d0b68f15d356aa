"""Alert sensors: evaluate the rules when something is published or reported, and raise
alerts on the platform's own failures (asset checks, runs) and silences (dead-man's switch)."""

import datetime as dt
import json

from dagster import (
    AssetSelection,
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from alerts.service import evaluate_home
from alerts.sources import platform_frame
from orchestration.alerts.jobs import alert_evaluation_job
from orchestration.alerts.platform import check_rows, overdue_rows, run_rows
from orchestration.keys import PUBLISHED, REPORT_DEADLINES, REPORTS, SENSOR_PRIORITY
from orchestration.resources import SENSOR_INTERVAL_S, SiteledgerHome

# the dead-man's switch: the nightly regulatory run must succeed at least daily (with slack for
# a slow night), the file and lake sensors must tick
WATCHED_JOBS = {"nightly_job": dt.timedelta(hours=26)}
WATCHED_SENSORS = {
    name: dt.timedelta(minutes=30)
    for name in ("landing_file_sensor", "lake_days_changed_sensor", "alert_evaluation_sensor")
}


WATCHED_ASSETS = (PUBLISHED, *REPORTS.values())


@sensor(
    job=alert_evaluation_job,
    name="alert_evaluation_sensor",
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=DefaultSensorStatus.RUNNING,
    description="After every publish of the warehouse and every report run, evaluate the alert "
    "rules on what is new (one evaluation for everything since the last tick).",
)
def alert_evaluation_sensor(context: SensorEvaluationContext) -> RunRequest | SkipReason:
    seen = int(context.cursor or 0)
    newest = seen
    for key in WATCHED_ASSETS:
        records = context.instance.fetch_materializations(key, limit=1).records
        if records:
            newest = max(newest, records[0].storage_id)
    if newest == seen:
        return SkipReason("nothing published or reported since the last evaluation")
    context.update_cursor(str(newest))
    return RunRequest(run_key=f"materialized-{newest}", tags=SENSOR_PRIORITY)


def build_platform_alerts_sensor(
    selection: AssetSelection | None = None, name: str = "platform_alerts_sensor"
) -> SensorDefinition:
    """Alerts on failed asset checks (WARN and ERROR) and failed runs of the assets in
    ``selection`` (default: every asset but the report deadlines, whose reports have alerts of
    their own, one per report), and on watched jobs and sensors that have gone quiet."""
    watched = selection if selection is not None else AssetSelection.all()

    @sensor(
        name=name,
        minimum_interval_seconds=SENSOR_INTERVAL_S,
        default_status=DefaultSensorStatus.RUNNING,
        description="Raise an alert for every failed asset check and every failed run (retries "
        "of a run are the same alert; a later pass resolves it), and when the nightly job or a "
        "watched sensor has not succeeded within its window; notify through the alert channels.",
    )
    def _sensor(context: SensorEvaluationContext, siteledger: SiteledgerHome) -> SkipReason:
        cursor = json.loads(context.cursor) if context.cursor else {}
        graph = context.repository_def.asset_graph if context.repository_def else None
        keys = set(watched.resolve(graph)) if graph is not None else set()
        if selection is None:
            keys.discard(REPORT_DEADLINES)
        check_keys = {k for k in graph.asset_check_keys if k.asset_key in keys} if graph else set()
        checks, checks_seen = check_rows(context.instance, check_keys, cursor.get("checks", {}))
        # every failed run when nothing narrows the watch (jobs of ops count too)
        run_keys = keys if selection is not None else None
        runs, runs_at = run_rows(context.instance, cursor.get("runs"), run_keys)
        now = dt.datetime.now(dt.UTC)
        overdue = overdue_rows(context.instance, now, WATCHED_JOBS, WATCHED_SENSORS)
        evaluation, _ = evaluate_home(
            siteledger.settings(),
            siteledger.state_store(),
            now,
            pushed={"platform_events": platform_frame([*checks, *runs, *overdue])},
            only_sources=["platform_events"],
        )
        context.update_cursor(json.dumps({"checks": checks_seen, "runs": runs_at}))
        summary = evaluation.summary()
        return SkipReason(
            f"{len(checks)} check results, {len(runs)} run outcomes, {len(overdue)} watched; "
            f"transitions {summary['transitions']}, {evaluation.notifications} notifications sent"
        )

    return _sensor


platform_alerts_sensor = build_platform_alerts_sensor()
