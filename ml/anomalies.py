"""Anomalies of daily series: robust z on the deseasonalised residual, pattern breaks,
IsolationForest on a clean reference window, and (optionally) the seed's trailing ±3 sigma.

Every series is first split by ``ml.decompose.deseasonalise`` (trend + weekly + annual terms by
robust regression); the detectors look at the residual scaled by its robust sigma (1.4826 x MAD),
``z``. Methods (``AnomalyConfig.methods``):

``robust_z``
    ``|z| >= robust_z_threshold`` (4.0) on one day.
``pattern_break``
    ``pattern_break_run`` (3) or more consecutive days with ``|z| >= pattern_break_threshold``
    (2.5) and the same sign: one event from the run's first to its last day.
``isolation_forest``
    scikit-learn ``IsolationForest`` (fixed ``random_state``, explicit ``contamination``) fitted on
    the first ``reference_days`` usable days with the robust-z outliers dropped, over the features
    z, day-on-day change of z and z minus its centred 7-day median; flags days it scores as
    outliers and where ``|z| >= isolation_min_sigma`` (3.5) too.
``rolling_3sigma``
    the seed's rule, off by default: the raw value outside the mean ± ``legacy_sigma`` standard
    deviations of the trailing 365 days (the day itself excluded; at least 60 days).

Output of ``detect``: one row per event, an event being a run (pattern break) or a single day
flagged by any method; ``methods`` lists the methods that flagged any day of it. See
``docs/anomalies.md`` for the columns, severity bands and cause rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest  # type: ignore[import-untyped]

from ml.changepoints import residual_change_points
from ml.decompose import deseasonalise, is_flat, robust_sigma

DETECTORS = ("robust_z", "isolation_forest", "rolling_3sigma")
METHODS = ("robust_z", "pattern_break", "isolation_forest", "rolling_3sigma")
ANOMALY_COLUMNS = [
    "series_id",
    "day",
    "last_day",
    "peak_day",
    "run_days",
    "value",
    "expected",
    "deviation_sigma",
    "direction",
    "pattern",
    "severity",
    "methods",
    "n_methods",
    "suggested_cause",
    "cause_evidence",
]
STATUS_COLUMNS = ["series_id", "status", "reason", "n_days"]
SENSOR_KINDS = ("vee_flag", "redundancy_disagreement")
# the site's process stood still that day (no ore fed): what its flows did is explained
PLANT_STOPPED = "plant_stopped"
# |deviation_sigma| lower bounds of severity 2, 3, 4 and 5 (below the first: 1)
SEVERITY_BANDS = (4.0, 6.0, 9.0, 15.0)


@dataclass(frozen=True)
class AnomalyConfig:
    robust_z_threshold: float = 4.0
    pattern_break_run: int = 3  # consecutive same-sign days beyond pattern_break_threshold
    isolation_contamination: float = 0.01
    reference_days: int = 180  # clean reference window for IsolationForest
    legacy_sigma: float = 3.0  # the seed's trailing 12-month mean ± 3 sigma (rolling_3sigma)
    methods: tuple[str, ...] = ("robust_z", "pattern_break", "isolation_forest")
    pattern_break_threshold: float = 2.5
    change_point_window_days: int = 7  # an anomaly this close to a change point is a level shift
    min_days: int = 60  # fewer usable days: status too_short, no anomalies
    legacy_window_days: int = 365
    random_state: int = 0
    # an IsolationForest flag counts only where |z| reaches this too (0 = the forest alone): on
    # clean AR(1) series the forest alone flagged 7-13 days a series over two years
    isolation_min_sigma: float = 3.5
    # on/off series (pumps that run some days, rain-fed flows): every switch is a "spike" to the
    # residual detectors (49 flags a series on the demo's intermittent flows); more zero days than
    # this share gives status intermittent and no anomalies (None: check them anyway)
    max_zero_share: float | None = 0.25

    def __post_init__(self) -> None:
        unknown = set(self.methods) - set(METHODS)
        if unknown:
            raise ValueError(f"unknown anomaly methods {sorted(unknown)}; known: {METHODS}")


class _SeriesSkipped(Exception):
    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def severity(deviation_sigma: float, run: bool, agreeing_detectors: int) -> int:
    """1-5: the |deviation_sigma| band, +1 for a run (pattern break / level shift), +1 when two
    or more detectors agree; at most 5."""
    level = 1 + sum(abs(deviation_sigma) >= b for b in SEVERITY_BANDS)
    level += int(run) + int(agreeing_detectors >= 2)
    return int(min(level, 5))


def _runs(z: np.ndarray, threshold: float, min_run: int) -> list[tuple[int, int]]:
    """(first, last) index of runs of >= min_run consecutive same-sign |z| >= threshold."""
    sign = np.where(np.isfinite(z) & (np.abs(z) >= threshold), np.sign(z), 0.0)
    runs: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(sign) + 1):
        if i == len(sign) or sign[i] != sign[start]:
            if sign[start] != 0 and i - start >= min_run:
                runs.append((start, i - 1))
            start = i
    return runs


def _isolation_flags(z: np.ndarray, config: AnomalyConfig) -> np.ndarray:
    """Days the IsolationForest, fitted on the clean reference window, scores as outliers."""
    flags = np.zeros(len(z), dtype=bool)
    ok = np.flatnonzero(np.isfinite(z))
    if ok.size < config.min_days:
        return flags
    zs = pd.Series(z[ok])
    features = np.column_stack(
        [
            zs.to_numpy(),
            zs.diff().fillna(0.0).to_numpy(),
            (zs - zs.rolling(7, center=True, min_periods=1).median()).to_numpy(),
        ]
    )
    reference = np.arange(min(config.reference_days, ok.size))
    reference = reference[np.abs(zs.to_numpy()[reference]) < config.robust_z_threshold]
    if reference.size < 30:
        return flags
    forest = IsolationForest(
        n_estimators=100,
        contamination=config.isolation_contamination,
        random_state=config.random_state,
    ).fit(features[reference])
    flags[ok] = forest.predict(features) == -1
    return flags & (np.abs(np.nan_to_num(z)) >= config.isolation_min_sigma)


def _legacy_flags(values: pd.Series, config: AnomalyConfig) -> np.ndarray:
    """The seed's rule: raw value beyond the trailing-year mean ± legacy_sigma sd."""
    past = values.shift(1).rolling(config.legacy_window_days, min_periods=config.min_days)
    mean, sd = past.mean(), past.std()
    out = (values - mean).abs() > config.legacy_sigma * sd
    return out.fillna(False).to_numpy(dtype=bool)


def _evidence_text(rows: pd.DataFrame) -> str:
    parts = []
    for kind, detail, day in zip(rows["kind"], rows["detail"], rows["day"], strict=True):
        when = "" if pd.isna(day) else f" on {pd.Timestamp(day).date()}"
        text = "" if pd.isna(detail) else f": {detail}"
        parts.append(f"{kind}{when}{text}")
    return "; ".join(dict.fromkeys(parts))


def _detect_one(
    series_id: str,
    group: pd.DataFrame,
    cps: pd.DataFrame | None,
    evidence: pd.DataFrame,
    config: AnomalyConfig,
    found_change_points: list[dict[str, Any]] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    parts = deseasonalise(pd.Series(group["value"].to_numpy(), index=group["day"]))
    values = parts["value"].to_numpy(dtype=float)
    ok = np.isfinite(values)
    n_days = int(ok.sum())
    if n_days == 0:
        raise _SeriesSkipped("no_data", "no finite value")
    if n_days < config.min_days:
        raise _SeriesSkipped("too_short", f"{n_days} usable days < {config.min_days}")
    finite = values[ok]
    if is_flat(finite):
        raise _SeriesSkipped("constant", f"every value is {finite[0]:g}")
    zero_share = float(np.mean(finite == 0.0))
    if config.max_zero_share is not None and zero_share > config.max_zero_share:
        raise _SeriesSkipped(
            "intermittent",
            f"{zero_share:.0%} of days are zero (> {config.max_zero_share:.0%}): on/off series",
        )
    residual = parts["residual"].to_numpy(dtype=float)
    sigma = robust_sigma(residual)
    if not sigma > 1e-9 * max(1.0, float(np.abs(finite).max())):
        raise _SeriesSkipped(
            "constant", "the deseasonalised residual has no spread (most days hold one value)"
        )
    z = (residual - np.nanmedian(residual)) / sigma
    expected = (parts["trend"] + parts["seasonal_weekly"] + parts["seasonal_annual"]).to_numpy()
    days = pd.DatetimeIndex(parts["day"])

    if cps is None:
        found_cps = residual_change_points(days, residual)
        cp_days = pd.DatetimeIndex([r["day"] for r in found_cps])
        cp_shift = [float(str(r["shift_sigma"])) for r in found_cps]
        if found_change_points is not None:
            found_change_points.extend({"series_id": series_id, **r} for r in found_cps)
    else:
        cp_days = pd.DatetimeIndex(cps["day"])
        cp_shift = [float(v) for v in cps["shift_sigma"]]

    flags: dict[str, np.ndarray] = {}
    if "robust_z" in config.methods:
        flags["robust_z"] = np.isfinite(z) & (np.abs(z) >= config.robust_z_threshold)
    if "isolation_forest" in config.methods:
        flags["isolation_forest"] = _isolation_flags(z, config)
    if "rolling_3sigma" in config.methods:
        flags["rolling_3sigma"] = _legacy_flags(parts["value"], config)
    spans: list[tuple[int, int, bool]] = []
    in_run = np.zeros(len(z), dtype=bool)
    if "pattern_break" in config.methods:
        for first, last in _runs(z, config.pattern_break_threshold, config.pattern_break_run):
            spans.append((first, last, True))
            in_run[first : last + 1] = True
    any_flag = np.zeros(len(z), dtype=bool)
    for f in flags.values():
        any_flag |= f
    spans.extend((int(i), int(i), False) for i in np.flatnonzero(any_flag & ~in_run))

    window = pd.Timedelta(days=config.change_point_window_days)
    rows: list[dict[str, Any]] = []
    for first, last, run in spans:
        span_z = np.where(np.isfinite(z[first : last + 1]), z[first : last + 1], 0.0)
        peak = first + int(np.argmax(np.abs(span_z)))
        detectors = [m for m in DETECTORS if m in flags and flags[m][first : last + 1].any()]
        methods = (["pattern_break"] if run else []) + detectors
        start, end = days[first], days[last]
        near_cp = [
            f"change point on {d.date()} (shift {s:+.1f} sigma)"
            for d, s in zip(cp_days, cp_shift, strict=True)
            if start - window <= d <= end + window
        ]
        pattern = "level_shift" if near_cp else ("pattern_break" if run else "spike")
        ev_day = evidence["day"]
        ev = evidence[ev_day.isna() | ((ev_day >= start) & (ev_day <= end))]
        kinds = set(ev["kind"])
        if kinds & set(SENSOR_KINDS):
            cause = "sensor"
            ev = ev[ev["kind"].isin(SENSOR_KINDS)]
            text = _evidence_text(ev)
        elif PLANT_STOPPED in kinds:
            cause = "plant_stopped"
            text = _evidence_text(ev[ev["kind"] == PLANT_STOPPED])
        elif near_cp:
            cause, text = "operational_change", "; ".join(near_cp)
        elif "manual_source" in kinds:
            cause = "data_entry"
            text = _evidence_text(ev[ev["kind"] == "manual_source"])
        else:
            cause, text = "unexplained", ""
        deviation = float(z[peak])
        rows.append(
            {
                "series_id": series_id,
                "day": start,
                "last_day": end,
                "peak_day": days[peak],
                "run_days": last - first + 1,
                "value": float(values[peak]),
                "expected": float(expected[peak]),
                "deviation_sigma": deviation,
                "direction": "high" if deviation >= 0 else "low",
                "pattern": pattern,
                "severity": severity(deviation, run or bool(near_cp), len(detectors)),
                "methods": ",".join(methods),
                "n_methods": len(methods),
                "suggested_cause": cause,
                "cause_evidence": text,
            }
        )
    return rows, n_days


def _prepare(series: pd.DataFrame) -> pd.DataFrame:
    out = series[["series_id", "day", "value"]].copy()
    out["day"] = pd.to_datetime(out["day"]).dt.normalize()
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype("float64")
    out["value"] = out["value"].where(np.isfinite(out["value"]))
    return out


def _prepare_evidence(evidence: pd.DataFrame | None) -> pd.DataFrame:
    if evidence is None or evidence.empty:
        return pd.DataFrame(
            {
                "series_id": pd.Series(dtype="str"),
                "day": pd.Series(dtype="datetime64[ns]"),
                "kind": pd.Series(dtype="str"),
                "detail": pd.Series(dtype="str"),
            }
        )
    out = evidence.copy()
    if "detail" not in out:
        out["detail"] = None
    if "day" not in out:
        out["day"] = pd.NaT  # applies to every day of the series
    out["day"] = pd.to_datetime(out["day"]).dt.normalize()
    return out[["series_id", "day", "kind", "detail"]]


def _empty_anomalies() -> pd.DataFrame:
    return pd.DataFrame({c: [] for c in ANOMALY_COLUMNS}).astype(
        {
            "series_id": "str",
            "day": "datetime64[ns]",
            "last_day": "datetime64[ns]",
            "peak_day": "datetime64[ns]",
            "run_days": "int64",
            "value": "float64",
            "expected": "float64",
            "deviation_sigma": "float64",
            "severity": "int64",
            "n_methods": "int64",
        }
    )


def detect_with_status(
    series: pd.DataFrame,
    evidence: pd.DataFrame | None = None,
    change_points: pd.DataFrame | None = None,
    config: AnomalyConfig | None = None,
    found_change_points: list[dict[str, Any]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Anomalies of every series of a long frame, and one status row per series.

    ``series``: ``series_id, day, value`` (NaN and inf are missing values; missing days allowed).
    ``evidence``: ``series_id, day, kind, detail`` with kind ``vee_flag``,
    ``redundancy_disagreement``, ``plant_stopped`` or ``manual_source`` (a NaT day applies to
    every day).
    ``change_points``: the output of ``ml.changepoints.change_points``; None computes them here
    from the same residual with the defaults, for the series that are scanned, and appends them
    (``series_id`` and the columns of ``change_points``) to ``found_change_points`` when given.

    Returns ``(anomalies, status)``: anomalies with the columns ``ANOMALY_COLUMNS`` sorted by
    series and day; status rows ``series_id, status, reason, n_days`` with status ``ok``,
    ``no_data``, ``too_short``, ``constant``, ``intermittent`` or ``error`` (all but ``ok``: the
    series gave no anomalies).
    """
    config = config or AnomalyConfig()
    data = _prepare(series)
    ev = _prepare_evidence(evidence)
    ev_by_series = dict(tuple(ev.groupby("series_id", sort=False)))
    cp_by_series: dict[Any, pd.DataFrame] = {}
    if change_points is not None:
        cp_by_series = dict(tuple(change_points.groupby("series_id", sort=False)))
    empty_ev = ev.iloc[:0]
    empty_cp = None if change_points is None else change_points.iloc[:0]
    rows: list[dict[str, Any]] = []
    status: list[dict[str, Any]] = []
    for series_id, group in data.groupby("series_id", sort=True):
        n_usable = int(group["value"].notna().sum())
        try:
            found, n_days = _detect_one(
                str(series_id),
                group,
                cp_by_series.get(series_id, empty_cp),
                ev_by_series.get(series_id, empty_ev),
                config,
                found_change_points,
            )
        except _SeriesSkipped as skipped:
            status.append(
                {
                    "series_id": series_id,
                    "status": skipped.status,
                    "reason": skipped.reason,
                    "n_days": n_usable,
                }
            )
            continue
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
            status.append(
                {
                    "series_id": series_id,
                    "status": "error",
                    "reason": f"{type(exc).__name__}: {exc}",
                    "n_days": n_usable,
                }
            )
            continue
        rows.extend(found)
        status.append({"series_id": series_id, "status": "ok", "reason": "", "n_days": n_days})
    anomalies = pd.DataFrame(rows, columns=ANOMALY_COLUMNS) if rows else _empty_anomalies()
    anomalies = anomalies.sort_values(["series_id", "day"], ignore_index=True)
    return anomalies, pd.DataFrame(status, columns=STATUS_COLUMNS)


def detect(
    series: pd.DataFrame,
    evidence: pd.DataFrame | None = None,
    change_points: pd.DataFrame | None = None,
    config: AnomalyConfig | None = None,
) -> pd.DataFrame:
    """The anomalies of ``detect_with_status`` (series that could not be checked give none)."""
    return detect_with_status(series, evidence, change_points, config)[0]
