"""``siteledger metering``: prepaid customer water metering - bulk customer and meter files
(import with a dry-run preview, export in the same layout, rollback) and maintenance tasks.

Every write goes through the file importer (:mod:`ingestion.files`): a file is copied into the
landing folder and imported as one batch, so it is validated, quarantined row by row, archived
and reversible like any other drop (``siteledger metering rollback BATCH`` is
``siteledger ingest rollback BATCH``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from pathlib import Path
from typing import Any

import click

from cli.output import count, make_console
from siteledger.settings import Settings
from siteledger.site import SiteConfig, SiteConfigError, load_site
from siteledger.site.metering import (
    METERING_COLUMNS,
    TASK_TYPES,
    MeteringLayout,
)
from siteledger.state import StateStore

console = make_console()
PREVIEW_ROWS = 20
ENTITY_KINDS = ("customers", "meters")


@click.group()
def metering() -> None:
    """Prepaid customer water metering: bulk customers and meters, exports, maintenance."""


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def _store(settings: Settings) -> StateStore:
    settings.ensure_dirs()
    return StateStore(settings.state_store_url)


def _load(path: Path) -> SiteConfig:
    try:
        return load_site(path)
    except SiteConfigError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{path} is not a valid site file") from exc


def _site(settings: Settings, value: str | None, name: str | None = None) -> SiteConfig:
    """The site a site file path or site id names; without one, the only site of the home (or
    the only one with a layout matching ``name``)."""
    if value is not None and Path(value).is_file():
        return _load(Path(value))
    sites = [_load(p) for p in sorted(settings.sites_dir.glob("*.yaml"))]
    if value is not None:
        found = [s for s in sites if s.site.id == value]
        if not found:
            known = ", ".join(s.site.id for s in sites) or "none"
            raise click.ClickException(
                f"no site {value!r} in {settings.sites_dir} (sites: {known})"
            )
        return found[0]
    if name is not None:
        sites = [s for s in sites if _matching(s, name) is not None] or sites
    if len(sites) != 1:
        raise click.ClickException(
            f"{len(sites)} sites in {settings.sites_dir}; name one with --site"
        )
    return sites[0]


def _matching(site: SiteConfig, name: str) -> MeteringLayout | None:
    from ingestion.files.jobs import match_layout

    layout = match_layout(site, name)
    return layout if isinstance(layout, MeteringLayout) else None


def _layout(site: SiteConfig, name: str, layout_id: str | None) -> MeteringLayout:
    if layout_id is not None:
        found = [lay for lay in site.metering.layouts if lay.id == layout_id]
        if not found:
            known = ", ".join(lay.id for lay in site.metering.layouts) or "none"
            raise click.ClickException(f"no metering layout {layout_id!r} (layouts: {known})")
        return found[0]
    layout = _matching(site, name)
    if layout is None:
        shown = ", ".join(f"{lay.id} ({lay.pattern})" for lay in site.metering.layouts) or "none"
        raise click.ClickException(
            f"{name} matches no metering layout of site {site.site.id!r} (layouts: {shown}); "
            "rename it or pass --layout"
        )
    return layout


# -- import ------------------------------------------------------------------------------------


@metering.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--site", "site", default=None, help="Site id or site file.")
@click.option("--layout", "layout_id", default=None, help="Metering layout (default: by name).")
@click.option("--dry-run", is_flag=True, help="Parse and check, print a preview, write nothing.")
@click.pass_context
def metering_import(
    ctx: click.Context, file: Path, site: str | None, layout_id: str | None, dry_run: bool
) -> None:
    """Import one metering record file (customers, meters, vouchers, purchases, readings,
    events, maintenance) as one batch; --dry-run previews creates, updates, deactivations and
    row errors without writing anything."""
    settings = _settings(ctx)
    config = _site(settings, site, file.name)
    layout = _layout(config, file.name, layout_id)
    store = _store(settings)
    try:
        if dry_run:
            _dry_run(settings, config, store, layout, file)
            return
        result = _import(settings, config, store, layout, file.read_bytes(), file.name)
    finally:
        store.dispose()
    _print_result(result)


def _import(
    settings: Settings,
    site: SiteConfig,
    store: StateStore,
    layout: MeteringLayout,
    data: bytes,
    name: str,
) -> Any:
    from ingestion.files import import_file

    settings.ensure_dirs()
    landed = settings.landing / name
    if landed.exists():
        raise click.ClickException(f"{landed} exists already: import or remove it first")
    tmp = settings.landing / f".{name}.part"
    tmp.write_bytes(data)
    shutil.move(tmp, landed)
    return import_file(settings, site, store, landed, layout)


def _print_result(result: Any) -> None:
    if result.status == "duplicate":
        console.print(
            f"{result.file_name}: these bytes were imported before; nothing changed", markup=False
        )
        return
    if result.status != "committed":
        raise click.ClickException(
            f"{result.file_name}: {result.status}" + (f" ({result.error})" if result.error else "")
        )
    console.print(
        f"imported {result.file_name} as batch {result.batch_id}: {count(result.imported)} "
        f"record(s), {count(result.skipped)} unchanged, {count(result.failed)} quarantined "
        f"(undo: siteledger metering rollback {result.batch_id})",
        markup=False,
    )


def _dry_run(
    settings: Settings, site: SiteConfig, store: StateStore, layout: MeteringLayout, file: Path
) -> None:
    from ingestion.files.errors import FileRejected
    from ingestion.files.jobs import ImportRun
    from ingestion.files.limits import ImportLimits
    from ingestion.files.records import RecordContext, parse_records

    run = ImportRun(settings, site, store, ImportLimits.from_env())
    ctx = run.context(layout)
    assert isinstance(ctx, RecordContext)
    try:
        parsed = parse_records(file.read_bytes(), ctx)
    except FileRejected as exc:
        raise click.ClickException(f"{file.name} would be quarantined whole: {exc.reason}") from exc
    echo = console.print
    echo(
        f"dry run of {file.name} ({layout.kind}, layout {layout.id}, site {site.site.id}): "
        f"{count(parsed.total)} row(s): {count(parsed.imported)} to import, "
        f"{count(parsed.skipped)} unchanged, {count(parsed.failed)} with errors; nothing written",
        markup=False,
    )
    if layout.kind in ENTITY_KINDS:
        _entity_preview(ctx, parsed.records)
    elif parsed.imported:
        echo(f"{count(parsed.imported)} {layout.kind} record(s) would be imported", markup=False)
    table = parsed.quarantine.table("dry-run", file.name, dt.datetime.now(dt.UTC))
    if table.num_rows:
        echo("row errors:", markup=False)
        for row in table.to_pylist()[:PREVIEW_ROWS]:
            where = f"line {row['source_row']}" if row["source_row"] is not None else "file"
            echo(f"  {where}: {row['reason']}", markup=False)
        if table.num_rows > PREVIEW_ROWS:
            echo(f"  ... and {count(table.num_rows - PREVIEW_ROWS)} more", markup=False)


def _entity_preview(ctx: Any, records: list[dict[str, Any]]) -> None:
    """Creates, updates (with what changes) and deactivations of a customers or meters file."""
    from ingestion.files.metering_records import ENTITY_FIELDS, _FileState

    kind = ctx.kind
    key = METERING_COLUMNS[kind][0].name
    before = _FileState(ctx).entities(kind)
    actions: dict[str, list[str]] = {"create": [], "update": [], "deactivate": []}
    for record in records:
        ident = record[key]
        current = before.get(ident)
        if record["action"] == "update" and current is not None:
            changed = [
                f"{name} {_shown(current.values[name])} -> {_shown(record[name])}"
                for name in ENTITY_FIELDS[kind]
                if record[name] != current.values[name]
            ]
            if not current.active:
                changed.insert(0, "reactivated")
            actions["update"].append(f"{ident}: {'; '.join(changed)}")
        else:
            actions[record["action"]].append(ident)
    for action, items in actions.items():
        console.print(f"{action}: {count(len(items))}", markup=False)
        for item in items[:PREVIEW_ROWS]:
            console.print(f"  {item}", markup=False)
        if len(items) > PREVIEW_ROWS:
            console.print(f"  ... and {count(len(items) - PREVIEW_ROWS)} more", markup=False)


def _shown(value: Any) -> str:
    if value is None:
        return "(empty)"
    return _cell(value)


# -- export ------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    return str(value)


def current_state(
    settings: Settings, store: StateStore, site: SiteConfig, kind: str
) -> list[dict[str, Any]]:
    """Each customer's (meter's) state after the committed batches, as import rows: the fields,
    and ``action`` ``deactivate`` for the deactivated ones (empty = upsert)."""
    from ingestion.metering_lake import committed_records

    key = METERING_COLUMNS[kind][0].name
    table = committed_records(settings, store, kind, site.site.id)
    latest: dict[str, dict[str, Any]] = {}
    for row in sorted(
        table.to_pylist(), key=lambda r: (r["effective_at"], r["loaded_at"], r["source_row"])
    ):
        latest[row[key]] = row
    rows = []
    for ident in sorted(latest):
        row = latest[ident]
        out = {c.name: row.get(c.name) for c in METERING_COLUMNS[kind] if c.name != "effective_at"}
        out["action"] = "deactivate" if row["action"] == "deactivate" else None
        rows.append(out)
    return rows


@metering.command("export")
@click.argument("kind", type=click.Choice(ENTITY_KINDS))
@click.option("--site", "site", default=None, help="Site id or site file.")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV (or .xlsx) file to write.",
)
@click.pass_context
def metering_export(ctx: click.Context, kind: str, site: str | None, out: Path) -> None:
    """Write the current customers (meters) in the import layout: the file imports again as a
    no-op, and edited it is a bulk update."""
    settings = _settings(ctx)
    config = _site(settings, site)
    store = _store(settings)
    try:
        rows = current_state(settings, store, config, kind)
    finally:
        store.dispose()
    layouts = [lay for lay in config.metering.layouts if lay.kind == kind]
    excel = out.suffix.lower() == ".xlsx"
    wanted = "excel" if excel else "csv"
    layout = next((lay for lay in layouts if lay.format == wanted), None)
    names = [c.name for c in METERING_COLUMNS[kind] if c.name != "effective_at"]
    headers = [layout.header(n) if layout else n for n in names]
    body = [[_cell(row[n]) for n in names] for row in rows]
    if excel:
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(headers)
        for line in body:
            sheet.append([cell if cell != "" else None for cell in line])
        book.save(out)
    else:
        delimiter = layout.delimiter if layout else ","
        text = io.StringIO()
        writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")  # quotes a \r
        writer.writerow(headers)
        writer.writerows(body)
        out.write_text(text.getvalue(), encoding=layout.encoding if layout else "utf-8")
    console.print(f"wrote {count(len(rows))} {kind} to {out}", markup=False)


# -- rollback and maintenance ------------------------------------------------------------------


@metering.command("rollback")
@click.argument("batch_id")
@click.pass_context
def metering_rollback(ctx: click.Context, batch_id: str) -> None:
    """Undo one metering import batch (the same as ``siteledger ingest rollback``): the
    customers, meters or records it brought are gone and the state is as before it."""
    from ingestion.files import rollback_batch

    settings = _settings(ctx)
    store = _store(settings)
    try:
        job = rollback_batch(settings, store, batch_id)
    except (KeyError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.dispose()
    console.print(
        f"rolled back {job.batch_id} ({job.source_file}, {job.imported_rows} record(s))",
        markup=False,
    )


MAINTENANCE_LAYOUT_ID = "cli_maintenance"


@metering.group("maintenance")
def maintenance() -> None:
    """Maintenance tasks of customer meters."""


@maintenance.command("add")
@click.option("--site", "site", default=None, help="Site id or site file.")
@click.option("--meter", "meter_id", required=True)
@click.option("--type", "task_type", required=True, type=click.Choice(TASK_TYPES))
@click.option("--due", "due", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--technician", default=None)
@click.option("--task-id", "task_id", default=None, help="Default: MT-<meter>-<due>-<type>.")
@click.option("--notes", default=None)
@click.pass_context
def maintenance_add(
    ctx: click.Context,
    site: str | None,
    meter_id: str,
    task_type: str,
    due: dt.datetime,
    technician: str | None,
    task_id: str | None,
    notes: str | None,
) -> None:
    """Schedule a maintenance task: a one-record maintenance batch through the importer (so it
    is checked, kept in the lake and can be rolled back like any import)."""
    settings = _settings(ctx)
    config = _site(settings, site)
    day = due.date()
    task = task_id or f"MT-{meter_id}-{day:%Y%m%d}-{task_type}"
    layout = MeteringLayout(
        id=MAINTENANCE_LAYOUT_ID, kind="maintenance", pattern="maintenance_cli_*.csv", format="csv"
    )
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")  # quotes a \r in the notes
    writer.writerow(["task_id", "meter_id", "task_type", "due_date", "technician", "notes"])
    writer.writerow([task, meter_id, task_type, day.isoformat(), technician or "", notes or ""])
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    store = _store(settings)
    try:
        result = _import(
            settings,
            config,
            store,
            layout,
            text.getvalue().encode(),
            f"maintenance_cli_{stamp}.csv",
        )
        if result.status == "committed" and result.failed:
            from ingestion.lake import read_quarantine

            [row] = read_quarantine(settings, batch_id=result.batch_id).to_pylist()
            raise click.ClickException(f"task not added: {row['reason']}")
    finally:
        store.dispose()
    if result.status == "duplicate" or (result.status == "committed" and result.skipped):
        console.print(f"task {task} is scheduled already (nothing changed)", markup=False)
        return
    _print_result(result)
    console.print(
        f"task {task}: {task_type} of meter {meter_id} due {day}"
        + (f", technician {technician}" if technician else ""),
        markup=False,
    )
