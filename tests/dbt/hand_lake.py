"""Three days of readings for ``fixtures/hand_site.yaml``, written as raw-lake Parquet.

Days are 2025-07-01 (D1) to 2025-07-03 (D3), Australia/Perth (UTC+8, no daylight saving), every
instrument every 15 minutes unless said otherwise, plus the 00:00 readings of D4 that close D3.
The numbers are chosen so the balances can be computed by hand in ``test_hand_site.py``:

- FT-100 river flow rate: 100, 120, 90 m3/h on D1-D3. D1 arrives twice (batch ``b2`` is a
  re-delivery loaded later); the first delivery has a spike of 999 at 12:00 that the re-delivery
  corrects to 100. D2 arrives in L/s.
- FQ-200 borefield totaliser (rollover 1 000 000 m3): 998 000 m3 at D1 00:00, then 37.5 m3 per
  step on D1 (it wraps at step 54), 40 on D2 (delivered in L), 37.5 on D3.
- FT-400A / FT-400B plant feed (one redundancy group): 200 / 210 m3/h on D1-D2, 180 / nothing on D3.
- FQ-500 tailings totaliser, read by hand at 00:00: 10 000, 14 900, 19 700, 24 000 m3.
- FQ-600 discharge totaliser: 5 000 m3 at D1 00:00, +12.5 m3 per step; replaced at D2 12:00 by a
  new meter that reads 12.5 m3 then, +12.5 per step; +10 per step on D3.
- LT-300 dam level: 3.0, 2.988, 3.0234, 3.0421 m at the midnights starting D1-D4, straight lines
  between; the D3 00:00 reading is missing and 23:45 / 00:15 sit 1 mm either side of 3.0234 m.
- RG-1 rain: 2.5 mm in each of the four steps from D2 06:00, zero otherwise.
- EP-1 pan evaporation, read by hand at 00:00 for the day: 8.0, 6.0, 7.0 mm.
- WT-1 ore: 10 t per step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SITE_ID = "hand_site"
PERTH = dt.timezone(dt.timedelta(hours=8))
D1, D2, D3, D4 = (dt.date(2025, 7, 1) + dt.timedelta(days=i) for i in range(4))
STEPS = 96
STEP = dt.timedelta(minutes=15)
LOADED_AT = dt.datetime(2025, 7, 4, 1, 0, tzinfo=dt.UTC)
RELOADED_AT = dt.datetime(2025, 7, 4, 2, 0, tzinfo=dt.UTC)

LAKE_SCHEMA = pa.schema(
    [
        ("meter_id", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("value", pa.float64()),
        ("unit", pa.string()),
        ("batch_id", pa.string()),
        ("source_file", pa.string()),
        ("source_row", pa.int64()),
        ("loaded_at", pa.timestamp("us", tz="UTC")),
    ]
)

Reading = tuple[str, dt.datetime, float, str]

LEVELS = [3.0, 2.988, 3.0234, 3.0421]


def _instant(day_index: int, step: int) -> dt.datetime:
    start = dt.datetime.combine(D1, dt.time(), tzinfo=PERTH)
    return start + dt.timedelta(days=day_index) + step * STEP


def _flow_rates() -> Iterator[Reading]:
    for day_index, rate in enumerate((100.0, 120.0, 90.0)):
        for step in range(STEPS):
            if day_index == 1:
                yield "FT-100", _instant(day_index, step), rate / 3.6, "L/s"
            else:
                yield "FT-100", _instant(day_index, step), rate, "m3/h"
    for day_index, (rate_a, rate_b) in enumerate(((200.0, 210.0), (200.0, 210.0), (180.0, None))):
        for step in range(STEPS):
            yield "FT-400A", _instant(day_index, step), rate_a, "m3/h"
            if rate_b is not None:
                yield "FT-400B", _instant(day_index, step), rate_b, "m3/h"


def _totalisers() -> Iterator[Reading]:
    value = 998_000.0
    for day_index, per_step in enumerate((37.5, 40.0, 37.5)):
        for step in range(STEPS):
            register = value % 1_000_000.0
            if day_index == 1:
                yield "FQ-200", _instant(day_index, step), register * 1000.0, "L"
            else:
                yield "FQ-200", _instant(day_index, step), register, "m3"
            value += per_step
    yield "FQ-200", _instant(3, 0), value % 1_000_000.0, "m3"

    for day_index, value in enumerate((10_000.0, 14_900.0, 19_700.0, 24_000.0)):
        yield "FQ-500", _instant(day_index, 0), value, "m3"

    value = 5_000.0
    for day_index in range(3):
        for step in range(STEPS):
            if day_index == 1 and step == 48:
                value = 12.5
            yield "FQ-600", _instant(day_index, step), value, "m3"
            value += 10.0 if day_index == 2 else 12.5
    yield "FQ-600", _instant(3, 0), value, "m3"


def _levels() -> Iterator[Reading]:
    for day_index in range(3):
        start, end = LEVELS[day_index], LEVELS[day_index + 1]
        for step in range(STEPS):
            level = start + (end - start) * step / STEPS
            if day_index == 1 and step == STEPS - 1:
                level = LEVELS[2] - 0.001
            if day_index == 2 and step == 0:
                continue
            if day_index == 2 and step == 1:
                level = LEVELS[2] + 0.001
            yield "LT-300", _instant(day_index, step), level, "m"
    yield "LT-300", _instant(3, 0), LEVELS[3], "m"


def _weather_and_ore() -> Iterator[Reading]:
    for day_index in range(3):
        for step in range(STEPS):
            rain = 2.5 if day_index == 1 and 24 <= step < 28 else 0.0
            yield "RG-1", _instant(day_index, step), rain, "mm"
            yield "WT-1", _instant(day_index, step), 10.0, "t"
    for day_index, pan in enumerate((8.0, 6.0, 7.0)):
        yield "EP-1", _instant(day_index, 0), pan, "mm"


def _write(
    lake: Path,
    source: str,
    batch: str,
    loaded_at: dt.datetime,
    readings: list[Reading],
    through: dt.date,
) -> None:
    by_day: dict[dt.date, list[Reading]] = {}
    for reading in readings:
        by_day.setdefault(reading[1].astimezone(PERTH).date(), []).append(reading)
    for day, rows in by_day.items():
        if day > through:
            continue
        folder = lake / "readings" / f"site={SITE_ID}" / f"source={source}" / f"day={day}"
        folder.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist(
            [
                {
                    "meter_id": meter,
                    "ts": ts.astimezone(dt.UTC),
                    "value": value,
                    "unit": unit,
                    "batch_id": batch,
                    "source_file": f"{source}_{batch}.csv",
                    "source_row": row,
                    "loaded_at": loaded_at,
                }
                for row, (meter, ts, value, unit) in enumerate(rows, start=1)
            ],
            schema=LAKE_SCHEMA,
        )
        pq.write_table(table, folder / f"{batch}.parquet")


def write_hand_lake(lake: Path, through: dt.date = D4) -> None:
    """Write the readings of the lake's day folders up to ``through`` under ``lake``.

    The default writes all three days and the D4 00:00 readings that close them; an earlier
    ``through`` leaves the lake as it stands before later days arrive.
    """
    scada = [*_flow_rates(), *_totalisers(), *_levels(), *_weather_and_ore()]
    manual = [r for r in scada if r[0] in ("FQ-500", "EP-1")]
    scada = [r for r in scada if r[0] not in ("FQ-500", "EP-1")]
    spike_at = _instant(0, 48)
    first_delivery = [
        (meter, ts, 999.0 if (meter, ts) == ("FT-100", spike_at) else value, unit)
        for meter, ts, value, unit in scada
    ]
    _write(lake, "scada", "b1", LOADED_AT, first_delivery, through)
    _write(lake, "manual", "b1m", LOADED_AT, manual, through)
    redelivery = [r for r in scada if r[0] == "FT-100" and r[1].astimezone(PERTH).date() == D1]
    _write(lake, "scada", "b2", RELOADED_AT, redelivery, through)
