"""Device ingestion: spool import, on-demand poll, device health, their jobs and sensors."""

from dagster import Definitions

from orchestration.devices.assets import device_health, device_readings
from orchestration.devices.jobs import device_spool_import_job
from orchestration.devices.sensors import device_lake_days_changed_sensor, device_spool_sensor

defs = Definitions(
    assets=[device_readings, device_health],
    jobs=[device_spool_import_job],
    sensors=[device_spool_sensor, device_lake_days_changed_sensor],
)
