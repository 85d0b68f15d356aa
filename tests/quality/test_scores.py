"""Quality score arithmetic: shares of readings, closure consistency, weights, status bands."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from quality.scores import compute_scores, consistency
from quality.scoring import scoring_window

DAY = dt.date(2025, 7, 3)
BANDS = pd.DataFrame([{"site_id": "s", "excellent_min": 95.0, "good_min": 85.0, "fair_min": 70.0}])


def _counts(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "site_id": "s",
        "day": DAY,
        "scope": "meter",
        "scope_id": "FT-1",
        "is_closed": True,
        "n_meters": 1,
        "n_expected": 96,
        "n_received": 96,
        "n_invalid": 0,
        "n_late": 0,
        "n_redundant": 0,
        "n_disagreeing": 0,
        "n_gap": 0,
        "n_duplicate": 0,
        "n_estimated": 0,
        "n_prolonged": 0,
    }
    row.update(overrides)
    return row


def _score(rows: list[dict[str, object]], site_error=None, node_error=None) -> pd.DataFrame:
    sites = pd.DataFrame(
        [
            {
                "site_id": "s",
                "day": DAY,
                "closure_error_pct": site_error,
                "closure_threshold_pct": 5.0,
            }
        ]
    )
    nodes = pd.DataFrame(
        [
            {
                "site_id": "s",
                "node_id": "dam",
                "day": DAY,
                "balance_error_pct": node_error,
                "balance_threshold_pct": 10.0,
            }
        ]
    )
    return compute_scores(pd.DataFrame(rows), sites, nodes, BANDS).set_index("scope_id")


def test_a_six_hour_gap_on_a_15_minute_meter_is_75_pct_complete():
    scores = _score([_counts(n_received=72, n_gap=24, n_estimated=24)])
    row = scores.loc["FT-1"]
    assert row["completeness_score"] == 75.0
    assert row["validity_score"] == 100.0
    assert row["estimated_pct"] == 25.0
    # completeness and validity weigh 0.3 each, timeliness 0.1; consistency and redundancy do
    # not apply to a single meter: (0.3 * 75 + 0.4 * 100) / 0.7
    assert row["overall_score"] == pytest.approx(round((0.3 * 75 + 0.4 * 100) / 0.7, 2))
    assert row["consistency_score"] != row["consistency_score"]  # NaN: not applicable
    assert row["status"] == "good"


def test_validity_timeliness_and_redundancy_are_shares_of_received_readings():
    scores = _score(
        [_counts(n_received=80, n_invalid=8, n_late=20, n_redundant=80, n_disagreeing=4)]
    )
    row = scores.loc["FT-1"]
    assert row["completeness_score"] == pytest.approx(100 * 80 / 96, abs=0.01)
    assert row["validity_score"] == 90.0
    assert row["timeliness_score"] == 75.0
    assert row["redundancy_score"] == 95.0


def test_a_meter_that_sent_nothing_scores_zero_and_poor():
    row = _score([_counts(n_received=0)]).loc["FT-1"]
    assert row["completeness_score"] == 0.0
    assert pd.isna(row["validity_score"]) and pd.isna(row["timeliness_score"])
    assert row["overall_score"] == 0.0
    assert row["status"] == "poor"


def test_more_readings_than_expected_do_not_push_completeness_past_100():
    assert _score([_counts(n_received=100)]).loc["FT-1"]["completeness_score"] == 100.0


def test_consistency_loses_25_points_per_threshold_of_closure_error():
    errors = pd.Series([0.0, -2.5, 5.0, 10.0, 40.0, None])
    result = consistency(errors, pd.Series([5.0] * 6))
    assert result.tolist()[:5] == [100.0, 87.5, 75.0, 50.0, 0.0]
    assert pd.isna(result.iloc[5])


def test_site_and_node_rows_take_their_balance_closure():
    rows = [
        _counts(scope="site", scope_id="s", n_meters=3, n_expected=288, n_received=288),
        _counts(scope="node", scope_id="dam", n_meters=2, n_expected=192, n_received=192),
    ]
    scores = _score(rows, site_error=2.5, node_error=-20.0)
    assert scores.loc["s"]["consistency_score"] == 87.5
    assert scores.loc["s"]["closure_error_pct"] == 2.5
    assert scores.loc["dam"]["consistency_score"] == 50.0
    # dam: (0.3 + 0.3 + 0.1) * 100 + 0.15 * 50, over weights 0.85
    assert scores.loc["dam"]["overall_score"] == pytest.approx(round(77.5 / 0.85, 2))


@pytest.mark.parametrize(
    ("received", "status"), [(96, "excellent"), (80, "good"), (60, "fair"), (20, "poor")]
)
def test_status_follows_the_site_bands(received: int, status: str):
    assert _score([_counts(n_received=received)]).loc["FT-1"]["status"] == status


def test_scoring_rescores_the_days_a_window_run_rewrote() -> None:
    # dbt's window [start - lookback, end + lookahead]: the day after the window is rewritten too
    assert scoring_window("2025-07-02", "2025-07-03", 1, 1) == (
        dt.date(2025, 7, 1),
        dt.date(2025, 7, 4),
    )
    assert scoring_window(None, "2025-07-03", 2, 0) == (None, dt.date(2025, 7, 3))
    assert scoring_window(None, None, 1, 1) == (None, None)
