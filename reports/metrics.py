"""The metric catalogue: every figure a report can show, how it is labelled and what unit it has.

Volumes are kept in m3 (as the marts hold them) and converted to the definition's unit (m3 or ML)
only for display and export; a ratio is a share 0-1 in the marts and a % in reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["volume", "pct", "tonnes", "intensity", "count"]


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    kind: Kind


_INPUTS = {
    "surface_water": "Surface water",
    "groundwater": "Groundwater",
    "sea_water": "Sea water",
    "third_party_water": "Third-party water",
    "other": "Other (incl. ore moisture)",
}
_OUTPUTS = {
    "surface_water": "Surface water (discharge)",
    "groundwater": "Groundwater (incl. seepage)",
    "sea_water": "Sea water",
    "third_party_water": "Supply to third parties",
    "evaporation": "Evaporation",
    "entrainment": "Entrainment",
    "other": "Other",
}
INPUT_CATEGORIES = tuple(_INPUTS)
OUTPUT_CATEGORIES = tuple(_OUTPUTS)
CATEGORY_LABELS = {("input", k): v for k, v in _INPUTS.items()} | {
    ("output", k): v for k, v in _OUTPUTS.items()
}

_LIST: list[Metric] = [
    Metric("inputs", "Total inputs (withdrawal)", "volume"),
    *[Metric(f"input_{k}", f"Inputs: {v}", "volume") for k, v in _INPUTS.items()],
    Metric("outputs", "Total outputs", "volume"),
    *[Metric(f"output_{k}", f"Outputs: {v}", "volume") for k, v in _OUTPUTS.items()],
    Metric("diversions", "Diversions", "volume"),
    Metric("discharge", "Discharge (licensed destinations)", "volume"),
    Metric("consumption", "Consumption (evaporation, entrainment, other)", "volume"),
    Metric("opening_storage", "Storage at period start", "volume"),
    Metric("closing_storage", "Storage at period end", "volume"),
    Metric("storage_change", "Change in storage", "volume"),
    Metric("closure_error", "Balance closure error", "volume"),
    Metric("closure_error_pct", "Balance closure error (% of inputs)", "pct"),
    Metric("closure_error_abs_pct", "Absolute closure error (% of inputs)", "pct"),
    Metric("task_feed", "Water fed to tasks", "volume"),
    Metric("task_feed_raw", "Task feed: raw water", "volume"),
    Metric("reused", "Reused (worked water to tasks)", "volume"),
    Metric("recycled", "Recycled (treated water to tasks)", "volume"),
    Metric("reuse_pct", "Reuse efficiency", "pct"),
    Metric("recycling_pct", "Recycling efficiency", "pct"),
    Metric("ore_feed_t", "Ore processed", "tonnes"),
    Metric("water_intensity_m3_per_t", "Water intensity (m³ withdrawn per t of ore)", "intensity"),
    Metric("input_measured_pct", "Inputs measured", "pct"),
    Metric("input_estimated_pct", "Inputs estimated", "pct"),
    Metric("input_simulated_pct", "Inputs simulated", "pct"),
    Metric("output_measured_pct", "Outputs measured", "pct"),
    Metric("output_estimated_pct", "Outputs estimated", "pct"),
    Metric("output_simulated_pct", "Outputs simulated", "pct"),
    Metric("n_days", "Days with data", "count"),
    Metric("n_days_incomplete", "Days with an incomplete balance", "count"),
    Metric("n_flow_days_missing", "Flow-days without a volume", "count"),
]
METRICS: dict[str, Metric] = {m.key: m for m in _LIST}


def unit_label(metric: Metric, unit: str) -> str:
    return {"volume": unit, "pct": "%", "tonnes": "t", "intensity": "m3/t", "count": ""}[
        metric.kind
    ]


def to_unit(metric: Metric, value: float | None, unit: str) -> float | None:
    """Value in the report's unit (volumes in m3 or ML; everything else unchanged)."""
    if value is None or metric.kind != "volume" or unit == "m3":
        return value
    return value / 1000.0


def fmt(value: float | None, kind: str, unit: str = "m3") -> str:
    """Display text of a figure (PDF): thin grouping, ML to 1 decimal, m3 to the unit."""
    if value is None:
        return "n/a"
    digits = {"volume": 1 if unit == "ML" else 0, "pct": 2, "intensity": 3}.get(kind, 0)
    if abs(value) < 0.5 * 10**-digits:
        value = 0.0  # never print "-0.00"
    if kind == "volume":
        return f"{value:,.1f}" if unit == "ML" else f"{value:,.0f}"
    if kind == "pct":
        return f"{value:.2f}"
    if kind == "intensity":
        return f"{value:.3f}"
    if kind in ("tonnes", "count"):
        return f"{value:,.0f}"
    return str(value)
