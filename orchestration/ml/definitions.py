"""Analytics: forecasts and their registry, overflow risk, scenarios, anomalies."""

from dagster import Definitions

from orchestration.ml.assets import analytics
from orchestration.ml.jobs import model_retrain_job, model_retrain_schedule

defs = Definitions(assets=[analytics], jobs=[model_retrain_job], schedules=[model_retrain_schedule])
