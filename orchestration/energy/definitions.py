"""Energy: the weekly energy report asset, its job and schedule, and the energy report e-mail."""

from dagster import Definitions

from orchestration.energy.assets import build_energy_assets, weekly_partitions
from orchestration.energy.jobs import (
    build_energy_schedules,
    energy_report_email_job,
    energy_report_weekly_job,
)
from orchestration.partitions import Partitions


def build_defs(partitions: Partitions) -> Definitions:
    return Definitions(
        assets=build_energy_assets(partitions),
        jobs=[energy_report_weekly_job, energy_report_email_job],
        schedules=build_energy_schedules(partitions, weekly_partitions(partitions)),
    )
