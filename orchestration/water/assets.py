"""Water balance assets: site configuration tables, the dbt models, the published warehouse."""

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from functools import partial
from typing import Any

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    DailyPartitionsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    Output,
    asset,
)
from dagster_dbt import DbtCliResource, dbt_assets

from alerts.service import stage_alert_marts
from ingestion.files.recovery import mark_days_rebuilt
from ingestion.site_tables import write_site_tables
from orchestration.keys import (
    BUILD,
    BUILD_TABLES,
    BUILD_WINDOW,
    EVERY_DAY,
    PUBLISHED,
    SITE_CONFIG,
    SITE_FILES,
)
from orchestration.partitions import site_files_fingerprint
from orchestration.resources import SiteledgerHome
from orchestration.water.dbt import (
    SiteledgerDbtTranslator,
    dbt_environment,
    dbt_project,
    ensure_manifest,
    readable_manifest,
)
from quality.audit import audit_build
from siteledger.dbt import NIGHTLY_ARGS, PARTITIONED_TAG, dbt_target_dir, manifest_path
from siteledger.state.store import utcnow
from siteledger.warehouse import Warehouse

DUCKDB_POOL = "duckdb_writer"  # one DuckDB writer at a time (STACK_NOTES: single-writer lock)
MARTS_SCHEMA = "marts"
DBT_SUMMARY = "dbt_build"  # metadata key of every dbt model: the invocation's PASS/WARN/ERROR line

translator = SiteledgerDbtTranslator()
manifest = readable_manifest(ensure_manifest())


@asset(
    key=SITE_CONFIG,
    group_name="ingestion",
    owners=["team:data-engineering"],
    kinds={"python", "parquet"},
)
def site_config(siteledger: SiteledgerHome) -> MaterializeResult:
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


def _summary(run_results: dict[str, Any]) -> str:
    """dbt's own closing line, e.g. ``PASS=180 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=180``."""
    status = Counter(str(r.get("status", "")).lower() for r in run_results.get("results", []))
    passed = status["pass"] + status["success"]
    counts = {
        "PASS": passed,
        "WARN": status["warn"],
        "ERROR": status["error"] + status["fail"],
        "SKIP": status["skipped"],
        "NO-OP": status["no-op"],
    }
    return " ".join(f"{k}={v}" for k, v in counts.items()) + f" TOTAL={sum(status.values())}"


class WaterModelsConfig(Config):
    full_refresh: bool = False
    """Rebuild the incremental models from scratch (after an upgrade changed their columns)."""


def dbt_build(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    siteledger: SiteledgerHome,
    window: tuple[str, str] | None,
    full_refresh: bool = False,
) -> Iterator[Any]:
    """Run ``dbt build`` over a window of site-local days, then yield its events with row counts
    and dbt's summary line.

    dbt unit tests check SQL logic on fixed inputs, not data: they run on multi-day windows and
    full rebuilds and are left out of a single nightly day (~3 s of it).
    """
    settings = siteledger.settings()
    args = ["build"]
    if window is not None and window[0] == window[1]:
        args += NIGHTLY_ARGS
    if full_refresh:
        args.append("--full-refresh")
    start_day, end_day = window or (None, None)
    started_at = utcnow()
    with dbt_environment(settings, start_day, end_day):
        # one target folder per home: dbt's partial-parse cache matches this home's profile, so
        # only the first run of a home parses the whole project (~3-5 s)
        invocation = dbt.cli(
            args, context=context, raise_on_error=False, target_path=dbt_target_dir(settings)
        )
        events = list(invocation.stream())
    try:
        summary = _summary(invocation.get_artifact("run_results.json"))
    except (OSError, ValueError):  # dbt stopped before it ran anything
        summary = "no results"
    context.log.info(f"dbt build {start_day}..{end_day}: {summary}")
    table_of = {
        event.output_name: context.assets_def.keys_by_output_name[event.output_name].path[-1]
        for event in events
        if isinstance(event, Output)
    }
    counts = _row_counts(settings, list(table_of.values()))
    site_files = site_files_fingerprint(settings) or ""
    for event in events:
        if isinstance(event, Output):
            extra: dict[str, Any] = {
                DBT_SUMMARY: summary,
                SITE_FILES: site_files,
                BUILD_WINDOW: f"{start_day}..{end_day}" if start_day else EVERY_DAY,
            }
            if table_of[event.output_name] in counts:
                extra["dagster/row_count"] = counts[table_of[event.output_name]]
            event = event.with_metadata({**event.metadata, **extra})
        yield event
    error = invocation.get_error()
    if error is not None:
        raise error  # with the errors dbt logged
    if set(DAY_MODEL_KEYS) <= set(context.selected_asset_keys):
        # the days a rolled-back batch left are rewritten now
        mark_days_rebuilt(settings, start_day, end_day, started_at)


def run_window(context: AssetExecutionContext) -> tuple[str, str] | None:
    """The run's site-local days (first, last): its day partition or range of them, or None (an
    unpartitioned run: everything)."""
    if context.assets_def.partitions_def is not None and (
        context.has_partition_key or context.has_partition_key_range
    ):
        window = context.partition_time_window
        last = (window.end - dt.timedelta(days=1)).date()
        return window.start.date().isoformat(), last.isoformat()
    # an unpartitioned step of a partitioned run (the dbt models) reads the run's days
    tags = context.run.tags
    first = tags.get("dagster/asset_partition_range_start") or tags.get("dagster/partition")
    last = tags.get("dagster/asset_partition_range_end") or first
    return (first, last) if first and last else None


def build_water_models(daily: DailyPartitionsDefinition) -> AssetsDefinition:
    """Every dbt model in one block: one dbt invocation per run (each costs ~5 s of process
    start), views and dimensions rebuilt with every window as they always were.

    The block is not partitioned itself: it rebuilds the days of the run it is in (the day
    partitions of the quality scores beside it, or everything in an unpartitioned run). A
    partitioned block would record one materialisation per model per day — 46 models x 365 days
    is 16.8 k events, about 170 s of Dagster's bookkeeping for a year — where this records one
    per model, with the window in its metadata."""
    del daily  # the window arrives through the run's partition tags

    @dbt_assets(
        manifest=manifest,
        select="fqn:*",
        dagster_dbt_translator=translator,
        project=dbt_project,
        name="water_models",
        pool=DUCKDB_POOL,
    )
    def water_models(
        context: AssetExecutionContext,
        dbt: DbtCliResource,
        siteledger: SiteledgerHome,
        config: WaterModelsConfig,
    ) -> Iterator[Any]:
        """Staging views, VEE, balances and marts; a range of days is one dbt invocation."""
        yield from dbt_build(context, dbt, siteledger, run_window(context), config.full_refresh)

    return water_models


def _mart_keys() -> list[Any]:
    """Keys of every dbt model under ``models/marts``: what the warehouse publishes."""
    keys = [
        translator.get_asset_spec(manifest, unique_id, dbt_project).key
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["fqn"][1] == "marts"
    ]
    return sorted(keys, key=lambda key: key.to_user_string())


MART_KEYS = _mart_keys()


def _day_model_keys() -> list[Any]:
    """Keys of the models that change when days of readings arrive (tagged
    ``partitioned_by_day``); what is downstream of them is rebuilt with them. The rest derives
    from the site files and is rebuilt when a site file changes."""
    keys = [
        translator.get_asset_spec(manifest, unique_id, dbt_project).key
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and PARTITIONED_TAG in (node.get("tags") or [])
    ]
    return sorted(keys, key=lambda key: key.to_user_string())


DAY_MODEL_KEYS = _day_model_keys()


@asset(
    key=PUBLISHED,
    deps=[BUILD, *BUILD_TABLES],
    group_name="warehouse",
    owners=["team:data-engineering"],
    kinds={"duckdb", "parquet"},
    pool=DUCKDB_POOL,
)
def published(siteledger: SiteledgerHome) -> MaterializeResult:
    """The marts as BI tools read them: immutable DuckDB file and Parquet, swapped atomically."""
    settings = siteledger.settings()
    store = siteledger.state_store()
    warehouse = Warehouse(settings, store)
    # the alerts as they stand go out with the marts (BI charts them beside the data)
    stage_alert_marts(settings, store)
    # the blocking audits on warehouse/build stop this step when they fail; auditing again here
    # (0.1 s) keeps a publish started on its own from skipping them
    outcome = warehouse.publish_audited(
        [MARTS_SCHEMA],
        partial(audit_build, manifest=manifest_path(settings)),
        note="published after a successful dbt build and audit",
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
