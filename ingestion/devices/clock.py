"""Simulated time: the device simulator and the collector agree on "now" through one clock.

``sim = origin + (wall - wall_origin) * speed``. At speed 1 with origin = wall origin it is the
wall clock (what a real collector runs on); a test or a demo runs the physical model faster
(speed 6000 makes a 15-minute step last 0.15 s) by giving both processes the same clock text,
``<origin ISO>@<wall origin, Unix seconds>x<speed>``.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass

_SPEC = re.compile(r"^(?P<origin>[^@]+)@(?P<wall>[0-9.]+)x(?P<speed>[0-9.eE+]+)$")


def parse_instant(text: str) -> dt.datetime:
    """An ISO 8601 instant; one without an offset is read as UTC."""
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class SimClock:
    origin: float  # simulated Unix seconds at wall_origin
    wall_origin: float
    speed: float = 1.0

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError(f"clock speed must be positive, got {self.speed}")

    @classmethod
    def wall(cls) -> SimClock:
        now = time.time()
        return cls(now, now, 1.0)

    @classmethod
    def starting(cls, origin: dt.datetime, speed: float = 1.0, delay: float = 0.0) -> SimClock:
        """A clock that shows ``origin`` ``delay`` wall seconds from now."""
        return cls(origin.timestamp(), time.time() + delay, speed)

    @classmethod
    def parse(cls, text: str) -> SimClock:
        match = _SPEC.match(text.strip())
        if not match:
            raise ValueError(f"clock {text!r} is not like 2025-06-30T16:00:00Z@1763800000.0x6000")
        origin = parse_instant(match.group("origin")).timestamp()
        return cls(origin, float(match.group("wall")), float(match.group("speed")))

    def spec(self) -> str:
        origin = dt.datetime.fromtimestamp(self.origin, dt.UTC).isoformat().replace("+00:00", "Z")
        return f"{origin}@{self.wall_origin:.6f}x{self.speed:g}"

    def now(self) -> float:
        """Simulated Unix seconds."""
        return self.origin + (time.time() - self.wall_origin) * self.speed

    def wall_at(self, sim_seconds: float) -> float:
        """Wall Unix seconds at which the clock shows ``sim_seconds``."""
        return self.wall_origin + (sim_seconds - self.origin) / self.speed

    def wall_duration(self, sim_seconds: float) -> float:
        return sim_seconds / self.speed
