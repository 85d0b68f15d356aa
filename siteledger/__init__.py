"""siteledger core: settings and paths, site configuration models, units, state store, CLI."""

__version__ = "0.1.0"
