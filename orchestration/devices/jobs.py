"""Jobs of the device area: import the spool (polling once now is an op job on the Modbus
resource, ``orchestration.external.device_poll_now_job``)."""

from dagster import AssetSelection, define_asset_job

from orchestration.keys import DEVICE_HEALTH, RAW_DEVICE_READINGS, URGENT_PRIORITY

device_spool_import_job = define_asset_job(
    "device_spool_import_job",
    tags=URGENT_PRIORITY,
    selection=AssetSelection.assets(RAW_DEVICE_READINGS, DEVICE_HEALTH),
    description="Move the collector's spooled readings into the raw lake; refresh device health.",
)
