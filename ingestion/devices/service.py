"""Long-running entry points: the simulator and the collector as processes, and one-shot polls.

Both long-running ones stop gracefully on SIGTERM or SIGINT: the collector finishes and spools
the cycle in flight, closes its connections and writes its final status; the simulator closes
its ports.
"""

from __future__ import annotations

import asyncio
import logging
import math
import signal
from collections.abc import Callable
from pathlib import Path

from ingestion.devices.clock import SimClock
from ingestion.devices.collector import Collector, CollectorConfig, CollectorStats
from ingestion.devices.importer import spool_for
from siteledger.settings import Settings
from siteledger.site.models import SiteConfig

log = logging.getLogger(__name__)
STATUS_FILE = "collector.json"


def stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)


def status_path(settings: Settings, site_id: str) -> Path:
    return settings.spool / site_id / STATUS_FILE


async def collect(
    settings: Settings,
    site: SiteConfig,
    config: CollectorConfig,
    clock: SimClock | None = None,
    *,
    max_spool_bytes: int | None = None,
    max_cycles: int | None = None,
    on_start: Callable[[Collector], None] | None = None,
) -> CollectorStats:
    """Run the collector until SIGTERM/SIGINT (or ``max_cycles``)."""
    spool = spool_for(settings, site.site.id, max_spool_bytes)
    collector = Collector(
        site, spool, config, clock, status_file=status_path(settings, site.site.id)
    )
    stop = asyncio.Event()
    stop_on_signals(stop)
    if on_start is not None:
        on_start(collector)
    return await collector.run(stop, max_cycles)


def poll_now(
    settings: Settings, site: SiteConfig, config: CollectorConfig | None = None
) -> Path | None:
    """One poll of every device of ``site`` into its spool, stamped with the current cycle's
    instant (for sites without a running collector); None when that cycle is spooled already
    or the spool is full."""
    config = config or CollectorConfig()
    spool = spool_for(settings, site.site.id)
    collector = Collector(site, spool, config)
    instant = math.floor(collector.clock.now() / config.interval_s) * config.interval_s
    last = spool.last_cycle_us()
    if last is not None and last >= round(instant * 1e6):
        return None

    async def once() -> Path | None:
        try:
            return await collector.cycle(instant)
        finally:
            for link in collector.links.values():
                link.close()

    return asyncio.run(once())
