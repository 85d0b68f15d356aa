"""Air quality analytics as assets: the dust-suppression effect, the PM10 forecast and its
verification, computed from the audited build and published with it (ml.air)."""

from typing import Any

from dagster import AssetExecutionContext, AssetSpec, MaterializeResult, multi_asset

from ml.air import run_air_quality
from orchestration.keys import AIR_QUALITY, BUILD
from orchestration.resources import SiteledgerHome
from orchestration.water.assets import DUCKDB_POOL, MART_KEYS

DESCRIPTIONS = {
    "fct_dust_suppression_effect": "Per site: how much dust-suppression water lowers PM10, with "
    "wind and humidity held equal, its confidence interval and a recommendation.",
    "fct_air_quality_forecast": "Per site: the 24 h and 48 h forecast of 24-hour mean PM10 "
    "with the probability of a high dust day.",
    "fct_air_quality_forecast_skill": "Per site and horizon: the PM10 forecast's rolling-origin "
    "backtest against persistence (MAE, skill, POD, FAR, CSI at the trigger).",
}
_UPSTREAM = ("fct_air_quality_daily", "fct_weather_daily", "fct_metric_daily")
UPSTREAM_MARTS = [k for k in MART_KEYS if k.path[-1] in _UPSTREAM]


@multi_asset(
    specs=[
        AssetSpec(
            key,
            deps=[BUILD, *UPSTREAM_MARTS],
            description=DESCRIPTIONS[key.path[-1]],
            group_name="sustainability",
            owners=["team:data-engineering"],
            kinds={"python", "duckdb"},
        )
        for key in AIR_QUALITY
    ],
    pool=DUCKDB_POOL,
)
def air_quality_analytics(context: AssetExecutionContext, siteledger: SiteledgerHome):  # type: ignore[no-untyped-def]
    """The dust-suppression effect and the verified PM10 forecast of every site with air
    quality settings, written into the audited build."""
    result = run_air_quality(siteledger.settings())
    for problem in result.problems:
        context.log.error(problem)
    for key in AIR_QUALITY:
        frame = result.tables[key.path[-1]]
        meta: dict[str, Any] = {
            "dagster/row_count": len(frame),
            "seconds": round(result.seconds.get("air_quality", 0.0), 3),
        }
        if "status" in frame.columns:
            meta["status"] = {str(k): int(v) for k, v in frame["status"].value_counts().items()}
        if key.path[-1] == "fct_air_quality_forecast_skill" and len(frame):
            ok = frame[frame["status"] == "ok"]
            meta["skill"] = {
                f"{int(h) * 24} h": round(float(v), 3)
                for h, v in ok.groupby("horizon_days")["skill"].mean().items()
            }
        yield MaterializeResult(asset_key=key, metadata=meta)


ASSETS = [air_quality_analytics]
