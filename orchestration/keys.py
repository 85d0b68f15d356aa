"""Asset keys shared across areas: one place, so a renamed asset cannot leave a stale reference."""

from dagster import AssetKey

from ml.air import AIR_QUALITY_TABLES
from quality.scoring import SCORES_TABLE

RAW_READINGS = AssetKey(["raw", "readings"])
RAW_DEVICE_READINGS = AssetKey(["raw", "device_readings"])
# the materials and production records in the lake (dbt source materials_lake)
RAW_MATERIALS = AssetKey(["raw", "materials"])
# the prepaid metering records in the lake (dbt source metering_lake), by site-local day
RAW_METERING = AssetKey(["raw", "metering"])
SITE_CONFIG = AssetKey(["raw", "site_config"])
DEVICE_HEALTH = AssetKey(["devices", "device_health"])
QUALITY_SCORES = AssetKey(["marts", SCORES_TABLE])
BUILD = AssetKey(["warehouse", "build"])
PUBLISHED = AssetKey(["warehouse", "published"])
REPORTS = {
    kind: AssetKey(["reports", f"compliance_report_{kind}"])
    for kind in ("monthly", "quarterly", "annual")
}
REPORT_DEADLINES = AssetKey(["reports", "report_deadlines"])
CERTIFICATES = AssetKey(["materials", "certificates_of_analysis"])
ALERT_EVALUATION = AssetKey(["alerts", "alert_evaluation"])
# the analytics' tables, written into the build beside the dbt marts and published with them
ANALYTICS = tuple(
    AssetKey(["marts", table])
    for table in (
        "fct_forecast_daily",
        "fct_forecast_status",
        "fct_model_registry",
        "fct_overflow_risk",
        "fct_store_outlook_daily",
        "fct_scenario_projection",
        "fct_anomalies",
        "fct_change_points",
        "fct_metric_decomposition",
        "fct_analytics_status",
    )
)
# the air-quality analytics' tables, written into the build and published with it
AIR_QUALITY = tuple(AssetKey(["marts", table]) for table in AIR_QUALITY_TABLES)
# every table Python writes into the build beside the dbt marts; the publish waits for them all
BUILD_TABLES = (*ANALYTICS, *AIR_QUALITY)
# a model built from the site files only: its metadata names the site files a full build used
SITE_FILE_MODEL = AssetKey(["marts", "dim_sites"])
SITE_FILES = "site_files"
# metadata of a dbt build: the days it rebuilt, "<first>..<last>" or EVERY_DAY
BUILD_WINDOW = "window"
EVERY_DAY = "every day of data"

# The run queue takes higher priorities first: imports and the nightly run go ahead of runs the
# sensors ask for, which go ahead of a backfill someone started by hand (dagster/priority).
PRIORITY = "dagster/priority"
URGENT_PRIORITY = {PRIORITY: "10"}
SENSOR_PRIORITY = {PRIORITY: "5"}
BACKFILL_PRIORITY = {PRIORITY: "-10"}
