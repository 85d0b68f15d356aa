"""Compliance reports: report assets per period, their jobs and schedules, the deadline check."""

from dagster import Definitions

from orchestration.partitions import Partitions
from orchestration.reports.assets import build_report_assets, report_deadlines
from orchestration.reports.jobs import build_report_jobs
from orchestration.reports.sensors import published_reports_sensor, report_deadline_sensor


def build_defs(partitions: Partitions) -> Definitions:
    jobs, schedules = build_report_jobs(partitions)
    return Definitions(
        assets=[*build_report_assets(partitions), report_deadlines],
        jobs=jobs,
        schedules=schedules,
        sensors=[report_deadline_sensor, published_reports_sensor],
    )
