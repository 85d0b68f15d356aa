"""Jobs of the device area: import the spool, and poll every device once now."""

from dagster import AssetSelection, OpExecutionContext, define_asset_job, job, op

from ingestion.devices.service import poll_now
from orchestration.keys import DEVICE_HEALTH, RAW_DEVICE_READINGS
from orchestration.resources import SiteledgerHome

device_spool_import_job = define_asset_job(
    "device_spool_import_job",
    selection=AssetSelection.assets(RAW_DEVICE_READINGS, DEVICE_HEALTH),
    description="Move the collector's spooled readings into the raw lake; refresh device health.",
)


@op
def poll_devices(context: OpExecutionContext, siteledger: SiteledgerHome) -> list[str]:
    """One poll of every Modbus device of every site, written to the spool."""
    settings = siteledger.settings()
    polled = []
    for site in siteledger.sites():
        if any(meter.modbus for meter in site.meters):
            path = poll_now(settings, site)
            polled.append(f"{site.site.id}: {path.name if path else 'cycle spooled already'}")
    context.log.info("; ".join(polled) or "no site has Modbus meters")
    return polled


@job(
    description="Poll every Modbus device once now (sites without a collector) into the spool; "
    "device_spool_sensor then imports it like any collector segment."
)
def device_poll_now_job() -> None:
    poll_devices()
