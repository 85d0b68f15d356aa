"""Compliance reports: report assets per period, their schedules, the deadline check and sensor."""

from dagster import Definitions

from orchestration.reports.assets import (
    compliance_report_annual,
    compliance_report_monthly,
    compliance_report_quarterly,
    report_deadlines,
)
from orchestration.reports.jobs import (
    compliance_report_annual_job,
    compliance_report_annual_schedule,
    compliance_report_monthly_job,
    compliance_report_monthly_schedule,
    compliance_report_quarterly_job,
    compliance_report_quarterly_schedule,
    report_deadline_job,
    report_deadline_sensor,
)

defs = Definitions(
    assets=[
        compliance_report_monthly,
        compliance_report_quarterly,
        compliance_report_annual,
        report_deadlines,
    ],
    jobs=[
        compliance_report_monthly_job,
        compliance_report_quarterly_job,
        compliance_report_annual_job,
        report_deadline_job,
    ],
    schedules=[
        compliance_report_monthly_schedule,
        compliance_report_quarterly_schedule,
        compliance_report_annual_schedule,
    ],
    sensors=[report_deadline_sensor],
)
