"""The published warehouse: what BI tools read while pipelines keep running.

dbt builds into ``warehouse/build.duckdb`` (one writer holds its lock while it runs). After a build
and its audits pass (:meth:`Warehouse.publish_audited`; a rejected build is recorded and not
published), :meth:`Warehouse.publish` copies the mart tables into a new, immutable version
file and switches the stable path ``warehouse/siteledger.duckdb`` to it with one atomic rename.
A reader that opened the old file keeps reading the old version (same inode); a new reader gets the
new one; nobody sees a half-written file and nobody is blocked by the build's lock. Each version
is also exported as Parquet under ``warehouse/parquet/`` (a symlink switched atomically).

Version files are written with DuckDB storage version v1.0.0 so BI drivers that embed DuckDB 1.x
can open them (DuckDB 2.0's default format cannot be read by 1.x).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pandas as pd
from sqlalchemy import select

from siteledger.durable import fsync_path
from siteledger.settings import Settings
from siteledger.state.store import (
    PublishAudit,
    StateStore,
    WarehouseVersion,
    new_batch_id,
    utcnow,
)

STORAGE_VERSION = "v1.0.0"
PUBLISH_INFO_TABLE = "_siteledger_publish"
KEEP_VERSIONS = 5


class PublishError(RuntimeError):
    pass


@dataclass(frozen=True)
class PublishedVersion:
    version_id: str
    path: Path
    tables: dict[str, int]


class AuditResult(Protocol):
    """One audit of the build (see ``quality.audit``): a named claim, whether it held, why."""

    name: str
    passed: bool
    detail: str

    def as_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class PublishOutcome:
    """What an audited publish did: published a version, or rejected the build."""

    audit_id: str
    published: PublishedVersion | None
    serving_version_id: str | None
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return self.published is None


def write_build_tables(
    settings: Settings, frames: Mapping[str, pd.DataFrame], schema: str = "marts"
) -> dict[str, int]:
    """Write tables computed outside dbt (alert events, analytics) into the build warehouse's
    ``schema``, replacing them in one transaction, for the publish that follows. Returns the
    row counts."""
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute(f"create schema if not exists {_quote(schema)}")
        con.execute("begin")
        for table, frame in frames.items():
            con.register("staged_rows", frame)
            con.execute(
                f"create or replace table {_quote(schema)}.{_quote(table)} "  # noqa: S608
                "as select * from staged_rows"
            )
            con.unregister("staged_rows")
        con.execute("commit")
    return {table: len(frame) for table, frame in frames.items()}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Warehouse:
    """Build database, published versions and the stable paths BI tools open."""

    def __init__(self, settings: Settings, store: StateStore, keep: int = KEEP_VERSIONS):
        self.settings = settings
        self.store = store
        self.keep = keep
        self.root = settings.warehouse_dir
        self.build_db = settings.build_db
        self.published_db = settings.published_db
        self.parquet_link = settings.published_parquet
        self.versions_dir = self.root / "versions"
        self.versions_dir.mkdir(parents=True, exist_ok=True)

    # -- locking ---------------------------------------------------------------------------------
    @contextmanager
    def _publish_lock(self) -> Iterator[None]:
        """One publisher or rollback at a time, across processes."""
        with open(self.root / ".publish.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- publish ---------------------------------------------------------------------------------
    def build_tables(self, schemas: Sequence[str]) -> list[tuple[str, str]]:
        """(schema, table) of every table and view in ``schemas`` of the build database."""
        if not self.build_db.exists():
            raise PublishError(f"no build database at {self.build_db}")
        with duckdb.connect(str(self.build_db), read_only=True) as con:
            placeholders = ", ".join("?" for _ in schemas)
            rows = con.execute(
                "select table_schema, table_name from information_schema.tables "  # noqa: S608
                f"where table_schema in ({placeholders}) order by table_schema, table_name",
                list(schemas),
            ).fetchall()
        return [(str(schema), str(table)) for schema, table in rows]

    def publish(self, schemas: Sequence[str], note: str | None = None) -> PublishedVersion:
        """Copy every table of ``schemas`` in the build database into a new published version."""
        tables = self.build_tables(schemas)
        if not tables:
            raise PublishError(f"the build database has no tables in schemas {list(schemas)}")
        names = [table for _, table in tables]
        clashes = {n for n in names if names.count(n) > 1}
        if clashes:
            raise PublishError(f"table names appear in more than one schema: {sorted(clashes)}")
        with self._publish_lock():
            version_id = new_batch_id()
            final = self.versions_dir / f"{version_id}.duckdb"
            tmp = final.with_suffix(".duckdb.tmp")
            tmp.unlink(missing_ok=True)
            counts = self._write_version(tmp, tables, version_id, note)
            parquet_dir = self._export_parquet(tmp, version_id, list(counts))
            fsync_path(tmp)
            os.replace(tmp, final)
            self._switch(final, parquet_dir)
            self._record(version_id, final, counts, note)
            self._prune()
        return PublishedVersion(version_id, final, counts)

    def publish_audited(
        self,
        schemas: Sequence[str],
        audit: Callable[[Path], Sequence[AuditResult]],
        note: str | None = None,
    ) -> PublishOutcome:
        """Write-audit-publish: run ``audit`` on the build database and publish only if every
        audit passed. A rejected build leaves the current version serving; either way the audit
        is recorded in the state store."""
        checks = list(audit(self.build_db))
        if any(not check.passed for check in checks):
            return self.record_audit(checks, None, note)
        serving = self.current()
        version = self.publish(schemas, note=note)
        return self.record_audit(checks, version, note, serving.version_id if serving else None)

    def record_audit(
        self,
        checks: Sequence[AuditResult],
        version: PublishedVersion | None,
        note: str | None = None,
        serving_version_id: str | None = None,
    ) -> PublishOutcome:
        """Record one audit: ``version`` is what it let through, None for a rejected build;
        ``serving_version_id`` the version readers had when the audit ran (default: now)."""
        failures = [check.as_dict() for check in checks if not check.passed]
        if serving_version_id is None and version is None:
            current = self.current()
            serving_version_id = current.version_id if current else None
        audit = PublishAudit(
            audit_id=new_batch_id(),
            outcome="passed" if version is not None else "rejected",
            version_id=version.version_id if version else None,
            serving_version_id=serving_version_id,
            checks=[check.as_dict() for check in checks],
            failures=failures,
            note=note,
            audited_at=utcnow(),
        )
        self.store.add_publish_audit(audit)
        return PublishOutcome(audit.audit_id, version, audit.serving_version_id, failures)

    def _write_version(
        self, path: Path, tables: list[tuple[str, str]], version_id: str, note: str | None
    ) -> dict[str, int]:
        counts: dict[str, int] = {}
        with duckdb.connect() as con:
            con.execute("ATTACH ? AS build (READ_ONLY)", [str(self.build_db)])
            con.execute(f"ATTACH ? AS pub (STORAGE_VERSION '{STORAGE_VERSION}')", [str(path)])
            for schema, table in tables:
                # identifiers come from the build catalogue and are quoted
                con.execute(
                    f"create table pub.main.{_quote(table)} as "  # noqa: S608
                    f"select * from build.{_quote(schema)}.{_quote(table)}"
                )
                row = con.execute(
                    f"select count(*) from pub.main.{_quote(table)}"  # noqa: S608
                ).fetchone()
                counts[table] = int(row[0]) if row else 0
            con.execute(
                f"create table pub.main.{PUBLISH_INFO_TABLE} as select ? as version_id, "
                "cast(? as timestamptz) as published_at, ? as tables, ? as note",
                [version_id, utcnow().isoformat(), json.dumps(counts), note],
            )
            con.execute("DETACH pub")
        return counts

    def _export_parquet(self, db_path: Path, version_id: str, tables: list[str]) -> Path:
        out = self.versions_dir / version_id / "parquet"
        out.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(db_path), read_only=True) as con:
            for table in tables:
                target = str(out / f"{table}.parquet").replace("'", "''")
                con.execute(
                    f"copy main.{_quote(table)} to '{target}' (format parquet, compression zstd)"
                )
        return out

    def _switch(self, version_file: Path, parquet_dir: Path) -> None:
        """Point the stable paths at a version: two atomic renames."""
        tmp_link = self.root / ".siteledger.duckdb.tmp"
        tmp_link.unlink(missing_ok=True)
        try:
            os.link(version_file, tmp_link)  # same inode: readers of the version are unaffected
        except OSError:
            shutil.copy2(version_file, tmp_link)
        os.replace(tmp_link, self.published_db)
        tmp_sym = self.root / ".parquet.tmp"
        tmp_sym.unlink(missing_ok=True)
        os.symlink(os.path.relpath(parquet_dir, self.root), tmp_sym)
        os.replace(tmp_sym, self.parquet_link)
        fsync_path(self.root)

    def _record(
        self, version_id: str, path: Path, counts: dict[str, int], note: str | None
    ) -> None:
        with self.store.session() as s:
            for old in s.scalars(
                select(WarehouseVersion).where(WarehouseVersion.status == "current")
            ):
                old.status = "superseded"
            s.add(
                WarehouseVersion(
                    version_id=version_id,
                    status="current",
                    path=str(path),
                    tables=counts,
                    note=note,
                    published_at=utcnow(),
                )
            )

    def _prune(self) -> None:
        """Keep the newest ``keep`` version files (the current one always stays)."""
        versions = self.store.warehouse_versions()
        for version in versions[: max(0, len(versions) - self.keep)]:
            if version.status == "current":
                continue
            Path(version.path).unlink(missing_ok=True)
            shutil.rmtree(self.versions_dir / version.version_id, ignore_errors=True)

    # -- rollback and inspection -----------------------------------------------------------------
    def current(self) -> WarehouseVersion | None:
        return next((v for v in self.store.warehouse_versions() if v.status == "current"), None)

    def rollback(self) -> WarehouseVersion:
        """Restore the newest superseded version whose file still exists."""
        with self._publish_lock():
            versions = self.store.warehouse_versions()
            current = next((v for v in versions if v.status == "current"), None)
            if current is None:
                raise PublishError("nothing is published; there is nothing to roll back")
            candidates = [
                v
                for v in versions
                if v.status == "superseded"
                and v.published_at <= current.published_at
                and Path(v.path).exists()
            ]
            if not candidates:
                raise PublishError("no earlier published version is kept to roll back to")
            target = candidates[-1]
            self._switch(Path(target.path), self.versions_dir / target.version_id / "parquet")
            with self.store.session() as s:
                s.get(WarehouseVersion, current.version_id).status = "rolled_back"  # type: ignore[union-attr]
                s.get(WarehouseVersion, target.version_id).status = "current"  # type: ignore[union-attr]
            target.status = "current"
            return target
