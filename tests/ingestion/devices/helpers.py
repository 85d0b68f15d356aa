"""Real Modbus servers on 127.0.0.1 for the device tests, and sites that use them."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from demo.devices.simulator import DeviceSimulator, Fault
from demo.devices.values import MeterValues
from demo.site import build_demo_site
from ingestion.devices.clock import SimClock
from siteledger.site.models import SiteConfig

T = TypeVar("T")
DEMO_START = dt.date(2025, 7, 1)
# local midnight of 2025-07-01 in Perth (UTC+8)
DEMO_ORIGIN = dt.datetime(2025, 6, 30, 16, 0, tzinfo=dt.UTC)


def free_ports(n: int) -> list[int]:
    """``n`` distinct ports that are free on 127.0.0.1 right now."""
    sockets = []
    try:
        for _ in range(n):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_until_listening(port: int, timeout_s: float = 10.0) -> None:
    """Block until something accepts TCP connections on 127.0.0.1:``port`` (a server started on
    a thread may not be listening yet when the next line connects, on a loaded machine)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def on_ports(site: SiteConfig, ports: dict[int, int]) -> SiteConfig:
    """The site with its Modbus ports renamed (``old -> new``)."""
    site = site.model_copy(deep=True)
    for meter in site.meters:
        if meter.modbus is not None:
            meter.modbus.port = ports.get(meter.modbus.port, meter.modbus.port)
    return site


def demo_site_on_free_ports() -> SiteConfig:
    site = build_demo_site()
    used = sorted({m.modbus.port for m in site.meters if m.modbus is not None})
    return on_ports(site, dict(zip(used, free_ports(len(used)), strict=True)))


class ThreadedSimulator:
    """The device simulator on its own event loop in a thread, as if it were another process."""

    def __init__(self, site: SiteConfig, values: MeterValues, clock: SimClock):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.simulator = DeviceSimulator(site, values, clock)
        self.call(self.simulator.start())

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout=10)

    def inject(self, fault: Fault) -> int:
        return self.call(self.simulator.inject(fault))

    def clear(self, fault_id: int | None = None) -> None:
        self.call(self.simulator.clear(fault_id))

    def close(self) -> None:
        self.call(self.simulator.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    def __enter__(self) -> ThreadedSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FixedValues:
    """Each meter shows one value, whatever the time."""

    def __init__(self, values: dict[str, float]):
        self.values = values

    def value(self, meter: Any, sim_seconds: float) -> float:
        return self.values[meter.id]


class ManualClock:
    """A clock a test sets by hand; every cycle has seconds of wall time left."""

    speed = 1.0

    def __init__(self, now: float):
        self.sim_now = now

    def now(self) -> float:
        return self.sim_now

    def wall_at(self, sim_seconds: float) -> float:
        import time

        return time.time() + 30.0

    def spec(self) -> str:
        return f"manual {self.sim_now}"
