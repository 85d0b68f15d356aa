"""Operational state store (SQLAlchemy; SQLite by default, PostgreSQL in production)."""

from siteledger.state.store import Base, ImportJob, StateStore, WarehouseVersion

# registers its table on Base before any StateStore creates the schema
from siteledger.state import incidents as _incidents  # noqa: E402, F401

__all__ = ["Base", "ImportJob", "StateStore", "WarehouseVersion"]
