"""What the platform itself did, as rows of the ``platform_events`` alert source: failed asset
checks, failed runs (a retry's failure is the same alert as the first), and jobs or sensors that
have not succeeded within their window (a dead-man's switch)."""

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from dagster import (
    AssetCheckKey,
    AssetCheckSeverity,
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    RunsFilter,
)
from dagster._core.event_api import RunStatusChangeRecordsFilter
from dagster._core.scheduler.instigation import InstigatorStatus, InstigatorType, TickStatus

ROOT_RUN_TAG = "dagster/root_run_id"
BATCH = 1000


def _when(timestamp: float) -> str:
    # microseconds: a check can fail and pass again within a second, and each is an observation
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="microseconds")


def _row(kind: str, subject: str, detail: str, observed_at: str, **flags: float) -> dict[str, Any]:
    row: dict[str, Any] = {
        "kind": kind,
        "subject": subject,
        "detail": detail,
        "check_error": None,
        "check_warn": None,
        "run_failed": None,
        "overdue": None,
        "observed_at": observed_at,
    }
    row.update(flags)
    return row


def check_rows(
    instance: DagsterInstance, checks: Collection[AssetCheckKey], seen: Mapping[str, int]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The latest evaluation of each check in ``checks`` not seen before (``seen``: check ->
    id of the execution last turned into a row): failed ones breach, passing ones clear. Reads
    the checks' execution records, which every event log storage keeps (run-sharded SQLite too).
    """
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(checks))
    rows = []
    marks = dict(seen)
    for key, record in sorted(latest.items(), key=lambda kv: kv[1].id):
        name = f"{key.asset_key.to_user_string()}:{key.name}"
        event = record.event
        data = event.asset_check_evaluation if event is not None else None
        if event is None or data is None or record.id <= seen.get(name, 0):
            continue  # planned or skipped, or already judged
        marks[name] = record.id
        failed = 0.0 if data.passed else 1.0
        flags = (
            {"check_error": failed}
            if data.severity == AssetCheckSeverity.ERROR
            else {"check_warn": failed}
        )
        detail = (data.description or "") + f" (run {record.run_id[:8]})"
        rows.append(_row("asset_check", name, detail, _when(event.timestamp), **flags))
    return rows, marks


def run_rows(
    instance: DagsterInstance, after: int | None, keys: Collection[AssetKey] | None
) -> tuple[list[dict[str, Any]], int | None]:
    """Runs that failed, and retries that succeeded, after storage id ``after``: one subject
    per job and original run, so every retry of a failed run is the same alert."""
    rows = []
    last = after
    outcomes: tuple[tuple[Any, float], ...] = (
        (DagsterEventType.RUN_FAILURE, 1.0),
        (DagsterEventType.RUN_SUCCESS, 0.0),
    )
    for event_type, failed in outcomes:
        records = instance.fetch_run_status_changes(
            RunStatusChangeRecordsFilter(event_type, after_storage_id=after),
            limit=BATCH,
            ascending=True,
        ).records
        for record in records:
            last = max(last or 0, record.storage_id)
            run = instance.get_run_by_id(record.run_id)
            if run is None:
                continue
            root = run.tags.get(ROOT_RUN_TAG, run.run_id)
            if not failed and root == run.run_id:
                continue  # a first attempt that succeeded closes nothing
            if keys is not None and not (_run_assets(instance, run) & set(keys)):
                continue
            message = record.event_log_entry.user_message or ""
            rows.append(
                _row(
                    "run",
                    f"{run.job_name}:{root[:8]}",
                    message[:500],
                    _when(record.timestamp),
                    run_failed=failed,
                )
            )
    return rows, last


def _run_assets(instance: DagsterInstance, run: Any) -> set[AssetKey]:
    """The assets a run set out to materialise (its selection, else what it planned)."""
    if run.asset_selection:
        return set(run.asset_selection)
    planned = instance.get_records_for_run(
        run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION_PLANNED
    ).records
    keys = set()
    for record in planned:
        event = record.event_log_entry.dagster_event
        if event is not None and event.asset_key is not None:
            keys.add(event.asset_key)
    return keys


def overdue_rows(
    instance: DagsterInstance,
    now: dt.datetime,
    jobs: dict[str, dt.timedelta],
    sensors: dict[str, dt.timedelta],
) -> list[dict[str, Any]]:
    """A dead-man's switch: each watched job whose last success is older than its window (once
    it has run at all), each running sensor whose last good tick is older than its window."""
    rows = []
    observed = now.isoformat(timespec="microseconds")
    for job, window in sorted(jobs.items()):
        runs = instance.get_runs(RunsFilter(job_name=job), limit=1)
        if not runs:
            continue  # a job that never ran is not late: the deployment is new
        ok = instance.get_runs(
            RunsFilter(job_name=job, statuses=[DagsterRunStatus.SUCCESS]), limit=1
        )
        stats = instance.get_run_stats(ok[0].run_id) if ok else None
        last = stats.end_time if stats is not None else None
        late = last is None or now.timestamp() - last > window.total_seconds()
        detail = (
            f"last success {_when(last)}" if last else "no successful run yet"
        ) + f"; expected within {window}"
        rows.append(_row("job", job, detail, observed, overdue=float(late)))
    states = (
        {
            state.instigator_name: state
            for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
        }
        if instance.schedule_storage is not None and sensors
        else {}
    )
    for name, window in sorted(sensors.items()):
        state = states.get(name)
        if state is None or state.status != InstigatorStatus.RUNNING:
            continue  # stopped on purpose, or never started
        ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=20)
        if not ticks:
            continue
        good = [t for t in ticks if t.status in (TickStatus.SUCCESS, TickStatus.SKIPPED)]
        last = good[0].timestamp if good else None
        late = last is None or now.timestamp() - last > window.total_seconds()
        detail = (f"last good tick {_when(last)}" if last else "no good tick in the last 20") + (
            f"; expected within {window}"
        )
        rows.append(_row("sensor", name, detail, observed, overdue=float(late)))
    return rows
