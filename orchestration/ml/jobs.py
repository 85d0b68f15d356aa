"""The monthly retrain of every forecast model, published with the analytics it changes."""

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    ScheduleDefinition,
    define_asset_job,
)

from orchestration.keys import ANALYTICS, PUBLISHED, SENSOR_PRIORITY

model_retrain_job = define_asset_job(
    "model_retrain_job",
    selection=AssetSelection.assets(*ANALYTICS, PUBLISHED),
    tags=SENSOR_PRIORITY,
    config={"ops": {"analytics": {"config": {"retrain": "all"}}}},
    description="Retrain every forecast model on the audited build (fit and rolling-origin "
    "backtest), forecast and scan again, and publish.",
)


def build_model_retrain_schedule(timezone: str) -> ScheduleDefinition:
    """03:00 on the first of the month in the partitions' zone (where the nightly run's 02:00
    and the reports' 04:00 are)."""
    return ScheduleDefinition(
        name="model_retrain_schedule",
        job=model_retrain_job,
        cron_schedule="0 3 1 * *",
        execution_timezone=timezone,
        default_status=DefaultScheduleStatus.RUNNING,
        description="On the first of every month at 03:00, after the nightly run and before "
        "the monthly reports (04:00) read the outlook: every forecast model retrained on the "
        "latest data (a model is also retrained by the nightly run once its next-retrain date "
        "has passed).",
    )
