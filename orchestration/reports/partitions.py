"""Report partitions: calendar months, financial-year quarters and financial years.

The financial year starts in ``SITELEDGER_FY_START_MONTH`` (default 7, July: the Australian
financial year the demo runs on); quarters start in that month and every third after it.
"""

import os

from dagster import MonthlyPartitionsDefinition, TimeWindowPartitionsDefinition

from orchestration.partitions import PARTITIONS_START, PARTITIONS_TIMEZONE

FY_START_MONTH = int(os.environ.get("SITELEDGER_FY_START_MONTH", "7"))
QUARTER_MONTHS = sorted((FY_START_MONTH - 1 + 3 * k) % 12 + 1 for k in range(4))
_FIRST_MONTH = PARTITIONS_START[:7] + "-01"

monthly_report_partitions = MonthlyPartitionsDefinition(
    start_date=_FIRST_MONTH, timezone=PARTITIONS_TIMEZONE
)
quarterly_report_partitions = TimeWindowPartitionsDefinition(
    cron_schedule=f"0 0 1 {','.join(str(m) for m in QUARTER_MONTHS)} *",
    start=_FIRST_MONTH,
    fmt="%Y-%m-%d",
    timezone=PARTITIONS_TIMEZONE,
)
annual_report_partitions = TimeWindowPartitionsDefinition(
    cron_schedule=f"0 0 1 {FY_START_MONTH} *",
    start=_FIRST_MONTH,
    fmt="%Y-%m-%d",
    timezone=PARTITIONS_TIMEZONE,
)
PARTITIONS = {
    "monthly": monthly_report_partitions,
    "quarterly": quarterly_report_partitions,
    "annual": annual_report_partitions,
}
