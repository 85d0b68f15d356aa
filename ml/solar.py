"""Solar production forecasts from the sky and the site's own weather record.

A PV array's daily AC energy is forecast as its **clear-sky energy** (pvlib: the Ineichen clear
sky at the array's location, transposed to its plane, the Faiman cell temperature and the
PVWatts DC, loss and inverter chain the energy marts use) times the array's **daily clear-sky
index** — measured ÷ clear-sky energy — drawn from the same season of its history:

    E_d = E_cs,d × k,   k ~ { measured_j / E_cs,j : j in history, |doy_j − doy_d| ≤ window }

The mean is E_cs,d × mean(k); the median and the 80 % and 95 % intervals are E_cs,d × the
empirical quantiles of k. The sample of k is the history's days within ``season_window_days``
of the forecast day's day of year (any year); with fewer than ``min_season_days`` such days the
whole history is used. The index carries the site's cloudiness *and* what the array has become
(soiling, a failed string), which is why the forecast tracks the array as it is and not as it
was built. Weather paths are not forecast: the season's record of clear-sky indices is the
weather model (climatology), so beyond a few days this is as good as any forecast without a
numerical weather prediction feed.

:func:`backtest` measures it by rolling origins like :mod:`ml.backtest` does for the other
series: the forecast from each origin against what was measured in the next ``horizon`` days.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from siteledger.site.models import SiteConfig

MODEL_TYPE = "pvlib_clearsky_climatology"
FORECAST_COLUMNS = ("day", "mean", "median", "lo80", "hi80", "lo95", "hi95")
_QUANTILES = {"lo95": 0.025, "lo80": 0.10, "median": 0.5, "hi80": 0.90, "hi95": 0.975}
# a day whose clear-sky energy is below this share of the array's kWp hours of a sunny day is
# not used for the index (polar night, a broken model): it would divide by almost nothing
_MIN_CLEARSKY_KWH_PER_KWP = 0.05


@dataclass(frozen=True)
class PvArraySpec:
    """What the clear-sky model needs of an array (the site file's ``energy.pv_arrays``)."""

    latitude: float
    longitude: float
    altitude_m: float
    timezone: str
    kwp: float
    tilt_deg: float
    azimuth_deg: float
    inverter_kw: float
    gamma_pdc_per_c: float = -0.0037
    losses_pct: float = 14.08
    inverter_efficiency: float = 0.96
    temp_air_c: float = 25.0
    wind_m_s: float = 1.0


@dataclass(frozen=True)
class SolarForecastConfig:
    horizon_days: int = 30
    season_window_days: int = 15
    min_season_days: int = 20
    min_history_days: int = 30
    step_minutes: int = 15


def clearsky_daily_kwh(
    spec: PvArraySpec, start: date, days: int, step_minutes: int = 15
) -> pd.Series:
    """The array's AC energy (kWh) on each local day under a clear sky."""
    with warnings.catch_warnings():
        # pvlib 0.16.1 reads DatetimeIndex.dayofyear, which pandas 3 deprecates
        warnings.filterwarnings("ignore", message=".*dayofyear is deprecated")
        return _clearsky_daily_kwh(spec, start, days, step_minutes)


def _clearsky_daily_kwh(spec: PvArraySpec, start: date, days: int, step_minutes: int) -> pd.Series:
    from pvlib import (  # type: ignore[import-untyped]
        inverter,
        irradiance,
        location,
        pvsystem,
        temperature,
    )

    site = location.Location(spec.latitude, spec.longitude, spec.timezone, spec.altitude_m)
    first = pd.Timestamp(start).tz_localize(spec.timezone)
    last = (pd.Timestamp(start) + pd.Timedelta(days=days)).tz_localize(spec.timezone)
    step = pd.Timedelta(minutes=step_minutes)
    # the middle of each interval, so that an interval's power stands for the whole of it
    times = pd.date_range(first, last, freq=step, inclusive="left") + step / 2
    position = site.get_solarposition(times)
    sky = site.get_clearsky(times, model="ineichen", solar_position=position)
    poa = irradiance.get_total_irradiance(
        spec.tilt_deg,
        spec.azimuth_deg,
        position["apparent_zenith"],
        position["azimuth"],
        sky["dni"],
        sky["ghi"],
        sky["dhi"],
    )["poa_global"].fillna(0.0)
    cell = temperature.faiman(poa, spec.temp_air_c, spec.wind_m_s)
    dc = pvsystem.pvwatts_dc(poa, cell, spec.kwp, spec.gamma_pdc_per_c)
    dc = dc * (1.0 - spec.losses_pct / 100.0)
    ac = inverter.pvwatts(
        dc, spec.inverter_kw / spec.inverter_efficiency, eta_inv_nom=spec.inverter_efficiency
    )
    ac = ac.clip(lower=0.0).fillna(0.0)
    kwh = ac * (step_minutes / 60.0)
    local_day = (times - step / 2).tz_localize(None).normalize()
    out = kwh.groupby(np.asarray(local_day)).sum()
    out.index = pd.DatetimeIndex(out.index)
    return out.astype("float64").rename("clearsky_kwh")


def clearsky_index(measured: pd.Series, clearsky: pd.Series, kwp: float) -> pd.Series:
    """Measured ÷ clear-sky energy on the days both have (and the sky gives enough)."""
    both = pd.concat({"measured": measured, "clearsky": clearsky}, axis=1).dropna()
    both = both[both["clearsky"] > _MIN_CLEARSKY_KWH_PER_KWP * kwp]
    index = both["measured"] / both["clearsky"]
    return index[np.isfinite(index) & (index >= 0)]


def _season_sample(index: pd.Series, day: pd.Timestamp, cfg: SolarForecastConfig) -> np.ndarray:
    doy = index.index.day_of_year.to_numpy()
    gap = np.abs(doy - day.day_of_year)
    gap = np.minimum(gap, 366 - gap)
    sample = index.to_numpy()[gap <= cfg.season_window_days]
    return sample if len(sample) >= cfg.min_season_days else index.to_numpy()


def forecast(
    spec: PvArraySpec,
    measured: pd.Series,
    cfg: SolarForecastConfig | None = None,
    origin: date | None = None,
    sky: pd.Series | None = None,
) -> tuple[pd.DataFrame, str]:
    """The next ``horizon_days`` after ``origin`` (default: the last measured day) and a
    status (``ok``, or why there is no forecast). ``sky`` is the array's clear-sky energy when
    the caller has it (:func:`clearsky_daily_kwh` over the history and the horizon)."""
    cfg = cfg or SolarForecastConfig()
    measured = _daily(measured)
    if origin is not None:
        measured = measured[measured.index <= pd.Timestamp(origin)]
    empty = pd.DataFrame(columns=list(FORECAST_COLUMNS))
    if len(measured) < cfg.min_history_days:
        return empty, f"too_short: {len(measured)} measured days, {cfg.min_history_days} needed"
    first, last = measured.index.min(), measured.index.max()
    end = last + pd.Timedelta(days=cfg.horizon_days)
    if sky is None or sky.index.min() > first or sky.index.max() < end:
        sky = clearsky_daily_kwh(spec, first.date(), (end - first).days + 1, cfg.step_minutes)
    index = clearsky_index(measured, sky[first:last], spec.kwp)
    if len(index) < cfg.min_history_days:
        return empty, f"too_short: {len(index)} days with sun to compare, {cfg.min_history_days}"
    future_sky = sky[last + pd.Timedelta(days=1) : end]
    rows = []
    for day, clear in future_sky.items():
        sample = _season_sample(index, pd.Timestamp(day), cfg)
        row = {"day": pd.Timestamp(day).date(), "mean": clear * float(np.mean(sample))}
        for name, q in _QUANTILES.items():
            row[name] = clear * float(np.quantile(sample, q))
        rows.append(row)
    return pd.DataFrame(rows, columns=list(FORECAST_COLUMNS)), "ok"


def _daily(measured: pd.Series) -> pd.Series:
    out = measured.dropna().sort_index()
    out.index = pd.DatetimeIndex(out.index).normalize()
    return out.astype("float64")


@dataclass(frozen=True)
class SolarBacktest:
    origins: int
    horizon_days: int
    total_abs_pct_error: float
    """Mean over origins of |forecast − measured| ÷ measured of the horizon's total energy (%)."""
    daily_mape_pct: float
    coverage80: float
    coverage95: float


def backtest(
    spec: PvArraySpec,
    measured: pd.Series,
    cfg: SolarForecastConfig | None = None,
    origins: int = 6,
    step_days: int = 30,
) -> SolarBacktest | None:
    """Rolling-origin backtest: origins ``step_days`` apart, the last ending a horizon before
    the last measured day. None when the history is too short for one origin."""
    cfg = cfg or SolarForecastConfig()
    measured = _daily(measured)
    if measured.empty:
        return None
    first, last = measured.index.min(), measured.index.max()
    sky = clearsky_daily_kwh(spec, first.date(), (last - first).days + 1, cfg.step_minutes)
    totals, daily, in80, in95 = [], [], [], []
    for k in range(origins):
        origin = last - pd.Timedelta(days=cfg.horizon_days + k * step_days)
        fc, status = forecast(spec, measured, cfg, origin.date(), sky)
        if status != "ok":
            break
        fc.index = pd.DatetimeIndex(pd.to_datetime(fc["day"]))
        actual = measured.reindex(fc.index).dropna()
        if actual.empty or actual.sum() <= 0:
            continue
        f = fc.loc[actual.index]
        totals.append(abs(f["mean"].sum() - actual.sum()) / actual.sum())
        positive = actual > 0
        daily.extend((abs(f["mean"] - actual)[positive] / actual[positive]).tolist())
        in80.extend(((actual >= f["lo80"]) & (actual <= f["hi80"])).tolist())
        in95.extend(((actual >= f["lo95"]) & (actual <= f["hi95"])).tolist())
    if not totals:
        return None
    return SolarBacktest(
        origins=len(totals),
        horizon_days=cfg.horizon_days,
        total_abs_pct_error=100.0 * float(np.mean(totals)),
        daily_mape_pct=100.0 * float(np.mean(daily)) if daily else float("nan"),
        coverage80=float(np.mean(in80)) if in80 else float("nan"),
        coverage95=float(np.mean(in95)) if in95 else float("nan"),
    )


def array_specs(site: SiteConfig) -> dict[str, PvArraySpec]:
    """The clear-sky model of each PV array of a site file (none without a location)."""
    energy = site.energy
    if energy.location is None:
        return {}
    where = energy.location
    return {
        array.id: PvArraySpec(
            latitude=where.latitude,
            longitude=where.longitude,
            altitude_m=where.altitude_m,
            timezone=site.site.timezone,
            kwp=array.kwp,
            tilt_deg=array.tilt_deg,
            azimuth_deg=array.azimuth_deg,
            inverter_kw=array.inverter_kw,
            gamma_pdc_per_c=array.gamma_pdc_per_c,
            losses_pct=array.losses_pct,
            inverter_efficiency=array.inverter_efficiency,
        )
        for array in energy.pv_arrays
    }
