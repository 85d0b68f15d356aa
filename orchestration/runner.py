"""The main chain in order, run in-process against the home's own Dagster instance.

``siteledger run`` and ``demo run`` call :func:`run_chain`: the nightly job's import, the backfill
job over a window of site-local days (every model: a run by hand may follow a site file's change
or be the home's first), then the report jobs over every complete period of the published data.
Every run is recorded in ``$SITELEDGER_HOME/dagster`` (the instance ``siteledger ui`` opens), with
its materialisations, their metadata and every check result.
"""

import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dagster import DagsterInstance, Definitions, ExecuteInProcessResult

from orchestration.energy.assets import weekly_partitions
from orchestration.keys import (
    DEVICE_HEALTH,
    RAW_DEVICE_READINGS,
    RAW_MATERIALS,
    RAW_METERING,
    RAW_READINGS,
)
from orchestration.partitions import (
    REPORT_KINDS,
    Partitions,
    build_partitions,
    days_of_data,
    range_tags,
    window_within,
)
from siteledger.settings import Settings

INSTANCE_TEMPLATE = Path(__file__).with_name("dagster.yaml")
NIGHTLY_JOB = "nightly_job"
BACKFILL_JOB = "backfill_job"
# runs of the chain say so: their publish is followed by the report runs of the same chain
STARTED_BY_TAG = "siteledger/started_by"
CHAIN_STARTER = "siteledger run"
INGEST_KEYS = (RAW_READINGS, RAW_DEVICE_READINGS, DEVICE_HEALTH, RAW_MATERIALS, RAW_METERING)
DEADLINE_JOB = "report_deadline_job"
# the report job of a period kind, where it is not compliance_report_<kind>_job
REPORT_JOBS = {"weekly": "energy_report_weekly_job"}
ALERT_JOB = "alert_evaluation_job"
CERTIFICATES_JOB = "certificates_of_analysis_job"
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


# A range run of N days plans N materialisations per asset unless the storage is told to plan the
# range as one event per asset; on SQLite each event is ~10-15 ms, and a year of the 46 day-
# partitioned assets is 16.8 k of them. The cost: a failed range run does not mark its partitions
# failed (they stay as they were).
PLANNED_AS_RANGES = {"DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true"}


def prepare_instance_dir(settings: Settings) -> Path:
    """``$SITELEDGER_HOME/dagster`` with the shipped instance configuration (kept if edited)."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copy(INSTANCE_TEMPLATE, config)
    return home


def instance_for(settings: Settings) -> DagsterInstance:
    """The home's Dagster instance: the runs the UI shows are the runs the CLI made."""
    return DagsterInstance.from_config(str(prepare_instance_dir(settings)))


@dataclass
class JobRun:
    job_name: str
    window: tuple[str, str] | None
    result: ExecuteInProcessResult
    seconds: float

    @property
    def success(self) -> bool:
        return self.result.success

    def failures(self) -> list[tuple[str, str]]:
        """(step key, error message with its causes) of every failed step."""
        out = []
        for event in self.result.get_step_failure_events():
            error = event.event_specific_data.error  # type: ignore[union-attr]
            lines = []
            while error is not None:
                lines.append(error.message.strip())
                error = error.cause
            out.append((event.step_key or "(run)", "\n".join(lines)))
        return out


@dataclass
class ChainRun:
    runs: list[JobRun] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return all(run.success for run in self.runs)


def run_job(
    settings: Settings,
    job_name: str,
    *,
    defs: Definitions | None = None,
    instance: DagsterInstance | None = None,
) -> JobRun:
    """One job of the home's definitions, run in-process on the home's instance (the UI shows
    it like any other run)."""
    from orchestration.definitions import build_defs

    defs = defs or build_defs(settings)
    t0 = time.perf_counter()
    result = defs.resolve_job_def(job_name).execute_in_process(
        instance=instance or instance_for(settings),
        tags={STARTED_BY_TAG: CHAIN_STARTER},
        run_config=QUIET,
        raise_on_error=False,
    )
    return JobRun(job_name, None, result, time.perf_counter() - t0)


# called before a run starts (job name, run id, what it covers) and after it ends
OnStart = Callable[[str, str, str], None]
OnDone = Callable[[JobRun], None]


def _clamp(
    start_day: str | None, end_day: str | None, settings: Settings, partitions: Partitions
) -> tuple[tuple[str, str] | None, list[str]]:
    days = days_of_data(settings)
    first = start_day or (days[0] if days else None)
    last = end_day or (days[-1] if days else None)
    if first is None or last is None:
        return None, ["the raw lake holds no readings yet: nothing to rebuild"]
    window = window_within([first, last], partitions.daily)
    notes = []
    if window is None:
        keys = partitions.daily.get_partition_keys()
        span = f"{keys[0]}..{keys[-1]}" if keys else "none yet"
        return None, [f"{first}..{last} lies outside the day partitions ({span})"]
    if window != (first, last):
        notes.append(
            f"window {first}..{last} clamped to the day partitions: {window[0]}..{window[1]}"
        )
    return window, notes


def report_ranges(settings: Settings, partitions: Partitions) -> dict[str, list[tuple[str, str]]]:
    """Per period kind, the contiguous ranges of report partitions whose period is complete in
    the published warehouse for some site (every report definition of that kind)."""
    from reports.data import load_site, site_ids, site_regulators
    from reports.definitions import load_definitions

    db = settings.published_db
    if not db.exists():
        return {}
    definitions = load_definitions(settings.reports_dir)
    kinds = {
        **{kind: partitions.reports[kind] for kind in REPORT_KINDS},
        # the energy summaries' ISO weeks
        "weekly": weekly_partitions(partitions),
    }
    starts: dict[str, set[str]] = {kind: set() for kind in kinds}
    regulators = site_regulators(db)
    for site_id in site_ids(db):
        data = load_site(db, site_id)
        for definition in definitions:
            if definition.period in starts and definition.applies_to(
                site_id, regulators.get(site_id, [])
            ):
                starts[definition.period] |= {p.start.isoformat() for p in data.periods(definition)}
    ranges: dict[str, list[tuple[str, str]]] = {}
    for kind, wanted in starts.items():
        keys = kinds[kind].get_partition_keys()
        index = [i for i, key in enumerate(keys) if key in wanted]
        runs: list[tuple[str, str]] = []
        for i in index:
            if runs and keys.index(runs[-1][1]) == i - 1:
                runs[-1] = (runs[-1][0], keys[i])
            else:
                runs.append((keys[i], keys[i]))
        if runs:
            ranges[kind] = runs
    return ranges


def _certificates_due(settings: Settings) -> bool:
    from reports.materials.certificates import certificates_due
    from siteledger.state.store import StateStore

    store = StateStore(settings.state_store_url)
    try:
        return bool(certificates_due(settings, store))
    finally:
        store.dispose()


def run_chain(
    settings: Settings,
    start_day: str | None = None,
    end_day: str | None = None,
    full_refresh: bool = False,
    *,
    defs: Definitions | None = None,
    instance: DagsterInstance | None = None,
    on_start: OnStart | None = None,
    on_done: OnDone | None = None,
) -> ChainRun:
    """The nightly job over ``start_day..end_day`` (default: every day in the lake once the
    waiting files and spooled readings are imported), then the report jobs over every complete
    period of the published data and the certificates of analysis the published lots wait for.
    Stops at the first run that fails."""
    from orchestration.definitions import build_defs

    for name, value in PLANNED_AS_RANGES.items():
        os.environ.setdefault(name, value)
    defs = defs or build_defs(settings)
    partitions = build_partitions(settings)
    instance = instance or instance_for(settings)
    chain = ChainRun()
    dbt_config = {"ops": {"water_models": {"config": {"full_refresh": full_refresh}}}}

    def execute(job_name, window, label, **kwargs) -> bool:  # type: ignore[no-untyped-def]
        run_id = str(uuid.uuid4())
        if on_start:
            on_start(job_name, run_id, label)
        t0 = time.perf_counter()
        tags = {STARTED_BY_TAG: CHAIN_STARTER, **(range_tags(window) if window else {})}
        # the run's events go to the instance; the caller renders them, not the console logger
        run_config = {**kwargs.pop("run_config", {}), **QUIET}
        result = defs.resolve_job_def(job_name).execute_in_process(
            instance=instance,
            run_id=run_id,
            tags=tags,
            run_config=run_config,
            raise_on_error=False,
            **kwargs,
        )
        run = JobRun(job_name, window, result, time.perf_counter() - t0)
        chain.runs.append(run)
        if on_done:
            on_done(run)
        return run.success

    if start_day or end_day:
        window, notes = _clamp(start_day, end_day, settings, partitions)
        chain.notes += notes
        if window is None:
            return chain
    if not execute(NIGHTLY_JOB, None, "import", asset_selection=list(INGEST_KEYS)):
        return chain
    window, notes = _clamp(start_day, end_day, settings, partitions)
    chain.notes += notes
    if window is None:
        return chain
    # every model, the ones derived from the site files too: a run by hand may follow a site
    # file's change, or be the home's first
    if not execute(BACKFILL_JOB, window, f"{window[0]}..{window[1]}", run_config=dbt_config):
        return chain
    for kind, ranges in report_ranges(settings, partitions).items():
        for first, last in ranges:
            label = first if first == last else f"{first}..{last}"
            if not execute(
                REPORT_JOBS.get(kind, f"compliance_report_{kind}_job"), (first, last), label
            ):
                return chain
    # the certificates of the lots whose testing the published records complete
    if _certificates_due(settings) and not execute(CERTIFICATES_JOB, None, "certificates"):
        return chain
    # and which reports are now due and unsubmitted (the check fails, listing them, when any is)
    execute(DEADLINE_JOB, None, "deadlines")
    # and the alert rules on everything now published and reported
    execute(ALERT_JOB, None, "alerts")
    return chain
