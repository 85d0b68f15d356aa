"""Settings and runtime paths.

Everything the platform writes lives under one folder, ``SITELEDGER_HOME`` (default ``./var``).
Secrets and locations come from the environment only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

# A window run re-derives this many days before its first day: the last totaliser delta and the
# closing storage of a day need the first reading of the next day (dbt var ``lookback_days``).
DEFAULT_LOOKBACK_DAYS = 1
# ... and this many days after its last day: a day's readings also make the next day's opening
# storage, first totaliser delta and neighbour-based VEE flags, so a late file for a day whose
# next day is already built must rewrite that next day too (dbt var ``lookahead_days``).
DEFAULT_LOOKAHEAD_DAYS = 1
# How often the orchestrator's sensors look for new files, spooled readings and lake days.
DEFAULT_SENSOR_INTERVAL_S = 30
# DuckDB's cap for the heaviest model (per-reading VEE flags): unbounded it reached 15 GiB on a
# 500-meter year; at 2 GB it spills and the full build stays near 3.3 GiB.
DEFAULT_DUCKDB_MEMORY_LIMIT = "2GB"


@dataclass(frozen=True)
class Settings:
    """Resolved runtime settings. Build with :func:`get_settings` (reads the environment)."""

    home: Path
    state_url: str | None = None
    lookback_days: int = DEFAULT_LOOKBACK_DAYS
    lookahead_days: int = DEFAULT_LOOKAHEAD_DAYS
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    sensor_interval_seconds: int = DEFAULT_SENSOR_INTERVAL_S

    @property
    def landing(self) -> Path:
        """Folder that file drops arrive in."""
        return self.home / "landing"

    @property
    def archive(self) -> Path:
        """Where imported files are kept, named by batch id, for audit and replay."""
        return self.home / "archive"

    @property
    def lake(self) -> Path:
        """Immutable raw lake (Parquet, partitioned by site, source and day)."""
        return self.home / "lake"

    @property
    def readings_lake(self) -> Path:
        return self.lake / "readings"

    @property
    def quarantine(self) -> Path:
        """Rejected rows (Parquet) and rejected whole files, each with a reason."""
        return self.home / "quarantine"

    @property
    def spool(self) -> Path:
        """The device collector's store-and-forward spool: one folder of segments per site."""
        return self.home / "spool"

    @property
    def sites_dir(self) -> Path:
        """Site YAML files the platform runs on."""
        return self.home / "sites"

    @property
    def demo_dir(self) -> Path:
        """Demo generator outputs that are not file drops (ground truth, fault manifest)."""
        return self.home / "demo"

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def build_db(self) -> Path:
        """The DuckDB database dbt builds into (one writer at a time)."""
        return self.warehouse_dir / "build.duckdb"

    @property
    def published_db(self) -> Path:
        """The stable path of the published warehouse BI tools open read-only."""
        return self.warehouse_dir / "siteledger.duckdb"

    @property
    def published_parquet(self) -> Path:
        """The published marts as Parquet files."""
        return self.warehouse_dir / "parquet"

    @property
    def organisation_file(self) -> Path:
        """The organisation's YAML (regions, financial year, first day of data); optional."""
        return self.home / "organisation.yaml"

    @property
    def reports_dir(self) -> Path:
        """Compliance report artifacts (PDF, Excel, CSV, JSON, XML) and custom definitions."""
        return self.home / "reports"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @cached_property
    def state_store_url(self) -> str:
        """SQLAlchemy URL of the operational state store (SQLite under home by default)."""
        if self.state_url:
            return self.state_url
        return f"sqlite:///{(self.home / 'state.db').resolve()}"

    def runtime_data(self) -> list[Path]:
        """What runs write under the home: data folders and, when it lives here, the state store.

        The site files, the Dagster instance and dbt's parse cache are configuration, not data.
        """
        paths = [
            self.landing,
            self.archive,
            self.lake,
            self.quarantine,
            self.spool,
            self.demo_dir,
            self.warehouse_dir,
            self.reports_dir,
            self.home / "quality",
        ]
        if not self.state_url:
            state = self.home / "state.db"
            paths += [state, state.with_name("state.db-wal"), state.with_name("state.db-shm")]
        return paths

    def ensure_dirs(self) -> None:
        for path in (
            self.home,
            self.landing,
            self.archive,
            self.readings_lake,
            self.quarantine,
            self.sites_dir,
            self.warehouse_dir,
        ):
            path.mkdir(parents=True, exist_ok=True)


def get_settings(home: str | os.PathLike[str] | None = None) -> Settings:
    """Settings from the environment; ``home`` overrides ``SITELEDGER_HOME``."""
    root = Path(home or os.environ.get("SITELEDGER_HOME") or "var").expanduser()
    lookback = _whole_number("SITELEDGER_LOOKBACK_DAYS", DEFAULT_LOOKBACK_DAYS)
    lookahead = _whole_number("SITELEDGER_LOOKAHEAD_DAYS", DEFAULT_LOOKAHEAD_DAYS)
    interval = _whole_number("SITELEDGER_SENSOR_INTERVAL_S", DEFAULT_SENSOR_INTERVAL_S)
    return Settings(
        home=root.resolve(),
        state_url=os.environ.get("SITELEDGER_STATE_URL") or None,
        lookback_days=lookback,
        lookahead_days=lookahead,
        sensor_interval_seconds=max(interval, 1),
        duckdb_memory_limit=os.environ.get("SITELEDGER_DUCKDB_MEMORY_LIMIT")
        or DEFAULT_DUCKDB_MEMORY_LIMIT,
    )


def _whole_number(name: str, default: int) -> int:
    text = os.environ.get(name) or str(default)
    if not text.isdigit():
        raise ValueError(f"{name}={text!r} is not a whole number")
    return int(text)
