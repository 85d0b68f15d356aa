"""The device simulator as a long-running process: serves a site's Modbus meters until SIGTERM."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path

from demo.devices.simulator import DeviceSimulator, watch_faults
from demo.devices.values import values_for
from ingestion.devices.clock import SimClock
from ingestion.devices.service import stop_on_signals
from siteledger.site.models import SiteConfig


async def simulate_devices(
    site: SiteConfig,
    clock: SimClock,
    *,
    start: dt.date,
    days: int,
    seed: int = 7,
    demo_physics: bool = True,
    faults_file: Path | None = None,
    on_start: Callable[[DeviceSimulator], None] | None = None,
) -> None:
    """Serve the site's Modbus meters until SIGTERM/SIGINT."""
    simulator = DeviceSimulator(
        site, values_for(site, start, days, seed, demo_physics=demo_physics), clock
    )
    await simulator.start()
    stop = asyncio.Event()
    stop_on_signals(stop)
    if on_start is not None:
        on_start(simulator)
    try:
        if faults_file is not None:
            await watch_faults(simulator, faults_file, stop)
        else:
            await stop.wait()
    finally:
        await simulator.stop()
