"""Faults the demo injects into its file drops, and the manifest that says where they are.

Faults change readings and files only; the ground truth stays the truth. Placement is fixed by
the period (never the first or last day), so the same arguments give the same faults. Each
manifest entry names the file and, where the fault is in one line, its 1-based line number
(line 1 is the header); ``start_utc``/``end_utc`` are the first and last affected reading times,
inclusive. ``expected`` is what a correct importer does: ``ingested`` (the rows land in the raw
lake as they are), ``quarantined`` (the row, cell or file is rejected with a reason) or
``not_imported`` (the file is recognised as already imported).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from demo.drivers import STEPS_PER_DAY, stream
from demo.energy import ENERGY_FAULT_KINDS, EnergyFaults, plan_energy_faults
from demo.simulate import DemoSimulation, totaliser_readings
from demo.site import BORE_FLOW_RE, drop_prefix

MIN_DAYS = 5
ERROR_CODE = -9999.0  # what the level transmitters send when the probe fails
KINDS = (
    "gap",
    "stuck",
    "spike",
    "rollover",
    "duplicate_rows",
    "out_of_range",
    "unit_change",
    "malformed_file",
    "corrupt_file",
)

GAP_METER, GAP_FIRST, GAP_STEPS = "FT-120", 40, 24  # raw water transfer, 10:00-16:00 local
# TSF return pump: it runs around the clock and its rate wanders (46-48 distinct values in any
# 12 h), so a frozen reading stands out; its totaliser FQ-151 keeps the flow's volume right. A
# set-point-held level (the process water dam repeats one value for days) would not show a freeze.
STUCK_METER, STUCK_FIRST, STUCK_STEPS = "FT-150", 16, 48  # 04:00-16:00 local
SPIKE_METER, SPIKE_STEP = "FT-130A", 70  # plant feed (never zero), 17:30 local
RANGE_METER, RANGE_STEP = "LT-401", 13  # TSF pond level, 03:15 local
DUPLICATE_FIRST, DUPLICATE_STEPS = 10, 4  # logger rows of 02:30-03:15 local, written twice
SHORT_ROW_STEP, VALUE_ERROR_STEP, BAD_TIME_STEP = 77, 82, 87  # 19:15, 20:30, 21:45 local
VALUE_ERROR_METER = "TT-601"
ROLLOVER_EARLIEST_STEP = 24  # wrap from 06:00 local on
# the power station's faults (demo.energy), planned where the site has one: physics (a genset's
# efficiency, a PV string, a fuel theft) and the Home Assistant export (a reset, unavailable runs)
ENERGY_KINDS = ENERGY_FAULT_KINDS
# the troubles a site's readings always carry in the demo (the second mine's), without --faults
READING_KINDS = frozenset({"gap", "stuck", "spike", "out_of_range"})
NOT_PLANNED = -1  # the day of a fault kind that is not in the plan: matches no day


@dataclass(frozen=True)
class Fault:
    """One injected fault, as written to ``faults.json``.

    An energy fault also names the ``alert`` it must raise and the local day (``alert_day``,
    ISO date; null when it does not fire within the period) on which it first does; the other
    faults leave both out of the manifest.
    """

    kind: str
    meter_id: str | None
    file: str
    start_utc: str | None
    end_utc: str | None
    detail: str
    expected: str
    line: int | None = None
    alert: str | None = None
    alert_day: str | None = None

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        if self.alert is None and self.alert_day is None:
            del out["alert"], out["alert_day"]
        return out


@dataclass(frozen=True)
class FaultPlan:
    """Where each fault goes: local day indexes and 15-minute steps from the first midnight.

    A kind left out of the plan has the day :data:`NOT_PLANNED` (and no rollover meter).
    """

    gap_day: int
    stuck_day: int
    spike_day: int
    range_day: int
    duplicate_day: int
    unit_day: int
    unit_meter: str
    malformed_day: int
    corrupt_day: int
    rollover_meter: str
    rollover_start: float
    rollover_step: int  # instant of the first reading after the wrap
    energy: EnergyFaults | None = None  # the power station's (demo.energy), where planned


def fault_day(days: int, fraction: float) -> int:
    """A day ``fraction`` of the way through the period, never the first or the last."""
    return min(days - 2, max(1, round(fraction * (days - 1))))


def plan_faults(
    sim: DemoSimulation, logger_meters: list[str], kinds: frozenset[str] = frozenset(KINDS)
) -> FaultPlan:
    """Choose the place of each fault of ``kinds`` (default: all) for a simulated period of at
    least ``MIN_DAYS`` days."""
    if sim.days < MIN_DAYS:
        raise ValueError(f"faults need at least {MIN_DAYS} days, got {sim.days}")
    unknown = set(kinds) - set(KINDS) - set(ENERGY_KINDS)
    if unknown:
        raise ValueError(f"unknown fault kinds {sorted(unknown)}")
    meter, start, step = _plan_rollover(sim) if "rollover" in kinds else ("", 0.0, NOT_PLANNED)
    bore_totalisers = [
        m for m in logger_meters if sim.site.meter(m).measurand == "totaliser" and m != meter
    ]
    unit_meter = bore_totalisers[0] if bore_totalisers else meter

    def day(kind: str, fraction: float) -> int:
        return fault_day(sim.days, fraction) if kind in kinds else NOT_PLANNED

    return FaultPlan(
        gap_day=day("gap", 0.25),
        stuck_day=day("stuck", 0.35),
        spike_day=day("spike", 0.45),
        range_day=day("out_of_range", 0.55),
        duplicate_day=day("duplicate_rows", 0.3),
        unit_day=day("unit_change", 0.5),
        unit_meter=unit_meter,
        malformed_day=day("malformed_file", 0.7),
        corrupt_day=day("corrupt_file", 0.4),
        rollover_meter=meter,
        rollover_start=start,
        rollover_step=step,
        energy=plan_energy_faults(sim.days, kinds) if set(kinds) & set(ENERGY_KINDS) else None,
    )


def _plan_rollover(sim: DemoSimulation) -> tuple[str, float, int]:
    """A totaliser start value that makes the register wrap in daytime on a middle day.

    Bore totalisers come first, the busiest bore first; a main-line totaliser is the fallback
    for a period in which no bore runs.
    """
    totalisers = [m for m in sim.site.meters if m.measurand == "totaliser" and m.rollover]
    col = {f: i for i, f in enumerate(sim.flow_ids)}
    volume = {m.id: float(sim.flows[:, col[m.flow or ""]].sum()) for m in totalisers}
    totalisers.sort(key=lambda m: (not BORE_FLOW_RE.match(m.flow or ""), -volume[m.id]))
    first_day = fault_day(sim.days, 0.6)
    day_order = [*range(first_day, sim.days - 1), *range(1, first_day)]
    for meter in totalisers:
        volumes = sim.flows[:, col[meter.flow or ""]]
        for day in day_order:
            first = day * STEPS_PER_DAY
            # up to 23:30, so the first wrapped reading (15 min later) is still on this day
            steps = np.arange(first + ROLLOVER_EARLIEST_STEP, first + STEPS_PER_DAY - 1)
            # 0.5 m3 in the interval keeps the wrap clear of the register's 0.1 m3 rounding
            running = steps[volumes[steps] >= 0.5]
            if running.size:
                j = int(running[0])
                rollover = float(meter.rollover or 0.0)
                before = float(volumes[:j].sum())
                start = round((rollover - before - volumes[j] / 2) % rollover, 1)
                return meter.id, start, j + 1
    raise ValueError("no totaliser counts anything in the period; cannot place a rollover")


def iso_utc(ts: pd.Timestamp | datetime) -> str:
    """``2025-07-01T00:15:00Z``."""
    return pd.Timestamp(ts).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def apply_reading_faults(
    plan: FaultPlan, sim: DemoSimulation, readings: dict[str, np.ndarray]
) -> None:
    """Gap, stuck flow meter, spike, error code and forced rollover, on copies in ``readings``."""

    def edit(meter: str) -> np.ndarray:
        readings[meter] = readings[meter].copy()
        return readings[meter]

    if plan.gap_day != NOT_PLANNED:
        gap = plan.gap_day * STEPS_PER_DAY + GAP_FIRST
        edit(GAP_METER)[gap : gap + GAP_STEPS] = np.nan
    if plan.stuck_day != NOT_PLANNED:
        stuck = plan.stuck_day * STEPS_PER_DAY + STUCK_FIRST
        values = edit(STUCK_METER)
        values[stuck : stuck + STUCK_STEPS] = values[stuck]
    if plan.spike_day != NOT_PLANNED:
        spike = plan.spike_day * STEPS_PER_DAY + SPIKE_STEP
        values = edit(SPIKE_METER)
        values[spike] = round(values[spike] * 10, 3)
    if plan.range_day != NOT_PLANNED:
        edit(RANGE_METER)[plan.range_day * STEPS_PER_DAY + RANGE_STEP] = ERROR_CODE
    if not plan.rollover_meter:
        return
    meter = sim.site.meter(plan.rollover_meter)
    volumes = sim.flows[:, sim.flow_ids.index(meter.flow or "")]
    readings[meter.id] = totaliser_readings(volumes, plan.rollover_start, meter.rollover)


def reading_fault_records(
    plan: FaultPlan, sim: DemoSimulation, readings: dict[str, np.ndarray]
) -> list[Fault]:
    """Manifest entries for the SCADA faults of :func:`apply_reading_faults`.

    The SCADA export has one row per 15-minute instant, so a step's line is its place in the day
    plus 2 (the header is line 1).
    """
    ts = sim.ts_utc
    prefix = drop_prefix(sim.site)

    def scada(kind: str, meter: str, first: int, last: int, detail: str) -> Fault:
        name = scada_file_name(sim.dates[first // STEPS_PER_DAY], prefix)
        line = first % STEPS_PER_DAY + 2
        return Fault(
            kind, meter, name, iso_utc(ts[first]), iso_utc(ts[last]), detail, "ingested", line
        )

    gap = plan.gap_day * STEPS_PER_DAY + GAP_FIRST
    stuck = plan.stuck_day * STEPS_PER_DAY + STUCK_FIRST
    spike = plan.spike_day * STEPS_PER_DAY + SPIKE_STEP
    error = plan.range_day * STEPS_PER_DAY + RANGE_STEP
    records = [
        scada(
            "gap",
            GAP_METER,
            gap,
            gap + GAP_STEPS - 1,
            f"{GAP_STEPS} readings (6 h) missing: empty cells",
        ),
        scada(
            "stuck",
            STUCK_METER,
            stuck,
            stuck + STUCK_STEPS - 1,
            f"flow rate repeats {readings[STUCK_METER][stuck]} m3/h for 12 h "
            f"({STUCK_STEPS} readings)",
        ),
        scada(
            "spike",
            SPIKE_METER,
            spike,
            spike,
            f"one flow-rate reading x10: {readings[SPIKE_METER][spike]} m3/h",
        ),
        scada(
            "out_of_range",
            RANGE_METER,
            error,
            error,
            f"sensor error code {ERROR_CODE:g} instead of a level",
        ),
    ]
    planned = {
        "gap": plan.gap_day,
        "stuck": plan.stuck_day,
        "spike": plan.spike_day,
        "out_of_range": plan.range_day,
    }
    return [r for r in records if planned[r.kind] != NOT_PLANNED]


def rollover_record(
    plan: FaultPlan, sim: DemoSimulation, readings: dict[str, np.ndarray], file: str, line: int
) -> Fault:
    """Manifest entry for the forced totaliser wrap, found at ``line`` of ``file``."""
    wrap = plan.rollover_step
    values = readings[plan.rollover_meter]
    rollover = sim.site.meter(plan.rollover_meter).rollover
    stamp = iso_utc(sim.ts_utc[wrap])
    return Fault(
        "rollover",
        plan.rollover_meter,
        file,
        stamp,
        stamp,
        f"register wraps from {values[wrap - 1]} to {values[wrap]} (rollover {rollover:.0f})",
        "ingested",
        line,
    )


def scada_file_name(day: object, prefix: str = "") -> str:
    return f"{prefix}scada_export_{pd.Timestamp(day).strftime('%Y%m%d')}.csv"


def logger_file_name(day: object, prefix: str = "") -> str:
    return f"{prefix}logger_borefield_{pd.Timestamp(day).strftime('%Y%m%d')}.csv"


def malform_scada_lines(
    plan: FaultPlan, sim: DemoSimulation, lines: list[str], columns: list[str], file: str
) -> list[Fault]:
    """Break three data lines of one SCADA day file in place (``lines[0]`` is the header)."""
    base = plan.malformed_day * STEPS_PER_DAY
    ts = sim.ts_utc
    short, bad_value, bad_time = (s + 1 for s in (SHORT_ROW_STEP, VALUE_ERROR_STEP, BAD_TIME_STEP))
    lines[short] = lines[short].rsplit(",", 1)[0]
    fields = lines[bad_value].split(",")
    fields[columns.index(VALUE_ERROR_METER) + 1] = "#VALUE!"
    lines[bad_value] = ",".join(fields)
    stamp, rest = lines[bad_time].split(",", 1)
    broken = f"31/02/{sim.dates[plan.malformed_day].year} 25:61"
    lines[bad_time] = f"{broken},{rest}"

    def at(step: int) -> str:
        return iso_utc(ts[base + step])

    return [
        Fault(
            "malformed_file",
            None,
            file,
            at(SHORT_ROW_STEP),
            at(SHORT_ROW_STEP),
            f"row has {len(columns)} of {len(columns) + 1} fields (last cell missing)",
            "quarantined",
            short + 1,
        ),
        Fault(
            "malformed_file",
            VALUE_ERROR_METER,
            file,
            at(VALUE_ERROR_STEP),
            at(VALUE_ERROR_STEP),
            "cell holds the spreadsheet error '#VALUE!'",
            "quarantined",
            bad_value + 1,
        ),
        Fault(
            "malformed_file",
            None,
            file,
            at(BAD_TIME_STEP),
            at(BAD_TIME_STEP),
            f"timestamp '{broken}' cannot be parsed (was '{stamp}')",
            "quarantined",
            bad_time + 1,
        ),
    ]


def corrupt_copy(content: bytes, seed: int) -> bytes:
    """A transfer that died: the start of a real file, then NUL padding and random bytes."""
    noise = stream(seed, "corrupt_file").integers(0, 256, 300, dtype=np.uint8).tobytes()
    return content[:700] + b"\x00" * 512 + noise
