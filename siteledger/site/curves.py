"""Stage-storage curves: level <-> volume by linear interpolation between the curve's points."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Curve = Sequence[tuple[float, float]]


def level_to_volume(curve: Curve, level: npt.ArrayLike) -> np.ndarray:
    """Volume (m3) at a level (m); levels outside the curve are extrapolated on the end segments."""
    levels, volumes = _arrays(curve)
    lv = np.asarray(level, dtype="float64")
    out = np.interp(lv, levels, volumes)
    lo_slope = (volumes[1] - volumes[0]) / (levels[1] - levels[0])
    hi_slope = (volumes[-1] - volumes[-2]) / (levels[-1] - levels[-2])
    out = np.where(lv < levels[0], volumes[0] + (lv - levels[0]) * lo_slope, out)
    out = np.where(lv > levels[-1], volumes[-1] + (lv - levels[-1]) * hi_slope, out)
    return out


def volume_to_level(curve: Curve, volume: npt.ArrayLike) -> np.ndarray:
    """Level (m) that holds a volume (m3): the inverse of :func:`level_to_volume`."""
    levels, volumes = _arrays(curve)
    return level_to_volume(list(zip(volumes, levels, strict=True)), volume)


def _arrays(curve: Curve) -> tuple[np.ndarray, np.ndarray]:
    points = np.asarray(curve, dtype="float64")
    if points.ndim != 2 or points.shape[0] < 2 or points.shape[1] != 2:
        raise ValueError("a stage-storage curve needs at least 2 [level, volume] points")
    return points[:, 0], points[:, 1]
