"""The demo mine's air: a fence-line dust monitor (PM10 and PM2.5), a wind vane, and a known
dust-suppression effect.

PM10 at the monitor, at each 15-minute instant of local day d:

    PM10 = (15 + 45 x wind x dryness) x exp(episode_d + noise) x exp(-k x W_d / 100)

- ``wind`` (m/s) and ``dryness = clip((100 - humidity %) / 60, 0, 1.5)`` are the weather station's
  own signals (ST-603, MT-602): haul-road dust rises with wind and dry air. The haul fleet runs
  around the clock, independently of the mill, so mill stops do not stop the dust;
- ``episode_d``: a daily AR(1) (phi 0.6, innovations sd 0.22) of regional dust that no meter sees,
  so dusty days cluster; ``noise``: red noise of sd 0.25 over about 2 hours;
- ``W_d``: the dust-suppression water of the day (m3, the ``rwd_to_dust`` flow, which the site's
  rule sets at 0.025 m3 per tonne of mill feed: none on a shutdown day);
- ``k`` = :data:`DUST_SUPPRESSION_K_PER_100M3`: each 100 m3 applied in a day multiplies that
  day's PM10 by exp(-0.10) = 0.905 (about -9.5 %); a typical 700 m3 day halves it.

PM2.5 is 22 % of PM10 plus 3 ug/m3 of combustion background, with its own noise; the wind blows
from the east at night and swings to the south-west with the afternoon sea breeze.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from demo.drivers import STEPS_PER_DAY, Drivers, calendar_draws, calendar_noise
from siteledger.site.air_quality import AirMonitor, AirQualitySettings, WeatherStation
from siteledger.site.models import Meter

if TYPE_CHECKING:
    from demo.simulate import DemoSimulation

DUST_FLOW = "rwd_to_dust"
PM10_METER = "AQ-604"
PM25_METER = "AQ-605"
WIND_SPEED_METER = "ST-603"
WIND_DIRECTION_METER = "WD-606"
HUMIDITY_METER = "MT-602"
MONITOR = "fence_line_east"
# the injected effect: ln(PM10) falls by this much per 100 m3 of dust-suppression water that day
DUST_SUPPRESSION_K_PER_100M3 = 0.10
BACKGROUND_UG_M3 = 15.0
HAUL_DUST_UG_M3_PER_M_S = 45.0
EPISODE_PHI = 0.6
EPISODE_SD = 0.22
NOISE_SD = 0.25
PM25_SHARE = 0.22
PM25_BACKGROUND_UG_M3 = 3.0
# the measurands whose demo signal this module makes
AIR_MEASURANDS = ("pm10", "pm25", "wind_direction")


def air_meters() -> list[Meter]:
    """The new air meters of the demo mine (AQ-604 PM10, MT-602 and ST-603 exist already)."""
    return [
        Meter.model_validate(
            {
                "id": PM25_METER,
                "measurand": "pm25",
                "unit": "ug/m3",
                "valid_range": (0.0, 1000.0),
                "tag": "AQ_PM25_605",
                "name": "Fence-line PM2.5 (beta attenuation)",
            }
        ),
        Meter.model_validate(
            {
                "id": WIND_DIRECTION_METER,
                "measurand": "wind_direction",
                "unit": "deg",
                "valid_range": (0.0, 360.0),
                "tag": "WX_WD606",
                "name": "Wind vane",
                "description": "direction the wind blows from, degrees true",
            }
        ),
    ]


def demo_air_quality() -> AirQualitySettings:
    """The demo mine's ``air_quality`` settings."""
    return AirQualitySettings(
        monitors=[
            AirMonitor(
                id=MONITOR,
                name="East fence line (downwind of the haul road)",
                pm10_meter=PM10_METER,
                pm25_meter=PM25_METER,
            )
        ],
        weather=WeatherStation(
            wind_speed_meter=WIND_SPEED_METER,
            wind_direction_meter=WIND_DIRECTION_METER,
            humidity_meter=HUMIDITY_METER,
        ),
        dust_suppression_flows=[DUST_FLOW],
    )


def _per_instant(daily: np.ndarray, n_instants: int) -> np.ndarray:
    """A per-day value at each instant; the closing midnight takes the last day's."""
    per_step = np.repeat(daily, STEPS_PER_DAY)
    return np.r_[per_step, per_step[-1:]][:n_instants]


def air_signals(drivers: Drivers, dust_m3: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """PM10, PM10 without suppression, PM2.5 and wind direction at each instant (``steps + 1``),
    from the drivers and the dust-suppression water per 15-minute interval (``steps``)."""
    days = len(drivers.dates)
    n = days * STEPS_PER_DAY + 1
    start = drivers.dates[0]
    # drawn per calendar month (demo.drivers.calendar_draws): a day's air is that of any period
    innovations = calendar_draws(
        seed, "air:episodes", start, days, lambda rng, d: rng.normal(0.0, EPISODE_SD, len(d))
    )
    episode = np.zeros(days)
    for d in range(days):
        episode[d] = (EPISODE_PHI * episode[d - 1] if d else 0.0) + innovations[d]
    noise = calendar_noise(seed, "air:pm10", start, days, NOISE_SD, 8)
    water = dust_m3.reshape(days, STEPS_PER_DAY).sum(axis=1)
    dryness = np.clip((100.0 - drivers.humidity) / 60.0, 0.0, 1.5)
    unsuppressed = (BACKGROUND_UG_M3 + HAUL_DUST_UG_M3_PER_M_S * drivers.wind * dryness) * np.exp(
        _per_instant(episode, n) + noise
    )
    pm10 = unsuppressed * np.exp(-DUST_SUPPRESSION_K_PER_100M3 * _per_instant(water, n) / 100.0)
    pm25 = PM25_BACKGROUND_UG_M3 + PM25_SHARE * pm10 * np.exp(
        calendar_noise(seed, "air:pm25", start, days, 0.15, 8)
    )
    hours = (np.arange(n) % STEPS_PER_DAY) / 4.0
    sea_breeze = np.clip(np.cos(2 * np.pi * (hours - 16.0) / 24.0), 0.0, None)
    direction = (
        90.0 + 135.0 * sea_breeze + calendar_noise(seed, "air:direction", start, days, 25.0, 8)
    ) % 360.0
    return {
        "pm10": np.round(pm10, 1),
        "pm10_unsuppressed": unsuppressed,
        "pm25": np.round(pm25, 1),
        # 360.0 after rounding is north, as 0.0 is
        "wind_direction": np.round(direction, 1) % 360.0,
    }


def air_signal(measurand: str, drivers: Drivers, dust_m3: np.ndarray, seed: int) -> np.ndarray:
    """One air meter's values at each instant (see :func:`air_signals`)."""
    return air_signals(drivers, dust_m3, seed)[measurand].copy()


def write_air_truth(sim: DemoSimulation, folder: Path) -> list[Path]:
    """``air_quality_daily.csv``: per local day, the dust-suppression water, the true 24-hour
    mean PM10 with and without it, and the effect constant; only for a site with monitors."""
    if not sim.site.air_quality.enabled or DUST_FLOW not in sim.flow_ids:
        return []
    dust = sim.flows[:, sim.flow_ids.index(DUST_FLOW)]
    signals = air_signals(sim.drivers, dust, sim.seed)
    days = len(sim.drivers.dates)
    steps = days * STEPS_PER_DAY

    def daily_mean(values: np.ndarray) -> np.ndarray:
        return np.asarray(values[:steps].reshape(days, STEPS_PER_DAY).mean(axis=1))

    frame = pd.DataFrame(
        {
            "day": [d.isoformat() for d in sim.drivers.dates],
            "dust_suppression_m3": dust.reshape(days, STEPS_PER_DAY).sum(axis=1).round(3),
            "pm10_mean_ug_m3": daily_mean(signals["pm10"]).round(3),
            "pm10_unsuppressed_mean_ug_m3": daily_mean(signals["pm10_unsuppressed"]).round(3),
            "pm25_mean_ug_m3": daily_mean(signals["pm25"]).round(3),
            "k_per_100m3": DUST_SUPPRESSION_K_PER_100M3,
        }
    )
    path = folder / "air_quality_daily.csv"
    frame.to_csv(path, index=False, lineterminator="\n")
    return [path]
