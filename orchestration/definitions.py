"""The one Dagster entry point: ``defs``, merged from the per-area ``definitions`` modules.

Each area (``orchestration/<area>/definitions.py``) declares its own assets, checks, jobs,
schedules and sensors; resources shared by every area are bound here once.
"""

from dagster import Definitions

from orchestration.devices import definitions as devices
from orchestration.ingestion import definitions as ingestion
from orchestration.quality import definitions as quality
from orchestration.reports import definitions as reports
from orchestration.resources import SiteledgerHome
from orchestration.water import definitions as water

defs = Definitions.merge(
    ingestion.defs,
    devices.defs,
    water.defs,
    reports.defs,
    quality.defs,
    Definitions(resources={"siteledger": SiteledgerHome()}),
)
