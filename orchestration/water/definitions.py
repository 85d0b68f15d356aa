"""Water balance: site tables, the dbt models, the audited build, the published warehouse, the
nightly and backfill jobs and their triggers."""

from dagster import Definitions

from orchestration.partitions import Partitions
from orchestration.quality.assets import build, build_quality_scores, site_days_score_good_or_better
from orchestration.water.assets import build_water_models, published, site_config
from orchestration.water.jobs import build_jobs
from orchestration.water.sensors import (
    lake_days_changed_sensor,
    rolled_back_days_sensor,
    site_config_sensor,
)


def build_defs(partitions: Partitions) -> Definitions:
    water_models = build_water_models(partitions.daily)
    jobs, schedules = build_jobs(water_models)
    return Definitions(
        assets=[
            site_config,
            water_models,
            build_quality_scores(partitions.daily),
            build,
            published,
        ],
        asset_checks=[site_days_score_good_or_better],
        jobs=jobs,
        schedules=schedules,
        sensors=[site_config_sensor, lake_days_changed_sensor, rolled_back_days_sensor],
    )
