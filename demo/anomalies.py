"""Anomalies the demo injects under ``--faults`` for the analytics, and their manifest.

Unlike the reading faults (:mod:`demo.faults`), most of these are real water: the simulation runs
with them, so the ground truth, the meters and the balance all carry them. Only the drift is a
sensor error, injected into one meter's readings after the simulation; the truth does not have
it. Each manifest entry (``anomalies.json`` beside the site's ground truth) is an
:class:`Anomaly`.

``demo_mine``, periods of at least :data:`MIN_DAYS` days (shorter ones get an empty manifest):

- six one-day spikes of the dust-suppression draw from the raw water dam (``rwd_to_dust``, metered
  by totaliser FQ-180): a burst or a wash-down takes 2.5-4 times the day's water. The water is
  lost at the dust-suppression task, so the truth's ``dust_evaporation`` carries it too and that
  day departs from its tonnes-based estimate (the balance shows the loss as closure);
- a level shift of the plant's water per tonne (+20 % from a day to the end of the period): the
  plant feed ``pwd_to_plant`` and its discharge ``plant_to_tsf`` rise (two entries);
- a level shift of the third-party (scheme) water supply to the process water dam
  (``third_party_to_pwd``, -30 % from a day to the end: a new supply agreement); the raw water
  transfer makes up the difference. (A bore's rate would be the other obvious choice, but in a
  wet winter the bores may not run for months, and a shift nobody can see is no test.)
- a drift of flow meter FT-160 (return water to the PWD, its only meter): its readings ramp
  linearly to +15 % over 30 days, then it is recalibrated; the true flow is unchanged.

Placement scales with the period like :func:`demo.faults.fault_day`; spike days and magnitudes
are drawn from the run's seed, away from the reading faults' days, the maintenance shutdowns (and
the days either side), the start days of the other anomalies and each other (two days apart at
least), so each spike day's neighbours are ordinary days.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date

import numpy as np

from demo.drivers import STEPS_PER_DAY, Drivers, stream
from demo.faults import fault_day
from demo.simulate import DemoSimulation, site_drivers, site_seed
from demo.site import SITE_ID
from siteledger.site.models import SiteConfig

MIN_DAYS = 60
N_SPIKES = 6
SPIKE_FLOW, SPIKE_SINK = "rwd_to_dust", "dust_evaporation"
SPIKE_RANGE = (2.5, 4.0)
PLANT_FEED, PLANT_OUT = "pwd_to_plant", "plant_to_tsf"
WATER_PER_T_FACTOR = 1.2
SUPPLY_FLOW = "third_party_to_pwd"
SUPPLY_FACTOR = 0.7
DRIFT_METER = "FT-160"
DRIFT_DAYS = 30
DRIFT_TO = 0.15
# fractions of the period at which demo.faults places its reading faults
FAULT_FRACTIONS = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7)


@dataclass(frozen=True)
class Anomaly:
    """One injected anomaly, as written to ``anomalies.json``.

    ``series_id`` is ``{site_id}/{scope}/{scope_id}/{metric}``; ``first_day`` and ``last_day``
    are local days (ISO dates, inclusive). ``magnitude`` is a factor: a spike's day volume over
    the day's volume without it; a level shift's factor on the flow (plant flows: their volume
    over the shifted period with the shift over without it); a drift's factor on the readings
    on its last day.
    """

    series_id: str
    scope: str
    scope_id: str
    metric: str
    kind: str
    first_day: str
    last_day: str
    magnitude: float
    cause: str
    detail: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class AnomalyPlan:
    """Where each anomaly goes, in local day indexes from the period's first day."""

    days: int
    spikes: tuple[tuple[int, float], ...]  # (day, factor on the day's volume)
    water_day: int  # plant water per tonne x WATER_PER_T_FACTOR from this day on
    supply_day: int  # third-party supply x SUPPLY_FACTOR from this day on
    drift_day: int  # first day of the DRIFT_DAYS of the drift

    def change_drivers(self, drivers: Drivers) -> Drivers:
        """The plant's level shift."""
        water = drivers.water_per_t.copy()
        water[self.water_day :] *= WATER_PER_T_FACTOR
        return replace(drivers, water_per_t=water)

    def change_flows(self, flows: np.ndarray, col: dict[str, int]) -> None:
        """The spikes and the supply's level shift, before the pumps respond to them."""
        flows[self.supply_day * STEPS_PER_DAY :, col[SUPPLY_FLOW]] *= SUPPLY_FACTOR
        for day, factor in self.spikes:
            steps = slice(day * STEPS_PER_DAY, (day + 1) * STEPS_PER_DAY)
            flows[steps, col[SPIKE_FLOW]] *= factor
            flows[steps, col[SPIKE_SINK]] *= factor

    def drift_factor(self) -> np.ndarray:
        """(days * 96 + 1,) factor on the drifting meter's readings at each instant."""
        factor = np.ones(self.days * STEPS_PER_DAY + 1)
        first = self.drift_day * STEPS_PER_DAY
        n = DRIFT_DAYS * STEPS_PER_DAY
        factor[first : first + n] = 1 + DRIFT_TO * np.arange(1, n + 1) / n
        return factor


def plan_anomalies(site: SiteConfig, start: date, days: int, seed: int) -> AnomalyPlan | None:
    """The anomalies of a ``demo_mine`` period of at least :data:`MIN_DAYS` days, else None."""
    if site.site.id != SITE_ID or days < MIN_DAYS:
        return None
    drivers = site_drivers(site, start, days, seed)
    water_day = fault_day(days, 0.5)
    supply_day = fault_day(days, 0.42)
    drift_day = fault_day(days, 0.15)
    busy = {fault_day(days, f) for f in FAULT_FRACTIONS} | {water_day, supply_day, drift_day}
    for day in np.flatnonzero(drivers.shutdown):
        busy |= {int(day) - 1, int(day), int(day) + 1}
    rng = stream(site_seed(seed, site.site.id), "anomalies")
    candidates = [d for d in rng.permutation(np.arange(2, days - 2)).tolist() if d not in busy]
    chosen: list[int] = []
    for day in candidates:
        if all(abs(day - other) > 2 for other in chosen):
            chosen.append(day)
        if len(chosen) == N_SPIKES:
            break
    if len(chosen) < N_SPIKES:
        raise ValueError(f"no room for {N_SPIKES} spikes in {days} days")
    factors = np.round(rng.uniform(*SPIKE_RANGE, N_SPIKES), 2)
    spikes = tuple(sorted((d, float(f)) for d, f in zip(chosen, factors, strict=True)))
    return AnomalyPlan(days, spikes, water_day, supply_day, drift_day)


def apply_drift(plan: AnomalyPlan, readings: dict[str, np.ndarray]) -> None:
    """The drifting meter's readings, on a copy in ``readings`` (rounded as the meter reports)."""
    readings[DRIFT_METER] = np.round(readings[DRIFT_METER] * plan.drift_factor(), 3)


def anomaly_records(plan: AnomalyPlan, sim: DemoSimulation) -> list[Anomaly]:
    """Manifest entries of ``plan``, as ``sim`` (run with it) carries them."""
    site_id = sim.site.site.id
    last = sim.days - 1
    col = {f: i for i, f in enumerate(sim.flow_ids)}

    def day(index: int) -> str:
        return sim.dates[index].isoformat()

    def flow(
        flow_id: str, kind: str, first: int, end: int, magnitude: float, cause: str, detail: str
    ) -> Anomaly:
        return Anomaly(
            f"{site_id}/flow/{flow_id}/volume_m3",
            "flow",
            flow_id,
            "volume_m3",
            kind,
            day(first),
            day(end),
            magnitude,
            cause,
            detail,
        )

    records = [
        flow(
            SPIKE_FLOW,
            "spike",
            d,
            d,
            factor,
            "operational",
            f"dust-suppression line burst / wash-down: the day's draw from the raw water dam "
            f"x{factor:g} (FQ-180 counts it); the extra water is lost at the task, beyond "
            f"the tonnes-based estimate of {SPIKE_SINK}",
        )
        for d, factor in plan.spikes
    ]
    # plant flows: the volume over the shifted days against the same days without the shift
    steps = slice(plan.water_day * STEPS_PER_DAY, None)
    feed = sim.flows[steps, col[PLANT_FEED]]
    water_per_t = np.repeat(sim.drivers.water_per_t[plan.water_day :], STEPS_PER_DAY)
    extra = sim.drivers.ore_t[steps] * water_per_t * (1 - 1 / WATER_PER_T_FACTOR)
    out = sim.flows[steps, col[PLANT_OUT]]
    pct = round((WATER_PER_T_FACTOR - 1) * 100)
    for flow_id, volume in ((PLANT_FEED, feed), (PLANT_OUT, out)):
        ratio = round(float(volume.sum() / (volume - extra).sum()), 3)
        records.append(
            flow(
                flow_id,
                "level_shift",
                plan.water_day,
                last,
                ratio,
                "operational",
                f"plant water per tonne of ore +{pct} % from this day (a new ore type); "
                f"the plant feed and its discharge to the TSF carry it",
            )
        )
    records.append(
        flow(
            SUPPLY_FLOW,
            "level_shift",
            plan.supply_day,
            last,
            SUPPLY_FACTOR,
            "operational",
            f"third-party supply cut to x{SUPPLY_FACTOR:g} from this day (a new supply "
            "agreement); the raw water transfer makes up the difference",
        )
    )
    meter = sim.site.meter(DRIFT_METER)
    drift_end = plan.drift_day + DRIFT_DAYS - 1
    records.append(
        flow(
            meter.flow or "",
            "drift",
            plan.drift_day,
            drift_end,
            round(1 + DRIFT_TO, 3),
            "sensor",
            f"flow meter {DRIFT_METER} reads high, ramping linearly to +{DRIFT_TO:.0%} over "
            f"{DRIFT_DAYS} days, then recalibrated; the true flow is unchanged",
        )
    )
    return sorted(records, key=lambda a: (a.first_day, a.series_id))
