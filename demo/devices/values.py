"""What a simulated meter shows at a simulated instant.

For the demo mine the values are the demo generator's own meter readings
(:func:`demo.simulate.simulate`), so a poll agrees with the ground truth: at any
instant inside 15-minute step k a meter shows reading k (a level or a totaliser count at the
step's start, a flow rate over the step). Before the period the first reading shows, after it
the last. Other sites get smooth synthetic signals inside each meter's valid range.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Protocol

from demo.simulate import simulate
from siteledger.site.models import Meter, SiteConfig

STEP_SECONDS = 900


class MeterValues(Protocol):
    def value(self, meter: Meter, sim_seconds: float) -> float: ...


class DemoValues:
    """The demo generator's readings, one 15-minute step at a time."""

    def __init__(self, site: SiteConfig, start: dt.date, days: int, seed: int = 7):
        self.sim = simulate(site, start=start, days=days, seed=seed)
        self.start = self.sim.ts_utc[0].timestamp()
        self.last_step = len(self.sim.ts_utc) - 1
        # interval meters have no reading at the closing instant: they keep the last interval's
        self.grid = {}
        for meter_id, values in self.sim.grid_readings.items():
            held = values.copy()
            if math.isnan(held[-1]):
                held[-1] = held[-2]
            self.grid[meter_id] = held

    def step(self, sim_seconds: float) -> int:
        k = math.floor((sim_seconds - self.start) / STEP_SECONDS)
        return min(max(k, 0), self.last_step)

    def instant(self, step: int) -> float:
        return self.start + step * STEP_SECONDS

    def value(self, meter: Meter, sim_seconds: float) -> float:
        grid = self.grid.get(meter.id)
        if grid is None:
            raise KeyError(f"the demo generator has no 15-minute readings for {meter.id!r}")
        return float(grid[self.step(sim_seconds)])


class SyntheticValues:
    """Daily sine waves inside each meter's valid range; cumulative meters count up and wrap at
    their rollover. Deterministic in the meter id and the simulated time."""

    def value(self, meter: Meter, sim_seconds: float) -> float:
        phase = (hash_fraction(meter.id) + sim_seconds / 86400.0) * 2 * math.pi
        low, high = meter.valid_range or (0.0, 100.0)
        if meter.cumulative:
            top = meter.rollover or high or 1e7
            per_second = max(top, 1.0) * 1e-6
            return round((sim_seconds * per_second) % top, 1)
        middle, amplitude = (low + high) / 2, (high - low) / 4
        return round(middle + amplitude * math.sin(phase), 3)


def hash_fraction(text: str) -> float:
    """A stable number in [0, 1) for a text (Python's hash() changes per process)."""
    value = 0
    for char in text.encode():
        value = (value * 131 + char) % 1_000_003
    return value / 1_000_003


def values_for(
    site: SiteConfig, start: dt.date, days: int, seed: int = 7, *, demo_physics: bool
) -> MeterValues:
    """The demo generator's readings when ``demo_physics`` (the site must be a demo mine the
    generator wrote), smooth synthetic signals otherwise."""
    if demo_physics:
        return DemoValues(site, start, days, seed)
    return SyntheticValues()
