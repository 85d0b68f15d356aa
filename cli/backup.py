"""``siteledger backup``: write, verify and restore an archive of the home; and
``siteledger config export`` / ``config import``: configuration moved between homes.

The work is done by :mod:`siteledger.backup`; these commands show its progress and summaries.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from cli.output import count, make_console
from siteledger.backup import (
    BackupError,
    create_backup,
    export_config,
    import_config,
    member_sizes,
    restore_backup,
    verify_backup,
)
from siteledger.settings import Settings

console = make_console()
PHASES = {
    "state": "dumping/loading the state store (tables)",
    "hash": "checksumming files",
    "write": "writing the archive",
    "verify": "verifying checksums",
    "extract": "extracting",
}


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


@contextmanager
def _progress() -> Iterator[Any]:
    """A rich progress bar per phase; yields the ``progress(phase, done, total)`` callback."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def report(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(PHASES.get(phase, phase), total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield report


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


@click.group()
def backup() -> None:
    """Back up the home into one archive, verify an archive, restore a home from it."""


@backup.command("create")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def backup_create(ctx: click.Context, archive: Path) -> None:
    """Write a backup of the home to ARCHIVE (.tar.zst, .tar.gz/.tgz or .tar).

    It holds the organisation and site files and other configuration, the state store (every
    table, portable between SQLite and PostgreSQL), the raw lake and quarantine, imported files,
    the published warehouse (and the version a rollback returns to) and the report artefacts.
    The build warehouse, dbt's files and the Dagster run history are rebuilt by the next run."""
    settings = _settings(ctx)
    t0 = time.perf_counter()
    try:
        with _progress() as report:
            summary = create_backup(settings, archive, progress=report)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    elapsed = time.perf_counter() - t0
    rows = sum(summary.tables.values())
    console.print(
        f"{summary.archive}: {count(summary.members)} files ({_mb(summary.bytes_in)}) and "
        f"{len(summary.tables)} state tables ({count(rows)} rows) in {_mb(summary.size)}, "
        f"{elapsed:.1f} s",
        markup=False,
    )
    reports = summary.manifest.get("reports") or {}
    for path in reports.get("outside_home", []):
        console.print(f"  not archived (outside the home): report artefact {path}", markup=False)
    for path in reports.get("missing", []):
        console.print(f"  missing on disk: report artefact {path}", markup=False)
    for entry in summary.manifest["home"]["skipped"]:
        console.print(f"  not archived: {entry['path']} ({entry['reason']})", markup=False)


@backup.command("verify")
@click.argument("archive", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--manifest", "show_manifest", is_flag=True, help="Print the whole manifest (JSON).")
def backup_verify(archive: Path, show_manifest: bool) -> None:
    """Check every member of ARCHIVE against its manifest's checksums; print what it holds."""
    try:
        with _progress() as report:
            manifest = verify_backup(archive, progress=report)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    if show_manifest:
        click.echo(json.dumps(manifest, indent=1))
        return
    members = manifest["members"]
    console.print(
        f"{archive}: ok — {manifest['kind']} archive, format {manifest['format_version']}, "
        f"siteledger {manifest['siteledger_version']}, created {manifest['created_at']}",
        markup=False,
    )
    console.print(
        f"  from {manifest['home']['path']}: {count(len(members))} members, "
        f"{_mb(sum(m['size'] for m in members))}, every sha256 checked",
        markup=False,
    )
    for folder, size in sorted(member_sizes(manifest).items()):
        console.print(f"  {folder:<24} {_mb(size):>12}", markup=False)
    state = manifest["state"]
    if state["tables"]:
        rows = ", ".join(f"{t} {count(n)}" for t, n in state["tables"].items())
        console.print(f"  state store ({state['dialect']}): {rows}", markup=False)
    for key, info in manifest["home"]["excluded"].items():
        console.print(f"  left out {key} ({count(info['files'])} files): {info['why']}")


@backup.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    help="Replace a home that is not empty (and state store tables that hold rows).",
)
@click.pass_context
def backup_restore(ctx: click.Context, archive: Path, force: bool) -> None:
    """Rebuild the home from ARCHIVE: every checksum is verified before anything is written, and
    the restored home replaces the old one only once it is complete. The state store goes to
    SITELEDGER_STATE_URL when set (PostgreSQL), else to state.db in the home."""
    settings = _settings(ctx)
    t0 = time.perf_counter()
    try:
        with _progress() as report:
            summary = restore_backup(archive, settings, force=force, progress=report)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = sum(summary.tables.values())
    console.print(
        f"restored {summary.home} from {archive}: {count(summary.members)} files, "
        f"{len(summary.tables)} state tables ({count(rows)} rows) in "
        f"{time.perf_counter() - t0:.1f} s",
        markup=False,
    )
    if summary.rewritten_paths:
        console.print(
            f"  {count(summary.rewritten_paths)} paths in the state store moved from "
            f"{summary.manifest['home']['path']} to {summary.home}",
            markup=False,
        )
    console.print("  run `siteledger run` to rebuild the build warehouse", markup=False)


@click.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def config_export(ctx: click.Context, path: Path) -> None:
    """Write the home's configuration to PATH (.tar.gz, .tar.zst or .tar): organisation, site
    files, alert rules and channels, scenarios, report definitions and templates."""
    try:
        summary = export_config(_settings(ctx), path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    console.print(f"{summary.archive}: {count(summary.members)} configuration files", markup=False)
    for member in summary.manifest["members"]:
        console.print(f"  {member['name'].removeprefix('home/')}", markup=False)


@click.command("import")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--force", is_flag=True, help="Replace files that exist with other content.")
@click.pass_context
def config_import(ctx: click.Context, path: Path, force: bool) -> None:
    """Write the configuration in PATH (an export or a backup) into the home, once its checksums
    and every site file (against the organisation) are valid."""
    try:
        summary = import_config(path, _settings(ctx), force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    for rel in summary.written:
        console.print(f"  wrote {rel}", markup=False)
    console.print(
        f"{len(summary.written)} files written, {len(summary.unchanged)} unchanged", markup=False
    )
