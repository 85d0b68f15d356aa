"""Dagster face of siteledger: one Definitions, assets wrapping the plain-Python packages."""
