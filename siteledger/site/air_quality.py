"""Air quality settings of a site (``air_quality:`` in the site file): which meters are the dust
monitors and the weather station, which flows carry dust-suppression water, the PM10 level a
forecast warns at, and the AQI edition the daily index follows (docs/air-quality.md).

Structure is checked by pydantic; cross-references (unknown meters and flows, a meter of the
wrong measurand) by :func:`air_quality_problems`, which ``semantic_problems`` calls.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from siteledger.site.identifiers import Identifier

if TYPE_CHECKING:
    from siteledger.site.models import SiteConfig


# US NAAQS primary and secondary 24-hour PM10 standard, 150 ug/m3 (40 CFR 50.6), unchanged by the
# 2024 PM NAAQS reconsideration (89 FR 16202, effective 6 May 2024)
NAAQS_PM10_24H_UG_M3 = 150.0
# US EPA AQI editions: the Technical Assistance Document for the Reporting of Daily Air Quality,
# EPA-454/B-24-002 (May 2024, current) and EPA-454/B-18-007 (September 2018, superseded on
# 6 May 2024); they differ in the PM2.5 breakpoints and the top of the PM10 table
AqiEdition = Literal["us_epa_2024", "us_epa_2018"]
# EPA data completeness for a 24-hour PM average: at least 75 % of the hours (18 of 24)
MIN_COMPLETENESS_PCT = 75.0


class _AirModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class AirMonitor(_AirModel):
    """One monitoring location and its particulate meters."""

    id: Identifier = Field(description="the monitoring location (e.g. the fence line downwind)")
    name: str = ""
    pm10_meter: Identifier | None = Field(None, description="a pm10 meter")
    pm25_meter: Identifier | None = Field(None, description="a pm25 meter")

    @model_validator(mode="after")
    def _measures_something(self) -> AirMonitor:
        if self.pm10_meter is None and self.pm25_meter is None:
            raise ValueError(f"monitor {self.id!r} needs pm10_meter, pm25_meter or both")
        return self


class WeatherStation(_AirModel):
    """The meters that describe the weather the dust travels in."""

    wind_speed_meter: Identifier | None = Field(None, description="a wind_speed meter")
    wind_direction_meter: Identifier | None = Field(None, description="a wind_direction meter")
    humidity_meter: Identifier | None = Field(None, description="a humidity meter")


class AirQualitySettings(_AirModel):
    """``air_quality:`` of a site file; absent = no air quality analysis."""

    monitors: list[AirMonitor] = Field(default_factory=list)
    weather: WeatherStation = Field(default_factory=WeatherStation)
    dust_suppression_flows: list[Identifier] = Field(
        default_factory=list, description="flows whose water is sprayed for dust suppression"
    )
    trigger_pm10_ug_m3: float = Field(
        NAAQS_PM10_24H_UG_M3,
        gt=0,
        description="24-hour mean PM10 at or above which a day is a high dust day (forecast "
        "verification and alerts); default the US NAAQS 24-hour PM10 standard",
    )
    aqi_edition: AqiEdition = Field(
        "us_epa_2024", description="US EPA AQI breakpoints: us_epa_2024 (current) or us_epa_2018"
    )
    min_completeness_pct: float = Field(
        MIN_COMPLETENESS_PCT,
        gt=0,
        le=100,
        description="share of the day's hours with data below which no 24-hour mean or AQI is "
        "reported",
    )
    forecast_monitor: Identifier | None = Field(
        None,
        description="the monitor whose PM10 the regression and forecast use; unset = the first "
        "monitor with a pm10 meter",
    )

    @property
    def enabled(self) -> bool:
        return bool(self.monitors)

    def pm10_monitor(self) -> AirMonitor | None:
        """The monitor the analysis uses (forecast_monitor, or the first with PM10)."""
        for monitor in self.monitors:
            if self.forecast_monitor is not None and monitor.id == self.forecast_monitor:
                return monitor
        if self.forecast_monitor is not None:
            return None
        return next((m for m in self.monitors if m.pm10_meter is not None), None)

    def meter_roles(self) -> list[tuple[str, str, str | None]]:
        """(meter id, role, monitor id): role is pm10, pm25, wind_speed, wind_direction,
        humidity; the monitor is set for the particulate meters."""
        rows: list[tuple[str, str, str | None]] = []
        for monitor in self.monitors:
            if monitor.pm10_meter is not None:
                rows.append((monitor.pm10_meter, "pm10", monitor.id))
            if monitor.pm25_meter is not None:
                rows.append((monitor.pm25_meter, "pm25", monitor.id))
        for role in ("wind_speed", "wind_direction", "humidity"):
            meter = getattr(self.weather, f"{role}_meter")
            if meter is not None:
                rows.append((meter, role, None))
        return rows


# the measurand each role's meter must measure
ROLE_MEASURAND = {
    "pm10": "pm10",
    "pm25": "pm25",
    "wind_speed": "wind_speed",
    "wind_direction": "wind_direction",
    "humidity": "humidity",
}


def air_quality_problems(cfg: SiteConfig) -> list[tuple[str, str]]:
    """Cross-reference problems of ``cfg.air_quality``, as (path, reason)."""
    settings = cfg.air_quality
    problems: list[tuple[str, str]] = []
    meters = cfg.meters_by_id
    flows = {f.id for f in cfg.flows}
    monitor_ids = [m.id for m in settings.monitors]
    for monitor_id, count in Counter(monitor_ids).items():
        if count > 1:
            problems.append(
                ("air_quality.monitors", f"monitor {monitor_id!r} appears {count} times")
            )
    named: list[tuple[str, str, str | None]] = []
    for i, monitor in enumerate(settings.monitors):
        named.append((f"air_quality.monitors[{i}].pm10_meter", "pm10", monitor.pm10_meter))
        named.append((f"air_quality.monitors[{i}].pm25_meter", "pm25", monitor.pm25_meter))
    for role in ("wind_speed", "wind_direction", "humidity"):
        named.append(
            (f"air_quality.weather.{role}_meter", role, getattr(settings.weather, f"{role}_meter"))
        )
    seen: dict[str, str] = {}
    for path, role, meter_id in named:
        if meter_id is None:
            continue
        if meter_id in seen:
            problems.append((path, f"meter {meter_id!r} is already {seen[meter_id]}"))
        seen[meter_id] = path
        meter = meters.get(meter_id)
        if meter is None:
            problems.append((path, f"unknown meter {meter_id!r}"))
        elif meter.measurand != ROLE_MEASURAND[role]:
            problems.append(
                (path, f"meter {meter_id!r} measures {meter.measurand}, not {ROLE_MEASURAND[role]}")
            )
    for i, flow_id in enumerate(settings.dust_suppression_flows):
        if flow_id not in flows:
            problems.append(
                (f"air_quality.dust_suppression_flows[{i}]", f"unknown flow {flow_id!r}")
            )
    if settings.forecast_monitor is not None and settings.forecast_monitor not in monitor_ids:
        problems.append(
            ("air_quality.forecast_monitor", f"unknown monitor {settings.forecast_monitor!r}")
        )
    elif settings.forecast_monitor is not None:
        chosen = settings.pm10_monitor()
        if chosen is not None and chosen.pm10_meter is None:
            problems.append(
                (
                    "air_quality.forecast_monitor",
                    f"monitor {settings.forecast_monitor!r} has no pm10_meter",
                )
            )
    return problems
