"""Reading the published warehouse from many request threads, across publishes.

A publish points ``siteledger.duckdb`` at a new file by an atomic rename (a hard link of
``versions/<id>.duckdb``). The reader keeps one read-only DuckDB connection per published file
and gives each request its own cursor; when the stable path names another file (a new inode),
new requests go to a connection on the new file and the old one is closed once its last
request is done. Requests in flight finish on the version they started on.

DuckDB hands a second ``connect`` of a path that is still open in the process the database
already open there, even after the path was renamed over; so the reader opens the version
file the stable path is a link of (a name unique to each version) and, when it finds none (a
home whose warehouse was copied, not published), waits for the old connection to drain before
it opens the path again.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb


class WarehouseUnavailable(RuntimeError):
    """Nothing is published yet, or the published file cannot be opened."""


@dataclass
class _Open:
    identity: tuple[int, int]
    connection: duckdb.DuckDBPyConnection
    path: Path
    users: int = 0
    retired: bool = False
    tables: set[str] = field(default_factory=set)


class PublishedReader:
    """Read-only cursors on whatever version is published at the moment a request starts."""

    def __init__(self, published_db: Path, versions_dir: Path | None = None):
        self.published_db = published_db
        self.versions_dir = versions_dir or published_db.parent / "versions"
        self._lock = threading.Lock()
        self._current: _Open | None = None
        self._retired: list[_Open] = []

    def _identity(self) -> tuple[int, int]:
        try:
            info = os.stat(self.published_db)
        except FileNotFoundError:
            raise WarehouseUnavailable(
                f"no published warehouse at {self.published_db}: run the pipeline (siteledger "
                "run) or publish (siteledger warehouse publish) first"
            ) from None
        return info.st_dev, info.st_ino

    def _version_file(self, identity: tuple[int, int]) -> Path | None:
        try:
            entries = list(os.scandir(self.versions_dir))
        except FileNotFoundError:
            return None
        for entry in entries:
            if entry.name.endswith(".duckdb") and entry.is_file(follow_symlinks=False):
                info = entry.stat(follow_symlinks=False)
                if (info.st_dev, info.st_ino) == identity:
                    return Path(entry.path)
        return None

    def _open(self, identity: tuple[int, int]) -> _Open | None:
        """A connection on the file with ``identity``; None while an old connection on the
        same path must drain first."""
        path = self._version_file(identity) or self.published_db
        if any(old.path == path for old in self._retired):
            return None
        try:
            connection = duckdb.connect(str(path), read_only=True)
        except duckdb.Error as exc:
            raise WarehouseUnavailable(f"cannot open {path} read-only: {exc}") from exc
        tables = {
            str(name)
            for (name,) in connection.execute(
                "select table_name from information_schema.tables"
            ).fetchall()
        }
        return _Open(identity, connection, path, tables=tables)

    def _acquire(self) -> _Open:
        identity = self._identity()
        with self._lock:
            current = self._current
            if current is None or current.identity != identity:
                if current is not None:
                    current.retired = True
                    self._retired.append(current)
                    self._current = None
                    self._close_idle()
                opened = self._open(identity)
                if opened is None:
                    # the old file serves until its last request ends (milliseconds)
                    current = self._retired[-1]
                else:
                    self._current = current = opened
            current.users += 1
            return current

    def _release(self, entry: _Open) -> None:
        with self._lock:
            entry.users -= 1
            self._close_idle()

    def _close_idle(self) -> None:
        for old in [o for o in self._retired if o.users == 0]:
            old.connection.close()
            self._retired.remove(old)

    @contextmanager
    def cursor(self) -> Iterator[tuple[duckdb.DuckDBPyConnection, set[str]]]:
        """A cursor of its own for one request, and the names of the tables published."""
        entry = self._acquire()
        try:
            cursor = entry.connection.cursor()
            try:
                yield cursor, entry.tables
            finally:
                cursor.close()
        finally:
            self._release(entry)

    def close(self) -> None:
        with self._lock:
            for entry in [*self._retired, *([self._current] if self._current else [])]:
                entry.connection.close()
            self._retired.clear()
            self._current = None
