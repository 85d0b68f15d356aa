"""The metering lake as an asset of the `metering` group, partitioned by site-local day."""

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    DailyPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from orchestration.keys import RAW_METERING, RAW_READINGS
from orchestration.metering.lake import lake_summary
from orchestration.resources import SiteledgerHome
from orchestration.water.assets import run_window


def build_metering_records(daily: DailyPartitionsDefinition) -> AssetsDefinition:
    @asset(
        key=RAW_METERING,
        deps=[RAW_READINGS],
        partitions_def=daily,
        backfill_policy=BackfillPolicy.single_run(),
        group_name="metering",
        owners=["team:data-engineering"],
        kinds={"parquet"},
    )
    def metering_records(
        context: AssetExecutionContext, siteledger: SiteledgerHome
    ) -> MaterializeResult:
        """Prepaid metering records (customers, meters, vouchers, purchases, readings, meter
        events, maintenance) in the raw lake, imported from landing with the readings; the
        readings of the run's days counted per site."""
        first, last = run_window(context) or (None, None)
        store = siteledger.state_store()
        try:
            summary = lake_summary(siteledger.settings(), store, first, last)
        finally:
            store.dispose()
        return MaterializeResult(
            metadata={
                "rows": MetadataValue.json(summary["rows"]),
                "window_readings": MetadataValue.json(summary["window_readings"]),
                "window_days": summary["window_days"],
                "batches": summary["batches"],
                "fingerprint": summary["fingerprint"],
                "path": MetadataValue.path(summary["path"]),
            }
        )

    return metering_records
