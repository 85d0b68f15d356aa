"""``siteledger demo`` and ``siteledger devices simulate``: the demo's face on the command line.

The demo is not production code: the CLI finds these commands through the ``siteledger.commands``
entry point (:func:`register`), so no production module imports the demo.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from pathlib import Path

import click

from cli.devices import _clock, _load, _logging, _zone
from cli.main import _settings, console, run_main_job
from demo.metering import DEFAULT_CUSTOMERS
from demo.site import MINE_SITE_IDS, SITE_IDS
from demo.write import write_demo
from siteledger.settings import Settings


def register(cli: click.Group) -> None:
    """Add the demo commands to the ``siteledger`` command group."""
    cli.add_command(demo)
    devices = cli.commands.get("devices")
    if isinstance(devices, click.Group):
        devices.add_command(simulate)


# -- demo --------------------------------------------------------------------------------------
_demo_options = [
    click.option("--days", default=365, show_default=True, type=click.IntRange(1, 3660)),
    click.option(
        "--start",
        default="2025-07-01",
        show_default=True,
        help="First local day (the demo is deterministic: it does not depend on today's date).",
    ),
    click.option("--seed", default=7, show_default=True, type=int),
    click.option(
        "--faults",
        is_flag=True,
        help="Inject every recorded fault into demo_mine's readings, and from 60 days on "
        "anomalies for the analytics (spikes, level shifts, a drift; anomalies.json) "
        "(demo_highveld always carries a gap, a stuck meter, a spike and an error code).",
    ),
    click.option(
        "--fresh",
        is_flag=True,
        help="First clear the home's data (lake, warehouse, reports, state store) of earlier runs.",
    ),
    click.option(
        "--bores",
        default=6,
        show_default=True,
        type=click.IntRange(1, 500),
        help="Production bores of demo_mine; each adds four meters (about 115 give a 500-meter "
        "site).",
    ),
    click.option(
        "--customers",
        default=DEFAULT_CUSTOMERS,
        show_default=True,
        type=click.IntRange(10, 100_000),
        help="Customers of the prepaid water utility demo_waterco (one hourly meter each, a "
        "second for some businesses).",
    ),
]


def _with_demo_options(func):  # type: ignore[no-untyped-def]
    for option in reversed(_demo_options):
        func = option(func)
    return func


def _generate(  # type: ignore[no-untyped-def]
    settings: Settings,
    days: int,
    start: str,
    seed: int,
    faults: bool,
    bores: int,
    fresh: bool,
    customers: int = DEFAULT_CUSTOMERS,
):
    try:
        first_day = dt.date.fromisoformat(start)
    except ValueError as exc:
        raise click.BadParameter(f"--start {start!r} is not a date like 2025-07-01") from exc
    wanted = {
        "days": days,
        "start": start,
        "seed": seed,
        "faults": faults,
        "bores": bores,
        "customers": customers,
        "sites": list(SITE_IDS),
    }
    recorded = settings.demo_dir / "parameters.json"
    if fresh:
        _clear_runtime_data(settings)
    elif recorded.exists() and json.loads(recorded.read_text()) != wanted:
        earlier = json.loads(recorded.read_text())
        # plain text, never wrapped: the path is meant to be copied
        click.echo(
            f"note: {settings.home} holds an earlier demo ({_demo_args(earlier)}); "
            "its data stays in the lake and mixes with this one. Add --fresh to start clean."
        )
    settings.ensure_dirs()
    t0 = time.perf_counter()
    with console.status(f"simulating {days} days of the demo sites ..."):
        out = write_demo(
            settings.home,
            days=days,
            start=first_day,
            seed=seed,
            faults=faults,
            n_bores=bores,
            customers=customers,
        )
    recorded.write_text(json.dumps(wanted) + "\n")
    console.print(
        f"demo sites written: {', '.join(str(f) for f in out.site_files)} "
        f"({len(out.drop_files)} file drops, {out.n_readings:,} readings, "
        f"{out.n_records:,} records, {time.perf_counter() - t0:.1f} s)",
        soft_wrap=True,  # paths whole, to copy
    )
    return out


def _demo_args(parameters: dict) -> str:  # type: ignore[type-arg]
    return " ".join(
        f"--{key}" if value is True else f"--{key} {value}"
        for key, value in parameters.items()
        if value is not False and key != "sites"
    ) + (f" (sites {', '.join(parameters['sites'])})" if parameters.get("sites") else "")


def _clear_runtime_data(settings: Settings) -> None:
    import shutil

    removed = []
    for path in settings.runtime_data():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        else:
            continue
        removed.append(path.name)
    if removed:
        click.echo(f"cleared {settings.home}: {', '.join(removed)}")


@click.group()
def demo() -> None:
    """The generated demo organisation: two mines, two workshops and a prepaid water utility
    (site files, file drops, ground truth)."""


@demo.command("generate")
@_with_demo_options
@click.pass_context
def demo_generate(
    ctx: click.Context,
    days: int,
    start: str,
    seed: int,
    faults: bool,
    fresh: bool,
    bores: int,
    customers: int,
) -> None:
    """Write the organisation file and each demo site's YAML, file drops and ground truth."""
    out = _generate(_settings(ctx), days, start, seed, faults, bores, fresh, customers)
    for site_id, site in out.sites.items():
        console.print(f"ground truth of {site_id}: {site.ground_truth_dir}")
        if site.faults_manifest:
            console.print(f"fault manifest of {site_id}: {site.faults_manifest}")
        if site.anomalies_manifest:
            console.print(f"anomaly manifest of {site_id}: {site.anomalies_manifest}")


@demo.command("run")
@_with_demo_options
@click.pass_context
def demo_run(
    ctx: click.Context,
    days: int,
    start: str,
    seed: int,
    faults: bool,
    fresh: bool,
    bores: int,
    customers: int,
) -> None:
    """Generate the demo sites and run the main job on them (embedded defaults)."""
    settings = _settings(ctx)
    out = _generate(settings, days, start, seed, faults, bores, fresh, customers)
    run_main_job(settings)
    _print_outputs(settings, out)


def _print_outputs(settings: Settings, out) -> None:  # type: ignore[no-untyped-def]
    # plain lines, never wrapped: the paths are meant to be copied
    rows = [
        *(("site file", str(path)) for path in out.site_files),
        ("organisation file", str(out.organisation_file)),
        ("published warehouse (BI)", str(settings.published_db)),
        ("published Parquet (BI)", str(settings.warehouse_dir / "parquet")),
        ("raw lake (Parquet)", str(settings.readings_lake)),
        ("quarantine", str(settings.quarantine)),
        ("compliance reports", f"{settings.reports_dir}  (siteledger reports list)"),
        ("archived file drops", str(settings.archive)),
        ("state store", settings.state_store_url),
        *(
            (f"ground truth {site_id}", str(site.ground_truth_dir))
            for site_id, site in out.sites.items()
        ),
        *(
            (f"fault manifest {site_id}", str(site.faults_manifest))
            for site_id, site in out.sites.items()
            if site.faults_manifest
        ),
        *(
            (f"anomaly manifest {site_id}", str(site.anomalies_manifest))
            for site_id, site in out.sites.items()
            if site.anomalies_manifest
        ),
    ]
    rows.append(("quality Data Docs", str(settings.home / "quality" / "data_docs" / "index.html")))
    rows.append(("Dagster UI", f"siteledger --home {settings.home} ui  (http://127.0.0.1:3000)"))
    click.echo("\nWhere the results are:")
    for label, value in rows:
        click.echo(f"  {label:<30} {value}")


@click.command("simulate")
@click.argument("site_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--start",
    "start_day",
    default="2025-07-01",
    show_default=True,
    help="First local day of the demo model the devices show.",
)
@click.option("--days", default=365, show_default=True, type=click.IntRange(1, 3660))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option(
    "--speed",
    default=1.0,
    show_default=True,
    type=float,
    help="Simulated seconds per wall second (900 shows a 15-minute step per second).",
)
@click.option(
    "--clock",
    "clock_spec",
    default=None,
    help="Share a clock with a collector: ORIGIN@WALLx SPEED (printed at start).",
)
@click.option(
    "--faults",
    "faults_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON list of faults, re-read when it changes (see docs/devices.md).",
)
@click.option(
    "--signals",
    type=click.Choice(["auto", "demo", "synthetic"]),
    default="auto",
    show_default=True,
    help="What the meters show: the demo generator's physics (same values as its file drops and "
    "ground truth) or smooth synthetic signals; auto = demo for the demo generator's mines, "
    "synthetic for any other site.",
)
@click.option("-v", "--verbose", is_flag=True)
def simulate(
    site_file: Path,
    start_day: str,
    days: int,
    seed: int,
    speed: float,
    clock_spec: str | None,
    faults_file: Path | None,
    signals: str,
    verbose: bool,
) -> None:
    """Serve every Modbus meter of SITE_FILE on 127.0.0.1 until Ctrl-C / SIGTERM."""
    from demo.devices.serve import simulate_devices
    from demo.devices.values import DemoValues
    from ingestion.devices.clock import SimClock

    _logging(verbose)
    site = _load(site_file)
    try:
        first = dt.date.fromisoformat(start_day)
    except ValueError as exc:
        raise click.BadParameter(f"{start_day!r} is not a date like 2025-07-01") from exc
    if clock_spec:
        clock = _clock(clock_spec, None, 1.0)
    else:
        # the model's first instant is local midnight of the first day
        origin = dt.datetime.combine(first, dt.time(0), _zone(site)).astimezone(dt.UTC)
        clock = SimClock.starting(origin, speed)

    def started(simulator) -> None:  # type: ignore[no-untyped-def]
        kind = "demo model" if isinstance(simulator.values, DemoValues) else "synthetic signals"
        meters = sum(
            len(u.meters.get("holding", [])) + len(u.meters.get("input", []))
            for units in simulator.units.values()
            for u in units.values()
        )
        click.echo(
            f"serving {meters} meters ({kind}) on 127.0.0.1 ports "
            f"{', '.join(map(str, simulator.ports))}",
            err=True,
        )
        click.echo(f"clock: {clock.spec()}", err=True)

    try:
        asyncio.run(
            simulate_devices(
                site,
                clock,
                start=first,
                days=days,
                seed=seed,
                faults_file=faults_file,
                demo_physics=signals == "demo"
                or (signals == "auto" and site.site.id in MINE_SITE_IDS),
                on_start=started,
            )
        )
    except OSError as exc:
        raise click.ClickException(f"cannot serve: {exc}") from exc
