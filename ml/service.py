"""The analytics of a home, end to end: train what is due, forecast, simulate, scan, project.

Reads the build warehouse's daily metric mart after the audited build, and writes its tables
into the same warehouse's ``marts`` schema, so the publish that follows carries the analytics of
the data it publishes:

- ``fct_forecast_daily``: every forecast day of every target series with 80 % and 95 % intervals
  (stores also as fill % and, where the store has a stage-storage curve, level);
- ``fct_forecast_status``: one row per target series: forecast or why not;
- ``fct_model_registry``: every training (model, window, backtest figures, next retrain);
- ``fct_overflow_risk``: P(> 80 %), P(> 100 %), P(< 20 %) of capacity within 1 and 30 days per
  store, by Monte Carlo through the store's own balance with stochastic rain;
- ``fct_store_outlook_daily``: the Monte Carlo's volume quantiles per store and day (charts);
- ``fct_scenario_projection``: what-if scenarios beside the base case;
- ``fct_anomalies``, ``fct_change_points``, ``fct_analytics_status``.

One bad series never stops the others: each gets a status and a reason.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd
from joblib import Parallel, delayed  # type: ignore[import-untyped]

from ml import series as ms
from ml import solar
from ml.anomalies import PLANT_STOPPED, AnomalyConfig, detect_with_status
from ml.backtest import bootstrap_rain_generator, rolling_origin
from ml.changepoints import COLUMNS as CHANGE_POINT_COLUMNS
from ml.decompose import decompose_all
from ml.forecast import FittedModel, ForecastConfig, fit, forecast
from ml.overflow import StoreModel, fit_store_model, overflow_risk_detail
from ml.registry import ModelEntry, ModelRegistry
from ml.scenarios import BASE, Scenario, load_scenarios, project
from ml.settings import AnalyticsSettings, ForecastTarget, load_analytics_settings
from ml.tables import TABLES
from ml.weather import RainModel, fit_rain_model
from siteledger.settings import Settings
from siteledger.site.curves import volume_to_level
from siteledger.site.loader import SiteConfigError, load_site
from siteledger.state.store import StateStore
from siteledger.warehouse import write_build_tables

log = logging.getLogger(__name__)

RAIN_METRIC = "rain_mm"
MIN_DECOMPOSITION_DAYS = 28
MIN_SERIES_PER_WORKER = 30
NODE_BALANCE_METRICS = (
    "closing_storage_m3",
    "inflow_m3",
    "outflow_m3",
    "rainfall_m3",
    "evaporation_m3",
    "seepage_m3",
)
Retrain = Literal["due", "all", "none"]


@dataclass
class AnalyticsResult:
    """The tables written and what happened, for asset metadata and the CLI."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    trained: list[ModelEntry] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    as_of: dt.date | None = None
    # problems of analytics.yaml (the analytics did not run) and of scenario files (skipped)
    problems: list[str] = field(default_factory=list)

    def status_counts(self) -> dict[str, int]:
        status = self.tables.get("fct_forecast_status")
        if status is None or status.empty:
            return {}
        return {str(k): int(v) for k, v in status["status"].value_counts().items()}


# -- targets ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TargetSeries:
    series_id: str
    site_id: str
    scope: str
    scope_id: str
    metric: str
    unit: str
    target: ForecastTarget


def target_series(metrics: pd.DataFrame, targets: list[ForecastTarget]) -> list[TargetSeries]:
    out: list[TargetSeries] = []
    keys = metrics.drop_duplicates("series_id")
    for target in targets:
        chosen = keys[(keys["scope"] == target.scope) & (keys["metric"] == target.metric)]
        if target.ids is not None:
            chosen = chosen[chosen["scope_id"].isin(target.ids)]
        for row in chosen.itertuples(index=False):
            out.append(
                TargetSeries(
                    str(row.series_id),
                    str(row.site_id),
                    str(row.scope),
                    str(row.scope_id),
                    str(row.metric),
                    str(row.unit),
                    target,
                )
            )
    return out


def _config(cfg: AnalyticsSettings, target: ForecastTarget) -> ForecastConfig:
    f = cfg.forecasts
    return ForecastConfig(
        horizon_days=target.horizon_days,
        min_history_days=f.min_history_days,
        training_days=f.training_days,
        use_rain=target.use_rain,
        rain_decay=target.rain_decay,
    )


# -- training ---------------------------------------------------------------------------------
def train(
    registry: ModelRegistry,
    target: TargetSeries,
    y: pd.Series,
    rain: pd.Series | None,
    cfg: AnalyticsSettings,
    now: dt.datetime,
) -> ModelEntry:
    """Fit a series' model, backtest it by rolling origin and record both in the registry."""
    config = _config(cfg, target.target)
    started = time.perf_counter()
    model = fit(y, rain, config)
    backtest: dict[str, Any] = {}
    if model.status == "ok":
        result = rolling_origin(
            y,
            rain,
            config,
            n_origins=cfg.forecasts.backtest_origins,
            step_days=cfg.forecasts.backtest_step_days,
            horizon_days=target.target.horizon_days,
            # what a live forecast knows of future rain: the same season of earlier years
            future_rain=bootstrap_rain_generator(cfg.forecasts.rain_paths, seed=0),
        )
        backtest = result.as_dict()
    entry = ModelEntry(
        series_id=target.series_id,
        site_id=target.site_id,
        target=target.target.name,
        model_type=model.model_type,
        status=model.status,
        reason=model.reason,
        params=dict(model.params),
        spec=dict(model.spec),
        train_start=model.train_start,
        train_end=model.train_end,
        n_obs=model.n_obs,
        converged=model.converged,
        backtest=backtest,
        trained_at=now,
        next_retrain_at=now + dt.timedelta(days=cfg.forecasts.retrain_every_days),
        fit_seconds=round(time.perf_counter() - started, 3),
    )
    return registry.record(entry, artefact=model.as_dict())


# -- the run ----------------------------------------------------------------------------------
def run_analytics(
    settings: Settings,
    store: StateStore,
    *,
    retrain: Retrain = "due",
    now: dt.datetime | None = None,
    db_path: Path | None = None,
    write: bool = True,
    progress: Callable[[str], None] | None = None,
) -> AnalyticsResult:
    """Train (what is due, everything, or nothing), then forecast, simulate, scan and project
    from the build warehouse, and write the analytics tables into it."""
    now = now or dt.datetime.now(dt.UTC)
    say = progress or (lambda _msg: None)
    result = AnalyticsResult()
    try:
        cfg = load_analytics_settings(settings.home)
    except SiteConfigError as exc:
        # a typo in the analytics settings must not hold back the water data's publish, nor
        # let the analytics run on settings nobody asked for: they wait for a valid file
        result.problems = [str(p) for p in exc.problems]
        result.tables = {
            name: pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
            for name, columns in TABLES.items()
        }
        result.tables["fct_analytics_status"] = _typed(
            pd.DataFrame(
                [
                    {
                        "analysis": "settings",
                        "site_id": None,
                        "series_id": None,
                        "status": "invalid_settings",
                        "reason": "; ".join(result.problems),
                    }
                ]
            )
        )
        if write:
            write_build_tables(settings, result.tables)
        return result
    db = db_path or settings.build_db
    with duckdb.connect(str(db), read_only=True) as con:
        metrics = ms.read_metrics(con)
        stores = ms.read_stores(con) if ms.has_table(con, "marts.dim_nodes") else pd.DataFrame()
        evidence = ms.read_evidence(con)
    result.as_of = metrics["day"].max().date() if not metrics.empty else None
    by_series = {sid: frame for sid, frame in metrics.groupby("series_id", sort=True)}
    rain = _site_rain(metrics)

    clock = time.perf_counter()
    registry = ModelRegistry(store, settings.home / "ml" / "models")
    targets = target_series(metrics, cfg.forecasts.targets)
    # what a model must have been fitted with; a change in analytics.yaml retrains at once
    specs = {
        t.series_id: {
            "rain_decay": t.target.rain_decay,
            "training_days": cfg.forecasts.training_days,
        }
        for t in targets
    }
    if retrain == "all":
        due = list(specs)
    elif retrain == "none":
        due = []
    else:
        due = registry.due(specs, now)
    capacity = _capacities(stores)
    for target in targets:
        if target.series_id in due:
            say(f"training {target.series_id}")
            y = _target_values(by_series, target, capacity)
            entry = train(registry, target, y, rain.get(target.site_id), cfg, now)
            result.trained.append(entry)
    result.seconds["training"] = time.perf_counter() - clock

    clock = time.perf_counter()
    rain_models = {site: fit_rain_model(series) for site, series in rain.items()}
    forecasts, status = _forecasts(targets, by_series, rain, registry, stores, settings, cfg)
    solar, solar_status = _solar_forecasts(settings, by_series, cfg)
    forecasts = _concat([f for f in (forecasts, solar) if len(f)], FORECAST_COLUMNS)
    status = _concat([f for f in (status, solar_status) if len(f)], STATUS_COLUMNS)
    result.tables["fct_forecast_daily"] = forecasts
    result.tables["fct_forecast_status"] = status
    result.tables["fct_model_registry"] = registry.frame()
    result.seconds["forecasts"] = time.perf_counter() - clock

    clock = time.perf_counter()
    scenarios, scenario_problems = load_home_scenarios(settings, cfg)
    result.problems.extend(scenario_problems)
    risk, outlook, scenario_rows = _overflow_and_scenarios(
        by_series, stores, rain_models, scenarios, cfg
    )
    result.tables["fct_overflow_risk"] = risk
    result.tables["fct_store_outlook_daily"] = outlook
    result.tables["fct_scenario_projection"] = scenario_rows
    result.seconds["overflow_and_scenarios"] = time.perf_counter() - clock

    clock = time.perf_counter()
    evidence = pd.concat([evidence, plant_stopped_evidence(metrics, cfg)], ignore_index=True)
    anomalies, changes, scan_status = _anomalies(metrics, evidence, cfg)
    result.tables["fct_anomalies"] = anomalies
    result.tables["fct_change_points"] = changes
    result.seconds["anomalies"] = time.perf_counter() - clock

    clock = time.perf_counter()
    decomposition, decomposition_status = _decomposition(metrics, cfg)
    result.tables["fct_metric_decomposition"] = decomposition
    result.tables["fct_analytics_status"] = pd.concat(
        [_forecast_status_rows(status), scan_status, decomposition_status], ignore_index=True
    )
    result.seconds["decomposition"] = time.perf_counter() - clock

    result.tables = {name: _typed(frame) for name, frame in result.tables.items()}
    if write:
        write_build_tables(settings, result.tables)
    return result


DATE_COLUMNS = ("day", "as_of", "last_day", "peak_day", "train_start", "train_end")
INTEGER_COLUMNS = (
    "horizon_day",
    "horizon_days",
    "n_paths",
    "n_days",
    "run_days",
    "severity",
    "n_methods",
    "n_obs",
    "backtest_origins",
)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Days as dates and counts as integers in the published tables, however the frames were
    assembled (a concat with an empty or all-missing part turns them into timestamps and
    floats)."""
    out = frame.copy()
    for column in DATE_COLUMNS:
        if column in out.columns:
            out[column] = pd.to_datetime(out[column]).dt.date
    for column in INTEGER_COLUMNS:
        if column in out.columns:
            out[column] = pd.to_numeric(out[column]).round().astype("Int64")
    return out


def _site_rain(metrics: pd.DataFrame) -> dict[str, pd.Series]:
    rain = metrics[(metrics["scope"] == "site") & (metrics["metric"] == RAIN_METRIC)]
    return {str(site): ms.daily(frame) for site, frame in rain.groupby("site_id")}


FORECAST_COLUMNS = list(TABLES["fct_forecast_daily"])
STATUS_COLUMNS = list(TABLES["fct_forecast_status"])
# a forecast whose backtest is this far off is published with a warning beside it, not hidden
WARN_MASE = 1.5
WARN_COVERAGE_95 = 0.8


def backtest_warning(backtest: Mapping[str, Any]) -> str:
    """What a reader should know about a model whose backtest went badly ("" when fine)."""
    notes = []
    mase, cover = backtest.get("mase"), backtest.get("coverage_95")
    if isinstance(mase, (int, float)) and mase == mase and mase > WARN_MASE:
        notes.append(
            f"backtest MASE {mase:.2f} (worse than {WARN_MASE} x the seasonal-naive error)"
        )
    if isinstance(cover, (int, float)) and cover == cover and cover < WARN_COVERAGE_95:
        notes.append(f"95 % intervals held {cover:.0%} of actuals in the backtest")
    return "; ".join(notes)


def _curves(settings: Settings) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """Stage-storage curves of the home's stores, from the site files that load."""
    out: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for path in sorted(settings.sites_dir.glob("*.yaml")):
        try:
            site = load_site(path)
        except (SiteConfigError, OSError):
            continue  # the site-config asset reports a bad file; the analytics do without
        for node in site.nodes:
            if node.is_store and node.stage_storage:
                out[(site.site.id, node.id)] = list(node.stage_storage)
    return out


def _forecasts(
    targets: list[TargetSeries],
    by_series: Mapping[str, pd.DataFrame],
    rain: Mapping[str, pd.Series],
    registry: ModelRegistry,
    stores: pd.DataFrame,
    settings: Settings,
    cfg: AnalyticsSettings,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    current = registry.current([t.series_id for t in targets])
    capacity = _capacities(stores)
    curves = _curves(settings)
    frames: list[pd.DataFrame] = []
    status_rows: list[dict[str, Any]] = []
    for target in targets:
        y = _target_values(by_series, target, capacity)
        entry = current.get(target.series_id)
        row: dict[str, Any] = {
            "site_id": target.site_id,
            "series_id": target.series_id,
            "target": target.target.name,
            "model_id": entry.model_id if entry else None,
            "model_type": entry.model_type if entry else None,
            "trained_at": entry.trained_at if entry else None,
            "last_day": y.index.max().date() if len(y) else None,
            "n_days": int(y.notna().sum()),
            "backtest_warning": backtest_warning(entry.backtest) if entry else "",
        }
        if entry is None:
            status_rows.append({**row, "status": "no_model", "reason": "not trained yet"})
            continue
        if not entry.usable:
            status_rows.append(
                {
                    **row,
                    "status": entry.status,
                    "reason": f"latest training not usable, no forecast: {entry.reason}",
                }
            )
            continue
        horizon = target.target.horizon_days
        site_rain = rain.get(target.site_id)
        paths = None
        model = FittedModel.from_dict(_artefact(entry))
        if model.spec.get("use_rain") and site_rain is not None and len(y):
            start = (y.index.max() + pd.Timedelta(days=1)).date()
            paths = bootstrap_rain_generator(cfg.forecasts.rain_paths, seed=0)(
                site_rain, start, horizon
            )
        try:
            fc = forecast(model, y, site_rain, paths, horizon)
        except (ValueError, np.linalg.LinAlgError) as exc:
            status_rows.append({**row, "status": "failed", "reason": f"forecast failed: {exc}"})
            continue
        frames.append(_forecast_rows(fc, target, entry, y, capacity, curves))
        status_rows.append({**row, "status": "ok", "reason": ""})
    forecasts = (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=FORECAST_COLUMNS)
    )
    return forecasts[FORECAST_COLUMNS], pd.DataFrame(status_rows, columns=STATUS_COLUMNS)


SOLAR_METRIC = "solar_kwh"
SOLAR_SCOPE = "pv_array"


def _solar_forecasts(
    settings: Settings, by_series: Mapping[str, pd.DataFrame], cfg: AnalyticsSettings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each PV array's production ``horizon_days`` ahead (:mod:`ml.solar`), with its status.

    Parameter-free (the season's clear-sky index is the model), so nothing is trained or
    registered: the backtest runs with every forecast and its figures go to the status.
    """
    solar_cfg = cfg.forecasts.solar
    if not solar_cfg.enabled:
        return pd.DataFrame(columns=FORECAST_COLUMNS), pd.DataFrame(columns=STATUS_COLUMNS)
    model_cfg = solar.SolarForecastConfig(
        horizon_days=solar_cfg.horizon_days,
        season_window_days=solar_cfg.season_window_days,
        min_season_days=solar_cfg.min_season_days,
        min_history_days=solar_cfg.min_history_days,
    )
    frames: list[pd.DataFrame] = []
    status_rows: list[dict[str, Any]] = []
    for site_id, array_id, spec in _pv_arrays(settings):
        series_id = ms.series_id(site_id, SOLAR_SCOPE, array_id, SOLAR_METRIC)
        frame = by_series.get(series_id)
        y = ms.daily(frame) if frame is not None else pd.Series(dtype="float64")
        row: dict[str, Any] = {
            "site_id": site_id,
            "series_id": series_id,
            "target": "solar_production",
            "model_id": None,
            "model_type": solar.MODEL_TYPE,
            "trained_at": None,
            "last_day": y.dropna().index.max().date() if y.notna().any() else None,
            "n_days": int(y.notna().sum()),
            "backtest_warning": "",
        }
        try:
            fc, state = solar.forecast(spec, y, model_cfg)
            check = solar.backtest(
                spec,
                y,
                model_cfg,
                origins=solar_cfg.backtest_origins,
                step_days=solar_cfg.backtest_step_days,
            )
        except (ValueError, KeyError) as exc:  # a site whose sky cannot be computed
            status_rows.append({**row, "status": "failed", "reason": f"solar forecast: {exc}"})
            continue
        if state != "ok":
            status, _, reason = state.partition(": ")
            status_rows.append({**row, "status": status, "reason": reason})
            continue
        if check is not None:
            row["backtest_warning"] = _solar_backtest_warning(check)
        last = row["last_day"]
        model_id = f"{solar.MODEL_TYPE}:{series_id}:{last.isoformat()}"
        out = fc[["day", "mean", "lo80", "hi80", "lo95", "hi95"]].copy()
        out["horizon_day"] = [(d - last).days for d in out["day"]]
        for key, value in (
            ("site_id", site_id),
            ("series_id", series_id),
            ("target", "solar_production"),
            ("scope", SOLAR_SCOPE),
            ("scope_id", array_id),
            ("metric", SOLAR_METRIC),
            ("unit", "kWh"),
            ("model_id", model_id),
            ("as_of", last),
        ):
            out[key] = value
        frames.append(out.reindex(columns=FORECAST_COLUMNS))
        status_rows.append({**row, "model_id": model_id, "status": "ok", "reason": ""})
    forecasts = _concat(frames, FORECAST_COLUMNS)
    return forecasts, pd.DataFrame(status_rows, columns=STATUS_COLUMNS)


def _solar_backtest_warning(check: solar.SolarBacktest) -> str:
    problems = []
    if check.total_abs_pct_error > 15.0:
        problems.append(
            f"the {check.horizon_days}-day total missed by {check.total_abs_pct_error:.0f} %"
        )
    if check.coverage95 < 0.8:
        problems.append(f"95 % intervals held {100 * check.coverage95:.0f} % of actuals")
    if not problems:
        return ""
    return f"backtest over {check.origins} origins: " + "; ".join(problems)


def _pv_arrays(settings: Settings) -> list[tuple[str, str, solar.PvArraySpec]]:
    """(site, array, clear-sky model) of every PV array in the site files that load."""
    out: list[tuple[str, str, solar.PvArraySpec]] = []
    for path in sorted(settings.sites_dir.glob("*.yaml")):
        try:
            site = load_site(path)
        except (SiteConfigError, OSError):
            continue  # the site-config asset reports a bad file; the analytics do without
        out.extend(
            (site.site.id, array_id, spec) for array_id, spec in solar.array_specs(site).items()
        )
    return out


def _capacities(stores: pd.DataFrame) -> dict[tuple[str, str], float]:
    if stores.empty:
        return {}
    return {
        (str(r.site_id), str(r.node_id)): float(r.capacity_m3)
        for r in stores.itertuples(index=False)
    }


# a store's volume beyond these multiples of its capacity is no measurement: left out of the
# fit and the filter (the readings' own VEE should have caught it; one such day must not make
# a whole model fail)
PLAUSIBLE_STORAGE = (-0.05, 2.0)


def _target_values(
    by_series: Mapping[str, pd.DataFrame],
    target: TargetSeries,
    capacity: Mapping[tuple[str, str], float],
) -> pd.Series:
    y = ms.daily(by_series[target.series_id])
    cap = capacity.get((target.site_id, target.scope_id)) if target.scope == "node" else None
    if cap and target.metric == "closing_storage_m3":
        low, high = PLAUSIBLE_STORAGE
        y = y.where((y >= low * cap) & (y <= high * cap))
    return y


def _artefact(entry: ModelEntry) -> dict[str, Any]:
    if entry.artefact and Path(entry.artefact).exists():
        data: dict[str, Any] = json.loads(Path(entry.artefact).read_text(encoding="utf-8"))
        return data
    # the registry row holds what the artefact holds but the series' history
    return {
        "model_type": entry.model_type,
        "status": entry.status,
        "reason": entry.reason,
        "params": entry.params,
        "spec": entry.spec,
        "train_start": entry.train_start,
        "train_end": entry.train_end,
        "n_obs": entry.n_obs,
        "converged": entry.converged,
    }


def _forecast_rows(
    fc: pd.DataFrame,
    target: TargetSeries,
    entry: ModelEntry,
    y: pd.Series,
    capacity: Mapping[tuple[str, str], float],
    curves: Mapping[tuple[str, str], list[tuple[float, float]]],
) -> pd.DataFrame:
    out = fc[["day", "mean", "lo80", "hi80", "lo95", "hi95"]].copy()
    out["day"] = pd.to_datetime(out["day"]).dt.date
    last = y.index.max().date()
    out["horizon_day"] = [(d - last).days for d in out["day"]]
    for key, value in (
        ("site_id", target.site_id),
        ("series_id", target.series_id),
        ("target", target.target.name),
        ("scope", target.scope),
        ("scope_id", target.scope_id),
        ("metric", target.metric),
        ("unit", target.unit),
        ("model_id", entry.model_id),
        ("as_of", last),
    ):
        out[key] = value
    cap = capacity.get((target.site_id, target.scope_id)) if target.scope == "node" else None
    storage = target.metric == "closing_storage_m3"
    out["capacity_m3"] = cap
    for name in ("mean", "lo95", "hi95"):
        out[f"fill_pct_{name}"] = 100.0 * out[name] / cap if storage and cap else np.nan
        curve = curves.get((target.site_id, target.scope_id)) if storage else None
        out[f"level_m_{name}"] = (
            volume_to_level(curve, out[name].clip(lower=0).to_numpy()) if curve else np.nan
        )
    return out


def _forecast_status_rows(status: pd.DataFrame) -> pd.DataFrame:
    out = status[["site_id", "series_id", "status", "reason"]].copy()
    out.insert(0, "analysis", "forecast")
    return out


# -- overflow, shortage and scenarios ---------------------------------------------------------
RISK_COLUMNS = list(TABLES["fct_overflow_risk"])


def _store_history(by_series: Mapping[str, pd.DataFrame], site: str, node: str) -> pd.DataFrame:
    columns: dict[str, pd.Series] = {}
    for metric in NODE_BALANCE_METRICS:
        frame = by_series.get(ms.series_id(site, "node", node, metric))
        if frame is not None:
            columns[metric] = ms.daily(frame)
    if "closing_storage_m3" not in columns:
        return pd.DataFrame()
    history = pd.DataFrame(columns)
    history["opening_storage_m3"] = history["closing_storage_m3"].shift(1)
    history.index.name = "day"
    return history.reset_index()


def _overflow_and_scenarios(
    by_series: Mapping[str, pd.DataFrame],
    stores: pd.DataFrame,
    rain_models: Mapping[str, RainModel],
    home_scenarios: list[Scenario],
    cfg: AnalyticsSettings,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    scenarios = [BASE, *(s for s in home_scenarios if not s.is_base)]
    risks: list[pd.DataFrame] = []
    outlooks: list[pd.DataFrame] = []
    projections: list[pd.DataFrame] = []
    for site, site_stores in stores.groupby("site_id") if not stores.empty else []:
        site = str(site)
        rain_model = rain_models.get(site)
        frame = by_series.get(ms.series_id(site, "site", site, RAIN_METRIC))
        rain_series = ms.daily(frame) if frame is not None else pd.Series(dtype="float64")
        models: list[StoreModel] = []
        volumes: dict[str, float] = {}
        as_of: dt.date | None = None
        for row in site_stores.itertuples(index=False):
            history = _store_history(by_series, site, str(row.node_id))
            if history.empty or history["closing_storage_m3"].notna().sum() == 0:
                continue
            known = history.dropna(subset=["closing_storage_m3"])
            models.append(
                fit_store_model(history, rain_series, float(row.capacity_m3), str(row.node_id))
            )
            volumes[str(row.node_id)] = float(known["closing_storage_m3"].iloc[-1])
            last = pd.Timestamp(known["day"].iloc[-1]).date()
            as_of = last if as_of is None else max(as_of, last)
        if not models or rain_model is None or as_of is None:
            continue
        o = cfg.overflow
        risk, outlook = overflow_risk_detail(
            models, volumes, rain_model, as_of, o.n_paths, o.horizon_days, o.seed
        )
        risk.insert(0, "site_id", site)
        risks.append(risk)
        if not outlook.empty:
            outlook.insert(0, "site_id", site)
            outlooks.append(outlook.rename(columns={"step": "horizon_day"}))
        for scenario in scenarios:
            if scenario.sites is not None and site not in scenario.sites:
                continue
            try:
                projected = project(
                    scenario,
                    models,
                    volumes,
                    rain_model,
                    as_of,
                    o.horizon_days,
                    o.scenario_paths,
                    o.seed,
                    rain_history=rain_series,
                )
            except ValueError as exc:
                log.warning("scenario %s at %s not projected: %s", scenario.id, site, exc)
                projected = pd.DataFrame(
                    [
                        {
                            "scenario_id": scenario.id,
                            "scenario_name": scenario.name,
                            "status": "failed",
                            "reason": str(exc),
                        }
                    ]
                )
            projected.insert(0, "site_id", site)
            projections.append(projected)
    scenario_frame = _concat(projections, None).rename(
        columns={
            "step": "horizon_day",
            **{f"p{q}_m3": f"p{q}_volume_m3" for q in (10, 50, 90)},
        }
    )
    return _concat(risks, RISK_COLUMNS), _concat(outlooks, None), scenario_frame


def load_home_scenarios(
    settings: Settings, cfg: AnalyticsSettings
) -> tuple[list[Scenario], list[str]]:
    """The scenarios of the home's scenario files; a bad file is skipped, its problems
    returned (``file:line: key: reason``)."""
    folder = settings.home / cfg.scenarios_dir
    found: list[Scenario] = []
    problems: list[str] = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            found.extend(load_scenarios(path))
        except SiteConfigError as exc:
            problems.extend(str(p) for p in exc.problems)
    return found, problems


def _concat(frames: list[pd.DataFrame], columns: list[str] | None) -> pd.DataFrame:
    if frames:
        out = pd.concat(frames, ignore_index=True)
        return out[columns] if columns else out
    return pd.DataFrame(columns=columns or ["site_id"])


# -- decomposition --------------------------------------------------------------------------
def _decomposition(
    metrics: pd.DataFrame, cfg: AnalyticsSettings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Trend, weekly and annual seasonality and residual of the chosen metrics, per day."""
    chosen = metrics[metrics["metric"].isin(cfg.decomposition.metrics)]
    frames: list[pd.DataFrame] = []
    status: list[dict[str, Any]] = []
    for series_id, group in chosen.groupby("series_id", sort=True):
        site = str(group["site_id"].iloc[0])
        row = {"analysis": "decomposition", "site_id": site, "series_id": series_id}
        if group["value"].notna().sum() < MIN_DECOMPOSITION_DAYS:
            reason = f"fewer than {MIN_DECOMPOSITION_DAYS} observed days"
            status.append({**row, "status": "too_short", "reason": reason})
            continue
        try:
            part = decompose_all(group[["series_id", "day", "value"]])
        except (ValueError, np.linalg.LinAlgError) as exc:
            status.append({**row, "status": "failed", "reason": str(exc)})
            continue
        part.insert(0, "site_id", site)
        frames.append(part)
        status.append({**row, "status": "ok", "reason": ""})
    columns = ["analysis", "site_id", "series_id", "status", "reason"]
    return _concat(frames, None), pd.DataFrame(status, columns=columns)


# -- anomalies --------------------------------------------------------------------------------
def _anomalies(
    metrics: pd.DataFrame, evidence: pd.DataFrame, cfg: AnalyticsSettings
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    a = cfg.anomalies
    chosen = metrics[metrics["scope"].isin(a.scopes) & metrics["metric"].isin(a.metrics)]
    frame = chosen[["series_id", "day", "value"]]
    config = AnomalyConfig(
        robust_z_threshold=a.robust_z_threshold,
        isolation_contamination=a.isolation_contamination,
        methods=tuple(a.methods),
    )
    ids = sorted(frame["series_id"].unique())
    workers = min(a.workers, max(1, len(ids) // MIN_SERIES_PER_WORKER))
    # the series are independent: split them over worker processes (each costs ~1 s to start,
    # worth it from a few dozen series; the IsolationForest fits are most of the time)
    chunks = [ids[k::workers] for k in range(workers)]
    if workers > 1:
        parts = Parallel(n_jobs=workers, backend="loky")(
            delayed(_scan)(frame[frame["series_id"].isin(c)], evidence, config) for c in chunks
        )
    else:
        parts = [_scan(frame, evidence, config)]
    anomalies = pd.concat([p[0] for p in parts], ignore_index=True)
    status = pd.concat([p[1] for p in parts], ignore_index=True).sort_values("series_id")
    changes = pd.concat([p[2] for p in parts], ignore_index=True)
    anomalies = anomalies.sort_values(["series_id", "day"], ignore_index=True)
    changes = changes.sort_values(["series_id", "day"], ignore_index=True)
    site_of = dict(zip(chosen["series_id"], chosen["site_id"], strict=False))
    for table in (anomalies, changes, status):
        table.insert(0, "site_id", table["series_id"].map(site_of))
    scan = status.copy()
    scan.insert(0, "analysis", "anomalies")
    keep = ["analysis", "site_id", "series_id", "status", "reason"]
    return anomalies, changes, scan[[c for c in keep if c in scan.columns]]


ORE_METRIC = "ore_t"
STOPPED_SHARE = 0.2  # a day with less than this share of the site's median ore feed


def plant_stopped_evidence(metrics: pd.DataFrame, cfg: AnalyticsSettings) -> pd.DataFrame:
    """Evidence for every scanned series of a site on the days its plant stood (ore fed below
    a fifth of the site's median day): a stop explains what the flows did that day."""
    columns = ["series_id", "day", "kind", "detail"]
    a = cfg.anomalies
    scanned = metrics[metrics["scope"].isin(a.scopes) & metrics["metric"].isin(a.metrics)]
    ore = metrics[(metrics["scope"] == "site") & (metrics["metric"] == ORE_METRIC)]
    frames = []
    for site, feed in ore.groupby("site_id"):
        median = float(feed["value"].median())
        stopped = feed[feed["value"] < STOPPED_SHARE * median] if median > 0 else feed.iloc[:0]
        if stopped.empty:
            continue
        series = scanned.loc[scanned["site_id"] == site, "series_id"].drop_duplicates()
        days = stopped[["day", "value"]].assign(
            kind=PLANT_STOPPED,
            detail=[f"ore fed {v:,.0f} t (median day {median:,.0f} t)" for v in stopped["value"]],
        )
        frames.append(series.to_frame().merge(days, how="cross")[columns])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def _scan(
    frame: pd.DataFrame, evidence: pd.DataFrame, config: AnomalyConfig
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Anomalies, statuses and change points of some series (the change points of the series
    that are scanned, found on the same residual the anomalies are)."""
    found: list[dict[str, Any]] = []
    anomalies, status = detect_with_status(frame, evidence, None, config, found)
    changes = pd.DataFrame(found, columns=CHANGE_POINT_COLUMNS)
    return anomalies, status, changes
