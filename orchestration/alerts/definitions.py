"""Alerts: the evaluation asset and job, its schedule and sensors, the platform's own alerts."""

from dagster import Definitions

from orchestration.alerts.assets import alert_evaluation
from orchestration.alerts.jobs import alert_evaluation_job, alert_evaluation_schedule
from orchestration.alerts.sensors import alert_evaluation_sensor, platform_alerts_sensor

defs = Definitions(
    assets=[alert_evaluation],
    jobs=[alert_evaluation_job],
    schedules=[alert_evaluation_schedule],
    sensors=[alert_evaluation_sensor, platform_alerts_sensor],
)
