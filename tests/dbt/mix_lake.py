"""Three UTC days (D1-D3) of daily readings for ``fixtures/mix_site.yaml`` as raw-lake Parquet.

Volumes, litres and tonnes are stamped 00:00 of the day they describe; levels and energy
registers are read at each midnight, D1 00:00 to D4 00:00.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.dbt.hand_lake import LAKE_SCHEMA

SITE_ID = "mix_site"
D1, D2, D3, D4 = (dt.date(2025, 7, 1) + dt.timedelta(days=i) for i in range(4))
DAYS = (D1, D2, D3)
MIDNIGHTS = (D1, D2, D3, D4)
LOADED_AT = dt.datetime(2025, 7, 5, 1, 0, tzinfo=dt.UTC)

# m3 per day, D1-D3
VOLUMES = {
    "V-1": (600.0, 500.0, 400.0),  # bores -> dam, raw
    "V-2": (1000.0, 1000.0, 1000.0),  # dam -> plant
    "V-3": (800.0, 800.0, 800.0),  # plant -> pond, worked
    "V-4": (200.0, 200.0, 200.0),  # plant -> tailings
    "V-5": (300.0, 400.0, 300.0),  # pond -> dam
    "V-6": (200.0, 200.0, 200.0),  # pond -> treatment plant
    "V-7": (200.0, 200.0, 200.0),  # treatment plant -> dam, treated
}
# level at D1..D4 00:00: dam 10 000 m3/m (5 000, 5 100, 5 200, 5 100 m3), pond 5 000 m3/m
# (2 000, 2 300, 2 500, 2 800 m3): each store closes its flows exactly
LEVELS = {"L-DAM": (0.5, 0.51, 0.52, 0.51), "L-POND": (0.4, 0.46, 0.5, 0.56)}
# energy registers at D1..D4 00:00: JQ-1 wraps at 10 000 kWh (9 990 + 300 = 10 290 -> 290)
REGISTERS = {"JQ-1": (9990.0, 290.0, 540.0, 740.0), "JQ-2": (1000.0, 1100.0, 1180.0, 1300.0)}
LITRES = (50.0, 40.0, 60.0)  # FL-1, D1-D3
ORE_T = (2000.0, 2500.0, 2400.0)  # WT-1, D1-D3


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _readings() -> list[tuple[str, dt.datetime, float, str]]:
    rows = []
    for meter, values in VOLUMES.items():
        rows += [
            (meter, _midnight(day), value, "m3") for day, value in zip(DAYS, values, strict=True)
        ]
    for meter, values in LEVELS.items():
        rows += [
            (meter, _midnight(day), value, "m")
            for day, value in zip(MIDNIGHTS, values, strict=True)
        ]
    for meter, values in REGISTERS.items():
        rows += [
            (meter, _midnight(day), value, "kWh")
            for day, value in zip(MIDNIGHTS, values, strict=True)
        ]
    rows += [("FL-1", _midnight(day), value, "L") for day, value in zip(DAYS, LITRES, strict=True)]
    rows += [("WT-1", _midnight(day), value, "t") for day, value in zip(DAYS, ORE_T, strict=True)]
    return rows


def write_mix_lake(lake: Path, through: dt.date = D4) -> None:
    """The readings of the day folders up to ``through`` under ``lake``."""
    by_day: dict[dt.date, list[tuple[str, dt.datetime, float, str]]] = {}
    for reading in _readings():
        by_day.setdefault(reading[1].date(), []).append(reading)
    for day, rows in by_day.items():
        if day > through:
            continue
        folder = lake / "readings" / f"site={SITE_ID}" / "source=manual" / f"day={day}"
        folder.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist(
            [
                {
                    "meter_id": meter,
                    "ts": ts,
                    "value": value,
                    "unit": unit,
                    "batch_id": "m1",
                    "source_file": "mix_manual.xlsx",
                    "source_row": row,
                    "loaded_at": LOADED_AT,
                }
                for row, (meter, ts, value, unit) in enumerate(rows, start=1)
            ],
            schema=LAKE_SCHEMA,
        )
        pq.write_table(table, folder / "m1.parquet")
