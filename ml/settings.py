"""What the analytics forecast, simulate and scan, and how: ``$SITELEDGER_HOME/analytics.yaml``.

Every key is optional; the defaults are the measured ones of docs/forecasts.md,
docs/overflow-and-scenarios.md and docs/anomalies.md. A file with problems is refused with
``file:line: key: reason`` for each, like a site file.

Forecast targets are selectors over the daily metric mart (``fct_metric_daily``): a scope
(``site``, ``node``, ``flow``, or a scope a later domain adds), a metric, and optionally the ids.
The defaults forecast every store's volume 90 days ahead and each site's water demand 30 days
ahead, for sites with an energy section the diesel burned, the energy cost and each load's
demand 30 days ahead, and for sites with a materials section each material's daily issued
quantity and unit cost 30 days ahead; a domain adds its own by adding a target. Solar
production is forecast by its own model (``ml.solar``: clear sky times the season's clear-sky
index), ``solar:``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from siteledger.site.loader import SiteConfigError, parse_model_text, read_config_text

SETTINGS_FILE = "analytics.yaml"
AnomalyMethod = Literal["robust_z", "pattern_break", "isolation_forest", "rolling_3sigma"]
DEFAULT_ANOMALY_METHODS: tuple[AnomalyMethod, ...] = (
    "robust_z",
    "pattern_break",
    "isolation_forest",
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ForecastTarget(_Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    scope: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    metric: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    ids: list[str] | None = Field(None, description="scope ids to forecast; every one when unset")
    horizon_days: int = Field(ge=1, le=366)
    use_rain: bool = True
    rain_decay: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="0: the day's own rain; d: rain stored as F_t = d F_(t-1) + rain_t (a store "
        "drains its catchment over days; 0.93 measured best on the demo stores)",
    )


DEFAULT_TARGETS = (
    ForecastTarget(
        name="store_volume",
        scope="node",
        metric="closing_storage_m3",
        horizon_days=90,
        rain_decay=0.93,
    ),
    ForecastTarget(name="site_demand", scope="site", metric="demand_m3", horizon_days=30),
    # the energy domain's (a site without an energy section has none of these series): the
    # diesel burned and the energy bill 30 days ahead, and each load's demand
    ForecastTarget(
        name="site_fuel", scope="site", metric="fuel_l", horizon_days=30, use_rain=False
    ),
    ForecastTarget(
        name="site_energy_cost",
        scope="site",
        metric="energy_cost",
        horizon_days=30,
        use_rain=False,
    ),
    ForecastTarget(
        name="load_demand", scope="load", metric="energy_kwh", horizon_days=30, use_rain=False
    ),
    # the materials domain's (a site without a materials section has none): each material's
    # daily issued quantity and the FIFO cost per unit of its stock, 30 days ahead
    ForecastTarget(
        name="material_demand",
        scope="material",
        metric="issued_qty",
        horizon_days=30,
        use_rain=False,
    ),
    ForecastTarget(
        name="material_unit_cost",
        scope="material",
        metric="unit_cost",
        horizon_days=30,
        use_rain=False,
    ),
)


class SolarSettings(_Model):
    """Solar production forecasts of the PV arrays in the site files (``ml.solar``)."""

    enabled: bool = True
    horizon_days: int = Field(30, ge=1, le=366)
    season_window_days: int = Field(
        15, ge=1, le=183, description="days either side of the day of year the index is drawn from"
    )
    min_season_days: int = Field(
        20, ge=1, description="fewer days than this in the season window: use the whole history"
    )
    min_history_days: int = Field(30, ge=7)
    backtest_origins: int = Field(6, ge=1, le=24)
    backtest_step_days: int = Field(30, ge=1)


class ForecastSettings(_Model):
    targets: list[ForecastTarget] = Field(default_factory=lambda: list(DEFAULT_TARGETS))
    min_history_days: int = Field(120, ge=30)
    training_days: int = Field(730, ge=60)
    retrain_every_days: int = Field(30, ge=1)
    backtest_origins: int = Field(6, ge=1, le=24)
    backtest_step_days: int = Field(30, ge=1)
    rain_paths: int = Field(200, ge=1, le=5000)
    solar: SolarSettings = Field(default_factory=SolarSettings)


class OverflowSettings(_Model):
    n_paths: int = Field(20_000, ge=100, le=1_000_000)
    horizon_days: int = Field(90, ge=1, le=366)
    scenario_paths: int = Field(2_000, ge=100, le=100_000)
    seed: int = 0


class AnomalySettings(_Model):
    scopes: list[str] = Field(default_factory=lambda: ["flow", "site"])
    metrics: list[str] = Field(
        default_factory=lambda: ["volume_m3", "demand_m3", "inputs_m3", "outputs_m3"]
    )
    robust_z_threshold: float = Field(4.0, gt=0)
    isolation_contamination: float = Field(0.01, gt=0, le=0.5)
    workers: int = Field(2, ge=1, le=64, description="processes the series are split over")
    methods: list[AnomalyMethod] = Field(default_factory=lambda: list(DEFAULT_ANOMALY_METHODS))


class DecompositionSettings(_Model):
    metrics: list[str] = Field(
        default_factory=lambda: ["closing_storage_m3", "demand_m3", "inputs_m3", "outputs_m3"]
    )


class AnalyticsSettings(_Model):
    forecasts: ForecastSettings = Field(default_factory=ForecastSettings)
    decomposition: DecompositionSettings = Field(default_factory=DecompositionSettings)
    overflow: OverflowSettings = Field(default_factory=OverflowSettings)
    anomalies: AnomalySettings = Field(default_factory=AnomalySettings)
    scenarios_dir: str = Field("scenarios", description="folder of scenario files, in the home")


def load_analytics_settings(home: Path) -> AnalyticsSettings:
    """The home's ``analytics.yaml``, or the defaults when there is none; raises
    :class:`SiteConfigError` listing every problem of a bad file."""
    path = home / SETTINGS_FILE
    if not path.exists():
        return AnalyticsSettings()
    return parse_model_text(read_config_text(path), AnalyticsSettings, str(path))


__all__ = [
    "AnalyticsSettings",
    "ForecastTarget",
    "SiteConfigError",
    "load_analytics_settings",
]
