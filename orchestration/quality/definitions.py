"""Data quality: scores, their Great Expectations suites and the audits before publishing."""

from dagster import Definitions

from orchestration.quality.assets import (
    quality_scores_daily,
    site_days_score_good_or_better,
    warehouse_publish_audits,
)

defs = Definitions(
    assets=[quality_scores_daily],
    asset_checks=[warehouse_publish_audits, site_days_score_good_or_better],
)
