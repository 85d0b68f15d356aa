"""``siteledger devices``: the device simulator, the edge collector, the spool and device health.

Commands call :mod:`ingestion.devices`; nothing here computes anything itself.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click

from cli.output import Col, count, emit, json_option, make_console
from siteledger.settings import Settings
from siteledger.site import SiteConfig, SiteConfigError, interval_seconds, load_site
from siteledger.state import StateStore

console = make_console()


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def _load(path: Path) -> SiteConfig:
    try:
        return load_site(path)
    except SiteConfigError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{path} is not a valid site file") from exc


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return float(interval_seconds(text))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def _clock(spec: str | None, start: str | None, speed: float):  # type: ignore[no-untyped-def]
    from ingestion.devices.clock import SimClock, parse_instant

    if spec:
        try:
            return SimClock.parse(spec)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--clock") from exc
    if start:
        return SimClock.starting(parse_instant(start), speed)
    if speed != 1.0:
        raise click.BadParameter("--speed needs --start or --clock")
    return SimClock.wall()


@click.group()
def devices() -> None:
    """Modbus TCP devices: simulator, collector, spool import and health."""


def _zone(site: SiteConfig):  # type: ignore[no-untyped-def]
    import zoneinfo

    return zoneinfo.ZoneInfo(site.site.timezone)


@devices.command("collect")
@click.argument("site_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--interval", default="60s", show_default=True, help="Poll interval: 60s, 15min.")
@click.option(
    "--timeout",
    "timeout_s",
    default=1.0,
    show_default=True,
    type=float,
    help="Wall seconds a request may take.",
)
@click.option("--retries", default=2, show_default=True, type=click.IntRange(0, 10))
@click.option("--clock", "clock_spec", default=None, help="The simulator's clock (for a demo).")
@click.option("--max-spool-mb", default=1024, show_default=True, type=click.IntRange(1))
@click.option("--cycles", default=None, type=click.IntRange(1), help="Stop after N cycles.")
@click.option("-v", "--verbose", is_flag=True)
@click.pass_context
def collect(
    ctx: click.Context,
    site_file: Path,
    interval: str,
    timeout_s: float,
    retries: int,
    clock_spec: str | None,
    max_spool_mb: int,
    cycles: int | None,
    verbose: bool,
) -> None:
    """Poll every Modbus device of SITE_FILE into the spool until Ctrl-C / SIGTERM."""
    from ingestion.devices.collector import CollectorConfig
    from ingestion.devices.service import collect as run_collect

    _logging(verbose)
    settings = _settings(ctx)
    site = _load(site_file)
    try:
        config = CollectorConfig(
            interval_s=_seconds(interval),
            timeout_s=timeout_s,
            retries=retries,
            reconnect_s=min(1.0, timeout_s),
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    clock = _clock(clock_spec, None, 1.0)

    def started(collector) -> None:  # type: ignore[no-untyped-def]
        click.echo(
            f"collecting {len(collector.devices)} devices every {config.interval_s:g} s into "
            f"{collector.spool.root}",
            err=True,
        )

    try:
        stats = asyncio.run(
            run_collect(
                settings,
                site,
                config,
                clock,
                max_spool_bytes=max_spool_mb << 20,
                max_cycles=cycles,
                on_start=started,
            )
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"stopped after {stats.cycles} cycles ({stats.spooled} spooled, "
        f"{stats.dropped_full} dropped: spool full, {stats.skipped_late} skipped: late)",
        err=True,
    )


def _sites(settings: Settings, site_file: Path | None) -> list[SiteConfig]:
    files = [site_file] if site_file else sorted(settings.sites_dir.glob("*.yaml"))
    if not files:
        raise click.ClickException(f"no site files in {settings.sites_dir}; pass --site")
    return [_load(path) for path in files]


@devices.command("import")
@click.option("--site", "site_file", type=click.Path(exists=True, path_type=Path))
@click.pass_context
def import_(ctx: click.Context, site_file: Path | None) -> None:
    """Move every spooled segment into the raw lake (exactly once, oldest first)."""
    from ingestion.devices.importer import import_spool

    settings = _settings(ctx)
    settings.ensure_dirs()
    store = StateStore(settings.state_store_url)
    for site in _sites(settings, site_file):
        result = import_spool(settings, site, store)
        console.print(
            f"{site.site.id}: {result.segments} segments, {count(result.readings)} readings in "
            f"{len(result.batches)} batch(es), {result.quarantined_rows} rows and "
            f"{result.quarantined_segments} segments quarantined; days "
            f"{', '.join(sorted(result.days)) or 'none'}"
        )
        for error in result.errors:
            console.print(f"  failed: {error}", markup=False)
        if result.errors:
            raise click.ClickException("some spool batches failed; they stay in the spool")


@devices.command("poll")
@click.argument("site_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--timeout", "timeout_s", default=1.0, show_default=True, type=float)
@click.option("--no-import", is_flag=True, help="Only spool the poll; do not import it.")
@click.pass_context
def poll(ctx: click.Context, site_file: Path, timeout_s: float, no_import: bool) -> None:
    """Poll every device of SITE_FILE once now (for a site without a running collector)."""
    from ingestion.devices.collector import CollectorConfig
    from ingestion.devices.importer import import_spool
    from ingestion.devices.service import poll_now

    settings = _settings(ctx)
    settings.ensure_dirs()
    site = _load(site_file)
    path = poll_now(settings, site, CollectorConfig(timeout_s=timeout_s))
    console.print(f"spooled {path}" if path else "this cycle is spooled already (or spool full)")
    if not no_import:
        result = import_spool(settings, site, StateStore(settings.state_store_url))
        console.print(f"imported {result.readings} readings from {result.segments} segments")


@devices.command("health")
@click.option("--site", "site_file", type=click.Path(exists=True, path_type=Path))
@json_option
@click.pass_context
def health(ctx: click.Context, site_file: Path | None, as_json: bool) -> None:
    """Device health from the collector's imported records."""
    from ingestion.devices.health import health_table, poll_clock_now

    settings = _settings(ctx)
    settings.ensure_dirs()
    store = StateStore(settings.state_store_url)
    for site in _sites(settings, site_file):
        rows = health_table(store, site, poll_clock_now(settings, site.site.id))
        emit(
            ({key: row.get(key, HEALTH_DEFAULTS.get(key)) for key in HEALTH_KEYS} for row in rows),
            HEALTH_COLUMNS,
            title=f"{site.site.id}: {count(len(rows))} devices",
            as_json=as_json,
            empty=f"{site.site.id}: no Modbus devices in its site file",
        )


HEALTH_KEYS = (
    *("site_id", "device", "status", "meters", "last_poll_at", "last_seen_at", "last_error_kind"),
    *("last_error", "consecutive_failures", "polls", "failures", "error_counts"),
    *("latency_ms_last", "latency_ms_mean", "latency_ms_max"),
)
# a device the collector never reached has no record yet
HEALTH_DEFAULTS = {"polls": 0, "failures": 0, "consecutive_failures": 0, "error_counts": {}}
HEALTH_COLUMNS = [
    Col("device", kind="id"),
    Col("status", kind="word"),
    Col(
        "last_seen_at",
        "last seen",
        derive=lambda r: (
            f"{r['last_seen_at']:%Y-%m-%d %H:%M:%S}" if r.get("last_seen_at") else "never"
        ),
    ),
    Col("polls", kind="int"),
    Col("failures", kind="int"),
    Col(
        "error_counts",
        "errors",
        derive=lambda r: ", ".join(f"{k} {count(v)}" for k, v in r["error_counts"].items()),
    ),
    Col("latency_ms_mean", "ms", "num", 1),
]
