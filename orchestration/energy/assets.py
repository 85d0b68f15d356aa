"""The weekly energy reports: one partition per ISO week, from the published energy marts."""

import datetime as dt

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    BackfillPolicy,
    Failure,
    MaterializeResult,
    WeeklyPartitionsDefinition,
    asset,
)

from orchestration.keys import PUBLISHED
from orchestration.partitions import Partitions
from orchestration.reports.assets import REPORTS_POOL, render_reports
from orchestration.resources import SiteledgerHome
from reports.definitions import load_definitions
from reports.periods import week_containing

ENERGY_REPORT_WEEKLY = AssetKey(["reports", "energy_report_weekly"])


def weekly_partitions(partitions: Partitions) -> WeeklyPartitionsDefinition:
    """ISO weeks (Monday to Sunday, site-local) from the first whole week of data."""
    first = dt.date.fromisoformat(partitions.daily.start.strftime("%Y-%m-%d"))
    monday = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    return WeeklyPartitionsDefinition(
        start_date=monday.isoformat(), day_offset=1, timezone=partitions.timezone
    )


def week_keys(context: AssetExecutionContext) -> list[str]:
    """The ISO weeks (``2026-W10``) of the run's partition or range."""
    if context.has_partition_key_range:
        partitions = context.assets_def.partitions_def
        assert partitions is not None
        keys = partitions.get_partition_keys_in_range(context.partition_key_range)
    else:
        keys = [context.partition_key]
    return [week_containing(dt.date.fromisoformat(k)).key for k in keys]


def build_energy_assets(partitions: Partitions) -> list[AssetsDefinition]:
    @asset(
        key=ENERGY_REPORT_WEEKLY,
        partitions_def=weekly_partitions(partitions),
        deps=[PUBLISHED],
        group_name="energy",
        pool=REPORTS_POOL,
        owners=["team:operations"],
        kinds={"pdf"},
        backfill_policy=BackfillPolicy.single_run(),
    )
    def energy_report_weekly(
        context: AssetExecutionContext, siteledger: SiteledgerHome
    ) -> MaterializeResult:
        """The week's energy summaries (every weekly energy definition, every site with energy
        data), rendered, validated and registered."""
        settings = siteledger.settings()
        definitions = [
            d
            for d in load_definitions(settings.reports_dir)
            if d.domain == "energy" and d.period == "weekly"
        ]
        if not definitions:
            raise Failure(description="no weekly energy report definition is configured")
        weeks = week_keys(context)
        context.log.info(f"weekly energy reports for {', '.join(weeks)}")
        return render_reports(context, siteledger, [d.id for d in definitions], weeks)

    return [energy_report_weekly]
