"""Three days of readings for ``fixtures/energy_site.yaml`` as raw-lake Parquet.

Days D1-D3 are 2025-07-04 (Friday) to 2025-07-06 (Sunday), Australia/Perth (UTC+8); meters read
every 15 minutes (96 steps a day, step s starts at s x 15 min local), registers also at D4 00:00
to close D3; tank dips and deliveries are manual. Profiles, in local time:

- JG-1 genset 1 output (kW): D1 10 from 00:00, 25 from 04:00, 50 from 08:00, 100 from 12:00,
  stopped from 16:00; D2 50 all day; D3 stopped.
- FG-1 genset 1 fuel (L per step): the fuel curve's litres (0.08 x 100 + 0.25 x kW) x 0.25 h
  times 1.2 on D1 and 1.0 on D2; 0 on D3.
- EG-2 genset 2 register (kWh): 500 at D1 00:00, +5 per step (20 kW) D1 08:00-16:00, flat after.
- LT-1 bulk tank dips at the midnights D1-D4: 5 000, 4 500, 6 000, 5 990 L; FD-1 delivers
  2 000 L on D2 at 10:00. LT-2 day tank: 1 000, 930, 930, 930 L.
- RI-1 plane-of-array irradiance (W/m2): 800 on D1 and D2, 1 100 on D3, from 09:00 to 15:00,
  0 otherwise; TT-1 20 degC and WS-1 2 m/s throughout.
- JP-1 PV output (kW): D1 64 from 09:00 to 15:00; D2 0 from 09:00 to 10:00 then 50 to 15:00;
  D3 60 from 09:00 to 15:00; 0 otherwise.
- EI-1 grid import register (kWh): 12 000 at D1 00:00, +5 per step (20 kW) except D1 17:00
  (+20: 80 kW) and D2 10:00 and 10:15 (+15 each: 60 kW).
- EL-1 plant (kW): D1 10 from 00:00, 8 from 02:00, 100 from 06:00, 10 from 18:00; D2 20;
  D3 30 with 130 at 12:00. EL-2 camp 15 kW throughout.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.dbt.hand_lake import LAKE_SCHEMA

SITE_ID = "energy_site"
PERTH = dt.timezone(dt.timedelta(hours=8))
D1, D2, D3, D4 = (dt.date(2025, 7, 4) + dt.timedelta(days=i) for i in range(4))
DAYS = (D1, D2, D3)
STEPS = 96
LOADED_AT = dt.datetime(2025, 7, 8, 1, 0, tzinfo=dt.UTC)

Reading = tuple[str, dt.datetime, float, str]


def _at(day: dt.date, step: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=PERTH) + step * dt.timedelta(minutes=15)


def genset_1_kw(day: dt.date, step: int) -> float:
    if day == D1:
        return (10.0, 25.0, 50.0, 100.0, 0.0, 0.0)[step // 16]
    return 50.0 if day == D2 else 0.0


def genset_1_fuel_l(day: dt.date, step: int) -> float:
    kw = genset_1_kw(day, step)
    curve = (0.08 * 100 + 0.25 * kw) * 0.25 if kw > 0 else 0.0
    return curve * (1.2 if day == D1 else 1.0)


def poa_w_m2(day: dt.date, step: int) -> float:
    if not 36 <= step < 60:
        return 0.0
    return 1100.0 if day == D3 else 800.0


def pv_kw(day: dt.date, step: int) -> float:
    if not 36 <= step < 60:
        return 0.0
    if day == D1:
        return 64.0
    if day == D2:
        return 0.0 if step < 40 else 50.0
    return 60.0


def grid_kwh(day: dt.date, step: int) -> float:
    if day == D1 and step == 68:
        return 20.0
    if day == D2 and step in (40, 41):
        return 15.0
    return 5.0


def plant_kw(day: dt.date, step: int) -> float:
    if day == D1:
        if step < 8:
            return 10.0
        if step < 24:
            return 8.0
        return 100.0 if step < 72 else 10.0
    if day == D2:
        return 20.0
    return 130.0 if step == 48 else 30.0


def _readings() -> Iterator[Reading]:
    genset_2 = 500.0
    grid = 12_000.0
    for day in DAYS:
        for step in range(STEPS):
            ts = _at(day, step)
            yield "JG-1", ts, genset_1_kw(day, step), "kW"
            yield "FG-1", ts, genset_1_fuel_l(day, step), "L"
            yield "EG-2", ts, genset_2, "kWh"
            genset_2 += 5.0 if day == D1 and 32 <= step < 64 else 0.0
            yield "RI-1", ts, poa_w_m2(day, step), "W/m2"
            yield "TT-1", ts, 20.0, "degC"
            yield "WS-1", ts, 2.0, "m/s"
            yield "JP-1", ts, pv_kw(day, step), "kW"
            yield "EI-1", ts, grid, "kWh"
            grid += grid_kwh(day, step)
            yield "EL-1", ts, plant_kw(day, step), "kW"
            yield "EL-2", ts, 15.0, "kW"
    yield "EG-2", _at(D4), genset_2, "kWh"
    yield "EI-1", _at(D4), grid, "kWh"
    for day, bulk, daily in zip(
        (D1, D2, D3, D4),
        (5000.0, 4500.0, 6000.0, 5990.0),
        (1000.0, 930.0, 930.0, 930.0),
        strict=True,
    ):
        yield "LT-1", _at(day), bulk, "L"
        yield "LT-2", _at(day), daily, "L"
    yield "FD-1", _at(D2, 40), 2000.0, "L"


def write_energy_lake(lake: Path, through: dt.date = D4) -> None:
    """The readings of the site-local day folders up to ``through`` under ``lake``."""
    by_day: dict[dt.date, list[Reading]] = {}
    for reading in _readings():
        by_day.setdefault(reading[1].astimezone(PERTH).date(), []).append(reading)
    for day, rows in sorted(by_day.items()):
        if day > through:
            continue
        folder = lake / "readings" / f"site={SITE_ID}" / "source=manual" / f"day={day}"
        folder.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist(
            [
                {
                    "meter_id": meter,
                    "ts": ts.astimezone(dt.UTC),
                    "value": value,
                    "unit": unit,
                    "batch_id": f"e{day:%d}",
                    "source_file": "energy_site.csv",
                    "source_row": row,
                    "loaded_at": LOADED_AT,
                }
                for row, (meter, ts, value, unit) in enumerate(rows, start=1)
            ],
            schema=LAKE_SCHEMA,
        )
        pq.write_table(table, folder / f"e{day:%d}.parquet")
