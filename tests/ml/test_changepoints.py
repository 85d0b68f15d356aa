"""Level shifts on the deseasonalised residual (ruptures PELT, L1)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.changepoints import COLUMNS, change_points

START = pd.Timestamp("2024-07-01")


def panel(series_id: str, seed: int, shift_at: int | None = None, length: int = 45) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = 730
    t = np.arange(days)
    noise = np.zeros(days)
    for k in range(1, days):
        noise[k] = 0.5 * noise[k - 1] + rng.normal(0, 200 * np.sqrt(0.75))
    y = 8_000 + 1_500 * np.sin(2 * np.pi * t / 365.25) + noise
    if shift_at is not None:
        y[shift_at : shift_at + length] += 3 * 200
    index = pd.date_range(START, periods=days, freq="D")
    return pd.DataFrame({"series_id": series_id, "day": index, "value": y})


def test_a_level_shift_is_found_within_a_week() -> None:
    found = change_points(panel("shifted", seed=3, shift_at=300))
    assert list(found.columns) == COLUMNS
    start = START + pd.Timedelta(days=300)
    first = found[(found.day - start).abs() <= pd.Timedelta(days=7)]
    assert len(first) == 1
    row = first.iloc[0]
    assert row["shift"] > 0
    assert 2.0 < row.shift_sigma < 4.5
    assert row.mean_after > row.mean_before


def test_clean_series_have_no_change_point() -> None:
    series = pd.concat([panel(f"clean{i}", seed=10 + i) for i in range(3)], ignore_index=True)
    assert change_points(series).empty


def test_bad_series_give_no_rows_and_do_not_raise() -> None:
    days = pd.date_range(START, periods=100, freq="D")
    bad = pd.concat(
        [
            pd.DataFrame({"series_id": "short", "day": days[:20], "value": 1.0}),
            pd.DataFrame({"series_id": "constant", "day": days, "value": 5.0}),
            pd.DataFrame({"series_id": "empty", "day": days, "value": np.nan}),
        ],
        ignore_index=True,
    )
    out = change_points(bad)
    assert out.empty
    assert list(out.columns) == COLUMNS
