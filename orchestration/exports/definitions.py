"""Exports: the export job and a schedule per scheduled export of the home's exports.yaml."""

from dagster import Definitions

from orchestration.exports.jobs import build_export_schedules, export_job
from orchestration.partitions import Partitions
from siteledger.settings import Settings


def build_defs(settings: Settings, partitions: Partitions) -> Definitions:
    return Definitions(
        jobs=[export_job],
        schedules=build_export_schedules(settings.home, partitions.timezone),
    )
