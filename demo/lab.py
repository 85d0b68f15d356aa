"""The demo mine's water quality: sample points, licence limits, lab files and their ground truth;
and, under ``--faults``, a pit sump overflow.

Lab files (``demo_mine`` only), in ``landing/``:

- ``lab_edd_<YYYYMM>-<YYYYMM>.csv`` (layout ``lab_edd``, lab_csv): the discharge point SP-DIS
  (flow ``rwd_to_discharge``) sampled on the 15th of each month at 09:30 local by the contract
  lab - TDS, pH, EC, sulfate, copper (ug/L), turbidity - values from the simulated TDS, pH and
  conductivity at that instant with lab noise. Copper below 2 ug/L is reported ``<`` 2.
- ``field_results_<YYYYMM>-<YYYYMM>.xlsx`` (layout ``field_results``, lab_excel): the pit
  dewatering monitoring point SP-PIT sampled on the 16th at 10:00 by the field team - pH, EC
  (mS/cm) and TDS.

Recorded in the data (each only when its month is in the period; month 0 is the first):
month 0 copper ``<2`` (below detection, within its limit); month 1 copper 34 ug/L (limit 20);
month 2 copper ``<50`` (detection limit above the limit: indeterminate, not an exceedance) and
turbidity 85 NTU (limit 50); month 3 sulfate 640 and, on the 28th, 590 mg/L (monthly mean 615,
limit 600). ``lab_exceedances.csv`` in the ground truth lists the exceedances.

Overflow (``--faults``, ``demo_mine``, periods of at least 60 days): 80 % of the way through the
period the pit's groundwater inflow surges (a wall failure) for a few days, more than the pit
pump can take: the sump closes above its capacity on about two days, its level up to ~0.35 m
over the rim (inside the level transmitter's range). The simulation carries it (real water);
``incidents.csv`` in the ground truth lists the overflow episodes of every store.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from openpyxl import Workbook

from demo.drivers import STEPS_PER_DAY, stream
from siteledger.site.water_quality import (
    LabLayout,
    LicenceLimit,
    SamplePoint,
    WaterQualitySettings,
)

if TYPE_CHECKING:
    from demo.anomalies import AnomalyPlan
    from demo.simulate import DemoSimulation
    from siteledger.site.models import SiteConfig

DISCHARGE_POINT = "SP-DIS"
PIT_POINT = "SP-PIT"
LAB = "Perth Analytical Laboratories"
FIELD = "Site environmental team"
EDD_HEADER = ("sample_point", "sampled_at", "parameter", "value", "unit", "qualifier", "lab")
EDD_HEADER += ("method", "sample_id")
FIELD_HEADER = ("Point", "Sampled", "Analyte", "Result", "Units", "Method", "Sample ID")
LIMITS = (
    LicenceLimit(id="L-TDS", sample_point=DISCHARGE_POINT, parameter="tds", max=1500),
    LicenceLimit(id="L-PH", sample_point=DISCHARGE_POINT, parameter="ph", min=6.5, max=8.5),
    LicenceLimit(id="L-CU", sample_point=DISCHARGE_POINT, parameter="cu", max=20, unit="ug/L"),
    LicenceLimit(id="L-TURB", sample_point=DISCHARGE_POINT, parameter="turbidity", max=50),
    LicenceLimit(
        id="L-SO4-MEAN",
        sample_point=DISCHARGE_POINT,
        parameter="so4",
        max=600,
        basis="monthly_mean",
    ),
)
LICENCE = "L8123/2019 (demo)"
OVERFLOW_FRACTION = 0.8
OVERFLOW_MIN_DAYS = 60
OVERFLOW_PEAK_EXCESS_M3 = 1500.0
OVERFLOW_RISE_M3_PER_DAY = 1200.0
PIT = "pit_sump"
PIT_PUMP_M3_PER_DAY = 200.0 * 24


def demo_water_quality() -> WaterQualitySettings:
    """``demo_mine``'s water quality settings (no treatment step: a monitoring point instead)."""
    limits = [
        lim.model_copy(update={"reference": f"{LICENCE} cond. {i + 1}"})
        for i, lim in enumerate(LIMITS)
    ]
    return WaterQualitySettings(
        sample_points=[
            SamplePoint(
                id=DISCHARGE_POINT,
                name="Creek discharge sampling tap",
                flow="rwd_to_discharge",
                role="discharge",
            ),
            SamplePoint(
                id=PIT_POINT, name="Pit dewatering line", flow="pit_to_rwd", role="monitoring"
            ),
        ],
        limits=limits,
        lab_layouts=[
            LabLayout(id="lab_edd", format="lab_csv", pattern="lab_edd_*.csv"),
            LabLayout(
                id="field_results",
                format="lab_excel",
                pattern="field_results_*.xlsx",
                sheet="Field",
                header_row=2,
                timestamp_column="Sampled",
                sample_point_column="Point",
                parameter_column="Analyte",
                value_column="Result",
                unit_column="Units",
                qualifier_column="",
                lab_column="",
                method_column="Method",
                sample_id_column="Sample ID",
            ),
        ],
    )


@dataclass(frozen=True)
class _Sample:
    point: str
    at: datetime  # naive local
    parameter: str
    value: str
    unit: str
    qualifier: str = ""


def _step(sim: DemoSimulation, moment: datetime) -> int | None:
    day = moment.date()
    if day not in sim.dates:
        return None
    minutes = moment.hour * 60 + moment.minute
    return sim.dates.index(day) * STEPS_PER_DAY + minutes // 15


def _months(sim: DemoSimulation) -> list[date]:
    first, last = sim.dates[0], sim.dates[-1]
    months, month = [], date(first.year, first.month, 1)
    while month <= last:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def _discharge_samples(sim: DemoSimulation) -> list[_Sample]:
    rng = stream(sim.seed, "lab_discharge")
    drivers = sim.drivers
    samples: list[_Sample] = []
    for k, month in enumerate(_months(sim)):
        # every month draws the same numbers whether or not it is in the period
        noise = rng.normal(0.0, 1.0, 6)
        at = datetime(month.year, month.month, 15, 9, 30)
        step = _step(sim, at)
        if step is None:
            continue
        tds = float(drivers.tds[step]) * (1 + 0.02 * noise[0])
        ph = float(drivers.ph[step]) + 0.05 * noise[1]
        ec = float(drivers.conductivity[step]) * (1 + 0.02 * noise[2])
        so4 = 0.3 * tds * (1 + 0.05 * noise[3])
        cu = min(15.0, 4.0 * math.exp(0.4 * noise[4]))
        turbidity = min(20.0, 6.0 * math.exp(0.4 * noise[5]))
        row = {
            "TDS": (f"{tds:.0f}", "mg/L", ""),
            "pH": (f"{ph:.2f}", "pH units", ""),
            "EC": (f"{ec:.0f}", "µS/cm", ""),
            "Sulfate": (f"{so4:.0f}", "mg/L", ""),
            "Copper": (f"{cu:.1f}", "µg/L", "") if cu >= 2 else ("2", "µg/L", "<"),
            "Turbidity": (f"{turbidity:.1f}", "NTU", ""),
        }
        if k == 0:
            row["Copper"] = ("2", "µg/L", "<")
        elif k == 1:
            row["Copper"] = ("34.0", "µg/L", "")
        elif k == 2:
            row["Copper"] = ("<50", "µg/L", "")
            row["Turbidity"] = ("85.0", "NTU", "")
        elif k == 3:
            row["Sulfate"] = ("640", "mg/L", "")
        samples += [_Sample(DISCHARGE_POINT, at, p, v, u, q) for p, (v, u, q) in row.items()]
        again = datetime(month.year, month.month, 28, 9, 30)
        if k == 3 and _step(sim, again) is not None:
            samples.append(_Sample(DISCHARGE_POINT, again, "Sulfate", "590", "mg/L"))
    return samples


def _pit_samples(sim: DemoSimulation) -> list[_Sample]:
    rng = stream(sim.seed, "lab_pit")
    samples: list[_Sample] = []
    for month in _months(sim):
        noise = rng.normal(0.0, 1.0, 2)
        at = datetime(month.year, month.month, 16, 10, 0)
        if _step(sim, at) is None:
            continue
        tds = 2400.0 + 150.0 * noise[0]
        samples += [
            _Sample(PIT_POINT, at, "pH", f"{7.3 + 0.15 * noise[1]:.2f}", "pH"),
            _Sample(PIT_POINT, at, "EC", f"{tds / 0.65 / 1000:.2f}", "mS/cm"),
            _Sample(PIT_POINT, at, "TDS", f"{tds:.0f}", "mg/L"),
        ]
    return samples


def _sample_id(sample: _Sample) -> str:
    return f"{sample.point}-{sample.at:%Y%m%d%H%M}"


def _edd_bytes(samples: list[_Sample]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EDD_HEADER)
    for s in samples:
        method = {"TDS": "APHA 2540C", "pH": "APHA 4500-H+", "EC": "APHA 2510B"}.get(
            s.parameter, "APHA 3125 (ICP-MS)" if s.parameter == "Copper" else "APHA"
        )
        writer.writerow(
            [
                s.point,
                s.at.isoformat(sep=" ", timespec="minutes"),
                s.parameter,
                s.value,
                s.unit,
                s.qualifier,
                LAB,
                method,
                _sample_id(s),
            ]
        )
    return out.getvalue().encode("utf-8")


def _field_bytes(samples: list[_Sample], stamp: datetime) -> bytes:
    from demo.write import _reproducible_xlsx

    book = Workbook()
    sheet = book.active
    sheet.title = "Field"
    sheet.append([f"{FIELD} - field water quality results"])
    sheet.append(list(FIELD_HEADER))
    for s in samples:
        sheet.append(
            [s.point, s.at, s.parameter, float(s.value), s.unit, "field meter", _sample_id(s)]
        )
        sheet.cell(sheet.max_row, 2).number_format = "dd/mm/yyyy hh:mm"
    book.properties.creator = "siteledger demo"
    book.properties.created = stamp
    return _reproducible_xlsx(book, stamp)


def write_lab_drops(landing: Path, sim: DemoSimulation, truth_dir: Path) -> list[Path]:
    """The demo mine's lab files (those with a sample in the period) and
    ``lab_exceedances.csv``; returns the files written into ``landing``."""
    period = f"{sim.dates[0]:%Y%m}-{sim.dates[-1]:%Y%m}"
    files = []
    discharge = _discharge_samples(sim)
    if discharge:
        files.append(landing / f"lab_edd_{period}.csv")
        files[-1].write_bytes(_edd_bytes(discharge))
    pit = _pit_samples(sim)
    if pit:
        files.append(landing / f"field_results_{period}.xlsx")
        stamp = datetime.combine(sim.dates[-1], datetime.min.time())
        files[-1].write_bytes(_field_bytes(pit, stamp))
    exceedances(discharge).to_csv(
        truth_dir / "lab_exceedances.csv", index=False, lineterminator="\n"
    )
    return files


def exceedances(samples: list[_Sample]) -> pd.DataFrame:
    """The licence exceedances in ``samples`` (limit_id, sample_point_id, parameter_id, period,
    value, limit), every sample compared with every limit by the documented rule: a ``<`` result
    lies between 0 and its detection limit, and an indeterminate comparison is no exceedance."""
    ids = {"TDS": "tds", "pH": "ph", "EC": "ec", "Sulfate": "so4", "Copper": "cu"}
    ids["Turbidity"] = "turbidity"
    rows = []
    for limit in LIMITS:
        mine = [s for s in samples if ids[s.parameter] == limit.parameter]
        groups: dict[tuple[date, date], list[_Sample]] = {}
        for s in mine:
            if limit.basis == "monthly_mean":
                start = date(s.at.year, s.at.month, 1)
                end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
                key = (start, end - timedelta(days=1))
            else:
                key = (s.at.date(), s.at.date())
            groups.setdefault(key, []).append(s)
        for (start, end), group in sorted(groups.items()):
            values = [float(s.value.lstrip("<")) for s in group]
            below = [s.qualifier == "<" or s.value.startswith("<") for s in group]
            high = sum(values) / len(values)
            low = sum(0.0 if b else v for v, b in zip(values, below, strict=True)) / len(values)
            above = limit.max is not None and low > limit.max
            under = limit.min is not None and high < limit.min
            if above or under:
                rows.append(
                    {
                        "limit_id": limit.id,
                        "sample_point_id": limit.sample_point,
                        "parameter_id": limit.parameter,
                        "basis": limit.basis,
                        "period_start": start.isoformat(),
                        "period_end": end.isoformat(),
                        "value": round(high, 6),
                        "unit": limit.unit or ("NTU" if limit.parameter == "turbidity" else "mg/L"),
                        "limit_max": limit.max,
                        "limit_min": limit.min,
                    }
                )
    return pd.DataFrame(
        rows,
        columns=[
            "limit_id",
            "sample_point_id",
            "parameter_id",
            "basis",
            "period_start",
            "period_end",
            "value",
            "unit",
            "limit_max",
            "limit_min",
        ],
    )


# -- the pit sump overflow -------------------------------------------------------------------
@dataclass(frozen=True)
class OverflowPlan:
    """A surge of the pit's groundwater inflow: ``extra_m3_per_day`` on top of the usual inflow
    for ``n_days`` local days from ``day``."""

    day: int
    n_days: int
    extra_m3_per_day: float

    def change_flows(self, flows: np.ndarray, col: dict[str, int]) -> None:
        steps = slice(self.day * STEPS_PER_DAY, (self.day + self.n_days) * STEPS_PER_DAY)
        flows[steps, col["pit_inflow"]] += self.extra_m3_per_day / STEPS_PER_DAY


def plan_overflow(
    site: SiteConfig, start: date, days: int, seed: int, anomalies: AnomalyPlan | None
) -> OverflowPlan | None:
    """The overflow of a ``demo_mine`` period of at least 60 days, else None.

    The surge is sized on the pit alone, replaying the pit pump's rule (on above 45 % of
    capacity, off below 20 %, 200 m3/h) over the flows of a run without it, so that the sump
    peaks :data:`OVERFLOW_PEAK_EXCESS_M3` above capacity after rising about
    :data:`OVERFLOW_RISE_M3_PER_DAY` a day.
    """
    from demo.faults import fault_day
    from demo.simulate import simulate
    from demo.site import SITE_ID

    if site.site.id != SITE_ID or days < OVERFLOW_MIN_DAYS:
        return None
    base = simulate(site, start=start, days=days, seed=seed, anomalies=anomalies)
    day = fault_day(days, OVERFLOW_FRACTION)
    capacity = float(site.node(PIT).capacity_m3 or 0.0)
    pit = base.store_ids.index(PIT)
    opening = float(base.storage[day * STEPS_PER_DAY, pit])
    climb = capacity + OVERFLOW_PEAK_EXCESS_M3 - opening
    n_days = max(2, min(days - day - 2, math.ceil(climb / OVERFLOW_RISE_M3_PER_DAY)))
    low, high = 0.0, 40_000.0
    for _ in range(40):
        extra = (low + high) / 2
        if _pit_peak(base, site, day, n_days, extra) > capacity + OVERFLOW_PEAK_EXCESS_M3:
            high = extra
        else:
            low = extra
    return OverflowPlan(day, n_days, round(low, 1))


def _pit_peak(base: DemoSimulation, site: SiteConfig, day: int, n_days: int, extra: float) -> float:
    """Highest pit storage over the surge and the week after, by the pit pump's rule."""
    flows = {f.id: f for f in site.flows}
    col = {f: i for i, f in enumerate(base.flow_ids)}
    into = [col[f] for f, flow in flows.items() if flow.to_node == PIT]
    out = [col[f] for f, flow in flows.items() if flow.from_node == PIT and f != "pit_to_rwd"]
    first = day * STEPS_PER_DAY
    last = min(base.flows.shape[0], (day + n_days + 7) * STEPS_PER_DAY)
    exo = base.flows[first:last, into].sum(axis=1) - base.flows[first:last, out].sum(axis=1)
    exo[: n_days * STEPS_PER_DAY] += extra / STEPS_PER_DAY
    capacity = float(site.node(PIT).capacity_m3 or 1.0)
    duty = PIT_PUMP_M3_PER_DAY / STEPS_PER_DAY
    storage = float(base.storage[first, base.store_ids.index(PIT)])
    pump_on = bool(base.flows[first - 1, col["pit_to_rwd"]] > 0) if first else False
    peak = storage
    for e in exo.tolist():
        fill = storage / capacity
        pump_on = fill > 0.45 or (pump_on and fill >= 0.20)
        pumped = min(duty, storage + e) if pump_on else 0.0
        storage += e - pumped
        peak = max(peak, storage)
    return peak


def overflow_episodes(sim: DemoSimulation) -> pd.DataFrame:
    """Every run of days a store closes above its capacity, from the simulation's storage."""
    capacity = {n.id: n.capacity_m3 for n in sim.site.nodes if n.capacity_m3}
    daily = sim.storage_daily
    rows = []
    for node_id, frame in daily.groupby("node_id", sort=True):
        over = frame[frame["closing_m3"] > capacity[str(node_id)]]
        run: list[tuple[date, float]] = []
        for day, closing in zip(over["day"], over["closing_m3"], strict=True):
            if run and day - run[-1][0] != timedelta(days=1):
                rows.append(_episode(str(node_id), run, capacity[str(node_id)]))
                run = []
            run.append((day, float(closing)))
        if run:
            rows.append(_episode(str(node_id), run, capacity[str(node_id)]))
    columns = ["incident_type", "node_id", "started_day", "ended_day", "peak_excess_m3"]
    return pd.DataFrame(rows, columns=[*columns, "detection_rule"])


def _episode(node_id: str, run: list[tuple[date, float]], capacity: float) -> dict[str, object]:
    return {
        "incident_type": "overflow",
        "node_id": node_id,
        "started_day": run[0][0].isoformat(),
        "ended_day": run[-1][0].isoformat(),
        "peak_excess_m3": round(max(c for _, c in run) - capacity, 3),
        "detection_rule": "store_above_capacity",
    }


def write_incident_truth(sim: DemoSimulation, truth_dir: Path) -> Path:
    """``incidents.csv``: the incidents the data of the demo shows (overflow episodes)."""
    path = truth_dir / "incidents.csv"
    overflow_episodes(sim).to_csv(path, index=False, lineterminator="\n")
    return path
