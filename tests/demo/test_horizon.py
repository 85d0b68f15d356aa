"""A day of the demo has the same water, weather and readings whatever the period's length."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from demo.drivers import STEPS_PER_DAY
from demo.simulate import simulate
from demo.site import MINE_SITE_IDS, build_demo_sites
from demo.write import write_demo

START = date(2025, 7, 1)
SHORT, LONG = 40, 70


@pytest.mark.parametrize(
    "site", [s for s in build_demo_sites() if s.site.id in MINE_SITE_IDS], ids=lambda s: s.site.id
)
def test_the_common_days_of_a_short_and_a_long_simulation_are_the_same(site) -> None:  # type: ignore[no-untyped-def]
    short = simulate(site, start=START, days=SHORT, seed=7)
    long = simulate(site, start=START, days=LONG, seed=7)
    steps = SHORT * STEPS_PER_DAY
    np.testing.assert_array_equal(short.flows, long.flows[:steps])
    np.testing.assert_array_equal(short.storage, long.storage[: steps + 1])
    assert short.grid_readings.keys() == long.grid_readings.keys()
    for meter, values in short.grid_readings.items():
        # interval readings end one instant before the period's closing midnight
        np.testing.assert_array_equal(values[:steps], long.grid_readings[meter][:steps], meter)
    manual = long.manual_readings
    manual = manual[manual["ts_utc"] < short.ts_utc[-1]].reset_index(drop=True)
    pd.testing.assert_frame_equal(short.manual_readings, manual)
    for name in ("temperature", "humidity", "wind", "pm10", "tds", "ph", "conductivity"):
        np.testing.assert_array_equal(
            getattr(short.drivers, name)[:steps], getattr(long.drivers, name)[:steps], name
        )


def test_a_day_drawn_on_its_own_is_the_day_of_any_period() -> None:
    from demo.drivers import calendar_draws

    # the numbers of 10 August do not depend on where the period starts or ends
    def draw(rng: np.random.Generator, days: list[date]) -> np.ndarray:
        return rng.random((len(days), 3))

    whole = calendar_draws(7, "rain", date(2025, 7, 20), 40, draw)
    part = calendar_draws(7, "rain", date(2025, 8, 10), 3, draw)
    np.testing.assert_array_equal(whole[21:24], part)


def _rows_before(path: Path, last_day: date) -> pd.DataFrame:
    frame = pd.read_csv(path)
    if "day" in frame:
        frame = frame[pd.to_datetime(frame["day"]).dt.date <= last_day]
    return frame.reset_index(drop=True)


def test_the_demo_writes_the_same_truth_and_drops_for_the_common_days(tmp_path: Path) -> None:
    short = write_demo(tmp_path / "short", days=SHORT, start=START, sites=("demo_mine",))
    long = write_demo(tmp_path / "long", days=LONG, start=START, sites=("demo_mine",))
    last_day = date.fromordinal(START.toordinal() + SHORT - 1)
    short_site, long_site = short.sites["demo_mine"], long.sites["demo_mine"]
    for path in short_site.ground_truth_files:
        if path.suffix != ".csv":
            continue
        other = long_site.ground_truth_dir / path.name
        pd.testing.assert_frame_equal(
            _rows_before(path, last_day), _rows_before(other, last_day), obj=path.name
        )
    long_drops = {p.name: p for p in long_site.drop_files}
    # day files (SCADA exports, logger files) and the whole month of July's manual sheet
    compared = 0
    for path in short_site.drop_files:
        # August is partial in the short period; its day files end with 9 August, and the file
        # of 10 August holds only the short period's closing midnight
        if path.name.endswith(
            ("_2025-08.xlsx", "_2025-08.csv", "202507-202508.csv", "202507-202508.xlsx")
        ):
            continue
        if path.name.endswith("20250810.csv"):
            continue
        assert path.read_bytes() == long_drops[path.name].read_bytes(), path.name
        compared += 1
    assert compared >= 2 * SHORT
