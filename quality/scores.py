"""Quality scores 0-100 per meter, node and site day, from the counts dbt computes.

The inputs are rows of ``intermediate.int_quality_counts_daily`` (readings expected, received,
invalid, late, redundant, in disagreement, estimated) and the daily closures of the balance
marts. Each component is a share of readings; a component that does not apply (no readings
received, no redundant partner, no balance for the scope) is null and left out of the overall
score, whose weights are re-normalised over the components present.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COMPONENTS = (
    "completeness_score",
    "validity_score",
    "timeliness_score",
    "consistency_score",
    "redundancy_score",
)
# Completeness and validity decide whether a number can be trusted at all; timeliness matters
# for operations more than for the record; consistency and redundancy cross-check the rest.
WEIGHTS = {
    "completeness_score": 0.30,
    "validity_score": 0.30,
    "timeliness_score": 0.10,
    "consistency_score": 0.15,
    "redundancy_score": 0.15,
}
# A closure error of one threshold costs 25 points: at the threshold the score is 75 ("fair"
# with the default bands), at 4 thresholds or more it is 0.
CONSISTENCY_POINTS_PER_THRESHOLD = 25.0
STATUSES = ("excellent", "good", "fair", "poor")

SCORE_COLUMNS = [
    "site_id",
    "day",
    "scope",
    "scope_id",
    *COMPONENTS,
    "overall_score",
    "status",
    "is_closed",
    "n_meters",
    "n_expected",
    "n_received",
    "n_invalid",
    "n_late",
    "n_estimated",
    "n_prolonged",
    "estimated_pct",
    "closure_error_pct",
]


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    """100 * part / whole, null where whole is 0."""
    whole = whole.astype("float64")
    return (100.0 * part.astype("float64") / whole.where(whole > 0)).clip(0.0, 100.0)


def consistency(error_pct: pd.Series, threshold_pct: pd.Series) -> pd.Series:
    """Closure consistency: 100 at a closed balance, minus 25 per threshold of error, >= 0."""
    ratio = error_pct.abs() / threshold_pct.where(threshold_pct > 0)
    return (100.0 - CONSISTENCY_POINTS_PER_THRESHOLD * ratio).clip(lower=0.0)


def status_of(overall: pd.Series, bands: pd.DataFrame) -> pd.Series:
    """excellent / good / fair / poor by the site's bands (columns excellent_min, good_min,
    fair_min, aligned with ``overall``); null where the overall score is null."""
    status = np.select(  # type: ignore[call-overload]  # numpy's stubs refuse default=None
        [
            overall >= bands["excellent_min"],
            overall >= bands["good_min"],
            overall >= bands["fair_min"],
            overall.notna(),
        ],
        list(STATUSES),
        default=None,
    )
    return pd.Series(status, index=overall.index, dtype="object")


def compute_scores(
    counts: pd.DataFrame,
    site_closures: pd.DataFrame,
    node_closures: pd.DataFrame,
    bands: pd.DataFrame,
) -> pd.DataFrame:
    """One score row per row of ``counts``.

    ``site_closures``: site_id, day, closure_error_pct, closure_threshold_pct.
    ``node_closures``: site_id, node_id, day, balance_error_pct, balance_threshold_pct.
    ``bands``: site_id, excellent_min, good_min, fair_min.
    """
    out = counts.copy()
    out["completeness_score"] = _share(
        np.minimum(out["n_received"], out["n_expected"]), out["n_expected"]
    ).fillna(0.0)
    out["validity_score"] = _share(out["n_received"] - out["n_invalid"], out["n_received"])
    out["timeliness_score"] = _share(out["n_received"] - out["n_late"], out["n_received"])
    out["redundancy_score"] = _share(out["n_redundant"] - out["n_disagreeing"], out["n_redundant"])
    out["estimated_pct"] = _share(out["n_estimated"], out["n_expected"]).fillna(0.0)

    sites = site_closures.rename(
        columns={"closure_error_pct": "error_pct", "closure_threshold_pct": "threshold_pct"}
    ).assign(scope="site")
    sites["scope_id"] = sites["site_id"]
    nodes = node_closures.rename(
        columns={
            "node_id": "scope_id",
            "balance_error_pct": "error_pct",
            "balance_threshold_pct": "threshold_pct",
        }
    ).assign(scope="node")
    closures = pd.concat(
        [
            sites[["site_id", "day", "scope", "scope_id", "error_pct", "threshold_pct"]],
            nodes[["site_id", "day", "scope", "scope_id", "error_pct", "threshold_pct"]],
        ],
        ignore_index=True,
    )
    out = out.merge(closures, on=["site_id", "day", "scope", "scope_id"], how="left")
    out["consistency_score"] = consistency(
        out["error_pct"].astype("float64"), out["threshold_pct"].astype("float64")
    )
    out["closure_error_pct"] = out["error_pct"].astype("float64")

    components = out[list(COMPONENTS)].astype("float64")
    weights = pd.Series(WEIGHTS)[list(COMPONENTS)]
    present = components.notna()
    weighted = (components.fillna(0.0) * weights).sum(axis=1)
    total = (present * weights).sum(axis=1)
    out["overall_score"] = (weighted / total.where(total > 0)).round(2)
    for column in COMPONENTS:
        out[column] = out[column].astype("float64").round(2)
    out["estimated_pct"] = out["estimated_pct"].round(3)

    site_bands = out[["site_id"]].merge(bands, on="site_id", how="left")
    site_bands.index = out.index
    out["status"] = status_of(out["overall_score"], site_bands)
    return out[SCORE_COLUMNS]
