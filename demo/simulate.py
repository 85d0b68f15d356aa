"""Water physics of the demo mine at 15-minute resolution, and the readings its meters give.

The truth is a volume per flow per 15-minute interval and a storage per store per instant, with
``storage[k+1] = storage[k] + inflows[k] - outflows[k]`` exactly. Flows that the site estimates
follow the site's estimation rules to the letter, on the same inputs the meters report, so a
correct implementation of the rules on noise-free readings gives back the truth (except where
injected anomalies say otherwise, :mod:`demo.anomalies`):

- rain on a store or catchment in an interval = tipping-bucket mm / 1000 x area x runoff
  coefficient (also where a flume gauges the catchment's runoff: it measures that volume);
- evaporation of a store on a local day = pan mm of that day / 1000 x surface area x pan factor,
  spread over the day's intervals on a diurnal profile;
- TSF seepage on a day = opening storage x rate % per month / 100 / days in the month, spread
  evenly; the opening storage is the one the level sensor gives (level rounded to 0.1 mm, then
  through the curve), i.e. what the balance will see, not the unrounded state;
- entrainment = plant-to-TSF water x (1 - return %) x retention %;
- ore (and concentrate) moisture = weightometer tonnes x moisture % / 100 / water density;
- dust suppression = weightometer tonnes x m3 per tonne;
- fixed rate = m3 per day / 96 in every interval.

Reading semantics (timestamps are UTC instants; days are local days of the site's time zone):

- flow rate, rain gauge, weightometer and pump power readings stamped t describe [t, t+15 min);
- totalisers and energy registers stamped t hold the count at instant t, rounded to 0.1, and
  wrap to ``value - rollover`` when they reach the rollover;
- levels stamped t are the level at instant t, by the inverse stage-storage curve, to 0.1 mm;
- manual daily rain, pan evaporation and ore moisture are stamped at 00:00 local of day D and
  mean "during local day D" (not the 09:00-to-09:00 convention); dip boards are read at 08:00.

Instant readings exist for the ``days * 96 + 1`` instants from the first midnight to the last,
so the closing storage of the last day is observable; interval readings for the ``days * 96``
intervals.
"""

from __future__ import annotations

import calendar
import itertools
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from demo import carbon as demo_carbon
from demo.air import AIR_MEASURANDS, DUST_FLOW, air_signal
from demo.drivers import (
    HIGHVELD_CLIMATE,
    PERTH_CLIMATE,
    STEPS_PER_DAY,
    Drivers,
    calendar_draws,
    make_drivers,
    stream,
)
from demo.energy import station_meter_ids
from demo.site import (
    BORE_FLOW_RE,
    BOREFIELD_CAPACITY_M3_PER_H,
    CATCHMENT_AREA_M2,
    CATCHMENT_RUNOFF,
    HIGHVELD_SITE_ID,
    PIT,
    PUMP_MAX_M3_PER_H,
    PWD,
    RET,
    RUNOFF_FLOW,
    RWD,
    SITE_ID,
    STORES,
    TSF,
    gauged_volume,
    store_curve,
)
from siteledger.site.curves import volume_to_level
from siteledger.site.models import EstimationRule, Meter, SiteConfig
from siteledger.units import MEASURANDS, conversion_factor

if TYPE_CHECKING:
    from demo.anomalies import AnomalyPlan
    from demo.lab import OverflowPlan

STEP_HOURS = 0.25
FLOW_RATE_NOISE = 0.001  # 0.1 % standard deviation of a flow transmitter
POWER_NOISE = 0.002
DIP_HOUR = 8
# Specific energy of the main pumps (kWh per m3): lift and pipeline length of each duty.
PUMP_KWH_PER_M3 = {
    "river_to_rwd": 0.45,
    "rwd_to_pwd": 0.28,
    "pwd_to_plant": 0.15,
    "tsf_to_retwd": 0.55,
    "pit_to_rwd": 0.95,
    "rwd_to_discharge": 0.2,
}
RIVER_LICENCE_M3_PER_DAY = 6000.0
THIRD_PARTY_M3_PER_H = 25.0
PLANT_STANDING_M3_PER_H = 20.0  # gland seal and reagent water, also when the mill is down
INITIAL_FILL = {RWD: 0.62, PWD: 0.6, RET: 0.35, TSF: 0.4, PIT: 0.3}
WEATHER = {
    "temperature": "temperature",
    "humidity": "humidity",
    "wind_speed": "wind",
    "pm10": "pm10",
    "tds": "tds",
    "ph": "ph",
    "conductivity": "conductivity",
}
CONTROLLED = (
    "river_to_rwd",
    "rwd_to_pwd",
    "retwd_to_pwd",
    "tsf_to_retwd",
    "pit_to_rwd",
    "rwd_to_discharge",
    "tsf_seepage",
)


@dataclass
class DemoSimulation:
    """One simulated period of the demo mine: truth and meter readings.

    ``flows`` is m3 per flow (columns, ``flow_ids``) per 15-minute interval starting at
    ``ts_utc[k]``; ``storage`` is m3 per store (``store_ids``) at each of the ``len(ts_utc)``
    instants. ``grid_readings`` holds each 15-minute meter's readings on ``ts_utc`` (NaN where
    there is none); ``manual_readings`` the daily manual ones.
    """

    site: SiteConfig
    start: date
    days: int
    seed: int
    ts_utc: pd.DatetimeIndex
    flow_ids: list[str]
    flows: np.ndarray
    store_ids: list[str]
    storage: np.ndarray
    drivers: Drivers
    grid_readings: dict[str, np.ndarray]
    manual_readings: pd.DataFrame
    # the stores and pump controls at each local midnight (days + 1), one path each
    control_states: list[ControlState] = field(default_factory=list)

    @property
    def dates(self) -> list[date]:
        return self.drivers.dates

    @property
    def flows_15min(self) -> pd.DataFrame:
        """m3 per interval; index = interval start (UTC), one column per flow."""
        return pd.DataFrame(self.flows, index=self.ts_utc[:-1], columns=self.flow_ids)

    @property
    def storage_15min(self) -> pd.DataFrame:
        """m3 per store at each instant (UTC)."""
        return pd.DataFrame(self.storage, index=self.ts_utc, columns=self.store_ids)

    @cached_property
    def flows_daily(self) -> pd.DataFrame:
        """Volume of every flow on every local day: day, flow_id, volume_m3, method."""
        per_day = self.flows.reshape(self.days, STEPS_PER_DAY, -1).sum(axis=1)
        methods = {f.id: f.method for f in self.site.flows}
        return pd.DataFrame(
            {
                "day": np.repeat(np.array(self.dates, dtype=object), len(self.flow_ids)),
                "flow_id": np.tile(self.flow_ids, self.days),
                "volume_m3": per_day.ravel(),
                "method": np.tile([methods[f] for f in self.flow_ids], self.days),
            }
        )

    @cached_property
    def storage_daily(self) -> pd.DataFrame:
        """Opening (local 00:00) and closing (next 00:00) storage: day, node_id, m3."""
        at_midnight = self.storage[::STEPS_PER_DAY]
        return pd.DataFrame(
            {
                "day": np.repeat(np.array(self.dates, dtype=object), len(self.store_ids)),
                "node_id": np.tile(self.store_ids, self.days),
                "opening_m3": at_midnight[:-1].ravel(),
                "closing_m3": at_midnight[1:].ravel(),
            }
        )

    @cached_property
    def site_daily(self) -> pd.DataFrame:
        """Site balance per day: inputs - outputs - change in storage = closure (0 here)."""
        kinds = {n.id: n.kind for n in self.site.nodes}
        flows = {f.id: f for f in self.site.flows}
        is_input = np.array([kinds[flows[f].from_node] == "source" for f in self.flow_ids])
        is_output = np.array([kinds[flows[f].to_node] == "destination" for f in self.flow_ids])
        per_day = self.flows.reshape(self.days, STEPS_PER_DAY, -1).sum(axis=1)
        at_midnight = self.storage[::STEPS_PER_DAY].sum(axis=1)
        inputs = per_day[:, is_input].sum(axis=1)
        outputs = per_day[:, is_output].sum(axis=1)
        delta = np.diff(at_midnight)
        return pd.DataFrame(
            {
                "day": np.array(self.dates, dtype=object),
                "inputs_m3": inputs,
                "outputs_m3": outputs,
                "delta_storage_m3": delta,
                "closure_m3": inputs - outputs - delta,
            }
        )

    @cached_property
    def readings(self) -> pd.DataFrame:
        """Every reading as a long table: meter_id, ts_utc, value, unit.

        The 15-minute meters' readings come first, by time then meter, then the manual ones.
        """
        meters = self.site.meters
        code = {m.id: i for i, m in enumerate(meters)}
        units = sorted({m.unit for m in meters})
        unit_code = np.array([units.index(m.unit) for m in meters])
        ids = list(self.grid_readings)
        values = np.stack([self.grid_readings[m] for m in ids], axis=1)
        present = ~np.isnan(values)
        step, column = np.nonzero(present)
        manual = self.manual_readings
        codes = np.r_[np.array([code[m] for m in ids])[column], manual["meter_id"].map(code)]
        stamps = self.ts_utc[step].append(pd.DatetimeIndex(manual["ts_utc"]))
        return pd.DataFrame(
            {
                "meter_id": pd.Categorical.from_codes(codes, [m.id for m in meters]),
                "ts_utc": stamps,
                "value": np.r_[values[present], manual["value"].to_numpy()],
                "unit": pd.Categorical.from_codes(unit_code[codes], units),
            }
        )


def local_midnights_utc(tz_name: str, start: date, days: int) -> pd.DatetimeIndex:
    """UTC instants of local midnight for ``days + 1`` days; the demo needs 24-hour days."""
    tz = ZoneInfo(tz_name)
    stamps = [
        datetime.combine(start + timedelta(days=d), time(0), tz).astimezone(UTC)
        for d in range(days + 1)
    ]
    lengths = {b - a for a, b in itertools.pairwise(stamps)}
    if lengths - {timedelta(days=1)}:
        raise ValueError(f"{tz_name} changes its UTC offset in the period; days must be 24 h")
    return pd.DatetimeIndex(stamps)


def site_seed(seed: int, site_id: str) -> int:
    """The seed of one demo site's weather, plant and meters: the run's seed for ``demo_mine``,
    a seed drawn from it and the site id for any other, so each mine has its own weather."""
    if site_id == SITE_ID:
        return seed
    return int(stream(seed, f"site:{site_id}").integers(2**31))


def site_drivers(site: SiteConfig, start: date, days: int, seed: int) -> Drivers:
    """The drivers :func:`simulate` draws for a site (``seed`` is the run's seed)."""
    n_bores = sum(1 for f in site.flows if BORE_FLOW_RE.match(f.id))
    climate = HIGHVELD_CLIMATE if site.site.id == HIGHVELD_SITE_ID else PERTH_CLIMATE
    return make_drivers(
        start, days, site_seed(seed, site.site.id), n_bores, BOREFIELD_CAPACITY_M3_PER_H, climate
    )


def simulate(
    site: SiteConfig,
    start: date = date(2025, 7, 1),
    days: int = 365,
    seed: int = 7,
    anomalies: AnomalyPlan | None = None,
    overflow: OverflowPlan | None = None,
) -> DemoSimulation:
    """Simulate ``days`` local days of a demo site (``build_demo_site`` or
    ``build_highveld_site``); deterministic in the arguments and the site id.

    ``seed`` is the run's seed; the simulation records the site's own (:func:`site_seed`).
    ``anomalies`` (:func:`demo.anomalies.plan_anomalies`) changes the physics: real water.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    seed = site_seed(seed, site.site.id)
    node_ids = {n.id for n in site.nodes}
    # the pit sump is optional (an underground mine has none); the rest of the circuit is not
    required = [s for s in STORES if s != PIT] + ["plant", "dust_suppression"]
    missing = [s for s in required if s not in node_ids]
    if missing:
        raise ValueError(f"not a demo mine site: no nodes {missing}")
    n_steps = days * STEPS_PER_DAY
    midnights = local_midnights_utc(site.site.timezone, start, days)
    ts_utc = pd.date_range(midnights[0], periods=n_steps + 1, freq="15min")

    flow_ids = [f.id for f in site.flows]
    col = {f: i for i, f in enumerate(flow_ids)}
    bore_cols = [i for i, f in enumerate(flow_ids) if BORE_FLOW_RE.match(f)]
    if bore_cols != list(range(len(bore_cols))):
        raise ValueError("bore flows must come first in the site's flow list")
    climate = HIGHVELD_CLIMATE if site.site.id == HIGHVELD_SITE_ID else PERTH_CLIMATE
    drivers = make_drivers(start, days, seed, len(bore_cols), BOREFIELD_CAPACITY_M3_PER_H, climate)
    if anomalies is not None:
        drivers = anomalies.change_drivers(drivers)

    flows = np.zeros((n_steps, len(flow_ids)))
    rules = {r.flow: r for r in site.estimations}
    _fill_plant(site, flows, col, drivers, rules)
    for rule in rules.values():
        if rule.method not in ("seepage", "entrainment"):
            flows[:, col[rule.flow]] = _rule_flow(site, rule, drivers, n_steps)
    if RUNOFF_FLOW not in rules:  # gauged (demo_mine): the flume measures the same runoff
        flows[:, col[RUNOFF_FLOW]] = catchment_runoff(drivers)
    flows[:, col["third_party_to_pwd"]] = np.repeat(
        drivers.third_party_on * THIRD_PARTY_M3_PER_H * STEP_HOURS, STEPS_PER_DAY
    )
    entrainment = rules["tsf_entrainment"]
    flows[:, col["tsf_entrainment"]] = (
        flows[:, col[entrainment.params["source_flow"]]]
        * (1 - entrainment.params["return_pct"] / 100)
        * entrainment.params["retention_pct"]
        / 100
    )

    if anomalies is not None:
        anomalies.change_flows(flows, col)
    if overflow is not None:  # demo.lab: a pit inflow surge that overfills the sump
        overflow.change_flows(flows, col)

    store_ids = [s for s in STORES if s in node_ids]
    incidence = _incidence(site, flow_ids, store_ids)
    storage, states = _run_controls(
        site, flows, col, incidence, store_ids, drivers, rules["tsf_seepage"], seed
    )
    grid, manual = _readings(site, ts_utc, flows, col, storage, store_ids, drivers, seed)
    return DemoSimulation(
        site=site,
        start=start,
        days=days,
        seed=seed,
        ts_utc=ts_utc,
        flow_ids=flow_ids,
        flows=flows,
        store_ids=store_ids,
        storage=storage,
        drivers=drivers,
        grid_readings=grid,
        manual_readings=manual,
        control_states=states,
    )


def _fill_plant(
    site: SiteConfig,
    flows: np.ndarray,
    col: dict[str, int],
    drivers: Drivers,
    rules: dict[str, EstimationRule],
) -> None:
    """Plant water: demand per tonne from the PWD; what is not in concentrate goes to the TSF."""
    water_per_t = np.repeat(drivers.water_per_t, STEPS_PER_DAY)
    feed = drivers.ore_t * water_per_t + PLANT_STANDING_M3_PER_H * STEP_HOURS
    flows[:, col["pwd_to_plant"]] = feed
    n = drivers.ore_t.size
    ore_water = _rule_flow(site, rules["ore_moisture"], drivers, n)
    product_water = _rule_flow(site, rules["product_moisture"], drivers, n)
    # the plant is a task: what goes in comes out in the same interval
    flows[:, col["plant_to_tsf"]] = feed + ore_water - product_water
    flows[:, col["rwd_to_dust"]] = _rule_flow(site, rules["dust_evaporation"], drivers, n)


def _tonnes(meter_id: str, site: SiteConfig, drivers: Drivers) -> np.ndarray:
    node = site.meter(meter_id).node
    if node == "ore":
        return drivers.ore_t
    if node == "product":
        return drivers.concentrate_t
    raise ValueError(f"weightometer {meter_id!r} is on {node!r}; the demo weighs ore or product")


def catchment_runoff(drivers: Drivers) -> np.ndarray:
    """m3 per interval off the raw water dam's cleared catchment: the interval's rain at the
    catchment's runoff coefficient (what the estimation rule computes where the site has no
    flume)."""
    return drivers.rain_mm / 1000 * CATCHMENT_AREA_M2 * CATCHMENT_RUNOFF


def _rule_flow(site: SiteConfig, rule: EstimationRule, drivers: Drivers, n: int) -> np.ndarray:
    """m3 per interval of an estimated flow whose rule does not depend on the site's state."""
    p = rule.params
    if rule.method == "rainfall_runoff":
        area = p["area_m2"] if "area_m2" in p else site.node(p["node"]).surface_area_m2
        return drivers.rain_mm / 1000 * area * p.get("runoff_coefficient", 1.0)
    if rule.method == "pan_evaporation":
        area = p["area_m2"] if "area_m2" in p else site.node(p["node"]).surface_area_m2
        daily = drivers.pan_mm / 1000 * area * p.get("pan_factor", 1.0)
        return np.outer(daily, drivers.evap_profile).ravel()
    if rule.method == "ore_moisture":
        tonnes = _tonnes(p["ore_meter"], site, drivers)
        if "moisture_meter" in p:
            pct = np.repeat(drivers.ore_moisture_pct, STEPS_PER_DAY)
        else:
            pct = np.full(n, float(p["moisture_pct"]))
        return tonnes * pct / 100 / p.get("water_density_t_per_m3", 1.0)
    if rule.method == "dust_suppression":
        return _tonnes(p["ore_meter"], site, drivers) * p["m3_per_t"]
    if rule.method == "fixed_rate":
        return np.full(n, p["m3_per_day"] / STEPS_PER_DAY)
    raise ValueError(f"the demo simulation does not model {rule.method} (flow {rule.flow})")


def _incidence(site: SiteConfig, flow_ids: list[str], store_ids: list[str]) -> np.ndarray:
    """(stores, flows): +1 where a flow enters a store, -1 where it leaves."""
    out = np.zeros((len(store_ids), len(flow_ids)))
    row = {s: i for i, s in enumerate(store_ids)}
    for j, flow_id in enumerate(flow_ids):
        flow = site.flow(flow_id)
        if flow.to_node in row:
            out[row[flow.to_node], j] += 1
        if flow.from_node in row:
            out[row[flow.from_node], j] -= 1
    return out


@dataclass
class ControlState:
    """The stores and the pump controls of ``P`` paths at one instant.

    ``storage`` is (5, P) m3 in ``STORES`` order (an absent pit sump holds 0); the run flags are
    (P,) bool, ``bores_on`` (P, bores). ``river_left`` (the river licence not yet used that day)
    and ``seep`` (the day's TSF seepage per interval) are reset at each local midnight.
    """

    storage: np.ndarray
    bores_on: np.ndarray
    river_on: np.ndarray
    discharge_on: np.ndarray
    r2p_on: np.ndarray
    pit_on: np.ndarray
    tsf_1: np.ndarray
    tsf_2: np.ndarray
    river_left: np.ndarray
    seep: np.ndarray

    FLAGS = ("river_on", "discharge_on", "r2p_on", "pit_on", "tsf_1", "tsf_2")

    @classmethod
    def initial(cls, storage: np.ndarray, n_bores: int) -> ControlState:
        """Every pump off: the state of the first instant of a simulation."""
        n_paths = storage.shape[1]
        off = np.zeros(n_paths, dtype=bool)
        return cls(
            storage=storage.astype("float64"),
            bores_on=np.zeros((n_paths, n_bores), dtype=bool),
            **{flag: off.copy() for flag in cls.FLAGS},
            river_left=np.zeros(n_paths),
            seep=np.zeros(n_paths),
        )

    def take(self, path: int, n_paths: int) -> ControlState:
        """Path ``path`` repeated ``n_paths`` times."""

        def rep(a: np.ndarray) -> np.ndarray:
            return np.repeat(a[..., path : path + 1], n_paths, axis=-1)

        return ControlState(
            storage=rep(self.storage),
            bores_on=np.repeat(self.bores_on[path : path + 1], n_paths, axis=0),
            **{flag: rep(getattr(self, flag)) for flag in self.FLAGS},
            river_left=rep(self.river_left),
            seep=rep(self.seep),
        )


class _Controls:
    """The demo's pump controls and operating rules, stepped over many paths at once.

    Switch points are fractions of capacity. The raw water transfer (variable speed) holds the
    PWD at 60 %, correcting a deviation over about 6 hours. The return water dam pump runs from
    60 % down to 25 %, but not while the PWD is above 80 %. The two TSF return pumps start at
    41 % and 44 % of the decant pond and stop 2 points lower, or when the return dam is full.
    The pit pump runs from 45 % down to 20 %. Bores start one by one as the RWD falls below
    45-65 % and stop 10 points higher; the river pump runs below 40 % (to 50 %) within the day's
    licence; in May-October the RWD discharges to the creek above 72 % (to 68 %).

    Every store and flag is an array over a leading paths axis; the scalar simulation is one path.
    """

    def __init__(
        self, site: SiteConfig, store_ids: list[str], drivers: Drivers, seepage: EstimationRule
    ) -> None:
        self.n_stores = len(store_ids)
        self.cap = {s: float(site.node(s).capacity_m3 or 0.0) for s in store_ids}
        self.seep_curve = store_curve(site, seepage.params["node"])
        self.seep_pct = float(seepage.params["rate_pct_per_month"])
        self.duty = {f: q * STEP_HOURS for f, q in PUMP_MAX_M3_PER_H.items()}
        availability = np.array(drivers.climate.river_availability)
        self.river_cap = RIVER_LICENCE_M3_PER_DAY * availability[drivers.month - 1]
        self.drivers = drivers
        self.wet_season = drivers.wet_season

    def run_day(
        self,
        state: ControlState,
        d: int,
        exo: np.ndarray,
        storage_out: np.ndarray | None = None,
        ctrl_out: np.ndarray | None = None,
        bore_out: np.ndarray | None = None,
    ) -> None:
        """Step ``state`` through local day ``d`` (in place).

        ``exo`` is (5, 96, P): each store's net change per interval from the flows that are
        already known (``STORES`` order; zeros for an absent pit sump). Optional outputs, filled
        per interval of the day: ``storage_out`` (96, P, stores) at the start of each interval,
        ``ctrl_out`` (96, P, len(CONTROLLED)) and ``bore_out`` (96, P, bores).
        """
        drivers, duty = self.drivers, self.duty
        # constants as 0-d arrays: numpy combines those with small arrays fastest
        c_rwd, c_pwd, c_ret, c_tsf, c_pit = (_k(self.cap.get(s, 1.0)) for s in STORES)
        pwd_r2p_max, pwd_target = _k(0.80 * c_pwd), _k(0.60 * c_pwd)
        ret_max = _k(0.90 * c_ret)
        d_pit, d_r2p = _k(duty["pit_to_rwd"]), _k(duty["retwd_to_pwd"])
        d_ret, d_trf = _k(duty["tsf_to_retwd"] / 2), _k(duty["rwd_to_pwd"])
        d_river, d_dis = _k(duty["river_to_rwd"]), _k(duty["rwd_to_discharge"])
        zero, one, hours = _k(0.0), _k(1.0), _k(24)
        k45, k20, k60, k25 = _k(0.45), _k(0.20), _k(0.60), _k(0.25)
        k41, k39, k44, k42 = _k(0.41), _k(0.39), _k(0.44), _k(0.42)
        k50, k72, k68 = _k(0.50), _k(0.72), _k(0.68)
        start_at = drivers.bore_start_fraction
        stop_at = start_at + 0.10
        s_rwd, s_pwd, s_ret, s_tsf, s_pit = state.storage
        river_on, discharge_on, r2p_on = state.river_on, state.discharge_on, state.r2p_on
        pit_on, tsf_1, tsf_2, bores_on = state.pit_on, state.tsf_1, state.tsf_2, state.bores_on

        day = drivers.dates[d]
        opening = gauged_volume(self.seep_curve, s_tsf)
        seep = opening * self.seep_pct / 100 / _days_in_month(day) / STEPS_PER_DAY
        river_left = np.full(s_rwd.shape, float(self.river_cap[d]))
        bore_step = drivers.bore_rate_m3_per_h[d] * STEP_HOURS
        available = drivers.bore_available[d]
        is_wet = bool(self.wet_season[d])
        if not is_wet:
            discharge_on = np.zeros_like(discharge_on)
            discharge = zero * discharge_on
        for j in range(STEPS_PER_DAY):
            e_rwd, e_pwd, e_ret, e_tsf, e_pit = exo[:, j]
            if storage_out is not None:
                # the pit sump is last in STORES, so a site without one records the first four
                row = storage_out[j]
                row[:, 0], row[:, 1], row[:, 2], row[:, 3] = s_rwd, s_pwd, s_ret, s_tsf
                if self.n_stores > 4:
                    row[:, 4] = s_pit
            pit_on = _hysteresis(pit_on, s_pit / c_pit, k45, k20)
            pit = np.where(pit_on, np.minimum(d_pit, s_pit + e_pit), zero)

            r2p_on = _hysteresis(r2p_on, s_ret / c_ret, k60, k25) & (s_pwd < pwd_r2p_max)
            r2p = d_r2p * r2p_on
            tsf_fill = s_tsf / c_tsf
            tsf_1 = _hysteresis(tsf_1, tsf_fill, k41, k39)
            tsf_2 = _hysteresis(tsf_2, tsf_fill, k44, k42)
            ret = d_ret * (tsf_1.astype(np.int64) + tsf_2)
            # never overfill the return water dam: cap at 90 % after this interval
            ret = np.minimum(ret, np.maximum(ret_max - s_ret - e_ret + r2p, zero))

            trf = (pwd_target - s_pwd) / hours - e_pwd - r2p
            trf = np.minimum(np.maximum(trf, zero), d_trf)

            fill = s_rwd / c_rwd
            column = fill[:, None]
            bores_on = ((column < start_at) | (bores_on & (column <= stop_at))) & available
            bore_flow = np.where(bores_on, bore_step, zero)
            river_on = _hysteresis(river_on, one - fill, k60, k50)
            river = np.where(river_on, np.minimum(d_river, river_left), zero)
            river_left = river_left - river
            if is_wet:
                discharge_on = _hysteresis(discharge_on, fill, k72, k68)
                discharge = d_dis * discharge_on

            if ctrl_out is not None:
                row = ctrl_out[j]
                row[:, 0], row[:, 1], row[:, 2], row[:, 3] = river, trf, r2p, ret
                row[:, 4], row[:, 5], row[:, 6] = pit, discharge, seep
            if bore_out is not None:
                bore_out[j] = bore_flow
            s_rwd = s_rwd + (e_rwd + bore_flow.sum(axis=1) + river + pit - trf - discharge)
            s_pwd = s_pwd + (e_pwd + trf + r2p)
            s_ret = s_ret + (e_ret + ret - r2p)
            s_tsf = s_tsf + (e_tsf - ret - seep)
            s_pit = s_pit + (e_pit - pit)
        state.storage = np.stack((s_rwd, s_pwd, s_ret, s_tsf, s_pit))
        state.river_on, state.discharge_on, state.r2p_on = river_on, discharge_on, r2p_on
        state.pit_on, state.tsf_1, state.tsf_2, state.bores_on = pit_on, tsf_1, tsf_2, bores_on
        state.river_left, state.seep = river_left, seep


def _store_rows(exo: np.ndarray, store_ids: list[str]) -> np.ndarray:
    """(stores, ...) in ``store_ids`` order -> (5, ...) in ``STORES`` order, zeros where absent."""
    out = np.zeros((len(STORES), *exo.shape[1:]))
    for i, s in enumerate(STORES):
        if s in store_ids:
            out[i] = exo[store_ids.index(s)]
    return out


def _run_controls(
    site: SiteConfig,
    flows: np.ndarray,
    col: dict[str, int],
    incidence: np.ndarray,
    store_ids: list[str],
    drivers: Drivers,
    seepage: EstimationRule,
    seed: int,
) -> tuple[np.ndarray, list[ControlState]]:
    """Step the stores through time with the site's pump controls (:class:`_Controls`, one
    path); fills the controlled flows. Returns the storage and the control state at each local
    midnight (``days + 1``), from which :func:`demo.physics.simulate_paths` continues."""
    n_steps = flows.shape[0]
    days = n_steps // STEPS_PER_DAY
    controls = _Controls(site, store_ids, drivers, seepage)
    for name in CONTROLLED:
        if name in col:
            flows[:, col[name]] = 0.0
    nb = drivers.bore_rate_m3_per_h.shape[1]
    flows[:, :nb] = 0.0
    # net change each store gets from the flows that are already known; a site without a pit
    # sump runs the same controls on an empty, inflow-free sump whose pump never starts
    exo = _store_rows((flows @ incidence.T).T, store_ids).reshape(
        len(STORES), days, STEPS_PER_DAY, 1
    )

    rng = stream(seed, "initial_storage")
    initial = [
        controls.cap.get(s, 0.0) * INITIAL_FILL[s] * (1 + 0.05 * rng.uniform(-1, 1)) for s in STORES
    ]
    state = ControlState.initial(np.array(initial)[:, None], nb)
    storage = np.empty((n_steps + 1, 1, len(store_ids)))
    ctrl = np.zeros((n_steps, 1, len(CONTROLLED)))
    bores = np.zeros((n_steps, 1, nb))
    states = []
    for d in range(days):
        states.append(replace(state))
        day = slice(d * STEPS_PER_DAY, (d + 1) * STEPS_PER_DAY)
        controls.run_day(state, d, exo[:, d], storage[day], ctrl[day], bores[day])
    states.append(replace(state))
    storage[n_steps] = state.storage[: len(store_ids)].T
    flows[:, :nb] = bores[:, 0]
    for i, name in enumerate(CONTROLLED):
        if name in col:
            flows[:, col[name]] = ctrl[:, 0, i]
    return storage[:, 0], states


def _k(value: float) -> np.ndarray:
    return np.array(value, dtype="float64")


def _hysteresis(
    on: np.ndarray, value: np.ndarray, start_above: np.ndarray, stop_below: np.ndarray
) -> np.ndarray:
    """A pump's run state: starts when ``value`` rises above one point, stops below another."""
    return (value > start_above) | (on & (value >= stop_below))


def _days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def totaliser_readings(
    volumes: np.ndarray, start_value: float, rollover: float | None
) -> np.ndarray:
    """Register values at each instant (len(volumes) + 1) for volumes per interval, to 0.1.

    Counting in whole tenths keeps each reading within 0.05 of the true count, so a day's delta is
    within 0.1 of the true volume, and the wrap is exact.
    """
    tenths = np.rint((start_value + np.r_[0.0, np.cumsum(volumes)]) * 10).astype("int64")
    if rollover is not None:
        tenths %= round(rollover * 10)
    return tenths / 10


def _readings(
    site: SiteConfig,
    ts_utc: pd.DatetimeIndex,
    flows: np.ndarray,
    col: dict[str, int],
    storage: np.ndarray,
    store_ids: list[str],
    drivers: Drivers,
    seed: int,
) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """Every meter's readings derived from the truth: 15-minute grids and daily manual rows."""
    n_steps = flows.shape[0]
    grid: dict[str, np.ndarray] = {}
    manual_rows: list[pd.DataFrame] = []
    bore_kwh = {f: drivers.bore_kwh_per_m3[i] for i, f in enumerate(col) if BORE_FLOW_RE.match(f)}
    station = station_meter_ids()
    for meter in site.meters:
        if meter.id in station:  # the power station's readings: demo.energy
            continue
        rng = stream(seed, f"meter:{meter.id}")
        if meter.measurand == "fuel":
            manual_rows.append(demo_carbon.fuel_readings(meter, ts_utc, flows, col))
            continue
        if meter.interval_seconds == 86400:
            manual_rows.append(_daily_readings(meter, ts_utc, storage, store_ids, drivers, site))
            continue
        values = np.full(n_steps + 1, np.nan)
        if meter.measurand in ("flow_rate", "power", "energy", "totaliser"):
            if meter.flow is None:
                raise ValueError(f"meter {meter.id!r} ({meter.measurand}) needs a flow")
            volume = flows[:, col[meter.flow]]
            kwh_per_m3 = bore_kwh.get(meter.flow) or PUMP_KWH_PER_M3.get(meter.flow, 0.0)
            rate = volume / STEP_HOURS
            if meter.measurand == "flow_rate":
                values[:-1] = rate * (1 + FLOW_RATE_NOISE * _meter_noise(seed, meter, drivers))
            elif meter.measurand == "power":
                values[:-1] = (
                    rate * kwh_per_m3 * (1 + POWER_NOISE * _meter_noise(seed, meter, drivers))
                )
            else:
                counted = volume if meter.measurand == "totaliser" else volume * kwh_per_m3
                top = meter.rollover or 1e7
                start_value = round(float(rng.uniform(0, 0.9 * top)), 1)
                values = totaliser_readings(counted, start_value, meter.rollover)
        elif meter.measurand == "level":
            curve = store_curve(site, _node(meter))
            values = volume_to_level(curve, storage[:, store_ids.index(_node(meter))])
        elif meter.measurand == "rainfall":
            values[:-1] = drivers.rain_mm
        elif meter.measurand == "ore_mass":
            values[:-1] = _tonnes(meter.id, site, drivers)
        elif meter.measurand in AIR_MEASURANDS and site.air_quality.enabled:
            values = air_signal(meter.measurand, drivers, flows[:, col[DUST_FLOW]], seed)
        elif meter.measurand in WEATHER:
            values = getattr(drivers, WEATHER[meter.measurand]).copy()
        else:
            raise ValueError(f"the demo has no signal for {meter.measurand} meter {meter.id!r}")
        canonical = MEASURANDS[meter.measurand].canonical_unit
        if meter.unit != canonical:
            values = values * conversion_factor(canonical, meter.unit)
        grid[meter.id] = np.round(values, _decimals(meter))
    return grid, pd.concat(manual_rows, ignore_index=True)


def _meter_noise(seed: int, meter: Meter, drivers: Drivers) -> np.ndarray:
    """Standard normal noise of a meter per interval, drawn per calendar month."""
    return calendar_draws(
        seed,
        f"meter_noise:{meter.id}",
        drivers.dates[0],
        len(drivers.dates),
        lambda rng, days: rng.standard_normal((len(days), STEPS_PER_DAY)),
    ).ravel()


def _node(meter: Meter) -> str:
    if meter.node is None:
        raise ValueError(f"meter {meter.id!r} ({meter.measurand}) needs a node")
    return meter.node


def _decimals(meter: Meter) -> int:
    """Resolution the instrument reports at."""
    return {"level": 4, "totaliser": 1, "energy": 1, "flow_rate": 3, "power": 2}.get(
        meter.measurand, 2
    )


def _daily_readings(
    meter: Meter,
    ts_utc: pd.DatetimeIndex,
    storage: np.ndarray,
    store_ids: list[str],
    drivers: Drivers,
    site: SiteConfig,
) -> pd.DataFrame:
    """One manual reading per local day: day totals at 00:00 local, dip boards at 08:00."""
    days = len(drivers.dates)
    midnight = np.arange(days) * STEPS_PER_DAY
    if meter.measurand == "rainfall":
        at, values = midnight, np.round(drivers.rain_mm.reshape(days, -1).sum(axis=1), 1)
    elif meter.measurand == "evaporation_pan":
        at, values = midnight, drivers.pan_mm
    elif meter.measurand == "moisture":
        at, values = midnight, drivers.ore_moisture_pct
    elif meter.measurand == "level":
        at = midnight + DIP_HOUR * STEPS_PER_DAY // 24
        curve = store_curve(site, _node(meter))
        values = np.round(volume_to_level(curve, storage[at, store_ids.index(_node(meter))]), 2)
    else:
        raise ValueError(f"the demo has no daily signal for {meter.measurand} ({meter.id!r})")
    return pd.DataFrame(
        {
            "meter_id": meter.id,
            "ts_utc": ts_utc[at],
            "value": values.astype("float64"),
            "unit": meter.unit,
        }
    )
