"""Write the demo organisation under ``SITELEDGER_HOME``: ``organisation.yaml``, and per site its
site file, file drops and ground truth.

Drops in ``landing/``, in local days of each site's time zone (``demo_mine``: Australia/Perth,
UTC+8; ``demo_highveld``: Africa/Johannesburg, UTC+2, its names prefixed ``highveld_``):

- ``scada_export_YYYYMMDD.csv`` (layout ``scada_export``, csv_wide): ``Timestamp`` as local
  ``dd/mm/YYYY HH:MM``, then one ``<TAG> [<unit>]`` column per SCADA meter, one row per
  15 minutes from 00:00 to 23:45; an empty cell is no reading.
- ``logger_borefield_YYYYMMDD.csv`` (layout ``borefield_logger``, csv_long): ``meter,time_utc,
  value,unit`` with ``time_utc`` like ``2025-06-30T16:00:00Z``, rows by time then meter.
- ``manual_readings_YYYY-MM.xlsx`` (layout ``manual_readings``, excel_long): sheet ``Readings``,
  title in row 1, a note in row 2, header in row 3: ``Date / Time`` (Excel datetimes, local),
  ``Meter``, ``Reading``, ``Unit``, ``Read by``, ``Comment``.

The SCADA and logger files of the day after the period hold only the closing instant (00:00
local), so the closing levels and totaliser counts of the last day are on record.

Ground truth, in the site's local days, in ``demo/ground_truth/`` for ``demo_mine`` and
``demo/ground_truth/<site_id>/`` for the other mines (CSV, and Parquet copies of the daily
tables): ``flows_daily`` (day, flow_id, volume_m3, method), ``storage_daily`` (day, node_id,
opening_m3, closing_m3), ``site_daily`` (day, inputs_m3, outputs_m3, delta_storage_m3,
closure_m3) and ``meters`` (meter_id -> flow_id / node_id, layout, ...); where the site's
readings carry faults, ``faults.json``; with ``faults``, ``demo_mine``'s ``anomalies.json``
(:mod:`demo.anomalies`).

The two workshops, ``demo_soapworks`` and ``demo_coating`` (sites without a water model), drop
their materials records (``soapworks_*`` and ``coating_*`` files, one per kind and month) and
write ``materials.json`` into ``demo/ground_truth/<site_id>/``: :mod:`demo.materials`.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import yaml
from openpyxl import Workbook
from openpyxl.styles import Font

from demo.air import write_air_truth
from demo.anomalies import anomaly_records, apply_drift, plan_anomalies
from demo.carbon import write_carbon_truth
from demo.drivers import STEPS_PER_DAY
from demo.energy import (
    delivery_readings,
    ha_fault_records,
    has_station,
    physics_fault_records,
    simulate_energy,
    station_readings,
    truth_tables,
    write_energy_truth,
    write_ha_files,
    write_logger_files,
)
from demo.faults import (
    DUPLICATE_FIRST,
    DUPLICATE_STEPS,
    ENERGY_KINDS,
    KINDS,
    MIN_DAYS,
    READING_KINDS,
    Fault,
    FaultPlan,
    apply_reading_faults,
    corrupt_copy,
    iso_utc,
    logger_file_name,
    malform_scada_lines,
    plan_faults,
    reading_fault_records,
    rollover_record,
    scada_file_name,
)
from demo.lab import plan_overflow, write_incident_truth, write_lab_drops
from demo.materials import MATERIALS_SITE_IDS
from demo.materials import write_site as write_workshop
from demo.metering import DEFAULT_CUSTOMERS, METERING_SITE_IDS
from demo.metering import site_text as metering_site_text
from demo.metering import write_site as write_utility
from demo.simulate import DemoSimulation, simulate
from demo.site import (
    HIGHVELD_FILE_PREFIX,
    LOGGER_LAYOUT,
    MANUAL_LAYOUT,
    ORGANISATION_ID,
    ORGANISATION_NAME,
    REGIONS,
    SCADA_LAYOUT,
    SITE_ID,
    SITE_IDS,
    build_demo_sites,
    drop_prefix,
    meter_layout,
)
from siteledger.settings import Settings
from siteledger.site.loader import dump_site
from siteledger.site.models import Meter, SiteConfig

SCADA_TIME_FORMAT = "%d/%m/%Y %H:%M"
LOGGER_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
LOGGER_HEADER = b"meter,time_utc,value,unit\n"
MANUAL_HEADER = ("Date / Time", "Meter", "Reading", "Unit", "Read by", "Comment")
# Names of every file this module writes into landing/, so a rerun replaces its own drops only.
DROP_NAME = re.compile(
    rf"^({HIGHVELD_FILE_PREFIX})?"
    r"(scada_export_\d{8}(_partial)?\.csv|logger_borefield_\d{8}(_resend)?\.csv"
    r"|manual_readings_\d{4}-\d{2}\.xlsx|power_station_\d{8}\.csv"
    r"|home_assistant_history_\d{4}-\d{2}\.csv"
    r"|lab_edd_\d{6}-\d{6}\.csv|field_results_\d{6}-\d{6}\.xlsx)$"
    r"|^(soapworks|coating)_[a-z_]+_\d{4}-\d{2}\.(csv|xlsx|json)$"
    r"|^waterco_[a-z0-9_-]+\.(csv|xlsx|json)$"
)
OPERATORS = ("K. Nguyen", "S. Patel", "M. O'Brien", "T. Walker")  # 7-day swings in rotation
LAB = "Plant lab"


@dataclass(frozen=True)
class SiteOutput:
    """What :func:`write_demo` wrote for one site.

    ``n_readings`` counts the values in the regular drop files (SCADA cells, logger rows,
    workbook rows), faulty ones included; the re-sent and partial copies are not counted.
    ``n_records`` counts a workshop's materials records (receipts, movements, batches, ...).
    """

    site_id: str
    site_file: Path
    drop_files: list[Path]
    n_readings: int
    n_meters: int
    ground_truth_dir: Path
    ground_truth_files: list[Path]
    faults_manifest: Path | None
    anomalies_manifest: Path | None = None
    n_records: int = 0


@dataclass(frozen=True)
class DemoOutput:
    """What :func:`write_demo` wrote: the organisation file and each site's output.

    ``site_file`` and ``faults_manifest`` are ``demo_mine``'s (the manifest only with
    ``faults``); the other fields add up every site.
    """

    home: Path
    organisation_file: Path
    sites: dict[str, SiteOutput]

    @property
    def site_file(self) -> Path:
        return self.sites[SITE_ID].site_file

    @property
    def site_files(self) -> list[Path]:
        return [out.site_file for out in self.sites.values()]

    @property
    def drop_files(self) -> list[Path]:
        return sorted(path for out in self.sites.values() for path in out.drop_files)

    @property
    def n_readings(self) -> int:
        return sum(out.n_readings for out in self.sites.values())

    @property
    def n_records(self) -> int:
        return sum(out.n_records for out in self.sites.values())

    @property
    def n_meters(self) -> int:
        return sum(out.n_meters for out in self.sites.values())

    @property
    def ground_truth_files(self) -> list[Path]:
        return [path for out in self.sites.values() for path in out.ground_truth_files]

    @property
    def faults_manifest(self) -> Path | None:
        first = self.sites.get(SITE_ID)
        return first.faults_manifest if first else None


def ground_truth_dir(home: Path, site_id: str) -> Path:
    """Where a demo site's ground truth is: ``demo/ground_truth/`` for ``demo_mine`` (where it
    has always been), ``demo/ground_truth/<site_id>/`` for every other site."""
    root = Settings(home=Path(home)).demo_dir / "ground_truth"
    return root if site_id == SITE_ID else root / site_id


def write_demo(
    home: Path,
    days: int = 365,
    start: date = date(2025, 7, 1),
    seed: int = 7,
    faults: bool = False,
    n_bores: int = 6,
    sites: tuple[str, ...] = SITE_IDS,
    customers: int = DEFAULT_CUSTOMERS,
) -> DemoOutput:
    """Generate the demo organisation's ``sites`` for ``days`` local days from ``start``.

    Writes ``organisation.yaml`` (its ``data_start`` is ``start``), one site file per site, the
    file drops into ``landing/`` and each site's ground truth. ``n_bores`` sizes ``demo_mine``;
    ``faults`` injects every recorded fault kind into ``demo_mine``. The other mines always carry
    a gap, a stuck flow meter, a spike and an error code (periods of at least ``MIN_DAYS``
    days), with their own fault manifest. Same arguments, same bytes. Earlier demo drops in
    ``landing/`` are replaced.
    """
    if faults and days < MIN_DAYS:
        raise ValueError(f"faults need at least {MIN_DAYS} days, got {days}")
    unknown = [s for s in sites if s not in SITE_IDS]
    if unknown or not sites:
        raise ValueError(f"demo sites are {list(SITE_IDS)}, got {list(sites)}")
    settings = Settings(home=Path(home))
    for folder in (settings.landing, settings.sites_dir):
        folder.mkdir(parents=True, exist_ok=True)
    for old in settings.landing.iterdir():
        if DROP_NAME.match(old.name):
            old.unlink()
    settings.organisation_file.write_text(_organisation_yaml(start), encoding="utf-8")
    scenarios = settings.home / "scenarios"
    scenarios.mkdir(exist_ok=True)
    (scenarios / "demo.yaml").write_text(DEMO_SCENARIOS, encoding="utf-8")
    outputs = {}
    for site in build_demo_sites(n_bores):
        if site.site.id not in sites:
            continue
        if site.site.id in MATERIALS_SITE_IDS:
            outputs[site.site.id] = _write_workshop(settings, site.site.id, days, start, seed)
            continue
        kinds = frozenset(KINDS) | frozenset(ENERGY_KINDS) if faults else frozenset()
        if site.site.id != SITE_ID and days >= MIN_DAYS:
            kinds = READING_KINDS
        outputs[site.site.id] = _write_site(settings, site, days, start, seed, kinds)
    for site_id in METERING_SITE_IDS:
        if site_id in sites:
            outputs[site_id] = _write_utility(settings, site_id, days, start, seed, customers)
    return DemoOutput(
        home=settings.home, organisation_file=settings.organisation_file, sites=outputs
    )


# what-if scenarios the analytics project beside the base case (docs/analytics.md)
DEMO_SCENARIOS = """\
scenarios:
  - {id: wet_year, name: "Rain +20 %", rain_factor: 1.2}
  - {id: low_evaporation, name: "Evaporation -10 %", evaporation_factor: 0.9}
  - {id: dry_year, name: "Dry year (rain -50 %)", rain_factor: 0.5}
  - id: pit_pump_upgrade
    name: "Pit pump +500 m3/d to the raw water dam"
    sites: [demo_mine]
    pump_m3_per_day: {pit_sump: -500, raw_water_dam: 500}
"""


def _organisation_yaml(start: date) -> str:
    data = {
        "organisation": {
            "id": ORGANISATION_ID,
            "name": ORGANISATION_NAME,
            "financial_year_start_month": 7,
            "data_start": start.isoformat(),
        },
        "regions": [{"id": region, "name": name} for region, name in REGIONS.items()],
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _write_workshop(
    settings: Settings, site_id: str, days: int, start: date, seed: int
) -> SiteOutput:
    """A workshop's site file, record files and ground truth (:mod:`demo.materials`)."""
    truth_dir = ground_truth_dir(settings.home, site_id)
    truth_dir.mkdir(parents=True, exist_ok=True)
    out = write_workshop(settings.landing, truth_dir, site_id, start, days, seed)
    site_file = settings.sites_dir / f"{site_id}.yaml"
    site_file.write_text(dump_site(out.site), encoding="utf-8")
    return SiteOutput(
        site_id=site_id,
        site_file=site_file,
        drop_files=sorted(out.files),
        n_readings=0,
        n_meters=0,
        ground_truth_dir=truth_dir,
        ground_truth_files=[out.truth_file],
        faults_manifest=None,
        n_records=out.n_records,
    )


def _write_utility(
    settings: Settings, site_id: str, days: int, start: date, seed: int, customers: int
) -> SiteOutput:
    """The prepaid water utility's site file, record and bulk-meter files and ground truth
    (:mod:`demo.metering`)."""
    truth_dir = ground_truth_dir(settings.home, site_id)
    truth_dir.mkdir(parents=True, exist_ok=True)
    out = write_utility(settings.landing, truth_dir, customers, start, days, seed)
    site_file = settings.sites_dir / f"{site_id}.yaml"
    site_file.write_text(metering_site_text(start, days), encoding="utf-8")
    return SiteOutput(
        site_id=site_id,
        site_file=site_file,
        drop_files=sorted(out.files),
        n_readings=out.n_readings,
        n_meters=out.n_meters,
        ground_truth_dir=truth_dir,
        ground_truth_files=[out.truth_file] if out.truth_file else [],
        faults_manifest=None,
        n_records=out.n_records,
    )


def _write_site(
    settings: Settings,
    site: SiteConfig,
    days: int,
    start: date,
    seed: int,
    kinds: frozenset[str],
) -> SiteOutput:
    """One site's file, drops, ground truth and (with fault ``kinds``) fault manifest."""
    truth_dir = ground_truth_dir(settings.home, site.site.id)
    truth_dir.mkdir(parents=True, exist_ok=True)
    (truth_dir / "faults.json").unlink(missing_ok=True)
    (truth_dir / "anomalies.json").unlink(missing_ok=True)
    site.site.data_start = start
    site_file = settings.sites_dir / f"{site.site.id}.yaml"
    site_file.write_text(dump_site(site), encoding="utf-8")
    # the analytics' anomalies go with every recorded fault kind (demo_mine under --faults)
    anomalies = site.site.id == SITE_ID and frozenset(KINDS) <= kinds
    anomaly_plan = plan_anomalies(site, start, days, seed) if anomalies else None
    overflow = plan_overflow(site, start, days, seed, anomaly_plan) if anomalies else None
    sim = simulate(
        site, start=start, days=days, seed=seed, anomalies=anomaly_plan, overflow=overflow
    )

    layout_meters = {
        layout: [m for m in site.meters if meter_layout(m) == layout]
        for layout in (SCADA_LAYOUT, LOGGER_LAYOUT, MANUAL_LAYOUT)
    }
    readings = dict(sim.grid_readings)
    records: list[Fault] = []
    plan = None
    if kinds:
        plan = plan_faults(sim, [m.id for m in layout_meters[LOGGER_LAYOUT]], kinds)
        apply_reading_faults(plan, sim, readings)
        records += reading_fault_records(plan, sim, readings)
    if anomaly_plan is not None:
        apply_drift(anomaly_plan, readings)

    landing = settings.landing
    scada_files, n_scada = _write_scada(
        landing, sim, layout_meters[SCADA_LAYOUT], readings, plan, records
    )
    logger_files, n_logger = _write_logger(
        landing, sim, layout_meters[LOGGER_LAYOUT], readings, plan, records
    )
    station = None
    station_files: list[Path] = []
    n_station = 0
    if has_station(site):  # the power station (demo.energy)
        station = simulate_energy(
            start, days, sim.seed, drivers=sim.drivers, faults=plan.energy if plan else None
        )
        station_values = station_readings(station)
        sim.manual_readings = pd.concat(
            [sim.manual_readings, delivery_readings(station)], ignore_index=True
        )
        prefix = drop_prefix(site)
        logger, n_logged = write_logger_files(station, station_values, landing, prefix)
        ha_files, n_ha = write_ha_files(station, station_values, landing, prefix)
        station_files, n_station = logger + ha_files, n_logged + n_ha
        if plan is not None and plan.energy is not None:
            energy_faults = physics_fault_records(station, truth_tables(station), prefix)
            energy_faults += ha_fault_records(station, ha_files)
            records += [Fault(**entry) for entry in energy_faults]  # type: ignore[arg-type]
    manual_files, n_manual = _write_manual(landing, sim)
    manual_files += (
        write_lab_drops(landing, sim, truth_dir) if site.water_quality.lab_layouts else []
    )
    truth_files = _write_truth(sim, truth_dir) + write_carbon_truth(sim, truth_dir, station)
    if station is not None:
        truth_files += write_energy_truth(station, truth_dir)
    truth_files.append(write_incident_truth(sim, truth_dir))

    manifest = None
    if plan is not None:
        manifest = truth_dir / "faults.json"
        ordered = sorted(records, key=lambda f: (f.file, f.start_utc or "", f.kind, f.line or 0))
        text = json.dumps([f.as_dict() for f in ordered], indent=2)
        manifest.write_text(text + "\n", encoding="utf-8")
    anomaly_manifest = None
    if anomalies:
        anomaly_manifest = truth_dir / "anomalies.json"
        entries = anomaly_records(anomaly_plan, sim) if anomaly_plan is not None else []
        text = json.dumps([a.as_dict() for a in entries], indent=2)
        anomaly_manifest.write_text(text + "\n", encoding="utf-8")
    return SiteOutput(
        site_id=site.site.id,
        site_file=site_file,
        drop_files=sorted(scada_files + logger_files + manual_files + station_files),
        n_readings=n_scada + n_logger + n_manual + n_station,
        n_meters=len(site.meters),
        ground_truth_dir=truth_dir,
        ground_truth_files=truth_files,
        faults_manifest=manifest,
        anomalies_manifest=anomaly_manifest,
    )


def _text(values: np.ndarray) -> pa.Array:
    """Readings as short decimal text ('.' separator); NaN becomes an empty string."""
    cast = pc.cast(pa.array(values, from_pandas=True), pa.string())
    return pc.fill_null(cast, "")


def _day_steps(sim: DemoSimulation, day: int) -> tuple[int, int]:
    """First and one-past-last instant of a local day; day ``days`` is the closing instant."""
    first = day * STEPS_PER_DAY
    return first, min(first + STEPS_PER_DAY, len(sim.ts_utc))


def _write_scada(
    landing: Path,
    sim: DemoSimulation,
    meters: list[Meter],
    readings: dict[str, np.ndarray],
    plan: FaultPlan | None,
    records: list[Fault],
) -> tuple[list[Path], int]:
    ids = [m.id for m in meters]
    local = sim.ts_utc.tz_convert(sim.site.site.timezone)
    stamps = pa.array(local.strftime(SCADA_TIME_FORMAT).tolist(), type=pa.string())
    header = ",".join(["Timestamp", *(f"{m.tag} [{m.unit}]" for m in meters)])
    cells = [_text(readings[m]) for m in ids]
    present = np.sum([~np.isnan(readings[m]) for m in ids], axis=0)
    files: list[Path] = []
    for day in range(sim.days + 1):
        first, stop = _day_steps(sim, day)
        rows = pc.binary_join_element_wise(stamps[first:stop], *(c[first:stop] for c in cells), ",")
        lines = [header, *rows.to_pylist()]
        name = scada_file_name(sim.start + timedelta(days=day), drop_prefix(sim.site))
        if plan is not None and day == plan.malformed_day:
            records += malform_scada_lines(plan, sim, lines, ids, name)
        content = ("\n".join(lines) + "\n").encode("utf-8")
        (landing / name).write_bytes(content)
        files.append(landing / name)
        if plan is not None and day == plan.corrupt_day:
            partial = name.replace(".csv", "_partial.csv")
            (landing / partial).write_bytes(corrupt_copy(content, sim.seed))
            files.append(landing / partial)
            records.append(
                Fault(
                    "corrupt_file",
                    None,
                    partial,
                    iso_utc(sim.ts_utc[first]),
                    iso_utc(sim.ts_utc[stop - 1]),
                    "truncated transfer: 700 bytes of text, then NUL bytes and binary noise",
                    "quarantined",
                )
            )
    if plan is not None and plan.rollover_meter in ids:
        wrap = plan.rollover_step
        name = scada_file_name(
            sim.start + timedelta(days=wrap // STEPS_PER_DAY), drop_prefix(sim.site)
        )
        records.append(rollover_record(plan, sim, readings, name, wrap % STEPS_PER_DAY + 2))
    return files, int(present.sum())


def _write_logger(
    landing: Path,
    sim: DemoSimulation,
    meters: list[Meter],
    readings: dict[str, np.ndarray],
    plan: FaultPlan | None,
    records: list[Fault],
) -> tuple[list[Path], int]:
    ids = [m.id for m in meters]
    matrix = np.column_stack([readings[m] for m in ids])
    stamps = pa.array(sim.ts_utc.strftime(LOGGER_TIME_FORMAT).tolist(), type=pa.string())
    names = pa.array(ids)
    litres = len(ids)  # index of the extra unit 'L' used by the unit_change fault
    units = pa.array([m.unit for m in meters] + ["L"])
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    files: list[Path] = []
    count = 0
    for day in range(sim.days + 1):
        first, stop = _day_steps(sim, day)
        block = matrix[first:stop]
        present = ~np.isnan(block)
        steps, cols = np.nonzero(present)  # row-major: by time, then meter
        steps = steps + first
        values = block[present]
        unit_idx = cols.copy()
        name = logger_file_name(sim.start + timedelta(days=day), drop_prefix(sim.site))
        order = np.arange(values.size)
        if plan is not None and day == plan.unit_day:
            litre_rows = cols == ids.index(plan.unit_meter)
            values[litre_rows] = np.round(values[litre_rows] * 1000, 4)
            unit_idx[litre_rows] = litres
        if plan is not None and day == plan.duplicate_day:
            b0, b1 = np.searchsorted(
                steps, [first + DUPLICATE_FIRST, first + DUPLICATE_FIRST + DUPLICATE_STEPS]
            )
            order = np.r_[0:b1, b0:b1, b1 : values.size]
            records.append(
                Fault(
                    "duplicate_rows",
                    None,
                    name,
                    iso_utc(sim.ts_utc[steps[b0]]),
                    iso_utc(sim.ts_utc[steps[b1 - 1]]),
                    f"lines {b1 + 2}-{2 * b1 - b0 + 1} repeat lines {b0 + 2}-{b1 + 1}",
                    "ingested",
                    int(b1 + 2),
                )
            )
        steps, cols, values, unit_idx = steps[order], cols[order], values[order], unit_idx[order]
        table = pa.table(
            {
                "meter": names.take(pa.array(cols)),
                "time_utc": stamps.take(pa.array(steps)),
                "value": _text(values),
                "unit": units.take(pa.array(unit_idx)),
            }
        )
        body = io.BytesIO()
        pacsv.write_csv(table, body, options)
        content = LOGGER_HEADER + body.getvalue()
        (landing / name).write_bytes(content)
        files.append(landing / name)
        count += values.size
        if plan is None:
            continue
        if day == plan.unit_day:
            rows = np.flatnonzero(unit_idx == litres)
            records.append(
                Fault(
                    "unit_change",
                    plan.unit_meter,
                    name,
                    iso_utc(sim.ts_utc[steps[rows[0]]]),
                    iso_utc(sim.ts_utc[steps[rows[-1]]]),
                    "volumes written in L (values x1000, unit column 'L') for the whole day",
                    "ingested",
                    int(rows[0] + 2),
                )
            )
        if day == plan.duplicate_day:
            resend = name.replace(".csv", "_resend.csv")
            (landing / resend).write_bytes(content)
            files.append(landing / resend)
            records.append(
                Fault(
                    "duplicate_rows",
                    None,
                    resend,
                    iso_utc(sim.ts_utc[steps[0]]),
                    iso_utc(sim.ts_utc[steps[-1]]),
                    f"the same bytes as {name}, delivered again",
                    "not_imported",
                )
            )
        if plan.rollover_meter in ids and first <= plan.rollover_step < stop:
            hit = (steps == plan.rollover_step) & (cols == ids.index(plan.rollover_meter))
            line = int(np.flatnonzero(hit)[0]) + 2
            records.append(rollover_record(plan, sim, readings, name, line))
    return files, count


def _write_manual(landing: Path, sim: DemoSimulation) -> tuple[list[Path], int]:
    """One workbook per local month of manual and lab readings."""
    manual = sim.manual_readings
    local = manual["ts_utc"].dt.tz_convert(sim.site.site.timezone).dt.tz_localize(None)
    rank = {m.id: i for i, m in enumerate(sim.site.meters)}
    table = manual.assign(local=local, rank=manual["meter_id"].map(rank))
    table = table.sort_values(["local", "rank"], kind="stable")
    months = table["local"].dt.strftime("%Y-%m")
    daily_rain = sim.drivers.rain_mm.reshape(sim.days, -1).sum(axis=1)
    measurand = {m.id: m.measurand for m in sim.site.meters}
    fixed_time = datetime.combine(sim.start, time(0))
    title = sim.site.site.name.split(" (")[0]
    zone = ZoneInfo(sim.site.site.timezone)
    dips = any(m.manual and m.measurand == "level" for m in sim.site.meters)
    files = []
    for month, rows in table.groupby(months, sort=True):
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "Readings"
        first = rows["local"].iloc[0]
        sheet["A1"] = f"{title} - manual and laboratory readings, {first:%B %Y}"
        sheet["A1"].font = Font(bold=True, size=13)
        local = first.to_pydatetime().replace(tzinfo=zone)
        hours = (local.utcoffset() or timedelta(0)) / timedelta(hours=1)
        sheet["A2"] = (
            f"Times are local ({local.tzname()}, UTC{hours:+g}). Rain, pan evaporation and ore "
            "moisture stamped 00:00 are for the whole local day that starts then"
            + ("; dip boards are read at 08:00." if dips else ".")
        )
        sheet.append(MANUAL_HEADER)
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        for stamp, meter, value, unit in zip(
            rows["local"], rows["meter_id"], rows["value"], rows["unit"], strict=True
        ):
            day = (stamp.date() - sim.start).days
            kind = measurand[meter]
            read_by = LAB if kind == "moisture" else OPERATORS[(day // 7) % len(OPERATORS)]
            sheet.append(
                [
                    stamp.to_pydatetime(),
                    meter,
                    float(value),
                    unit,
                    read_by,
                    _comment(kind, bool(sim.drivers.shutdown[day]), float(daily_rain[day])),
                ]
            )
            sheet.cell(sheet.max_row, 1).number_format = "dd/mm/yyyy hh:mm"
        for column, width in zip("ABCDEF", (18, 10, 10, 7, 12, 44), strict=True):
            sheet.column_dimensions[column].width = width
        workbook.properties.creator = "siteledger demo"
        workbook.properties.created = fixed_time
        path = landing / f"{drop_prefix(sim.site)}manual_readings_{month}.xlsx"
        path.write_bytes(_reproducible_xlsx(workbook, fixed_time))
        files.append(path)
    return files, len(table)


def _comment(measurand: str, shutdown: bool, rain_mm: float) -> str:
    if measurand == "moisture" and shutdown:
        return "mill down for maintenance: stockpile composite"
    if measurand == "rainfall" and rain_mm >= 20:
        return "heavy rain"
    if measurand == "evaporation_pan" and rain_mm > 1:
        return "pan level corrected for rain"
    return ""


def _reproducible_xlsx(workbook: Workbook, stamp: datetime) -> bytes:
    """The workbook's bytes with every timestamp fixed, so equal content gives equal files.

    openpyxl stamps ``docProps/core.xml`` with the save time and its zip entries with the
    current local time; both are replaced by ``stamp``.
    """
    raw = io.BytesIO()
    workbook.save(raw)
    modified = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + modified.encode() + rb"\g<2>",
                    data,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            dest.writestr(entry, data)
    return out.getvalue()


def _write_truth(sim: DemoSimulation, folder: Path) -> list[Path]:
    """Daily truth tables (CSV and Parquet) and the meter map."""
    site = sim.site
    meters = pd.DataFrame(
        {
            "meter_id": [m.id for m in site.meters],
            "measurand": [m.measurand for m in site.meters],
            "unit": [m.unit for m in site.meters],
            "interval": [m.interval for m in site.meters],
            "flow_id": [m.flow or "" for m in site.meters],
            "node_id": [m.node or "" for m in site.meters],
            "tag": [m.tag or "" for m in site.meters],
            "layout": [meter_layout(m) for m in site.meters],
            "manual": [m.manual for m in site.meters],
            "rollover": [m.rollover for m in site.meters],
            "redundancy_group": [m.redundancy_group or "" for m in site.meters],
        }
    )
    tables = {
        "flows_daily": sim.flows_daily,
        "storage_daily": sim.storage_daily,
        "site_daily": sim.site_daily,
    }
    paths = []
    for name, frame in tables.items():
        numeric = frame.select_dtypes("number").columns
        # +0.0 turns a rounded -0.0 into 0.0
        rounded = frame.assign(**{c: frame[c].round(6) + 0.0 for c in numeric})
        paths.append(folder / f"{name}.csv")
        rounded.to_csv(paths[-1], index=False, lineterminator="\n")
        paths.append(folder / f"{name}.parquet")
        frame.to_parquet(paths[-1], index=False)
    paths.append(folder / "meters.csv")
    meters.to_csv(paths[-1], index=False, lineterminator="\n")
    paths += write_air_truth(sim, folder)
    return paths
