"""Analytics: forecasts and their registry, overflow risk, scenarios, anomalies."""

from dagster import Definitions

from orchestration.ml.assets import analytics
from orchestration.ml.jobs import build_model_retrain_schedule, model_retrain_job
from orchestration.partitions import Partitions


def build_defs(partitions: Partitions) -> Definitions:
    return Definitions(
        assets=[analytics],
        jobs=[model_retrain_job],
        schedules=[build_model_retrain_schedule(partitions.timezone)],
    )
