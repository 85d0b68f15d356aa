"""Operational state store (SQLAlchemy; SQLite by default, PostgreSQL in production)."""

# the incidents register's table joins Base before any StateStore creates the schema
from siteledger.state import incidents as _incidents  # noqa: F401
from siteledger.state.store import Base, ImportJob, StateStore, WarehouseVersion

__all__ = ["Base", "ImportJob", "StateStore", "WarehouseVersion"]
