"""Anomaly detection on the deseasonalised residual: spikes, pattern breaks, causes, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.anomalies import (
    ANOMALY_COLUMNS,
    STATUS_COLUMNS,
    AnomalyConfig,
    detect,
    detect_with_status,
    severity,
)

START = pd.Timestamp("2024-07-01")
SD = 200.0  # marginal sd of the AR(1) noise


def series(
    series_id: str = "site/flow/a/volume_m3",
    seed: int = 0,
    days: int = 730,
    annual: float = 1_500.0,
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    index = pd.date_range(START, periods=days, freq="D")
    noise = np.zeros(days)
    noise[0] = rng.normal(0, SD)
    for k in range(1, days):
        noise[k] = 0.5 * noise[k - 1] + rng.normal(0, SD * np.sqrt(0.75))
    weekend = np.asarray(index.day_of_week >= 5)
    y = 9_000 + 0.8 * t + annual * np.sin(2 * np.pi * t / 365.25) - 300 * weekend + noise
    return pd.DataFrame({"series_id": series_id, "day": index, "value": y})


def bump(frame: pd.DataFrame, first: int, size_sd: float, length: int = 1) -> pd.DataFrame:
    out = frame.copy()
    out.loc[first : first + length - 1, "value"] += size_sd * SD
    return out


def robust_z_only() -> AnomalyConfig:
    return AnomalyConfig(methods=("robust_z", "pattern_break"))


@pytest.mark.parametrize("size", [6.0, -7.0])
def test_a_spike_is_found_on_its_day_with_its_direction_and_size(size: float) -> None:
    found = detect(bump(series(), 400, size))
    assert list(found.columns) == ANOMALY_COLUMNS
    row = found[found.day == START + pd.Timedelta(days=400)]
    assert len(row) == 1
    row = row.iloc[0]
    assert row.direction == ("high" if size > 0 else "low")
    assert row.pattern == "spike"
    assert abs(row.deviation_sigma - size) < 1.5
    assert "robust_z" in row.methods.split(",")
    assert row.severity >= 2
    assert row.suggested_cause == "unexplained"
    assert abs(row.expected - (row.value - size * SD)) < 2 * SD


def test_clean_seasonal_series_raise_few_false_alarms() -> None:
    panel = pd.concat([series(f"s{i}", seed=20 + i) for i in range(4)], ignore_index=True)
    found, status = detect_with_status(panel)
    assert (status.status == "ok").all()
    # 4 series x 730 days: a Gaussian tail beyond 4 sigma is ~0.2 days; allow a few
    assert len(found) <= 4, found[["series_id", "day", "deviation_sigma", "methods"]]


def test_the_seeds_trailing_three_sigma_misses_what_the_residual_z_finds() -> None:
    # strongly seasonal: the annual swing is 20 x the noise, the spike 6 x the noise
    frame = bump(series(annual=4_000.0), 500, 6.0)
    day = START + pd.Timedelta(days=500)
    legacy = detect(frame, config=AnomalyConfig(methods=("rolling_3sigma",)))
    residual = detect(frame, config=robust_z_only())
    assert day not in set(legacy.day)
    assert day in set(residual.day)


def test_consecutive_outliers_are_one_pattern_break() -> None:
    frame = bump(series(), 300, 3.2, length=5)
    found = detect(frame, config=robust_z_only())
    in_run = found[
        (found.day >= START + pd.Timedelta(days=298))
        & (found.day <= START + pd.Timedelta(days=306))
    ]
    assert len(in_run) == 1
    row = in_run.iloc[0]
    assert row.pattern == "pattern_break"
    assert row.methods.split(",")[0] == "pattern_break"
    assert row.run_days >= 3
    assert row.direction == "high"
    assert row.severity >= 2


def test_a_long_shift_is_a_level_shift_on_its_change_point() -> None:
    frame = bump(series(seed=5), 350, 3.5, length=45)
    found = detect(frame, config=robust_z_only())
    near = found[(found.day - (START + pd.Timedelta(days=350))).abs() <= pd.Timedelta(days=7)]
    assert not near.empty
    assert set(near.pattern) == {"level_shift"}
    assert set(near.suggested_cause) == {"operational_change"}
    assert "change point on" in near.iloc[0].cause_evidence


@pytest.mark.parametrize(
    ("kind", "cause"),
    [
        ("vee_flag", "sensor"),
        ("redundancy_disagreement", "sensor"),
        ("manual_source", "data_entry"),
    ],
)
def test_evidence_suggests_the_cause(kind: str, cause: str) -> None:
    frame = bump(series(), 200, -8.0)
    day = START + pd.Timedelta(days=200)
    evidence = pd.DataFrame(
        {"series_id": [frame.series_id[0]], "day": [day], "kind": [kind], "detail": ["x"]}
    )
    row = detect(frame, evidence=evidence, config=robust_z_only()).set_index("day").loc[day]
    assert row.suggested_cause == cause
    assert row.cause_evidence.startswith(kind)


def test_manual_source_without_a_day_applies_to_every_day() -> None:
    frame = bump(series(), 200, -8.0)
    evidence = pd.DataFrame(
        {"series_id": [frame.series_id[0]], "kind": ["manual_source"], "detail": ["log sheet"]}
    )
    found = detect(frame, evidence=evidence, config=robust_z_only())
    assert set(found.suggested_cause) == {"data_entry"}


def test_sensor_evidence_outranks_a_change_point() -> None:
    frame = bump(series(seed=5), 350, 3.5, length=45)
    first = START + pd.Timedelta(days=350)
    evidence = pd.DataFrame(
        {
            "series_id": frame.series_id[0],
            "day": pd.date_range(first, periods=45, freq="D"),
            "kind": "vee_flag",
            "detail": "estimated",
        }
    )
    found = detect(frame, evidence=evidence, config=robust_z_only())
    near = found[(found.day - first).abs() <= pd.Timedelta(days=7)]
    assert set(near.suggested_cause) == {"sensor"}


def test_bad_series_give_status_rows_and_no_anomalies() -> None:
    days = pd.date_range(START, periods=200, freq="D")
    good = bump(series("good"), 400, 8.0)
    with_inf = bump(series("with_inf", seed=3), 400, 8.0)
    with_inf.loc[100:104, "value"] = np.inf
    with_inf.loc[105, "value"] = -np.inf
    bad = pd.concat(
        [
            good,
            with_inf,
            pd.DataFrame({"series_id": "short", "day": days[:30], "value": 1.0 + days[:30].day}),
            pd.DataFrame({"series_id": "constant", "day": days, "value": 42.0}),
            pd.DataFrame({"series_id": "all_nan", "day": days, "value": np.nan}),
            pd.DataFrame({"series_id": "all_inf", "day": days, "value": np.inf}),
        ],
        ignore_index=True,
    )
    found, status = detect_with_status(bad)
    assert list(status.columns) == STATUS_COLUMNS
    by_id = status.set_index("series_id")
    assert by_id.loc["good", "status"] == "ok"
    assert by_id.loc["with_inf", "status"] == "ok"
    assert by_id.loc["with_inf", "n_days"] == 724
    assert by_id.loc["short", "status"] == "too_short"
    assert by_id.loc["short", "n_days"] == 30
    assert by_id.loc["constant", "status"] == "constant"
    assert by_id.loc["all_nan", "status"] == "no_data"
    assert by_id.loc["all_inf", "status"] == "no_data"
    assert set(found.series_id) <= {"good", "with_inf"}
    assert (START + pd.Timedelta(days=400)) in set(found[found.series_id == "with_inf"].day)
    assert found[found.series_id == "with_inf"].value.map(np.isfinite).all()


def test_on_off_series_are_intermittent_unless_asked() -> None:
    frame = bump(series("pump"), 400, 8.0)
    frame.loc[frame.index % 3 == 0, "value"] = 0.0
    found, status = detect_with_status(frame)
    assert found.empty
    assert status.status.tolist() == ["intermittent"]
    checked = detect_with_status(frame, config=AnomalyConfig(max_zero_share=None))[1]
    assert checked.status.tolist() == ["ok"]


def test_empty_input_gives_empty_frames() -> None:
    empty = pd.DataFrame({"series_id": [], "day": pd.to_datetime([]), "value": []})
    found, status = detect_with_status(empty)
    assert found.empty and list(found.columns) == ANOMALY_COLUMNS
    assert status.empty and list(status.columns) == STATUS_COLUMNS


def test_isolation_forest_is_deterministic() -> None:
    frame = bump(series(seed=9), 250, 5.0)
    config = AnomalyConfig(methods=("isolation_forest",), isolation_min_sigma=0.0)
    first = detect(frame, config=config)
    second = detect(frame, config=config)
    assert not first.empty
    pd.testing.assert_frame_equal(first, second)


def test_severity_bands() -> None:
    assert severity(4.2, run=False, agreeing_detectors=1) == 2
    assert severity(-7.0, run=False, agreeing_detectors=1) == 3
    assert severity(3.0, run=True, agreeing_detectors=1) == 2
    assert severity(20.0, run=True, agreeing_detectors=2) == 5
    assert severity(5.0, run=False, agreeing_detectors=2) == 3


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown anomaly methods"):
        AnomalyConfig(methods=("robust_z", "vote"))
