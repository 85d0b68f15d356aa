"""Water balance: site tables, the dbt models, the published warehouse, their jobs and triggers."""

from dagster import Definitions
from dagster_dbt import DbtCliResource

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
    assets=[site_config_tables, water_reference_models, water_daily_models, published_warehouse],
    jobs=[site_config_job, water_daily_job, water_balance_job, nightly_regulatory_job],
    schedules=[nightly_regulatory_schedule],
    sensors=[site_config_sensor, lake_days_changed_sensor],
    resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)},
)
