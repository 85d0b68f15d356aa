"""Air quality analytics of a home (docs/air-quality.md): what dust-suppression water does to PM10,
and a 24/48-hour PM10 forecast verified against persistence.

Reads the build warehouse's daily marts (``fct_air_quality_daily``, ``fct_weather_daily`` and the
flows' daily volumes in ``fct_metric_daily``) and writes three tables beside them:

- ``fct_dust_suppression_effect``: per site, the regression of daily PM10 on dust-suppression
  water controlled for wind speed and humidity, with its confidence interval, p-value and a
  recommendation in words;
- ``fct_air_quality_forecast``: per site, the 24 h and 48 h forecast of the 24-hour mean PM10
  from the last observed day, with an 80 % interval and the probability of a high dust day;
- ``fct_air_quality_forecast_skill``: per site and horizon, the rolling-origin backtest of that
  forecast against persistence: MAE, skill, probability of detection, false-alarm ratio and
  critical success index at the trigger level.

The regression (log-linear, AR(1) errors):

    ln PM10_d = b0 + b1 x W_d / 100 + b2 x wind_d + b3 x humidity_d + e_d,  e_d = rho e_(d-1) + u_d

W_d is the day's dust-suppression water (m3). exp(b1) - 1 is the relative change of PM10 per
extra 100 m3 in a day; at the site's mean PM10 it is (exp(b1) - 1) x mean ug/m3.

The forecast of day t + h from origin day t (only what is known at the end of day t):

    ln PM10_(t+h) = a0 + a1 ln PM10_t + a2 wind_t + a3 humidity_t + a4 W_t / 100
                    + annual Fourier terms (K = 2) of day t + h + e

fitted by least squares on every pair whose target day is no later than the origin.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import statsmodels.api as sm  # type: ignore[import-untyped]
from scipy import stats  # type: ignore[import-untyped]

from ml import series as ms
from siteledger.settings import Settings
from siteledger.site.air_quality import AirQualitySettings
from siteledger.site.loader import SiteConfigError, load_site
from siteledger.site.models import SiteConfig
from siteledger.warehouse import write_build_tables

log = logging.getLogger(__name__)

AIR_TABLE = "marts.fct_air_quality_daily"
WEATHER_TABLE = "marts.fct_weather_daily"
HORIZONS = (1, 2)
# fewest complete days for the regression, and training days before the first backtest origin
MIN_REGRESSION_DAYS = 60
MIN_TRAINING_DAYS = 90
FOURIER_K = 2
CONFIDENCE = 0.95
# a day is forecast to be a high dust day when P(PM10 >= trigger) reaches this
WARNING_PROBABILITY = 0.5

AIR_QUALITY_TABLES: dict[str, dict[str, str]] = {
    "fct_dust_suppression_effect": {
        "site_id": "Site id.",
        "monitor_id": "The monitoring location whose PM10 was analysed.",
        "status": "ok, or why there is no estimate: no_monitor, no_dust_flows, too_short, "
        "no_variation, failed.",
        "reason": "The reason in words; empty when ok.",
        "first_day": "First day used.",
        "last_day": "Last day used.",
        "n_days": "Days with PM10, wind, humidity and dust-suppression water (the regression's n).",
        "dust_water_mean_m3": "Mean dust-suppression water per day over those days (m3).",
        "pm10_mean_ug_m3": "Mean 24-hour PM10 over those days (ug/m3).",
        "coef_log_per_100m3": "b1: change of ln PM10 per extra 100 m3 of water in a day.",
        "coef_log_lo": "Lower bound of b1's confidence interval.",
        "coef_log_hi": "Upper bound of b1's confidence interval.",
        "pct_change_per_100m3": "100 x (exp(b1) - 1): % change of PM10 per extra 100 m3/day.",
        "effect_ug_m3_per_100m3": "(exp(b1) - 1) x mean PM10: ug/m3 per extra 100 m3/day.",
        "effect_lo_ug_m3": "Lower bound of that effect (from b1's interval).",
        "effect_hi_ug_m3": "Upper bound of that effect.",
        "confidence_level": "Level of the intervals (0.95).",
        "p_value": "Two-sided p-value of b1 = 0.",
        "wind_coef_log_per_m_s": "b2: change of ln PM10 per m/s of daily mean wind.",
        "humidity_coef_log_per_pct": "b3: change of ln PM10 per % of daily mean humidity.",
        "ar1_rho": "Estimated day-to-day correlation of the residuals.",
        "naive_correlation": "Pearson r of water and PM10 without controls (for comparison).",
        "confidence": "high (p < 0.01 and n >= 180), moderate (p < 0.05) or low.",
        "recommendation": "The finding in words, with its interval.",
    },
    "fct_air_quality_forecast": {
        "site_id": "Site id.",
        "monitor_id": "The monitoring location forecast.",
        "as_of": "Last observed day the forecast starts from.",
        "day": "Forecast day (site-local).",
        "horizon_days": "Days after as_of (1 = 24 h, 2 = 48 h).",
        "pm10_forecast_ug_m3": "Forecast 24-hour mean PM10 (median of the log-normal, ug/m3).",
        "pm10_lo80_ug_m3": "Lower bound of the 80 % interval.",
        "pm10_hi80_ug_m3": "Upper bound of the 80 % interval.",
        "trigger_pm10_ug_m3": "The site's high dust day level (ug/m3).",
        "p_high_dust": "Probability that the day's 24-hour PM10 reaches the trigger.",
        "is_high_dust_warning": "p_high_dust at or above 0.5: a high dust day is forecast.",
        "persistence_ug_m3": "The persistence forecast (as_of's PM10) for comparison.",
        "n_training_days": "Pairs the model was fitted on.",
    },
    "fct_air_quality_forecast_skill": {
        "site_id": "Site id.",
        "monitor_id": "The monitoring location.",
        "horizon_days": "1 = 24 h, 2 = 48 h.",
        "status": "ok, or too_short.",
        "n_forecasts": "Backtest forecasts scored (rolling origin, one per day).",
        "first_origin": "First backtest origin day.",
        "last_origin": "Last backtest origin day.",
        "mae_ug_m3": "Mean absolute error of the forecast (ug/m3).",
        "mae_persistence_ug_m3": "Mean absolute error of persistence (ug/m3).",
        "skill": "1 - mae / mae_persistence: above 0 beats persistence.",
        "trigger_pm10_ug_m3": "The level events are counted at (ug/m3).",
        "n_events": "Backtest days whose PM10 reached the trigger.",
        "hits": "Events the forecast warned of.",
        "misses": "Events without a warning.",
        "false_alarms": "Warnings without an event.",
        "pod": "Probability of detection: hits / (hits + misses).",
        "far": "False-alarm ratio: false_alarms / (hits + false_alarms).",
        "csi": "Critical success index: hits / (hits + misses + false_alarms).",
        "pod_persistence": "The same for persistence (warn when today reached the trigger).",
        "far_persistence": "False-alarm ratio of persistence.",
        "csi_persistence": "Critical success index of persistence.",
    },
}
DATE_COLUMNS = ("first_day", "last_day", "as_of", "day", "first_origin", "last_origin")
INTEGER_COLUMNS = (
    "n_days",
    "horizon_days",
    "n_training_days",
    "n_forecasts",
    "n_events",
    "hits",
    "misses",
    "false_alarms",
)


@dataclass
class AirQualityResult:
    """The tables written, timings, and the sites that could not be read."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


# -- data -------------------------------------------------------------------------------------
def read_air_days(
    con: duckdb.DuckDBPyConnection, site_id: str, settings: AirQualitySettings
) -> pd.DataFrame:
    """One row per day of the analysed monitor: ``pm10``, ``wind``, ``humidity``, ``dust_m3``
    (NaN where unknown), indexed by day."""
    monitor = settings.pm10_monitor()
    empty = pd.DataFrame(columns=["pm10", "wind", "humidity", "dust_m3"], dtype="float64")
    if monitor is None or not ms.has_table(con, AIR_TABLE):
        return empty
    pm10 = con.execute(
        f"select day, pm10_24h_ug_m3 as pm10 from {AIR_TABLE} "  # noqa: S608
        "where site_id = ? and monitor_id = ? order by day",
        [site_id, monitor.id],
    ).df()
    frame = pm10.assign(day=pd.to_datetime(pm10["day"])).set_index("day")
    if ms.has_table(con, WEATHER_TABLE):
        weather = con.execute(
            "select day, wind_speed_mean_m_s as wind, humidity_mean_pct as humidity "  # noqa: S608
            f"from {WEATHER_TABLE} where site_id = ? order by day",
            [site_id],
        ).df()
        weather = weather.assign(day=pd.to_datetime(weather["day"])).set_index("day")
        frame = frame.join(weather, how="left")
    else:
        frame["wind"] = np.nan
        frame["humidity"] = np.nan
    flows = settings.dust_suppression_flows
    metrics = ms.read_metrics(con, scopes=["flow"], metrics=["volume_m3"])
    metrics = metrics[(metrics["site_id"] == site_id) & metrics["scope_id"].isin(flows)]
    if flows and not metrics.empty:
        wide = metrics.pivot_table(index="day", columns="scope_id", values="value", aggfunc="sum")
        # a day whose water is unknown on any dust flow has no total
        dust = wide.reindex(columns=flows).sum(axis=1, min_count=len(flows))
        frame = frame.join(dust.rename("dust_m3"), how="left")
    else:
        frame["dust_m3"] = np.nan
    return frame[["pm10", "wind", "humidity", "dust_m3"]].astype("float64")


# -- the dust-suppression effect --------------------------------------------------------------
def _confidence_word(p_value: float, n_days: int) -> str:
    if p_value < 0.01 and n_days >= 180:
        return "high"
    if p_value < 0.05:
        return "moderate"
    return "low"


def dust_effect(days: pd.DataFrame, confidence: float = CONFIDENCE) -> dict[str, object]:
    """The regression of the module docstring on complete days of ``days``
    (:func:`read_air_days`); ``status`` says why there is no estimate."""
    used = days.dropna(subset=["pm10", "wind", "humidity", "dust_m3"])
    used = used[used["pm10"] > 0]
    row: dict[str, object] = {"n_days": len(used), "confidence_level": confidence}
    if not used.empty:
        row.update(first_day=used.index.min().date(), last_day=used.index.max().date())
    if len(used) < MIN_REGRESSION_DAYS:
        return {
            **row,
            "status": "too_short",
            "reason": f"{len(used)} complete days, {MIN_REGRESSION_DAYS} needed",
        }
    if used["dust_m3"].std() <= 0:
        return {**row, "status": "no_variation", "reason": "dust-suppression water never varies"}
    # a regular daily index so that the AR(1) errors link consecutive days only
    y = np.log(used["pm10"].to_numpy())
    x = sm.add_constant(
        np.column_stack(
            [used["dust_m3"] / 100.0, used["wind"].to_numpy(), used["humidity"].to_numpy()]
        ),
        has_constant="add",
    )
    try:
        fit = sm.GLSAR(y, x, rho=1).iterative_fit(maxiter=20)
    except (np.linalg.LinAlgError, ValueError) as exc:
        return {**row, "status": "failed", "reason": str(exc)}
    coef = float(fit.params[1])
    lo, hi = (float(v) for v in fit.conf_int(alpha=1 - confidence)[1])
    p_value = float(fit.pvalues[1])
    mean_pm10 = float(used["pm10"].mean())
    effect = (np.exp(coef) - 1) * mean_pm10
    effect_lo, effect_hi = (np.exp(lo) - 1) * mean_pm10, (np.exp(hi) - 1) * mean_pm10
    word = _confidence_word(p_value, len(used))
    level = f"{confidence:.0%}"
    band = f"{abs(effect):.1f} ug/m3 ({level} interval {effect_lo:+.1f} to {effect_hi:+.1f})"
    if hi < 0:
        recommendation = (
            f"Each extra 100 m3/day of dust-suppression water lowers 24-hour PM10 by {band}, "
            f"{-100 * (np.exp(coef) - 1):.1f} % at the mean of {mean_pm10:.0f} ug/m3, with wind "
            f"and humidity held equal (p = {p_value:.2g}, {len(used)} days; {word} confidence): "
            "more water on dry, windy days is worth its volume."
        )
    elif lo > 0:
        recommendation = (
            f"PM10 rises with dust-suppression water by {band} per extra 100 m3/day (p = "
            f"{p_value:.2g}, {len(used)} days): water follows the dust here rather than "
            "preventing it; check where and when it is applied."
        )
    else:
        recommendation = (
            f"No effect of dust-suppression water on PM10 can be told from noise: "
            f"{effect:+.1f} ug/m3 per extra 100 m3/day ({level} interval {effect_lo:+.1f} to "
            f"{effect_hi:+.1f}; p = {p_value:.2g}, {len(used)} days)."
        )
    return {
        **row,
        "status": "ok",
        "reason": "",
        "dust_water_mean_m3": float(used["dust_m3"].mean()),
        "pm10_mean_ug_m3": mean_pm10,
        "coef_log_per_100m3": coef,
        "coef_log_lo": lo,
        "coef_log_hi": hi,
        "pct_change_per_100m3": 100 * (np.exp(coef) - 1),
        "effect_ug_m3_per_100m3": effect,
        "effect_lo_ug_m3": effect_lo,
        "effect_hi_ug_m3": effect_hi,
        "p_value": p_value,
        "wind_coef_log_per_m_s": float(fit.params[2]),
        "humidity_coef_log_per_pct": float(fit.params[3]),
        "ar1_rho": float(np.ravel(fit.model.rho)[0]),
        "naive_correlation": float(np.corrcoef(used["dust_m3"], used["pm10"])[0, 1]),
        "confidence": word,
        "recommendation": recommendation,
    }


# -- the forecast -----------------------------------------------------------------------------
def _design(days: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Features known at the end of each origin day and the target ``h`` days later, on a
    complete daily calendar (missing days stay missing)."""
    calendar = pd.date_range(days.index.min(), days.index.max(), freq="D")
    full = days.reindex(calendar)
    target_day = calendar + pd.Timedelta(days=horizon)
    doy = np.asarray(target_day.day_of_year, dtype="float64")
    out = pd.DataFrame(
        {
            "log_pm10": np.log(full["pm10"].where(full["pm10"] > 0)),
            "wind": full["wind"],
            "humidity": full["humidity"],
            # a site without dust flows has none (0); a day of unknown water is dropped
            "dust_100m3": (full["dust_m3"] if full["dust_m3"].notna().any() else 0.0) / 100.0,
        },
        index=calendar,
    )
    for k in range(1, FOURIER_K + 1):
        out[f"sin{k}"] = np.sin(2 * np.pi * k * doy / 365.25)
        out[f"cos{k}"] = np.cos(2 * np.pi * k * doy / 365.25)
    out["target"] = out["log_pm10"].shift(-horizon)
    out["target_day"] = target_day
    return out


FEATURES = ["log_pm10", "wind", "humidity", "dust_100m3"] + [
    f"{f}{k}" for k in range(1, FOURIER_K + 1) for f in ("sin", "cos")
]


def _fit(train: pd.DataFrame) -> tuple[np.ndarray, float, int]:
    """Least-squares coefficients, residual sd and n of the forecast regression."""
    x = sm.add_constant(train[FEATURES].to_numpy(), has_constant="add")
    y = train["target"].to_numpy()
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    dof = max(len(y) - x.shape[1], 1)
    return coef, float(np.sqrt(resid @ resid / dof)), len(y)


def _predict(coef: np.ndarray, rows: pd.DataFrame) -> np.ndarray:
    x = sm.add_constant(rows[FEATURES].to_numpy(), has_constant="add")
    return np.asarray(x @ coef)


def _scores(
    observed: np.ndarray, warned: np.ndarray, trigger: float
) -> tuple[int, int, int, int, float, float, float]:
    event = observed >= trigger
    hits = int(np.sum(event & warned))
    misses = int(np.sum(event & ~warned))
    false_alarms = int(np.sum(~event & warned))
    pod = hits / (hits + misses) if hits + misses else float("nan")
    far = false_alarms / (hits + false_alarms) if hits + false_alarms else float("nan")
    csi = hits / (hits + misses + false_alarms) if hits + misses + false_alarms else float("nan")
    return int(event.sum()), hits, misses, false_alarms, pod, far, csi


def backtest(
    days: pd.DataFrame, trigger: float, horizon: int, min_training: int = MIN_TRAINING_DAYS
) -> tuple[dict[str, object], pd.DataFrame]:
    """Rolling-origin backtest of the ``horizon``-day forecast against persistence: every day
    after ``min_training`` usable pairs is an origin; the model is refitted at each origin on
    the pairs whose target day it has seen. Returns the scores and the scored forecasts."""
    design = _design(days, horizon)
    usable = design.dropna(subset=[*FEATURES, "target"])
    rows = []
    for i in range(min_training, len(usable)):
        origin = usable.index[i]
        train = usable[usable["target_day"] <= origin]
        if len(train) < min_training:
            continue
        coef, sd, _ = _fit(train)
        case = usable.iloc[[i]]
        log_pred = float(_predict(coef, case)[0])
        p_high = float(1 - stats.norm.cdf((np.log(trigger) - log_pred) / sd))
        rows.append(
            {
                "origin": origin,
                "observed": float(np.exp(case["target"].iloc[0])),
                "forecast": float(np.exp(log_pred)),
                "persistence": float(np.exp(case["log_pm10"].iloc[0])),
                "p_high_dust": p_high,
            }
        )
    scored = pd.DataFrame(rows)
    summary: dict[str, object] = {"horizon_days": horizon, "trigger_pm10_ug_m3": trigger}
    if scored.empty:
        return {**summary, "status": "too_short", "n_forecasts": 0}, scored
    observed = scored["observed"].to_numpy()
    mae = float(np.mean(np.abs(scored["forecast"] - observed)))
    mae_persistence = float(np.mean(np.abs(scored["persistence"] - observed)))
    warned = scored["p_high_dust"].to_numpy() >= WARNING_PROBABILITY
    n_events, hits, misses, false_alarms, pod, far, csi = _scores(observed, warned, trigger)
    persisted = scored["persistence"].to_numpy() >= trigger
    _, _, _, _, pod_p, far_p, csi_p = _scores(observed, persisted, trigger)
    summary.update(
        status="ok",
        n_forecasts=len(scored),
        first_origin=scored["origin"].min().date(),
        last_origin=scored["origin"].max().date(),
        mae_ug_m3=mae,
        mae_persistence_ug_m3=mae_persistence,
        skill=1 - mae / mae_persistence if mae_persistence > 0 else float("nan"),
        n_events=n_events,
        hits=hits,
        misses=misses,
        false_alarms=false_alarms,
        pod=pod,
        far=far,
        csi=csi,
        pod_persistence=pod_p,
        far_persistence=far_p,
        csi_persistence=csi_p,
    )
    return summary, scored


def forecast(days: pd.DataFrame, trigger: float) -> list[dict[str, object]]:
    """The 24 h and 48 h forecasts from the last day with every feature known."""
    rows: list[dict[str, object]] = []
    for horizon in HORIZONS:
        design = _design(days, horizon)
        train = design.dropna(subset=[*FEATURES, "target"])
        known = design.dropna(subset=FEATURES)
        if len(train) < MIN_TRAINING_DAYS or known.empty:
            continue
        coef, sd, n = _fit(train)
        origin = known.iloc[[-1]]
        log_pred = float(_predict(coef, origin)[0])
        z80 = float(stats.norm.ppf(0.9))
        p_high = float(1 - stats.norm.cdf((np.log(trigger) - log_pred) / sd))
        as_of = origin.index[0]
        rows.append(
            {
                "as_of": as_of.date(),
                "day": (as_of + pd.Timedelta(days=horizon)).date(),
                "horizon_days": horizon,
                "pm10_forecast_ug_m3": float(np.exp(log_pred)),
                "pm10_lo80_ug_m3": float(np.exp(log_pred - z80 * sd)),
                "pm10_hi80_ug_m3": float(np.exp(log_pred + z80 * sd)),
                "trigger_pm10_ug_m3": trigger,
                "p_high_dust": p_high,
                "is_high_dust_warning": p_high >= WARNING_PROBABILITY,
                "persistence_ug_m3": float(np.exp(origin["log_pm10"].iloc[0])),
                "n_training_days": n,
            }
        )
    return rows


# -- the run ----------------------------------------------------------------------------------
def _frame(name: str, rows: list[dict[str, object]]) -> pd.DataFrame:
    columns = list(AIR_QUALITY_TABLES[name])
    frame = pd.DataFrame(rows).reindex(columns=columns)
    for column in DATE_COLUMNS:
        if column in frame.columns:
            frame[column] = pd.to_datetime(frame[column]).dt.date
    for column in INTEGER_COLUMNS:
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column]).round().astype("Int64")
    return frame


def analyse_site(
    con: duckdb.DuckDBPyConnection, site: SiteConfig
) -> tuple[dict[str, object], list[dict[str, object]], list[dict[str, object]]]:
    """(effect row, forecast rows, skill rows) of one site with air quality settings."""
    settings = site.air_quality
    monitor = settings.pm10_monitor()
    keys = {"site_id": site.site.id, "monitor_id": monitor.id if monitor else None}
    if monitor is None:
        return {**keys, "status": "no_monitor", "reason": "no monitor with a pm10 meter"}, [], []
    days = read_air_days(con, site.site.id, settings)
    if settings.dust_suppression_flows:
        effect = {**keys, **dust_effect(days)}
    else:
        effect = {**keys, "status": "no_dust_flows", "reason": "no dust_suppression_flows set"}
    trigger = settings.trigger_pm10_ug_m3
    skill = []
    for horizon in HORIZONS:
        summary, _ = backtest(days, trigger, horizon)
        skill.append({**keys, **summary})
    forecasts = [{**keys, **row} for row in forecast(days, trigger)]
    return effect, forecasts, skill


def run_air_quality(
    settings: Settings,
    *,
    db_path: Path | None = None,
    write: bool = True,
    sites: list[SiteConfig] | None = None,
) -> AirQualityResult:
    """The dust-suppression effect, forecasts and forecast skill of every site with air quality
    settings, from the build warehouse, written into it (``marts`` schema) unless ``write`` is
    false. ``sites`` defaults to the home's site files that load."""
    result = AirQualityResult()
    clock = time.perf_counter()
    if sites is None:
        sites = []
        for path in sorted(settings.sites_dir.glob("*.yaml")):
            try:
                sites.append(load_site(path))
            except (SiteConfigError, OSError) as exc:
                result.problems.append(f"{path.name}: {exc}")
    effects: list[dict[str, object]] = []
    forecasts: list[dict[str, object]] = []
    skills: list[dict[str, object]] = []
    db = db_path or settings.build_db
    with duckdb.connect(str(db), read_only=True) as con:
        for site in sites:
            if not site.air_quality.enabled:
                continue
            effect, site_forecasts, skill = analyse_site(con, site)
            effects.append(effect)
            forecasts += site_forecasts
            skills += skill
    result.tables = {
        "fct_dust_suppression_effect": _frame("fct_dust_suppression_effect", effects),
        "fct_air_quality_forecast": _frame("fct_air_quality_forecast", forecasts),
        "fct_air_quality_forecast_skill": _frame("fct_air_quality_forecast_skill", skills),
    }
    result.seconds["air_quality"] = time.perf_counter() - clock
    if write:
        write_build_tables(settings, result.tables)
    return result


def as_of_day(result: AirQualityResult) -> dt.date | None:
    """The day the forecasts start from (None without forecasts)."""
    frame = result.tables.get("fct_air_quality_forecast")
    if frame is None or frame.empty:
        return None
    return frame["as_of"].max()
