"""Site configuration: models, loading and validation."""

from siteledger.site.loader import (
    ConfigProblem,
    SiteConfigError,
    dump_site,
    load_site,
    parse_site_text,
    validate_site_file,
)
from siteledger.site.models import (
    EstimationRule,
    FileLayout,
    Flow,
    Meter,
    ModbusAddress,
    Node,
    SiteConfig,
    SiteInfo,
    interval_seconds,
)
from siteledger.site.organisation import (
    Organisation,
    Region,
    load_organisation,
    parse_organisation_text,
)

__all__ = [
    "ConfigProblem",
    "EstimationRule",
    "FileLayout",
    "Flow",
    "Meter",
    "ModbusAddress",
    "Node",
    "Organisation",
    "Region",
    "SiteConfig",
    "SiteConfigError",
    "SiteInfo",
    "dump_site",
    "interval_seconds",
    "load_organisation",
    "load_site",
    "parse_organisation_text",
    "parse_site_text",
    "validate_site_file",
]
