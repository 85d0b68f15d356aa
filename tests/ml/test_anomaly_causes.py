"""A day the plant stood still explains what its flows did: the anomaly is flagged with the
cause ``plant_stopped`` and the ore fed that day as evidence, not left unexplained."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.anomalies import AnomalyConfig, detect_with_status
from ml.service import plant_stopped_evidence
from ml.settings import AnalyticsSettings

STOP = 150


def _metrics() -> pd.DataFrame:
    rng = np.random.default_rng(9)
    days = pd.date_range("2025-01-01", periods=240, freq="D")
    plant = 18_000 + rng.normal(0, 300, 240)
    ore = 29_000 + rng.normal(0, 500, 240)
    spike = 500 + rng.normal(0, 10, 240)
    plant[STOP], ore[STOP] = 480.0, 0.0
    spike[60] = 900.0  # a day the plant ran as usual
    rows = []
    for scope, scope_id, metric, values in (
        ("flow", "pwd_to_plant", "volume_m3", plant),
        ("flow", "rwd_to_dust", "volume_m3", spike),
        ("site", "s1", "ore_t", ore),
    ):
        for day, value in zip(days, values, strict=True):
            rows.append(("s1", scope, scope_id, metric, day, float(value)))
    frame = pd.DataFrame(rows, columns=["site_id", "scope", "scope_id", "metric", "day", "value"])
    frame["series_id"] = (
        frame["site_id"] + "/" + frame["scope"] + "/" + frame["scope_id"] + "/" + frame["metric"]
    )
    return frame


def test_a_stopped_plant_explains_its_flows_and_nothing_else() -> None:
    metrics = _metrics()
    evidence = plant_stopped_evidence(metrics, AnalyticsSettings())
    stop_day = pd.Timestamp("2025-01-01") + pd.Timedelta(days=STOP)
    # one row per scanned series of the site on the stopped day (ore itself is not scanned)
    assert set(evidence["day"]) == {stop_day}
    assert set(evidence["series_id"]) == {
        "s1/flow/pwd_to_plant/volume_m3",
        "s1/flow/rwd_to_dust/volume_m3",
    }
    flows = metrics[metrics["scope"] == "flow"][["series_id", "day", "value"]]
    anomalies, _ = detect_with_status(flows, evidence, None, AnomalyConfig())
    plant = anomalies[anomalies["series_id"] == "s1/flow/pwd_to_plant/volume_m3"]
    (row,) = plant[plant["day"] == stop_day].itertuples(index=False)
    assert row.suggested_cause == "plant_stopped" and row.direction == "low"
    assert "ore fed 0 t" in row.cause_evidence
    dust = anomalies[anomalies["series_id"] == "s1/flow/rwd_to_dust/volume_m3"]
    (spike,) = dust[dust["day"] == pd.Timestamp("2025-01-01") + pd.Timedelta(days=60)].itertuples(
        index=False
    )
    assert spike.suggested_cause == "unexplained"
