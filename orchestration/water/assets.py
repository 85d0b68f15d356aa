"""Water balance assets: site configuration tables, the dbt models, the published warehouse."""

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Failure,
    MaterializeResult,
    MetadataValue,
    Output,
    asset,
)
from dagster_dbt import DbtCliResource, dbt_assets

from ingestion.site_tables import write_site_tables
from orchestration.partitions import daily_partitions
from orchestration.resources import SiteledgerHome
from orchestration.water.dbt import (
    SITE_CONFIG_KEY,
    SiteledgerDbtTranslator,
    dbt_environment,
    dbt_project,
    ensure_manifest,
)
from quality.audit import audit_build
from quality.scoring import SCORES_TABLE
from siteledger.dbt import NIGHTLY_ARGS, PARTITIONED_SELECT
from siteledger.warehouse import Warehouse

DUCKDB_POOL = "duckdb_writer"  # one DuckDB writer at a time (STACK_NOTES: single-writer lock)
MARTS_SCHEMA = "marts"
# written by the quality stage (orchestration/quality), audited before every publish
QUALITY_SCORES_KEY = AssetKey([MARTS_SCHEMA, SCORES_TABLE])

translator = SiteledgerDbtTranslator()
manifest = ensure_manifest()


@asset(
    key=SITE_CONFIG_KEY,
    group_name="ingestion",
    owners=["team:data-engineering"],
    kinds={"python", "parquet"},
)
def site_config_tables(siteledger: SiteledgerHome) -> MaterializeResult:
    """Every site YAML file exported as tables (nodes, flows, meters, curves, rules) for dbt."""
    settings = siteledger.settings()
    written: dict[str, list[str]] = {}
    for site in siteledger.sites():
        written[site.site.id] = sorted(write_site_tables(settings, site))
    return MaterializeResult(
        metadata={
            "sites": MetadataValue.json(sorted(written)),
            "tables": MetadataValue.json(written),
            "path": MetadataValue.path(str(settings.lake / "config")),
        }
    )


def _row_counts(settings: Any, names: list[str]) -> dict[str, int]:
    """Row counts of built models, read after dbt released the build database."""
    path = settings.build_db
    if not path.exists() or not names:
        return {}
    with duckdb.connect(str(path), read_only=True) as con:
        found = con.execute("select table_name, estimated_size from duckdb_tables()").fetchall()
    wanted = set(names)
    return {name: int(size) for name, size in found if name in wanted}


def _dbt_build(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    siteledger: SiteledgerHome,
    start_day: str | None = None,
    end_day: str | None = None,
) -> Iterator[Any]:
    """Run ``dbt build`` for the selected models, then yield its events with row counts."""
    settings = siteledger.settings()
    args = ["build", *NIGHTLY_ARGS]
    with dbt_environment(settings, start_day, end_day):
        events = list(dbt.cli(args, context=context).stream())
    table_of = {
        event.output_name: context.assets_def.keys_by_output_name[event.output_name].path[-1]
        for event in events
        if isinstance(event, Output)
    }
    counts = _row_counts(settings, list(table_of.values()))
    for event in events:
        if isinstance(event, Output) and table_of[event.output_name] in counts:
            count = counts[table_of[event.output_name]]
            event = event.with_metadata({**event.metadata, "dagster/row_count": count})
        yield event


@dbt_assets(
    manifest=manifest,
    select="fqn:*",
    exclude=f"{PARTITIONED_SELECT}+",
    dagster_dbt_translator=translator,
    project=dbt_project,
    name="water_reference_models",
    pool=DUCKDB_POOL,
)
def water_reference_models(
    context: AssetExecutionContext, dbt: DbtCliResource, siteledger: SiteledgerHome
) -> Iterator[Any]:
    """Staging views and configuration-derived models: everything not rebuilt per day."""
    yield from _dbt_build(context, dbt, siteledger)


@dbt_assets(
    manifest=manifest,
    select=f"{PARTITIONED_SELECT}+",
    dagster_dbt_translator=translator,
    project=dbt_project,
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    name="water_daily_models",
    pool=DUCKDB_POOL,
)
def water_daily_models(
    context: AssetExecutionContext, dbt: DbtCliResource, siteledger: SiteledgerHome
) -> Iterator[Any]:
    """Day-partitioned balance models; a backfill over a range is one dbt invocation."""
    window = context.partition_time_window
    start_day = window.start.date()
    end_day = (window.end - dt.timedelta(days=1)).date()
    context.log.info(f"dbt window {start_day} .. {end_day}")
    yield from _dbt_build(context, dbt, siteledger, start_day.isoformat(), end_day.isoformat())


def _mart_keys(manifest_data: dict[str, Any]) -> list[AssetKey]:
    """Keys of every dbt model under ``models/marts``: what the warehouse publishes."""
    keys = [
        translator.get_asset_spec(manifest_data, unique_id, dbt_project).key
        for unique_id, node in manifest_data["nodes"].items()
        if node["resource_type"] == "model" and node["fqn"][1] == "marts"
    ]
    return sorted(keys, key=lambda key: key.to_user_string())


MART_KEYS = _mart_keys(json.loads(manifest.read_text()))


@asset(
    key=AssetKey(["warehouse", "published"]),
    deps=[*MART_KEYS, QUALITY_SCORES_KEY],
    group_name="warehouse",
    owners=["team:data-engineering"],
    kinds={"duckdb", "parquet"},
    pool=DUCKDB_POOL,
)
def published_warehouse(siteledger: SiteledgerHome) -> MaterializeResult:
    """The marts as BI tools read them: immutable DuckDB file and Parquet, swapped atomically."""
    settings = siteledger.settings()
    warehouse = Warehouse(settings, siteledger.state_store())
    # the blocking audit checks on the quality scores stop this step when they fail; auditing
    # again here keeps a publish started on its own from skipping them
    outcome = warehouse.publish_audited(
        [MARTS_SCHEMA], audit_build, note="published after a successful dbt build and audit"
    )
    if outcome.published is None:
        raise Failure(
            description="the build failed its audits and was not published; version "
            f"{outcome.serving_version_id or '(none)'} keeps serving",
            metadata={
                "audit_id": outcome.audit_id,
                "failures": MetadataValue.json(outcome.failures),
            },
        )
    version = outcome.published
    return MaterializeResult(
        metadata={
            "version_id": version.version_id,
            "published_path": MetadataValue.path(str(warehouse.published_db)),
            "parquet_path": MetadataValue.path(str(warehouse.parquet_link)),
            "tables": MetadataValue.json(version.tables),
            "dagster/row_count": sum(version.tables.values()),
            "audit_id": outcome.audit_id,
        }
    )
