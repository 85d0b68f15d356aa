"""The one Dagster entry point: ``defs``, merged from the per-area definitions.

Partitions depend on the home's configuration (the organisation's first day of data and
financial year, the sites' zones), so the definitions are built by :func:`build_defs` for a
home; ``defs`` is the one for ``$SITELEDGER_HOME`` that ``workspace.yaml`` loads.
"""

import warnings

from dagster import BetaWarning, Definitions, in_process_executor

from orchestration.alerts import definitions as alerts
from orchestration.devices import definitions as devices
from orchestration.energy import definitions as energy
from orchestration.environment import resources_for
from orchestration.exports import definitions as exports
from orchestration.external import device_poll_now_job
from orchestration.ingestion import definitions as ingestion
from orchestration.materials import definitions as materials
from orchestration.metering import definitions as metering
from orchestration.ml import definitions as ml
from orchestration.partitions import build_partitions
from orchestration.reports import definitions as reports
from orchestration.reports.delivery import report_delivery_job
from orchestration.sustainability import definitions as sustainability
from orchestration.water import definitions as water
from siteledger.settings import Settings, get_settings


def build_defs(settings: Settings) -> Definitions:
    partitions = build_partitions(settings)
    with warnings.catch_warnings():
        # BackfillPolicy.single_run() on an @asset is marked beta; it is what makes a range of
        # days (or periods) one step, and it is pinned by the tests
        warnings.simplefilter("ignore", BetaWarning)
        return _merge(settings, partitions)


def _merge(settings: Settings, partitions) -> Definitions:  # type: ignore[no-untyped-def]
    return Definitions.merge(
        ingestion.defs,
        alerts.defs,
        devices.defs,
        ml.build_defs(partitions),
        water.build_defs(partitions),
        reports.build_defs(partitions),
        sustainability.defs,
        energy.build_defs(partitions),
        materials.build_defs(partitions),
        metering.build_defs(partitions),
        exports.build_defs(settings, partitions),
        Definitions(
            jobs=[report_delivery_job, device_poll_now_job],
            # local or production (SITELEDGER_ENV): the home, dbt's target, S3, SMTP, Modbus
            resources=resources_for(home=str(settings.home)),
            # steps run one after another in the run's process (~0.1 s a step; a subprocess per
            # step costs ~2.6 s) and the dbt block is one step anyway
            executor=in_process_executor,
        ),
    )


defs = build_defs(get_settings())
