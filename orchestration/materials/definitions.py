"""Materials: the raw materials lake asset, the certificates of analysis with their job and
sensor, and the e-mail of the monthly materials reports."""

from dagster import Definitions

from orchestration.materials.assets import certificates_of_analysis, materials_records
from orchestration.materials.jobs import (
    build_materials_schedules,
    certificates_of_analysis_job,
    materials_report_email_job,
)
from orchestration.materials.sensors import certificates_of_analysis_sensor
from orchestration.partitions import Partitions


def build_defs(partitions: Partitions) -> Definitions:
    return Definitions(
        assets=[materials_records, certificates_of_analysis],
        jobs=[certificates_of_analysis_job, materials_report_email_job],
        schedules=build_materials_schedules(partitions),
        sensors=[certificates_of_analysis_sensor],
    )
