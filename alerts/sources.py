"""Where alert rules read their rows: a published mart, or a live source the engine assembles
from the state store at evaluation time (device health, report deadlines and requirements), or
rows pushed by the orchestrator (failed checks and runs, overdue jobs).

Every source returns a DataFrame with the rule's label, time and metric columns; the time column
of a live source is the evaluation's own time, so each evaluation is a new observation.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from siteledger.settings import Settings
from siteledger.state.store import StateStore

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SourceError(RuntimeError):
    """A rule's source could not be read (missing table or column, unreadable warehouse)."""


@dataclass(frozen=True)
class SourceRequest:
    """What one rule needs from its source: columns, the time column, and the earliest time to
    read (None: the rule's look-back before the source's latest time), and how many rows of each
    scope (``labels``) before that time a rate of change compares with."""

    source: str
    time: str
    columns: tuple[str, ...]
    since: str | None
    lookback: dt.timedelta
    labels: tuple[str, ...] = ()
    history_rows: int = 0
    # a snapshot (a current-state table): every row, observed at this time (the evaluation's)
    snapshot_at: str | None = None


# columns a mart may have that say more about an alert than its metric (how big the store is,
# how much water, how many readings were due): read beside each rule's own, into the alert's
# details and its messages
CONTEXT_COLUMNS = (
    "node_name",
    "meter_name",
    "capacity_m3",
    "closing_storage_m3",
    "inputs_m3",
    "outputs_m3",
    "closure_error_m3",
    "volume_m3",
    "n_expected",
    "n_received",
    "n_missing",
    # materials: which material, batch, product and expiry date an alert on a lot or a batch
    # is about
    "material_id",
    "batch_id",
    "product_id",
    "expiry_date",
    # metering: whose meter, what kind of leak or event, what is wrong with a device, who is to
    # do an overdue task
    "customer_id",
    "meter_id",
    "segment",
    "balance_status",
    "leak_kind",
    "event_id",
    "detail",
    "issues",
    "task_type",
    "technician",
    "due_date",
    "days_overdue",
)


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute(
        "select column_name from information_schema.columns where table_name = ?", [table]
    ).fetchall()
    return {r[0] for r in rows}


def _quote(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise SourceError(f"{name!r} is not an identifier")
    return f'"{name}"'


def read_mart(con: duckdb.DuckDBPyConnection, request: SourceRequest) -> pd.DataFrame:
    """Rows of a published mart from ``since`` (inclusive), or the rule's look-back before the
    mart's latest time; with ``history_rows``, that many earlier rows of each scope too."""
    table = _quote(request.source)
    time = _quote(request.time)
    columns = ", ".join(_quote(c) for c in dict.fromkeys(request.columns))
    if request.snapshot_at is not None:
        return _read_snapshot(con, request)
    try:
        if request.since is not None:
            start, params = f"cast(? as {_time_type(con, request)})", [request.since]
        else:
            start = (
                f"(select max({time}) from {table}) - "  # noqa: S608
                f"to_seconds({int(request.lookback.total_seconds())})"
            )
            params = []
        query = f"select {columns} from {table} where {time} >= {start}"  # noqa: S608
        if request.history_rows and request.labels:
            scope = ", ".join(_quote(c) for c in request.labels)
            query += (
                f" union all select {columns} from (select *, row_number() over "  # noqa: S608
                f"(partition by {scope} order by {time} desc) as history_rank from {table} "
                f"where {time} < {start}) where history_rank <= {int(request.history_rows)}"
            )
            params = params * 2
        return con.execute(f"select * from ({query}) order by {time}", params).df()  # noqa: S608
    except duckdb.Error as exc:
        raise SourceError(f"cannot read {request.source}: {exc}") from exc


def _read_snapshot(con: duckdb.DuckDBPyConnection, request: SourceRequest) -> pd.DataFrame:
    """Every row of a current-state table, its time column set to the evaluation's time."""
    wanted = [c for c in dict.fromkeys(request.columns) if c != request.time]
    columns = ", ".join(_quote(c) for c in wanted)
    try:
        frame = con.execute(f"select {columns} from {_quote(request.source)}").df()  # noqa: S608
    except duckdb.Error as exc:
        raise SourceError(f"cannot read {request.source}: {exc}") from exc
    frame[request.time] = request.snapshot_at
    return frame


def _time_type(con: duckdb.DuckDBPyConnection, request: SourceRequest) -> str:
    row = con.execute(
        "select data_type from information_schema.columns where table_name = ? and "
        "column_name = ? limit 1",
        [request.source, request.time],
    ).fetchone()
    if row is None:
        raise SourceError(f"{request.source} has no column {request.time!r}")
    return str(row[0])


def device_health_rows(settings: Settings, store: StateStore, now: dt.datetime) -> pd.DataFrame:
    """One row per polled device: its status on the site's poll clock (online, erroring,
    offline, stale), consecutive failures and minutes since it last answered, observed at
    ``now``."""
    from ingestion.devices.health import DeviceHealth, device_status, ensure_table, poll_clock_now

    ensure_table(store)
    with store.session() as s:
        devices = s.query(DeviceHealth).all()
    clocks: dict[str, dt.datetime] = {}
    rows = []
    for d in devices:
        clock = clocks.setdefault(d.site_id, poll_clock_now(settings, d.site_id))
        status = device_status(d, clock)
        seen = d.last_seen_at
        if seen is not None and seen.tzinfo is None:
            seen = seen.replace(tzinfo=dt.UTC)
        rows.append(
            {
                "site_id": d.site_id,
                "device": d.device,
                "last_status": status,
                "is_offline": float(status in ("offline", "stale")),
                "is_erroring": float(status == "erroring"),
                "consecutive_failures": float(d.consecutive_failures),
                "minutes_since_seen": (
                    (clock - seen).total_seconds() / 60.0 if seen is not None else None
                ),
                "observed_at": now.isoformat(timespec="seconds"),
            }
        )
    return pd.DataFrame(rows, columns=_DEVICE_COLUMNS)


_DEVICE_COLUMNS = [
    "site_id",
    "device",
    "last_status",
    "is_offline",
    "is_erroring",
    "consecutive_failures",
    "minutes_since_seen",
    "observed_at",
]


def report_rows(settings: Settings, store: StateStore, now: dt.datetime) -> pd.DataFrame:
    """One row per report with a deadline within the horizon (or past) that nobody has
    submitted, or a generated version: hours to its deadline, whether it was submitted, how
    many requirements its latest version breaches; observed at ``now``."""
    from reports.deadlines import due_in_home
    from reports.registry import Registry, ReportRecord

    registry = Registry(store)
    observed = now.isoformat(timespec="seconds")
    # one row per report (definition, site, period): its deadline and its latest version's
    # breaches side by side, so one observation judges both
    rows: dict[tuple[str, str, str], dict[str, object]] = {}

    def row(site_id: str, definition_id: str, period_key: str) -> dict[str, object]:
        return rows.setdefault(
            (site_id, definition_id, period_key),
            {
                "site_id": site_id,
                "definition_id": definition_id,
                "period_key": period_key,
                "hours_to_deadline": None,
                "is_submitted": 0.0,
                "n_requirements_breached": None,
                "report_id": None,
                "observed_at": observed,
            },
        )

    for d in due_in_home(
        settings.reports_dir,
        settings.published_db,
        settings.organisation_file,
        registry,
        now,
    ):
        due = row(d.site_id, d.definition_id, d.period_key)
        due["hours_to_deadline"] = d.hours_left
        due["report_id"] = d.latest_report_id
    latest: dict[tuple[str, str, str], ReportRecord] = {}
    for record in registry.list():
        key = (record.definition_id, record.site_id, record.period_key)
        current = latest.get(key)
        if current is None or record.version > current.version:
            latest[key] = record
    for record in latest.values():
        breached = [r for r in record.requirements or [] if not r.get("passed", True)]
        report = row(record.site_id, record.definition_id, record.period_key)
        report["is_submitted"] = float(record.submitted_at is not None)
        report["n_requirements_breached"] = float(len(breached))
        report["report_id"] = record.report_id
    return pd.DataFrame(list(rows.values()), columns=_REPORT_COLUMNS)


_REPORT_COLUMNS = [
    "site_id",
    "definition_id",
    "period_key",
    "hours_to_deadline",
    "is_submitted",
    "n_requirements_breached",
    "report_id",
    "observed_at",
]

LiveSource = Callable[[Settings, StateStore, dt.datetime], pd.DataFrame]
LIVE_SOURCES: dict[str, LiveSource] = {
    "device_health": device_health_rows,
    "reports_due": report_rows,
}
# sources whose rows the orchestrator hands to the engine (failed checks and runs, overdue jobs)
PUSHED_SOURCES = ("platform_events",)
PLATFORM_COLUMNS = [
    "kind",
    "subject",
    "detail",
    "check_error",
    "check_warn",
    "run_failed",
    "overdue",
    "observed_at",
]


# the columns of the sources the engine serves itself (not marts)
SOURCE_COLUMNS = {
    "device_health": _DEVICE_COLUMNS,
    "reports_due": _REPORT_COLUMNS,
    "platform_events": PLATFORM_COLUMNS,
}


def platform_frame(events: Iterable[Mapping[str, object]]) -> pd.DataFrame:
    """Rows of the ``platform_events`` source from what the orchestrator saw."""
    return pd.DataFrame(list(events), columns=PLATFORM_COLUMNS)


def source_columns(frame: pd.DataFrame, needed: Sequence[str], source: str) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise SourceError(f"{source} has no column {', '.join(missing)}")


def open_published(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.exists():
        raise SourceError(f"nothing is published yet ({path})")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise SourceError(f"cannot open the published warehouse {path}: {exc}") from exc
