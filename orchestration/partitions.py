"""Partitions shared by the areas: site-local days."""

import os

from dagster import DailyPartitionsDefinition

# The first day any site reports; the demo starts on 2025-07-01 (the Australian financial year).
PARTITIONS_START = os.environ.get("SITELEDGER_PARTITIONS_START", "2025-07-01")
# Partitions are site-local days; a deployment whose sites share a zone sets it here so the
# nightly schedule fires after local midnight.
PARTITIONS_TIMEZONE = os.environ.get("SITELEDGER_TIMEZONE", "UTC")

daily_partitions = DailyPartitionsDefinition(
    start_date=PARTITIONS_START, timezone=PARTITIONS_TIMEZONE
)
