"""Level shifts of daily series: ruptures' PELT (L1 cost) on the deseasonalised residual.

The residual of ``ml.decompose.deseasonalise`` is scaled by its robust sigma (so the penalty
means the same thing on a 10 m3/day seepage and a 20 000 m3/day plant feed) and segmented with
``ruptures.Pelt(model="l1")``. Each breakpoint gives a row: the first day of the new regime and
the mean residual before and after it (in the series' own units) over the adjacent segments.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import ruptures as rpt  # type: ignore[import-untyped]

from ml.decompose import deseasonalise, is_flat, robust_sigma

COLUMNS = ["series_id", "day", "mean_before", "mean_after", "shift", "shift_sigma"]
MIN_DAYS = 60
# PELT looks at every 5th day only (25x faster than every day with the L1 cost's medians); each
# breakpoint is then moved to the best day within ±JUMP of it
JUMP = 5


def default_penalty(n: int) -> float:
    """PELT penalty per breakpoint on a residual in robust-sigma units (L1 cost): 3 ln n.

    On 20 clean two-year AR(1) series neither 2, 3 nor 5 ln n found a breakpoint; on 20 with a
    3-sigma shift of 30-125 days, 5 ln n found 6 within ±7 days and 3 ln n 15 (docs/anomalies.md).
    """
    return 3.0 * math.log(max(n, 2))


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "series_id": pd.Series(dtype="str"),
            "day": pd.Series(dtype="datetime64[ns]"),
            **{c: pd.Series(dtype="float64") for c in COLUMNS[2:]},
        }
    )


def _l1(x: np.ndarray) -> float:
    return float(np.abs(x - np.median(x)).sum()) if x.size else 0.0


def _refine(bounds: list[int], z: np.ndarray, min_size: int) -> list[int]:
    """Each inner breakpoint moved to the day within ±JUMP that minimises the two segments' cost."""
    out = list(bounds)
    for i in range(1, len(out) - 1):
        lo = max(out[i - 1] + min_size, out[i] - JUMP)
        hi = min(out[i + 1] - min_size, out[i] + JUMP)
        best, best_cost = out[i], math.inf
        for b in range(lo, hi + 1):
            cost = _l1(z[out[i - 1] : b]) + _l1(z[b : out[i + 1]])
            if cost < best_cost:
                best, best_cost = b, cost
        out[i] = best
    return out


def residual_change_points(
    days: pd.DatetimeIndex,
    residual: np.ndarray,
    min_size: int = 14,
    penalty: float | None = None,
    min_shift_sigma: float = 1.0,
) -> list[dict[str, object]]:
    """Breakpoints of one residual (NaN days skipped); rows without ``series_id``."""
    residual = np.asarray(residual, dtype=float)
    ok = np.isfinite(residual)
    r = residual[ok]
    obs_days = days[ok]
    sigma = robust_sigma(r)
    if r.size < max(MIN_DAYS, 2 * min_size) or sigma <= 0:
        return []
    z = (r - np.median(r)) / sigma
    # a spike must not be a regime: clip single days to ±5 sigma before segmenting
    z = np.clip(z, -5.0, 5.0)
    pen = default_penalty(r.size) if penalty is None else penalty
    breaks = (
        rpt.Pelt(model="l1", min_size=min_size, jump=JUMP).fit(z.reshape(-1, 1)).predict(pen=pen)
    )
    bounds = _refine([0, *breaks], z, min_size)
    rows: list[dict[str, object]] = []
    for i in range(1, len(bounds) - 1):
        before = r[bounds[i - 1] : bounds[i]]
        after = r[bounds[i] : bounds[i + 1]]
        mean_before, mean_after = float(np.mean(before)), float(np.mean(after))
        shift = mean_after - mean_before
        if abs(shift) / sigma < min_shift_sigma:
            continue
        rows.append(
            {
                "day": obs_days[bounds[i]],
                "mean_before": mean_before,
                "mean_after": mean_after,
                "shift": shift,
                "shift_sigma": shift / sigma,
            }
        )
    return rows


def change_points(
    series: pd.DataFrame,
    min_size: int = 14,
    penalty: float | None = None,
    min_shift_sigma: float = 1.0,
) -> pd.DataFrame:
    """Level shifts of every series of a long frame (``series_id, day, value``).

    Rows: ``series_id, day`` (first day of the new regime), ``mean_before, mean_after`` (mean
    deseasonalised residual of the segments on either side, in the series' units), ``shift``
    (after - before) and ``shift_sigma`` (shift / robust sigma of the residual). ``penalty`` is per
    breakpoint on the sigma-scaled residual (default ``3 ln n``); breakpoints whose segments differ
    by less than ``min_shift_sigma`` are dropped. Series shorter than 60 usable days, constant or
    empty give no rows; nothing is raised for one bad series.
    """
    rows: list[dict[str, object]] = []
    for series_id, group in series.groupby("series_id", sort=True):
        try:
            parts = deseasonalise(pd.Series(group["value"].to_numpy(), index=group["day"]))
            if is_flat(parts["value"].to_numpy()):
                continue
            found = residual_change_points(
                pd.DatetimeIndex(parts["day"]),
                parts["residual"].to_numpy(),
                min_size=min_size,
                penalty=penalty,
                min_shift_sigma=min_shift_sigma,
            )
        except (ValueError, np.linalg.LinAlgError, rpt.exceptions.BadSegmentationParameters):
            continue
        rows.extend({"series_id": series_id, **row} for row in found)
    if not rows:
        return _empty()
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["day"] = pd.to_datetime(out["day"])
    return out
