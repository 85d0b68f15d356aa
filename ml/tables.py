"""The analytics tables the warehouse publishes, with a description of every column: what BI
users read (docs/analytics.md is written from it) and what the alert rules may name."""

from __future__ import annotations

_FORECAST_KEYS = {
    "site_id": "Site id.",
    "series_id": "The series: {site_id}/{scope}/{scope_id}/{metric} of fct_metric_daily.",
    "target": "The forecast target it belongs to (store_volume, site_demand, site_fuel, "
    "site_energy_cost, load_demand, material_demand, material_unit_cost, solar_production, or "
    "one configured).",
}

TABLES: dict[str, dict[str, str]] = {
    "fct_forecast_daily": {
        **_FORECAST_KEYS,
        "scope": "site, node, flow, generator, pv_array or load (the series' scope in "
        "fct_metric_daily).",
        "scope_id": "The site, store or flow id.",
        "metric": "The forecast metric (closing_storage_m3, demand_m3, ...).",
        "unit": "Unit of mean and the interval bounds.",
        "model_id": "The model that made the forecast (fct_model_registry).",
        "as_of": "Last observed day the forecast starts from.",
        "day": "Forecast day (site-local).",
        "horizon_day": "Days after as_of (1 = the next day).",
        "mean": "Expected value.",
        "lo80": "Lower bound of the 80 % interval.",
        "hi80": "Upper bound of the 80 % interval.",
        "lo95": "Lower bound of the 95 % interval.",
        "hi95": "Upper bound of the 95 % interval.",
        "capacity_m3": "Store capacity (stores only).",
        "fill_pct_mean": "mean as % of capacity (store volumes only).",
        "fill_pct_lo95": "lo95 as % of capacity.",
        "fill_pct_hi95": "hi95 as % of capacity.",
        "level_m_mean": "mean through the store's stage-storage curve, m (stores with a curve).",
        "level_m_lo95": "lo95 as a level, m.",
        "level_m_hi95": "hi95 as a level, m.",
    },
    "fct_forecast_status": {
        **_FORECAST_KEYS,
        "status": "ok, or why there is no forecast: no_model, too_short, constant, gappy, "
        "not_converged, failed.",
        "reason": "The reason in words; empty when ok.",
        "backtest_warning": "Set when the model's backtest went badly (MASE above 1.5, or 95 % "
        "intervals holding under 80 % of actuals): the forecast is published, read it with "
        "this in mind.",
        "model_id": "The series' current model, if any.",
        "model_type": "Its type.",
        "trained_at": "When it was trained.",
        "last_day": "Last observed day of the series.",
        "n_days": "Observed days of the series.",
    },
    "fct_model_registry": {
        "model_id": "Id of one training.",
        "series_id": "The series it forecasts.",
        "site_id": "Site id.",
        "target": "Forecast target.",
        "model_type": "Model type (sarimax_ar1_fourier: regression on trend, annual and weekly "
        "Fourier terms and rain, with AR(1) errors).",
        "status": "ok, too_short, constant, gappy, not_converged or failed: a model that is not "
        "ok is never used to forecast.",
        "reason": "Why, in words, when not ok.",
        "params": "Fitted parameters (JSON).",
        "spec": "Model specification: harmonics, rain handling, trend, time origin (JSON).",
        "train_start": "First day of the training window.",
        "train_end": "Last day of the training window.",
        "n_obs": "Observed days in the training window.",
        "converged": "The likelihood maximisation converged.",
        "backtest": "Rolling-origin backtest, every figure and each origin's (JSON).",
        "trained_at": "When the model was trained (UTC).",
        "next_retrain_at": "When it is due to be retrained (UTC).",
        "artefact": "Path of the fitted model's JSON file.",
        "fit_seconds": "Seconds the fit and backtest took.",
        "backtest_mase": "MAE over every origin and horizon day divided by the in-sample MAE of "
        "the seasonal-naive forecast (365-day season with a year of history, else 7).",
        "backtest_mape": "Mean absolute percentage error, % (days with a zero actual skipped).",
        "backtest_within_10pct_share": "Share of forecast days within ±10 % of the actual (0-1).",
        "backtest_coverage_80": "Share of actuals inside the 80 % interval (0-1).",
        "backtest_coverage_95": "Share of actuals inside the 95 % interval (0-1).",
        "backtest_origins": "Number of backtest origins.",
        "is_current": "This is the series' latest training.",
    },
    "fct_overflow_risk": {
        "site_id": "Site id.",
        "node_id": "Store id.",
        "as_of": "Last observed day; the simulation starts at its closing volume.",
        "horizon_days": "Window the probabilities cover: 1, 30 and the full horizon (days).",
        "p_above_80": "Probability that the volume is above 80 % of capacity at some point in "
        "the window (path maximum, not the end point).",
        "p_above_100": "Probability that the store reaches capacity (spills) in the window.",
        "p_below_20": "Probability that the volume falls below 20 % of capacity in the window.",
        "n_paths": "Simulated rain sequences (0 when the store could not be simulated).",
        "status": "ok, too_short, no_capacity or no_start_volume.",
        "reason": "Why, in words, when not ok (or a note).",
    },
    "fct_store_outlook_daily": {
        "site_id": "Site id.",
        "node_id": "Store id.",
        "day": "Day (site-local); horizon_day 0 is as_of, the known start.",
        "horizon_day": "Days after as_of.",
        "p05_m3": "5th percentile of the simulated volume at the end of the day, m3.",
        "p05_fill_pct": "The same as % of capacity.",
        "p50_m3": "Median simulated volume, m3.",
        "p50_fill_pct": "The same as % of capacity.",
        "p95_m3": "95th percentile of the simulated volume, m3.",
        "p95_fill_pct": "The same as % of capacity.",
    },
    "fct_scenario_projection": {
        "site_id": "Site id.",
        "scenario_id": "Scenario id (base: no change).",
        "scenario_name": "Scenario name.",
        "node_id": "Store id.",
        "day": "Day (site-local); horizon_day 0 is the known start.",
        "horizon_day": "Days after as_of.",
        "p10_volume_m3": "10th percentile of the projected volume, m3.",
        "p10_fill_pct": "The same as % of capacity.",
        "p50_volume_m3": "Median projected volume, m3.",
        "p50_fill_pct": "The same as % of capacity.",
        "p90_volume_m3": "90th percentile of the projected volume, m3.",
        "p90_fill_pct": "The same as % of capacity.",
        "p_above_80": "Probability of having been above 80 % of capacity by this day.",
        "p_above_100": "Probability of having reached capacity (spilled) by this day.",
        "p_below_20": "Probability of having been below 20 % of capacity by this day.",
        "status": "ok, or why the store or scenario was not projected.",
        "reason": "Why, in words.",
    },
    "fct_anomalies": {
        "site_id": "Site id.",
        "series_id": "The series: {site_id}/{scope}/{scope_id}/{metric}.",
        "day": "First day of the anomaly.",
        "last_day": "Last day (the same for a one-day spike).",
        "peak_day": "Day of the largest deviation.",
        "run_days": "Days in the anomaly.",
        "value": "The series' value on the peak day.",
        "expected": "Trend plus seasonal value on the peak day.",
        "deviation_sigma": "Deviation of the peak day from expected, in robust standard "
        "deviations (1.4826 x MAD of the residual).",
        "direction": "high or low.",
        "pattern": "spike (one day), pattern_break (consecutive outliers) or level_shift.",
        "severity": "1 (minor) to 5 (severe): by |deviation_sigma|, raised for runs and when "
        "detectors agree.",
        "methods": "Detectors that flagged it: robust_z, pattern_break, isolation_forest, "
        "change_point, rolling_3sigma.",
        "n_methods": "How many detectors agree.",
        "suggested_cause": "sensor (VEE flags that day), plant_stopped (the site fed under a "
        "fifth of its median ore that day), operational_change (a change point within 7 days), "
        "data_entry (a manual reading) or unexplained.",
        "cause_evidence": "The evidence for the suggested cause, in words.",
    },
    "fct_change_points": {
        "site_id": "Site id.",
        "series_id": "The series.",
        "day": "First day of the new regime.",
        "mean_before": "Mean of the deseasonalised residual before, in the series' unit.",
        "mean_after": "Mean after.",
        "shift": "mean_after - mean_before.",
        "shift_sigma": "The shift in robust standard deviations of the residual.",
    },
    "fct_metric_decomposition": {
        "site_id": "Site id.",
        "series_id": "The series: {site_id}/{scope}/{scope_id}/{metric} (the metrics of "
        "analytics.yaml's decomposition, by default store volumes, demand, inputs, outputs).",
        "day": "Day (site-local).",
        "value": "The series' value (null on a missing day).",
        "trend": "Linear trend, fitted robustly with the seasonal terms.",
        "seasonal_weekly": "Weekly seasonal component (3 harmonics).",
        "seasonal_annual": "Annual seasonal component (2 harmonics; 0 with less than 300 days).",
        "residual": "value - trend - seasonal_weekly - seasonal_annual.",
    },
    "fct_analytics_status": {
        "analysis": "forecast, anomalies, decomposition or settings.",
        "site_id": "Site id.",
        "series_id": "The series.",
        "status": "ok, or why the series was skipped (too_short, constant, intermittent, "
        "no_data, ...).",
        "reason": "Why, in words.",
    },
}
