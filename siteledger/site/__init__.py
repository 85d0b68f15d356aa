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

__all__ = [
    "ConfigProblem",
    "EstimationRule",
    "FileLayout",
    "Flow",
    "Meter",
    "ModbusAddress",
    "Node",
    "SiteConfig",
    "SiteConfigError",
    "SiteInfo",
    "dump_site",
    "interval_seconds",
    "load_site",
    "parse_site_text",
    "validate_site_file",
]
