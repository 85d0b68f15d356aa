"""Analytics as assets: forecasts with their registry, overflow risk, scenarios and anomalies,
computed from the audited build and published with it."""

from typing import Any, Literal

from dagster import (
    AssetExecutionContext,
    AssetSpec,
    Config,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from ml.service import AnalyticsResult, run_analytics
from orchestration.keys import ANALYTICS, BUILD
from orchestration.resources import SiteledgerHome
from orchestration.water.assets import DUCKDB_POOL, MART_KEYS

DESCRIPTIONS = {
    "fct_forecast_daily": "Forecast days of every target series (store volumes 90 days, site "
    "demand 30 days) with 80 % and 95 % intervals.",
    "fct_forecast_status": "Per target series: forecast, or why not (too little history, a "
    "model that did not converge...).",
    "fct_model_registry": "Every training of every forecast model: parameters, training "
    "window, rolling-origin backtest figures, next retrain.",
    "fct_overflow_risk": "Probability that each store goes above 80 % or 100 % of capacity, or "
    "below 20 %, within 1 and 30 days (Monte Carlo with stochastic rain).",
    "fct_store_outlook_daily": "Volume quantiles of each store per day ahead, from the Monte "
    "Carlo paths.",
    "fct_scenario_projection": "What-if scenarios projected through the stores' balance beside "
    "the base case.",
    "fct_anomalies": "Anomalous days of daily metrics, with severity, deviation and a suggested "
    "cause.",
    "fct_change_points": "Level shifts in daily metrics (change points of the deseasonalised "
    "series).",
    "fct_metric_decomposition": "Trend, weekly and annual seasonality and residual of store "
    "volumes, demand, inputs and outputs per day.",
    "fct_analytics_status": "Per series and analysis: ok, or why it was skipped.",
}
METRIC_MART = next((k for k in MART_KEYS if k.path[-1] == "fct_metric_daily"), None)


class AnalyticsConfig(Config):
    retrain: Literal["due", "all", "none"] = "due"


@multi_asset(
    specs=[
        AssetSpec(
            key,
            deps=[BUILD, *([METRIC_MART] if METRIC_MART else [])],
            description=DESCRIPTIONS[key.path[-1]],
            group_name="ml",
            owners=["team:data-engineering"],
            kinds={"python", "duckdb"},
        )
        for key in ANALYTICS
    ],
    pool=DUCKDB_POOL,
)
def analytics(context: AssetExecutionContext, siteledger: SiteledgerHome, config: AnalyticsConfig):  # type: ignore[no-untyped-def]
    """Train the forecast models that are due, then forecast, simulate overflow risk and
    scenarios and scan for anomalies on the audited build; the tables go out with the publish."""
    result = run_analytics(
        siteledger.settings(),
        siteledger.state_store(),
        retrain=config.retrain,
        progress=context.log.info,
    )
    for problem in result.problems:
        context.log.error(problem)
    for key in ANALYTICS:
        yield MaterializeResult(asset_key=key, metadata=_metadata(key.path[-1], result))


def _metadata(table: str, result: AnalyticsResult) -> dict[str, Any]:
    frame = result.tables[table]
    meta: dict[str, Any] = {"dagster/row_count": len(frame), "as_of": str(result.as_of)}
    if result.problems:
        meta["problems"] = MetadataValue.json(result.problems)
    if table == "fct_forecast_status":
        meta["status"] = MetadataValue.json(result.status_counts())
    if table == "fct_model_registry":
        meta["trained_this_run"] = len(result.trained)
        current = frame[frame["is_current"]] if not frame.empty else frame
        meta["backtest"] = MetadataValue.md(_backtest_table(current))
        meta["seconds"] = MetadataValue.json({k: round(v, 2) for k, v in result.seconds.items()})
    if table == "fct_overflow_risk" and not frame.empty:
        meta["max_p_above_100_30d"] = float(
            frame.loc[frame["horizon_days"] == 30, "p_above_100"].max()
        )
    if table == "fct_anomalies" and not frame.empty and "severity" in frame:
        meta["by_severity"] = MetadataValue.json(
            {str(k): int(v) for k, v in frame["severity"].value_counts().items()}
        )
    return meta


def _backtest_table(current: Any) -> str:
    lines = [
        "| series | status | MASE | MAPE % | within ±10 % | 80 % cover | 95 % cover |",
        "|---|---|---|---|---|---|---|",
    ]

    def fmt(value: Any, scale: float = 1.0) -> str:
        return "" if value is None or value != value else f"{value * scale:.2f}"

    for row in current.itertuples(index=False):
        lines.append(
            f"| {row.series_id} | {row.status} | {fmt(row.backtest_mase)} "
            f"| {fmt(row.backtest_mape)} | {fmt(row.backtest_within_10pct_share, 100)} % "
            f"| {fmt(row.backtest_coverage_80, 100)} % | {fmt(row.backtest_coverage_95, 100)} % |"
        )
    return "\n".join(lines)
