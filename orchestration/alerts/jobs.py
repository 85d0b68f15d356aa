"""The alert evaluation job and the schedule that runs it between publishes."""

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    ScheduleDefinition,
    define_asset_job,
)

from orchestration.keys import ALERT_EVALUATION, SENSOR_PRIORITY

alert_evaluation_job = define_asset_job(
    "alert_evaluation_job",
    selection=AssetSelection.assets(ALERT_EVALUATION),
    tags=SENSOR_PRIORITY,
    description="Judge every alert rule on what was published and on the live device and "
    "report state since the last evaluation; send the notifications due.",
)

alert_evaluation_schedule = ScheduleDefinition(
    name="alert_evaluation_schedule",
    job=alert_evaluation_job,
    cron_schedule="*/15 * * * *",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Every 15 minutes: the live rules (devices offline, reports due) and the "
    "repeats, escalations and acknowledgement time-outs of open alerts.",
)
