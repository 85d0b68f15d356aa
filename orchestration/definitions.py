"""The one Dagster entry point: ``defs``, merged from the per-area modules."""

from dagster import Definitions
from dagster_dbt import DbtCliResource

from orchestration.ingestion.assets import raw_readings
from orchestration.ingestion.jobs import ingest_landing_job
from orchestration.ingestion.sensors import landing_file_sensor
from orchestration.resources import SiteledgerHome
from orchestration.water.assets import (
    published_warehouse,
    site_config_tables,
    water_daily_models,
    water_reference_models,
)
from orchestration.water.dbt import DBT_EXECUTABLE, dbt_project
from orchestration.water.jobs import (
    lake_days_changed_sensor,
    nightly_regulatory_job,
    nightly_regulatory_schedule,
    site_config_job,
    site_config_sensor,
    water_balance_job,
    water_daily_job,
)

defs = Definitions(
    assets=[
        raw_readings,
        site_config_tables,
        water_reference_models,
        water_daily_models,
        published_warehouse,
    ],
    jobs=[
        ingest_landing_job,
        site_config_job,
        water_daily_job,
        water_balance_job,
        nightly_regulatory_job,
    ],
    schedules=[nightly_regulatory_schedule],
    sensors=[landing_file_sensor, site_config_sensor, lake_days_changed_sensor],
    resources={
        "siteledger": SiteledgerHome(),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE),
    },
)
