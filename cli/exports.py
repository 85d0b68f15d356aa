"""``siteledger exports``: the exports of ``SITELEDGER_HOME/exports.yaml`` (list, run, history)
and an ad-hoc export of one published mart to a file."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from pydantic import ValidationError

from cli.output import Col, count, emit, nothing_matched
from reports.exports import (
    ExportConfigError,
    ExportDefinition,
    ExportHistory,
    exports_file,
    find_export,
    load_exports,
    render,
)
from reports.exports.config import FORMATS, DateBounds, Selection
from reports.exports.query import ExportQueryError
from reports.exports.run import write_files
from siteledger.settings import Settings
from siteledger.state import StateStore


@click.group()
def exports() -> None:
    """Exports of published marts: list, run, history, and one-off mart exports."""


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def _load(settings: Settings) -> list[ExportDefinition]:
    path = exports_file(settings.home)
    db = settings.published_db if settings.published_db.exists() else None
    try:
        return load_exports(path, db)
    except ExportConfigError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{path} is not a valid exports file") from exc
    except ExportQueryError as exc:
        raise click.ClickException(str(exc)) from exc


def _day(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=name) from None


@exports.command("list")
@click.pass_context
def list_exports(ctx: click.Context) -> None:
    """The exports of exports.yaml, checked against the published warehouse."""
    settings = _settings(ctx)
    found = _load(settings)
    if not found:
        click.echo(f"no exports in {exports_file(settings.home)}")
        return
    for e in found:
        schedule = (
            f"{e.schedule.every} {e.schedule.at} (cron {e.schedule.cron})" if e.schedule else "-"
        )
        where = ", ".join(d.type for d in e.destinations) or "-"
        click.echo(
            f"{e.name}: {e.source.mart} -> {', '.join(e.formats)}; schedule {schedule}; "
            f"destinations {where}"
        )


@exports.command("run")
@click.argument("name")
@click.option("--as-of", help="the run's day, YYYY-MM-DD (default today); ranges count from it")
@click.option("--dry-run", is_flag=True, help="write the files to --out only: no delivery")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="folder for a dry run's files (default: exports/dry-run under the home)",
)
@click.pass_context
def run(ctx: click.Context, name: str, as_of: str | None, dry_run: bool, out: Path | None) -> None:
    """Run export NAME now: render, deliver, prune, record."""
    settings = _settings(ctx)
    try:
        export = find_export(_load(settings), name)
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from None
    day = _day(as_of, "--as-of") or dt.datetime.now(dt.UTC).date()
    if dry_run:
        try:
            data, _, files = render(export, day, settings.published_db)
        except ExportQueryError as exc:
            raise click.ClickException(str(exc)) from None
        for path in write_files(files, out or settings.home / "exports" / "dry-run"):
            click.echo(f"{path}  {path.stat().st_size} bytes")
        click.echo(
            f"{len(data.rows)} rows; would deliver to: "
            + (", ".join(d.type for d in export.destinations) or "nowhere")
        )
        return
    settings.ensure_dirs()
    record = _run_through_dagster(settings, export.name, day)
    click.echo(f"{record.export_name} run {record.run_id}: {record.status}, {record.rows} rows")
    for f in record.files:
        click.echo(f"  {f['name']}  {f['bytes']} bytes  sha256 {f['sha256']}")
    for d in record.destinations:
        line = f"  -> {d['type']} {d['target']}: {d['status']} ({d['attempts']} tries)"
        if d.get("removed"):
            line += f"; removed {len(d['removed'])} old files"
        click.echo(line + (f": {d['error']}" if d.get("error") else ""))
    if record.status == "failed":
        sys.exit(1)


def _run_through_dagster(settings: Settings, name: str, day: dt.date):  # type: ignore[no-untyped-def]
    """The export job, run in-process on the home's Dagster instance (the UI shows the run as
    it shows a scheduled one); the export run it recorded."""
    from orchestration.definitions import build_defs
    from orchestration.runner import instance_for

    store = StateStore(settings.state_store_url)
    history = ExportHistory(store)
    before = {r.run_id for r in history.runs(name)}
    config = {"name": name, "as_of": day.isoformat(), "trigger": "cli"}
    result = (
        build_defs(settings)
        .resolve_job_def("export_job")
        .execute_in_process(
            instance=instance_for(settings),
            run_config={"ops": {"run_export_op": {"config": config}}},
            raise_on_error=False,
        )
    )
    recorded = [r for r in history.runs(name) if r.run_id not in before]
    store.dispose()
    if not recorded:
        failure = next((e for e in result.all_events if e.is_failure), None)
        raise click.ClickException(
            f"export {name} did not run (Dagster run {result.run_id}): "
            + (failure.message if failure and failure.message else "see the run in the UI")
        )
    return recorded[0]


HISTORY = [
    Col("run_id", "run", kind="id"),
    Col("export_name", "export", kind="word"),
    Col("status", kind="word"),
    Col("started_at", "started", kind="time"),
    Col("rows", kind="int"),
    Col("bytes_total", "bytes", kind="int"),
    Col("duration_s", "seconds", kind="num", digits=1),
    Col(
        "destinations",
        derive=lambda r: " ".join(f"{d['type']}:{d['status']}" for d in r["destinations"]),
    ),
    Col("error"),
]


@exports.command("history")
@click.option("--name", help="only this export's runs")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one run a line")
@click.pass_context
def history(ctx: click.Context, name: str | None, limit: int, as_json: bool) -> None:
    """Recent export runs, newest first: status, rows, bytes, duration, each destination."""
    settings = _settings(ctx)
    settings.ensure_dirs()
    runs = ExportHistory(StateStore(settings.state_store_url)).runs(name, limit)
    emit(
        (r.as_dict() for r in runs),
        HISTORY,
        title=f"Export runs ({count(len(runs))} shown)",
        as_json=as_json,
        empty=nothing_matched("export runs", {"name": name}, str(settings.home)),
    )


@exports.command("mart")
@click.argument("mart")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--site", "sites", multiple=True, help="a site id (repeat for several)")
@click.option("--facility", "facilities", multiple=True, help="a node id (repeat for several)")
@click.option("--column", "columns", multiple=True, help="a column (repeat; default: all)")
@click.option("--from", "start", help="first day, YYYY-MM-DD")
@click.option("--to", "end", help="last day, YYYY-MM-DD")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.pass_context
def mart(
    ctx: click.Context,
    mart: str,
    fmt: str,
    sites: tuple[str, ...],
    facilities: tuple[str, ...],
    columns: tuple[str, ...],
    start: str | None,
    end: str | None,
    out: Path,
) -> None:
    """Export one published MART (optionally a selection of it) to the file OUT."""
    settings = _settings(ctx)
    first, last = _day(start, "--from"), _day(end, "--to")
    if (first is None) != (last is None):
        raise click.UsageError("give both --from and --to, or neither")
    try:
        selection = Selection(
            mart=mart,
            sites=list(sites),
            facilities=list(facilities),
            columns=list(columns),
            dates=DateBounds(start=first, end=last) if first and last else None,
        )
        export = ExportDefinition(name="mart_export", source=selection, formats=[fmt])
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(x) for x in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors(include_url=False)
        )
        raise click.ClickException(reasons) from None
    try:
        data, _, files = render(export, dt.datetime.now(dt.UTC).date(), settings.published_db)
    except ExportQueryError as exc:
        raise click.ClickException(str(exc)) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(files[0].data)
    click.echo(f"{out}: {len(data.rows)} rows, {len(files[0].data)} bytes")
