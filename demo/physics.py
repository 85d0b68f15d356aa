"""Many independent paths of the demo mine's water physics, from one instant of a simulation.

For calibrating overflow probabilities: each path continues a :class:`DemoSimulation` from the
local midnight of one of its days with fresh weather, through the same pump controls and
operating rules (:class:`demo.simulate._Controls`, the code :func:`demo.simulate.simulate` runs
as one path), from the controller state the simulation had at that midnight.

Re-drawn per path: rain (tipping-bucket series, :func:`demo.drivers.draw_rain`) and pan
evaporation (:func:`demo.drivers.draw_pan_evaporation`, which depends on the path's rain), so
every rainfall-runoff and pan-evaporation flow. Held at the simulation's own values: ore and
concentrate tonnes (and so plant water, ore and product moisture, dust suppression and TSF
entrainment), plant water per tonne, third-party supply days, the pit inflow, bore rates,
availability and start points, and the climate's river availability and discharge season. TSF
seepage and every pumped flow follow the path's own storage.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace

import numpy as np

from demo.drivers import STEPS_PER_DAY, TIP_MM, draw_pan_evaporation, draw_rain
from demo.simulate import (
    CONTROLLED,
    DemoSimulation,
    _Controls,
    _incidence,
    _rule_flow,
    _store_rows,
    catchment_runoff,
    site_seed,
)
from demo.site import BORE_FLOW_RE, RUNOFF_FLOW
from siteledger.site.models import SiteConfig

WEATHER_METHODS = ("rainfall_runoff", "pan_evaporation")


@dataclass(frozen=True)
class PathWeather:
    """Weather of ``P`` paths over ``D`` local days: rain as whole 0.2 mm tips per interval
    (P, D, 96), int16 to keep 10 000 paths of 90 days small, and pan evaporation (P, D) mm."""

    rain_tips: np.ndarray
    pan_mm: np.ndarray

    @classmethod
    def of_simulation(cls, sim: DemoSimulation, origin_day: int, days: int) -> PathWeather:
        """The simulation's own weather, as one path."""
        window = slice(origin_day * STEPS_PER_DAY, (origin_day + days) * STEPS_PER_DAY)
        rain = sim.drivers.rain_mm[window].reshape(1, days, STEPS_PER_DAY)
        pan = sim.drivers.pan_mm[origin_day : origin_day + days][None, :]
        return cls(np.rint(rain / TIP_MM).astype("int16"), pan.astype("float64"))

    def rain_mm(self, day: int) -> np.ndarray:
        """(P, 96) mm of day ``day`` of the window, exactly as :func:`draw_rain` gives it."""
        return np.round(self.rain_tips[:, day].astype("float64") * TIP_MM, 1)


def draw_weather(
    site: SiteConfig, sim: DemoSimulation, origin_day: int, days: int, n_paths: int, seed: int
) -> PathWeather:
    """Fresh rain and pan evaporation of ``n_paths`` paths over ``days`` local days from
    ``origin_day`` of ``sim``, in the site's climate; path ``i`` has its own streams, seeded by
    ``seed``, the site, the origin and ``i``."""
    dates = sim.drivers.dates[origin_day : origin_day + days]
    month = np.array([d.month for d in dates], dtype="int64")
    doy = np.array([d.timetuple().tm_yday for d in dates], dtype="float64")
    base = site_seed(seed, site.site.id)
    rain_tips = np.zeros((n_paths, days, STEPS_PER_DAY), dtype="int16")
    pan_mm = np.zeros((n_paths, days))
    for i in range(n_paths):
        rain = draw_rain(_path_stream(base, "rain", origin_day, i), month, sim.drivers.climate)
        per_day = rain.reshape(days, STEPS_PER_DAY)
        rain_tips[i] = np.rint(per_day / TIP_MM)
        rng = _path_stream(base, "evaporation", origin_day, i)
        pan_mm[i] = draw_pan_evaporation(rng, doy, per_day.sum(axis=1))
    return PathWeather(rain_tips, pan_mm)


def _path_stream(seed: int, name: str, origin_day: int, path: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(f"paths:{name}".encode()), origin_day, path])


def simulate_paths(
    site: SiteConfig, sim: DemoSimulation, origin_day: int, days: int, n_paths: int, seed: int
) -> np.ndarray:
    """Store volumes (m3) of ``n_paths`` independent paths at the local midnights from the start
    of day ``origin_day`` of ``sim``: (n_paths, days + 1, stores), stores in ``sim.store_ids``
    order. Index 0 is the simulation's own storage at the origin (every path); index k is k days
    later. Each path has fresh weather (:func:`draw_weather`); the rest is the simulation's
    (see the module's docstring). ``origin_day + days`` may not pass the simulation's end."""
    _check(site, sim, origin_day, days, n_paths)
    weather = draw_weather(site, sim, origin_day, days, n_paths, seed)
    return run_paths(site, sim, origin_day, weather)


def _check(site: SiteConfig, sim: DemoSimulation, origin_day: int, days: int, n_paths: int) -> None:
    if site.site.id != sim.site.site.id:
        raise ValueError(f"sim is of {sim.site.site.id!r}, not {site.site.id!r}")
    if n_paths < 1 or days < 0:
        raise ValueError(f"need n_paths >= 1 and days >= 0, got {n_paths} and {days}")
    if origin_day < 0 or origin_day + days > sim.days:
        raise ValueError(
            f"days {origin_day}..{origin_day + days} are not inside the simulation's "
            f"{sim.days} days (the drivers held at the simulation's values end there)"
        )
    if len(sim.control_states) != sim.days + 1:
        raise ValueError("sim has no control states; make it with demo.simulate.simulate")


def run_paths(
    site: SiteConfig, sim: DemoSimulation, origin_day: int, weather: PathWeather
) -> np.ndarray:
    """:func:`simulate_paths` on given weather (one path per row of ``weather``)."""
    n_paths, days = weather.pan_mm.shape
    _check(site, sim, origin_day, days, n_paths)
    rules = {r.flow: r for r in site.estimations}
    store_ids = sim.store_ids
    incidence = _incidence(site, sim.flow_ids, store_ids)
    col = {f: i for i, f in enumerate(sim.flow_ids)}
    weather_flows = [f for f, r in rules.items() if r.method in WEATHER_METHODS and f in col]
    if RUNOFF_FLOW in col and RUNOFF_FLOW not in rules:  # gauged, but rain all the same
        weather_flows.append(RUNOFF_FLOW)
    pumped = [col[f] for f in CONTROLLED if f in col]
    pumped += [i for i, f in enumerate(sim.flow_ids) if BORE_FLOW_RE.match(f)]
    window = slice(origin_day * STEPS_PER_DAY, (origin_day + days) * STEPS_PER_DAY)
    known = sim.flows[window].copy()
    known[:, pumped + [col[f] for f in weather_flows]] = 0.0
    # (5, steps): what the flows the paths share do to each store
    fixed = _store_rows((known @ incidence.T).T, store_ids)
    # (5, weather flows): the sign with which each weather flow enters each store
    signs = _store_rows(incidence[:, [col[f] for f in weather_flows]], store_ids)

    controls = _Controls(site, store_ids, sim.drivers, rules["tsf_seepage"])
    state = sim.control_states[origin_day].take(0, n_paths)
    out = np.empty((n_paths, days + 1, len(store_ids)))
    out[:, 0] = state.storage[: len(store_ids)].T
    for i in range(days):
        d = origin_day + i
        drivers = replace(
            sim.drivers,
            rain_mm=weather.rain_mm(i).ravel(),
            pan_mm=weather.pan_mm[:, i],
        )
        exo = np.repeat(fixed[:, i * STEPS_PER_DAY : (i + 1) * STEPS_PER_DAY, None], n_paths, 2)
        for j, flow in enumerate(weather_flows):
            if flow in rules:
                volume = _rule_flow(site, rules[flow], drivers, n_paths * STEPS_PER_DAY)
            else:
                volume = catchment_runoff(drivers)
            per_path = volume.reshape(n_paths, STEPS_PER_DAY).T
            for s in np.flatnonzero(signs[:, j]):
                exo[s] += signs[s, j] * per_path
        controls.run_day(state, d, exo)
        out[:, i + 1] = state.storage[: len(store_ids)].T
    return out
