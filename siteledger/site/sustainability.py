"""Sustainability scoring of a site: the index's components and weights, and the site's goals.

The metrics are computed by dbt (``marts/sustainability``); this module only holds what the site
file declares about them. Each metric is a ratio of daily sums (a numerator over a denominator),
so a 30-day or monthly value is the ratio of the period's sums, never a mean of daily ratios.

A component scores a metric from 0 to 100 between the site's ``worst`` and ``best`` value,
linearly and clipped; the index is the weighted mean of the components that have data. The
default bounds are starting points to replace with the site's own benchmarks: they are not
published standards.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from difflib import get_close_matches

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from siteledger.site.identifiers import Identifier


@dataclass(frozen=True)
class SustainabilityMetric:
    name: str
    unit: str
    lower_is_better: bool
    description: str


SUSTAINABILITY_METRICS: dict[str, SustainabilityMetric] = {
    m.name: m
    for m in (
        SustainabilityMetric(
            "water_intensity_m3_per_t",
            "m3/t",
            True,
            "water received (WAF inputs) per tonne of ore processed",
        ),
        SustainabilityMetric(
            "fresh_water_intensity_m3_per_t",
            "m3/t",
            True,
            "raw (fresh) water fed to tasks per tonne of ore processed, by volume mixing",
        ),
        SustainabilityMetric(
            "recycling_ratio_pct",
            "%",
            False,
            "worked and treated water fed to tasks as a share of all water fed to tasks",
        ),
        SustainabilityMetric(
            "reuse_ratio_pct",
            "%",
            False,
            "worked water fed to tasks without treatment as a share of all water fed to tasks",
        ),
        SustainabilityMetric(
            "carbon_kg_per_m3",
            "kg CO2e/m3",
            True,
            "scope 1 and 2 of metered pumping and treatment per m3 the metered pumps moved",
        ),
        SustainabilityMetric(
            "aqi",
            "AQI",
            True,
            "daily US EPA air quality index of the site's worst monitor",
        ),
    )
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _known_metric(value: str) -> str:
    if value not in SUSTAINABILITY_METRICS:
        hint = get_close_matches(value, list(SUSTAINABILITY_METRICS), n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise ValueError(
            f"unknown sustainability metric {value!r}{extra}; "
            f"one of {sorted(SUSTAINABILITY_METRICS)}"
        )
    return value


class Component(_Model):
    """One term of the index: a metric scored 0 at ``worst`` and 100 at ``best``."""

    metric: str
    weight: float = Field(..., ge=0, description="relative weight; weights need not add to 1")
    best: float = Field(..., description="value that scores 100 (and anything better)")
    worst: float = Field(..., description="value that scores 0 (and anything worse)")

    _metric = field_validator("metric")(_known_metric)

    @model_validator(mode="after")
    def _bounds(self) -> Component:
        if self.best == self.worst:
            raise ValueError(f"{self.metric}: best and worst are both {self.best}")
        lower = SUSTAINABILITY_METRICS[self.metric].lower_is_better
        if lower and self.best > self.worst:
            raise ValueError(f"{self.metric} is better when lower: best must be below worst")
        if not lower and self.best < self.worst:
            raise ValueError(f"{self.metric} is better when higher: best must be above worst")
        return self


def default_components() -> list[Component]:
    return [
        Component(metric="fresh_water_intensity_m3_per_t", weight=1.0, best=0.2, worst=1.2),
        Component(metric="recycling_ratio_pct", weight=1.0, best=80.0, worst=20.0),
        Component(metric="carbon_kg_per_m3", weight=1.0, best=0.2, worst=2.0),
        Component(metric="aqi", weight=1.0, best=50.0, worst=150.0),
    ]


class Goal(_Model):
    """A target for one metric by a date, with the person who owns it."""

    id: Identifier
    metric: str
    target: float
    start: datetime.date = Field(..., description="day the goal was set; progress counts from it")
    due: datetime.date
    owner: str = Field(..., min_length=1)
    baseline: float | None = Field(
        None, description="the metric when the goal was set; default: the 30 days before start"
    )
    description: str = ""

    _metric = field_validator("metric")(_known_metric)

    @model_validator(mode="after")
    def _dates(self) -> Goal:
        if self.due <= self.start:
            raise ValueError(f"goal {self.id!r}: due {self.due} is not after start {self.start}")
        if self.baseline is not None and self.baseline == self.target:
            raise ValueError(f"goal {self.id!r}: the baseline already equals the target")
        return self


class SustainabilitySettings(_Model):
    components: list[Component] = Field(default_factory=default_components)
    goals: list[Goal] = Field(default_factory=list)
    at_risk_margin_pct: float = Field(
        10.0,
        gt=0,
        le=100,
        description="a goal this many points of progress behind its straight path is at risk; "
        "further behind is off track",
    )

    @model_validator(mode="after")
    def _unique(self) -> SustainabilitySettings:
        metrics = [c.metric for c in self.components]
        twice = sorted({m for m in metrics if metrics.count(m) > 1})
        if twice:
            raise ValueError(f"components list a metric twice: {', '.join(twice)}")
        if self.components and sum(c.weight for c in self.components) <= 0:
            raise ValueError("component weights add up to zero")
        ids = [g.id for g in self.goals]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"goal ids appear twice: {', '.join(twice)}")
        return self
