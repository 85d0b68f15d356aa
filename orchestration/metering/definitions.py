"""Metering: the raw metering lake asset (by day) and the e-mail of the monthly metering
reports."""

from dagster import Definitions

from orchestration.metering.assets import build_metering_records
from orchestration.metering.jobs import build_metering_schedules, metering_report_email_job
from orchestration.partitions import Partitions


def build_defs(partitions: Partitions) -> Definitions:
    return Definitions(
        assets=[build_metering_records(partitions.daily)],
        jobs=[metering_report_email_job],
        schedules=build_metering_schedules(partitions),
    )
