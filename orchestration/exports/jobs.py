"""The export job (one export of ``exports.yaml``, named in the run's config) and the schedules
built from the file: one per export that has a ``schedule``."""

import datetime as dt
import warnings
from pathlib import Path

from dagster import (
    Config,
    DefaultScheduleStatus,
    Failure,
    MetadataValue,
    OpExecutionContext,
    Output,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    job,
    op,
    schedule,
)
from pydantic import Field

from orchestration.resources import SiteledgerHome
from reports.exports import (
    ExportConfigError,
    ExportDefinition,
    ExportHistory,
    Targets,
    exports_file,
    find_export,
    load_exports,
    run_export,
)


class ExportRunConfig(Config):
    name: str = Field(description="the export's name in exports.yaml")
    as_of: str | None = Field(
        None, description="the run's day, YYYY-MM-DD (relative date ranges count from it)"
    )
    trigger: str = "manual"


@op(description="Run one export of exports.yaml: read, render, deliver, prune and record it.")
def run_export_op(
    context: OpExecutionContext, config: ExportRunConfig, siteledger: SiteledgerHome
) -> Output[str]:
    settings = siteledger.settings()
    export = find_export(
        load_exports(exports_file(settings.home), settings.published_db), config.name
    )
    run = run_export(
        export,
        settings.published_db,
        ExportHistory(siteledger.state_store()),
        Targets.from_env(settings.home),
        as_of=dt.date.fromisoformat(config.as_of) if config.as_of else None,
        trigger=config.trigger,
    )
    metadata: dict[str, MetadataValue] = {
        "run_id": MetadataValue.text(run.run_id),
        "status": MetadataValue.text(run.status),
        "rows": MetadataValue.int(run.rows),
        "bytes": MetadataValue.int(run.bytes_total),
        "files": MetadataValue.json(run.files),
        "destinations": MetadataValue.json(run.destinations),
    }
    if run.status == "failed":
        raise Failure(f"export {config.name} failed: {run.error}", metadata=metadata)
    if run.status == "partial":
        context.log.warning(f"export {config.name}: some destinations failed: {run.error}")
    return Output(run.run_id, metadata=metadata)


@job(
    name="export_job",
    description="Run one export of exports.yaml (named in the run config): its files in every "
    "format, delivered to every destination, old runs pruned, the run recorded in the state "
    "store.",
)
def export_job() -> None:
    run_export_op()


def _schedule(export: ExportDefinition, timezone: str) -> ScheduleDefinition:
    assert export.schedule is not None
    name = export.name

    @schedule(
        name=f"export_{name}_schedule",
        cron_schedule=export.schedule.cron,
        job=export_job,
        execution_timezone=export.schedule.timezone or timezone,
        default_status=DefaultScheduleStatus.RUNNING,
        description=f"{export.schedule.every.capitalize()} at {export.schedule.at}: "
        f"export {name} ({export.source.mart}).",
    )
    def _export_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        day = context.scheduled_execution_time.date().isoformat()
        return RunRequest(
            run_key=f"{name}:{day}",
            run_config={
                "ops": {
                    "run_export_op": {"config": {"name": name, "as_of": day, "trigger": "schedule"}}
                }
            },
            tags={"export": name},
        )

    return _export_schedule


def build_export_schedules(home: Path, timezone: str) -> list[ScheduleDefinition]:
    """A schedule per scheduled export of ``home``'s exports.yaml. A file that cannot be read
    gives none, with a warning: a typo there must not take the regulatory runs down with it
    (``siteledger exports list`` names every problem)."""
    try:
        exports = load_exports(exports_file(home))
    except ExportConfigError as exc:
        warnings.warn(f"no export schedules: {exc}", stacklevel=2)
        return []
    return [_schedule(e, timezone) for e in exports if e.schedule is not None]
