"""``siteledger``: the command-line face of the platform.

Commands call the plain-Python packages; nothing here computes anything itself.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.output import Col, Kind, count, emit, json_option, make_console, nothing_matched
from cli.run import IMPORT_SUMMARY
from siteledger.settings import Settings, get_settings
from siteledger.site import SiteConfig, SiteConfigError, load_site
from siteledger.state import StateStore

console = make_console()

IMPORT_JOBS = [
    Col("batch_id", "batch id", "id"),
    Col("site_id", "site", "word"),
    Col("source", kind="word"),
    Col("source_file", "file"),
    Col("status", kind="word"),
    Col("total_rows", "rows", "int"),
    Col("imported_rows", "ok", "int"),
    Col("skipped_rows", "skip", "int"),
    Col("failed_rows", "bad", "int"),
]
IMPORT_JOB_KEYS = (
    *("batch_id", "site_id", "source", "source_file", "status", "total_rows", "imported_rows"),
    *("skipped_rows", "failed_rows", "error", "started_at", "finished_at", "rolled_back_at"),
)
QUARANTINE_KEYS: dict[str, Kind] = {
    "batch_id": "id",
    "source_file": "text",
    "source_row": "int",
    "column": "word",
    "raw_value": "text",
    "reason": "text",
}


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def _store(settings: Settings) -> StateStore:
    settings.ensure_dirs()
    return StateStore(settings.state_store_url)


def _sites(
    settings: Settings, site_file: Path | None, load: Callable[[Path], SiteConfig] = load_site
) -> list[SiteConfig]:
    files = [site_file] if site_file else sorted(settings.sites_dir.glob("*.yaml"))
    if not files:
        raise click.ClickException(
            f"no site files in {settings.sites_dir}; run 'siteledger demo generate' or pass --site"
        )
    sites = []
    for path in files:
        try:
            sites.append(load(Path(path)))
        except SiteConfigError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            raise click.ClickException(f"{path} is not a valid site file") from exc
    return sites


class _Commands(click.Group):
    """The ``siteledger`` group; commands that other distributions (and the demo) add through the
    ``siteledger.commands`` entry point (a function taking this group) join it on first use, so
    they may import this module without a cycle."""

    _plugins_loaded = False

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        from importlib.metadata import entry_points

        for entry in entry_points(group="siteledger.commands"):
            entry.load()(self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugins()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load_plugins()
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="SITELEDGER_HOME",
    help="Runtime data folder (default ./var, or $SITELEDGER_HOME).",
)
@click.version_option(package_name="siteledger")
@click.pass_context
def cli(ctx: click.Context, home: Path | None) -> None:
    """siteledger: water balances, compliance reports, quality scores and alerts for sites."""
    settings = get_settings(home)
    os.environ["SITELEDGER_HOME"] = str(settings.home)
    ctx.obj = {"settings": settings}


# -- config ------------------------------------------------------------------------------------
@cli.group()
def config() -> None:
    """Site configuration files."""


@config.command("validate")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.pass_context
def config_validate(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Check site YAML FILES; print every problem with file, line, key path and reason.

    An organisation file among FILES (named organisation.yaml) is checked too, and the sites
    against it. Without FILES: the home's organisation file and every site file in sites/.
    """
    from siteledger.site.organisation import load_organisation, validate_files

    settings = _settings(ctx)
    org_files = [p for p in files if p.name in ("organisation.yaml", "organisation.yml")]
    if len(org_files) > 1:
        raise click.UsageError("give at most one organisation file")
    site_files = [p for p in files if p not in org_files]
    if not files:
        org_files = [settings.organisation_file]
        site_files = sorted(settings.sites_dir.glob("*.yaml"))
        if not site_files and not settings.organisation_file.exists():
            raise click.UsageError(f"nothing to check in {settings.home}: give FILES")
    # a missing organisation file is fine (every site then belongs to the default one)
    problems = validate_files(org_files[0] if org_files else None, site_files)
    by_file: dict[str, list] = {}
    for problem in problems:
        by_file.setdefault(problem.file, []).append(problem)
    failed = 0
    for path in [*(p for p in org_files if p.exists() or str(p) in by_file), *site_files]:
        found = by_file.get(str(path), [])
        if found:
            failed += 1
            # plain echo: one problem per line, never wrapped, so editors and grep can use it
            for problem in found:
                click.echo(str(problem))
            click.echo(f"{path}: {len(found)} problem(s)")
        elif path in org_files:
            org = load_organisation(path)
            click.echo(
                f"{path}: ok — organisation {org.organisation.id}: {len(org.regions)} regions"
            )
        else:
            site = load_site(path)
            click.echo(
                f"{path}: ok — site {site.site.id}: {len(site.nodes)} nodes, "
                f"{len(site.flows)} flows, {len(site.meters)} meters"
            )
    sys.exit(1 if failed else 0)


def _day(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    import datetime as dt

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a day like 2025-07-01") from exc


@cli.command("run")
@click.option("--start", "start_day", callback=_day, help="First site-local day to rebuild.")
@click.option("--end", "end_day", callback=_day, help="Last site-local day to rebuild.")
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Rebuild the day-by-day models from scratch (after an upgrade changed their columns).",
)
@click.pass_context
def run_main(
    ctx: click.Context, start_day: str | None, end_day: str | None, full_refresh: bool
) -> None:
    """The nightly job through Dagster: import landing files and spooled device readings,
    rebuild the balance (every day of data unless --start/--end), score, audit, publish; then
    the reports of every complete period. The runs are recorded in the home's Dagster instance."""
    from orchestration.resources import load_site_cached

    settings = _settings(ctx)
    # every problem of an invalid site file, before anything runs; the run's steps reuse the parse
    _sites(settings, None, load_site_cached)
    run_main_job(settings, start_day, end_day, full_refresh)


def run_main_job(
    settings: Settings,
    start_day: str | None = None,
    end_day: str | None = None,
    full_refresh: bool = False,
) -> None:
    from cli.run import run_main_job as run_and_render

    run_and_render(console, settings, start_day, end_day, full_refresh)


# -- ingest ------------------------------------------------------------------------------------
def _import_with_progress(settings: Settings, site: SiteConfig, store: StateStore):  # type: ignore[no-untyped-def]
    from ingestion.files import import_landing

    with Progress(
        TextColumn("importing {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(site.site.id, total=None)

        def report(done: int, total: int, name: str) -> None:
            progress.update(
                task, completed=done, total=total, description=f"{site.site.id}: {name}"
            )

        t0 = time.perf_counter()
        results = import_landing(settings, site, store, progress=report)
    elapsed = time.perf_counter() - t0
    imported = sum(r.imported for r in results)
    console.print(
        f"{site.site.id}: {len(results)} files, {count(imported)} readings into the raw lake "
        f"in {elapsed:.1f} s"
    )
    return results


def _print_import_summary(results) -> None:  # type: ignore[no-untyped-def]
    by_status: dict[tuple[str, str], list] = {}
    for result in results:
        by_status.setdefault((result.layout_id or "-", result.status), []).append(result)
    rows = [
        {
            "layout": layout,
            "status": status,
            "files": len(items),
            "rows": sum(r.total for r in items),
            "imported": sum(r.imported for r in items),
            "skipped": sum(r.skipped for r in items),
            "quarantined": sum(r.failed for r in items),
        }
        for (layout, status), items in sorted(by_status.items())
    ]
    emit(rows, IMPORT_SUMMARY, title="Import jobs", empty="no files to import", console=console)
    for result in results:
        if result.status in ("quarantined", "failed") or result.failed:
            reason = result.error or f"{result.failed} row(s) quarantined"
            console.print(f"  {result.status}: {result.file_name} — {reason}", markup=False)


@cli.group()
def ingest() -> None:
    """File ingestion: landing folder -> raw lake."""


@ingest.command("run")
@click.option("--site", "site_file", type=click.Path(exists=True, path_type=Path))
@click.pass_context
def ingest_run(ctx: click.Context, site_file: Path | None) -> None:
    """Import every file in the landing folder that matches a site's file layouts."""
    settings = _settings(ctx)
    store = _store(settings)
    for site in _sites(settings, site_file):
        _print_import_summary(_import_with_progress(settings, site, store))


@ingest.command("jobs")
@click.option("--status", default=None, help="Only jobs in this status.")
@click.option("--site", "site_id", default=None, help="Only jobs of this site id.")
@click.option("--limit", default=50, show_default=True)
@json_option
@click.pass_context
def ingest_jobs(
    ctx: click.Context, status: str | None, site_id: str | None, limit: int, as_json: bool
) -> None:
    """List import jobs (newest last)."""
    settings = _settings(ctx)
    store = _store(settings)
    jobs = store.jobs(site_id=site_id, status=status)[-limit:]
    emit(
        ({key: getattr(job, key) for key in IMPORT_JOB_KEYS} for job in jobs),
        IMPORT_JOBS,
        title=f"Import jobs ({count(len(jobs))} shown)",
        as_json=as_json,
        empty=nothing_matched(
            "import jobs", {"status": status, "site": site_id}, str(settings.home)
        ),
    )


@ingest.command("rollback")
@click.argument("batch_id")
@click.pass_context
def ingest_rollback(ctx: click.Context, batch_id: str) -> None:
    """Remove one import batch from the raw lake (its job is kept, marked rolled_back); the
    next run rebuilds the days it held."""
    from ingestion.files import rollback_batch

    settings = _settings(ctx)
    store = _store(settings)
    try:
        job = rollback_batch(settings, store, batch_id)
    except (KeyError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    console.print(f"rolled back {job.batch_id} ({job.source_file}, {job.imported_rows} rows)")
    days = [row.day for row in store.rebuild_days(job.site_id) if row.batch_id == job.batch_id]
    if days:
        span = days[0] if len(days) == 1 else f"{days[0]}..{days[-1]}"
        console.print(
            f"{len(days)} day(s) of {job.site_id} ({span}) will be rebuilt by the next "
            "`siteledger run` (or the rolled_back_days_sensor in Dagster)",
            markup=False,
        )


@ingest.command("quarantine")
@click.option("--batch", "batch_id", default=None, help="Only this batch.")
@click.option("--limit", default=50, show_default=True)
@json_option
@click.pass_context
def ingest_quarantine(ctx: click.Context, batch_id: str | None, limit: int, as_json: bool) -> None:
    """Show quarantined rows with their reasons."""
    from ingestion.lake import read_quarantine

    settings = _settings(ctx)
    rows = read_quarantine(settings, batch_id=batch_id).to_pylist()
    emit(
        ({key: row.get(key) for key in QUARANTINE_KEYS} for row in rows[:limit]),
        [Col(key, kind=kind) for key, kind in QUARANTINE_KEYS.items()],
        title=f"Quarantine ({count(len(rows))} rows, {count(min(limit, len(rows)))} shown)",
        as_json=as_json,
        empty=nothing_matched("quarantined rows", {"batch": batch_id}, str(settings.home)),
    )


# -- warehouse ---------------------------------------------------------------------------------
@cli.group()
def warehouse() -> None:
    """The published warehouse BI tools read."""


def _warehouse(ctx: click.Context):  # type: ignore[no-untyped-def]
    from siteledger.warehouse import Warehouse

    settings = _settings(ctx)
    return Warehouse(settings, _store(settings))


@warehouse.command("versions")
@json_option
@click.pass_context
def warehouse_versions(ctx: click.Context, as_json: bool) -> None:
    """List published versions (newest last)."""
    wh = _warehouse(ctx)
    emit(
        (
            {
                "version_id": v.version_id,
                "status": v.status,
                "published_at": v.published_at,
                "tables": len(v.tables),
                "rows": sum(v.tables.values()),
                "note": v.note or "",
            }
            for v in wh.store.warehouse_versions()
        ),
        [
            Col("version_id", "version", "id"),
            Col("status", kind="word"),
            Col("published_at", "published at", "time"),
            Col("tables", kind="int"),
            Col("rows", kind="int"),
            Col("note"),
        ],
        title=f"Published versions ({wh.published_db})",
        as_json=as_json,
        empty=nothing_matched("published versions", {}, str(wh.published_db)),
    )


@warehouse.command("rollback")
@click.pass_context
def warehouse_rollback(ctx: click.Context) -> None:
    """Restore the previously published version."""
    from siteledger.warehouse import PublishError

    try:
        version = _warehouse(ctx).rollback()
    except PublishError as exc:
        raise click.ClickException(str(exc)) from exc
    console.print(f"restored version {version.version_id} (published {version.published_at})")


@warehouse.command("load-lake")
@click.option(
    "--only",
    "only",
    multiple=True,
    metavar="SCHEMA.TABLE",
    help="Copy only this source (repeatable), e.g. lake.readings.",
)
@json_option
@click.pass_context
def warehouse_load_lake(ctx: click.Context, only: tuple[str, ...], as_json: bool) -> None:
    """Copy the raw lake into the PostgreSQL warehouse of the `postgres` dbt target.

    Connection from SITELEDGER_PG_HOST / _PORT / _USER / _PASSWORD / _DATABASE (as the dbt
    profile). Only new, changed and removed lake files are copied (docs/scale.md).
    """
    from siteledger.dbt import DbtError, manifest_path, run_dbt
    from siteledger.lake_load import LakeLoadError, conninfo_from_env, load_lake

    settings = _settings(ctx)
    manifest = manifest_path(settings)
    try:
        if not manifest.exists():
            run_dbt(settings, "parse")
        report = load_lake(conninfo_from_env(), manifest, settings.lake, only or None)
    except (DbtError, LakeLoadError) as exc:
        raise click.ClickException(str(exc)) from exc
    emit(
        (
            {
                "source": name,
                "files_loaded": report.files_loaded[name],
                "files_removed": report.files_removed[name],
                "rows_loaded": report.rows_loaded[name],
            }
            for name in report.rows_loaded
        ),
        [
            Col("source"),
            Col("files_loaded", "files copied", "int"),
            Col("files_removed", "files removed", "int"),
            Col("rows_loaded", "rows copied", "int"),
        ],
        title=f"Lake copied into PostgreSQL ({count(report.total_rows)} rows)",
        as_json=as_json,
        empty="no lake source in the dbt project",
    )


# -- ui ----------------------------------------------------------------------------------------
@cli.command("ui")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=3000, show_default=True, type=int)
@click.pass_context
def ui(ctx: click.Context, host: str, port: int) -> None:
    """Open the Dagster UI on this home (instance in $SITELEDGER_HOME/dagster)."""
    import subprocess

    from orchestration.runner import PLANNED_AS_RANGES, prepare_instance_dir

    settings = _settings(ctx)
    prepare_instance_dir(settings)
    env = {**PLANNED_AS_RANGES, **os.environ, "DAGSTER_HOME": str(settings.dagster_home)}
    root = Path(__file__).resolve().parents[1]
    dagster = Path(sys.executable).parent / "dagster"
    console.print(f"Dagster UI on http://{host}:{port} (instance {settings.dagster_home})")
    sys.exit(
        subprocess.call(
            [str(dagster), "dev", "-h", host, "-p", str(port), "-m", "orchestration.definitions"],
            env=env,
            cwd=root,
        )
    )


from cli.devices import devices  # noqa: E402

cli.add_command(devices)

from cli.reports import reports  # noqa: E402

cli.add_command(reports)

from cli.quality import quality  # noqa: E402

cli.add_command(quality)

from cli.alerts import alerts  # noqa: E402

cli.add_command(alerts)

from cli.analytics import analytics  # noqa: E402

cli.add_command(analytics)

from cli.incidents import incidents  # noqa: E402

cli.add_command(incidents)

from cli.docs import docs  # noqa: E402

cli.add_command(docs)

from cli.materials import materials  # noqa: E402

cli.add_command(materials)

from cli.metering import metering  # noqa: E402

cli.add_command(metering)

from cli.backup import backup, config_export, config_import  # noqa: E402

cli.add_command(backup)
config.add_command(config_export)
config.add_command(config_import)

from cli.custom_reports import reports as reports_with_custom  # noqa: E402

cli.add_command(reports_with_custom)

from cli.exports import exports  # noqa: E402

cli.add_command(exports)

from cli.api import api  # noqa: E402

cli.add_command(api)


def main() -> None:
    cli(prog_name="siteledger")


if __name__ == "__main__":
    main()
