#!/usr/bin/env python3
"""Benchmark: anomaly and level-shift detection on injected anomalies.

Two panels, each with a manifest of what was injected (a list of ``{"series_id", "kind":
spike|level_shift|drift, "first_day", "last_day", "magnitude"}``, magnitude in sigma of the
series' noise):

* synthetic: 50 two-year daily series (trend + weekly + annual seasonality + AR(1) noise, levels
  of 500-20 000 m3/day, 2 % of days missing); every series gets two spikes (±4-8 sigma, one day)
  and either a level shift (±3 sigma for 30-60 days) or a drift (a ramp reaching ±5 sigma over
  30 days, then back);
* demo: the demo mine's daily flow volumes (``demo.simulate``, two years from 2024-07-01,
  seed 7); the continuously running flows (fewer than 5 % zero days and more than 300 distinct
  values) get the same injections, sigma being the robust sigma of each flow's deseasonalised
  residual. The other, intermittent or rain-driven flows are run too; their flags are counted
  but not scored (nothing is known about them). The simulation's planned monthly plant
  shutdowns are real departures from the pattern: flags on those days are left out of the
  precision and counted as ``flags_on_planned_shutdowns`` (``precision_shutdowns_as_false``
  counts them as false).

Scoring (per panel, per kind and overall):

* a spike is found when an anomaly is flagged on its day;
* a level shift or drift is found when an anomaly is flagged within its first 7 days (a drift:
  anywhere in its span) or a change point lies within ±7 days of its first day;
* precision = flagged days that fall in an injected event (from its first day to its last day,
  or to 7 days after its first day if that is later; change points also 7 days before the
  first day) / all flagged days. An anomaly row counts once, on its first day (a pattern break is
  one flagged day however long). A flag on the return to normal after a shift or drift counts
  as false; how many of the false flags are that is reported as ``false_at_event_end``.

Systems scored: the default methods with change points (the shipped behaviour), each default
method alone, change points alone, IsolationForest without the sigma confirmation, and the
seed's trailing 12-month ±3 sigma. Figures are printed and written to
``benchmarks/results/anomalies.json`` (with the manifests beside it).

    .venv/bin/python benchmarks/bench_anomalies.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ml.anomalies import AnomalyConfig, detect, detect_with_status  # noqa: E402
from ml.changepoints import change_points  # noqa: E402
from ml.decompose import deseasonalise, robust_sigma  # noqa: E402

START = pd.Timestamp("2024-07-01")
DAYS = 730
KINDS = ("spike", "level_shift", "drift")
WINDOW = pd.Timedelta(days=7)


def _event_days(rng: np.random.Generator, n_events: int, lengths: list[int]) -> list[int]:
    """Non-overlapping starts (≥ 30 days apart, away from the ends) for events of these lengths."""
    while True:
        starts = sorted(int(s) for s in rng.integers(30, DAYS - 90, size=n_events))
        ends = [s + length for s, length in zip(starts, lengths, strict=True)]
        if all(starts[i + 1] - ends[i] >= 30 for i in range(n_events - 1)):
            return starts


def inject(
    values: np.ndarray, series_id: str, sigma: float, rng: np.random.Generator, shift: bool
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Two spikes and a level shift (or a drift) added to one series; the manifest rows."""
    y = values.copy()
    long_kind = "level_shift" if shift else "drift"
    long_len = int(rng.integers(30, 61)) if shift else 30
    kinds = ["spike", "spike", long_kind]
    rng.shuffle(kinds)
    lengths = [long_len if k == long_kind else 1 for k in kinds]
    starts = _event_days(rng, 3, lengths)
    manifest = []
    for kind, start, length in zip(kinds, starts, lengths, strict=True):
        sign = float(rng.choice([-1.0, 1.0]))
        if kind == "spike":
            magnitude = sign * float(rng.uniform(4.0, 8.0))
            y[start] += magnitude * sigma
        elif kind == "level_shift":
            magnitude = sign * 3.0
            y[start : start + length] += magnitude * sigma
        else:
            magnitude = sign * 5.0
            y[start : start + length] += magnitude * sigma * np.arange(1, length + 1) / length
        manifest.append(
            {
                "series_id": series_id,
                "kind": kind,
                "first_day": str((START + pd.Timedelta(days=start)).date()),
                "last_day": str((START + pd.Timedelta(days=start + length - 1)).date()),
                "magnitude": round(magnitude, 2),
            }
        )
    return y, manifest


def synthetic_panel(n_series: int = 50, seed: int = 1) -> tuple[pd.DataFrame, list[dict]]:
    rng = np.random.default_rng(seed)
    days = pd.date_range(START, periods=DAYS, freq="D")
    t = np.arange(DAYS)
    weekend = np.asarray(days.day_of_week >= 5)
    frames, manifest = [], []
    for i in range(n_series):
        series_id = f"synthetic/flow/s{i:02d}/volume_m3"
        level = rng.uniform(500.0, 20_000.0)
        sd = level * rng.uniform(0.02, 0.06)  # marginal sd of the AR(1) noise: the sigma
        phi = rng.uniform(0.3, 0.7)
        noise = np.zeros(DAYS)
        noise[0] = rng.normal() * sd
        shocks = rng.normal(size=DAYS) * sd * np.sqrt(1 - phi**2)
        for k in range(1, DAYS):
            noise[k] = phi * noise[k - 1] + shocks[k]
        phase = rng.uniform(0, 365.25)
        clean = (
            level * (1 + rng.uniform(-0.1, 0.1) * t / DAYS)
            + level * rng.uniform(0.05, 0.3) * np.sin(2 * np.pi * (t + phase) / 365.25)
            - level * rng.uniform(0.0, 0.1) * weekend
            + noise
        )
        y, rows = inject(clean, series_id, sd, rng, shift=i % 2 == 0)
        y[rng.random(DAYS) < 0.02] = np.nan
        frames.append(pd.DataFrame({"series_id": series_id, "day": days, "value": y}))
        manifest.extend(rows)
    return pd.concat(frames, ignore_index=True), manifest


def demo_panel(seed: int = 2) -> tuple[pd.DataFrame, list[dict], list[str], set[pd.Timestamp]]:
    from demo.simulate import simulate
    from demo.site import build_demo_site

    sim = simulate(build_demo_site(), dt.date(2024, 7, 1), DAYS, seed=7)
    flows = sim.flows_daily
    rng = np.random.default_rng(seed)
    frames, manifest, injected = [], [], []
    for n, (flow_id, group) in enumerate(flows.groupby("flow_id", sort=True)):
        series_id = f"demo_mine/flow/{flow_id}/volume_m3"
        days = pd.to_datetime(group["day"])
        y = group["volume_m3"].to_numpy(dtype=float)
        continuous = (y == 0).mean() < 0.05 and len(np.unique(y)) > 300
        if continuous:
            parts = deseasonalise(pd.Series(y, index=days))
            sigma = robust_sigma(parts["residual"].to_numpy())
            y, rows = inject(y, series_id, sigma, rng, shift=n % 2 == 0)
            manifest.extend(rows)
            injected.append(series_id)
        frames.append(pd.DataFrame({"series_id": series_id, "day": days.to_numpy(), "value": y}))
    shutdowns = {pd.Timestamp(d) for d, s in zip(sim.dates, sim.drivers.shutdown, strict=True) if s}
    return pd.concat(frames, ignore_index=True), manifest, injected, shutdowns


def score(
    manifest: list[dict],
    anomalies: pd.DataFrame,
    cps: pd.DataFrame | None,
    known_days: set[pd.Timestamp] | None = None,
) -> dict[str, Any]:
    """Recall per kind and precision of flagged days, by the rules in the module docstring."""
    events = pd.DataFrame(manifest)
    events["first_day"] = pd.to_datetime(events["first_day"])
    events["last_day"] = pd.to_datetime(events["last_day"])
    by_series = dict(tuple(events.groupby("series_id")))
    flagged = [
        (s, pd.Timestamp(d), "anomaly")
        for s, d in zip(anomalies.series_id, anomalies.day, strict=True)
    ]
    if cps is not None:
        flagged += [
            (s, pd.Timestamp(d), "change_point")
            for s, d in zip(cps.series_id, cps.day, strict=True)
        ]
    found = np.zeros(len(events), dtype=bool)
    true_flags = false_flags = at_end = on_known = 0
    known = known_days or set()
    for series_id, day, source in flagged:
        ev = by_series.get(series_id)
        hit = False
        if ev is not None:
            first, last = ev["first_day"], ev["last_day"]
            is_cp = source == "change_point"
            upto = np.maximum(last, first + WINDOW)
            in_event = (day >= (first - WINDOW if is_cp else first)) & (day <= upto)
            hit = bool(in_event.any())
            spike = ev["kind"] == "spike"
            if is_cp:
                detects = ~spike & ((day - first).abs() <= WINDOW)
            else:
                early = (day >= first) & (day <= first + WINDOW)
                in_span = (day >= first) & (day <= last)
                detects = (spike & (day == first)) | (
                    ~spike & (early | ((ev["kind"] == "drift") & in_span))
                )
            found[ev.index[detects.to_numpy()]] = True
        if not hit and day in known:
            on_known += 1
            continue
        if not hit and ev is not None:
            after_end = (ev["kind"] != "spike") & (day > ev["last_day"])
            at_end += bool((after_end & (day <= ev["last_day"] + WINDOW)).any())
        true_flags += hit
        false_flags += not hit
    result: dict[str, Any] = {}
    for kind in KINDS:
        mask = (events["kind"] == kind).to_numpy()
        result[f"recall_{kind}"] = round(float(found[mask].mean()), 3) if mask.any() else None
    total = true_flags + false_flags
    result.update(
        recall=round(float(found.mean()), 3),
        precision=round(true_flags / total, 3) if total else None,
        events=len(events),
        flagged_days=total,
        false_flags=false_flags,
        false_at_event_end=at_end,
    )
    if known_days is not None:
        strict = total + on_known
        result["flags_on_planned_shutdowns"] = on_known
        result["precision_shutdowns_as_false"] = round(true_flags / strict, 3) if strict else None
    return result


def run_panel(
    series: pd.DataFrame,
    manifest: list[dict],
    scored: list[str],
    known_days: set[pd.Timestamp] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"series": int(series.series_id.nunique()), "scored_series": len(scored)}
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    cps = change_points(series)
    timings["change_points_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    default, status = detect_with_status(series, change_points=cps)
    out["status_counts"] = {k: int(v) for k, v in status.status.value_counts().items()}
    timings["detect_default_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    legacy = detect(series, change_points=cps, config=AnomalyConfig(methods=("rolling_3sigma",)))
    timings["detect_rolling_3sigma_s"] = round(time.perf_counter() - t0, 2)
    forest_alone = detect(
        series,
        change_points=cps,
        config=AnomalyConfig(methods=("isolation_forest",), isolation_min_sigma=0.0),
    )
    z35 = detect(
        series,
        change_points=cps,
        config=AnomalyConfig(methods=("robust_z",), robust_z_threshold=3.5),
    )
    keep = series.series_id.isin(scored)
    in_scope = set(series.series_id[keep])

    def scoped(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame.series_id.isin(in_scope)]

    def with_method(method: str) -> pd.DataFrame:
        return default[default.methods.str.split(",").apply(lambda ms: method in ms)]

    systems = {
        "default (robust_z + pattern_break + isolation_forest, with change points)": (
            default,
            cps,
        ),
        "default anomalies without change points": (default, None),
        "robust_z": (with_method("robust_z"), None),
        "robust_z at 3.5 instead of 4": (z35, None),
        "pattern_break": (with_method("pattern_break"), None),
        "isolation_forest (|z| >= 3.5 confirmed)": (with_method("isolation_forest"), None),
        "isolation_forest alone (contamination 0.01)": (forest_alone, None),
        "change_points": (default.iloc[:0], cps),
        "rolling_3sigma (seed, trailing 12-month mean ± 3 sigma)": (legacy, None),
    }
    out["systems"] = {
        name: score(manifest, scoped(anoms), None if c is None else scoped(c), known_days)
        for name, (anoms, c) in systems.items()
    }
    others = default[~default.series_id.isin(in_scope)]
    n_others = out["series"] - out["scored_series"]
    if n_others:
        out["unscored_series_flags_per_series"] = round(len(others) / n_others, 1)
        out["unscored_series_status"] = {
            k: int(v)
            for k, v in status[~status.series_id.isin(in_scope)].status.value_counts().items()
        }
    out["timings"] = timings
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    started, cpu_started = time.perf_counter(), time.process_time()
    synth, synth_manifest = synthetic_panel()
    demo, demo_manifest, demo_injected, shutdowns = demo_panel()
    results: dict[str, Any] = {
        "measured_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "synthetic": run_panel(synth, synth_manifest, sorted(synth.series_id.unique())),
        "demo": run_panel(demo, demo_manifest, demo_injected, shutdowns),
    }
    results["demo"]["injected_series"] = demo_injected
    results["total_s"] = round(time.perf_counter() - started, 1)
    results["total_cpu_s"] = round(time.process_time() - cpu_started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "anomalies.json").write_text(json.dumps(results, indent=2) + "\n")
    manifests = {"synthetic": synth_manifest, "demo": demo_manifest}
    (args.out / "anomalies_manifest.json").write_text(json.dumps(manifests, indent=1) + "\n")
    for panel in ("synthetic", "demo"):
        print(f"\n{panel}: {results[panel]['timings']}")
        print(
            f"{'system':<75} {'rec':>5} {'spike':>5} {'shift':>5} {'drift':>5} {'prec':>5} {'n':>5}"
        )
        for name, r in results[panel]["systems"].items():
            print(
                f"{name:<75} {r['recall']:>5} {r['recall_spike']!s:>5} "
                f"{r['recall_level_shift']!s:>5} {r['recall_drift']!s:>5} "
                f"{r['precision']!s:>5} {r['flagged_days']:>5}"
            )
    print(f"\ntotal {results['total_s']} s wall, {results['total_cpu_s']} s CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
