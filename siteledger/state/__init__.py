"""Operational state store (SQLAlchemy; SQLite by default, PostgreSQL in production)."""

from siteledger.state.store import Base, ImportJob, StateStore, WarehouseVersion

__all__ = ["Base", "ImportJob", "StateStore", "WarehouseVersion"]
