"""Backups of a home, restores from them, and configuration moved between homes.

A backup is one tar archive (plain, gzip or zstd) that describes itself: ``manifest.json`` comes
first and names the format version, the siteledger version that wrote it, the home's layout, what
was left out and why, and the size and SHA-256 of every member. The members are the home's files
under ``home/`` and the state store dumped table by table under ``state/`` (a schema file with
each column's portable type, then one JSON-lines file per table), so that a home kept on SQLite
restores into PostgreSQL and back: that is the migration path.

A restore reads the whole archive and checks every member against the manifest before it writes
anything; it then extracts into a folder next to the home, loads the state store, and renames the
folder into place, so a failed restore leaves the home as it was. Archives hold regular files
only: links are listed in the manifest and recreated after their paths are checked, never
extracted from tar entries (path traversal through a member name or a link is refused).

What is left out can be rebuilt: the build warehouse (dbt rebuilds it from the raw lake), dbt's
target and logs, the dbt documentation, and the Dagster instance's run history (only its
``dagster.yaml`` is kept); see docs/backup.md.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import fcntl
import hashlib
import json
import os
import re
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath
from typing import IO, Any

import sqlalchemy as sa
import zstandard
from sqlalchemy.engine import Connection

from siteledger.settings import Settings

FORMAT = "siteledger-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
HOME = "home/"
STATE = "state/"
STATE_SCHEMA = "state/schema.json"
KINDS = ("home", "config")
# a manifest lists one line per file: 64 MiB holds several hundred thousand members
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
# configuration is a few hundred kilobytes; a larger export is not configuration
MAX_CONFIG_BYTES = 64 * 1024 * 1024
CHUNK = 1024 * 1024
BATCH_ROWS = 1000
ZSTD_LEVEL = 3  # ~4x faster than level 9 on Parquet and DuckDB files for ~3 % more bytes
SUFFIXES = {".tar": "none", ".tar.gz": "gzip", ".tgz": "gzip", ".tar.zst": "zstd", ".tzst": "zstd"}
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_MAGIC = b"\x1f\x8b"

# Paths under the home left out of a backup, with the reason written into the manifest.
REBUILDABLE = {
    "warehouse/build.duckdb": (
        "the build warehouse: dbt rebuilds it from the raw lake on the next run"
    ),
    "dbt": "dbt's manifest, compiled SQL and logs: written again by the next dbt invocation",
    "dbt_logs": "dbt logs of test runs: written again by the next dbt invocation",
    "docs/dbt": "the dbt documentation page: `siteledger docs` writes it again",
    "dagster": (
        "the Dagster instance's run history, event logs and schedule state: a new instance "
        "starts on the next run (only its configuration, dagster/dagster.yaml, is kept)"
    ),
    "state.db": "the state store: dumped table by table under state/ instead",
    "warehouse/versions": (
        "published warehouse versions older than the one a rollback would return to"
    ),
    "locks": "lock and temporary files of running processes",
}
# Configuration under a home: what `export_config` takes and `import_config` writes.
CONFIG_DIRS = ("sites", "alerts", "scenarios", "templates", "reports/definitions")
CONFIG_FILES = ("dagster/dagster.yaml",)
CONFIG_ROOT_SUFFIXES = (".yaml", ".yml", ".json")

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: a long step's advance (bytes or rows)."""


class BackupError(RuntimeError):
    """An archive that cannot be written, verified or restored; the message says what to do."""


@dataclass(frozen=True)
class BackupSummary:
    archive: Path
    members: int
    bytes_in: int
    size: int
    tables: dict[str, int]
    manifest: dict[str, Any]


@dataclass(frozen=True)
class RestoreSummary:
    home: Path
    members: int
    tables: dict[str, int]
    rewritten_paths: int
    manifest: dict[str, Any]


@dataclass(frozen=True)
class ConfigImportSummary:
    written: list[str]
    unchanged: list[str]


@dataclass
class _Plan:
    """What a backup of a home holds, found before anything is written."""

    files: list[tuple[str, Path]] = field(default_factory=list)  # (home-relative, path)
    dirs: list[str] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)
    hardlinks: list[dict[str, str]] = field(default_factory=list)
    excluded: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)


def siteledger_version() -> str:
    try:
        return version("siteledger")
    except PackageNotFoundError:  # a checkout on PYTHONPATH without the distribution installed
        return "0+unknown"


def _major(text: str) -> int:
    match = re.match(r"\d+", text)
    return int(match.group()) if match else 0


# -- writing ---------------------------------------------------------------------------------
def create_backup(
    settings: Settings, archive_path: Path, *, progress: Progress | None = None
) -> BackupSummary:
    """Write a backup of the home to ``archive_path`` (.tar, .tar.gz/.tgz or .tar.zst/.tzst).

    The state store is dumped first (a consistent snapshot), then the home's files are hashed
    and written; publishing waits for the backup (the warehouse's publish lock is held), so the
    archived warehouse versions are those the dumped state store names. A file that changes
    while it is read fails the backup with its name. The archive appears under its name only
    once complete."""
    archive_path = Path(archive_path).absolute()
    compression = _compression_for(archive_path)
    home = settings.home
    if not home.is_dir():
        raise BackupError(f"no home at {home}: nothing to back up")
    archive_path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{archive_path.name}.", dir=archive_path.parent))
    partial = archive_path.with_name(archive_path.name + ".partial")
    try:
        with _publish_lock(settings):
            state = _dump_state(settings, staging / "state", progress)
            plan = _plan_home(settings, state["kept_versions"], {archive_path, partial, staging})
            state["reports"] = _artefacts(settings, plan, state.pop("artefacts", []))
            members = _hash_members(plan, staging, progress)
            manifest = _manifest("home", settings, plan, members, state)
            _write_archive(partial, compression, manifest, members, progress)
        os.replace(partial, archive_path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BackupSummary(
        archive=archive_path,
        members=len(members),
        bytes_in=sum(m["size"] for m in manifest["members"]),
        size=archive_path.stat().st_size,
        tables=manifest["state"]["tables"],
        manifest=manifest,
    )


def export_config(settings: Settings, path: Path) -> BackupSummary:
    """Write the home's configuration (organisation, sites, alert rules and channels, scenarios,
    report definitions and templates, other top-level YAML, dagster.yaml) as an archive that
    ``import_config`` reads."""
    path = Path(path).absolute()
    compression = _compression_for(path)
    plan = _Plan()
    for rel, file in _config_files(settings.home):
        plan.files.append((rel, file))
    if not plan.files:
        raise BackupError(f"no configuration in {settings.home}: no organisation or site files")
    members = _hash_members(plan, settings.home, None)
    state: dict[str, Any] = {"tables": {}, "dialect": None, "in_home": None, "kept_versions": []}
    manifest = _manifest("config", settings, plan, members, state)
    partial = path.with_name(path.name + ".partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _write_archive(partial, compression, manifest, members, None)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupSummary(path, len(members), sum(m["size"] for m in members), path.stat().st_size,
                         {}, manifest)  # fmt: skip


def _compression_for(path: Path) -> str:
    name = path.name.lower()
    for suffix, kind in sorted(SUFFIXES.items(), key=lambda item: -len(item[0])):
        if name.endswith(suffix):
            return kind
    raise BackupError(
        f"{path.name}: an archive name ends in one of {', '.join(SUFFIXES)} "
        "(the ending picks the compression)"
    )


@contextmanager
def _publish_lock(settings: Settings) -> Iterator[None]:
    """Hold the warehouse's publish lock (see siteledger.warehouse) while the backup reads."""
    lock = settings.warehouse_dir / ".publish.lock"
    if not settings.warehouse_dir.is_dir():
        yield
        return
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _config_files(home: Path) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    if not home.is_dir():
        return found
    for entry in sorted(home.iterdir()):
        if entry.is_file() and not entry.is_symlink() and entry.suffix in CONFIG_ROOT_SUFFIXES:
            found.append((entry.name, entry))
    for folder in CONFIG_DIRS:
        root = home / folder
        if not root.is_dir() or root.is_symlink():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                found.append((path.relative_to(home).as_posix(), path))
    for rel in CONFIG_FILES:
        if (home / rel).is_file():
            found.append((rel, home / rel))
    return found


def _is_config(rel: str) -> bool:
    path = PurePosixPath(rel)
    if len(path.parts) == 1:
        return path.suffix in CONFIG_ROOT_SUFFIXES
    return rel in CONFIG_FILES or any(rel.startswith(folder + "/") for folder in CONFIG_DIRS)


def _exclusion(rel: str, kept_versions: set[str] | None) -> str | None:
    """The REBUILDABLE key that leaves ``rel`` (a home-relative file) out, or None."""
    parts = PurePosixPath(rel).parts
    name = parts[-1]
    if rel in ("state.db", "state.db-wal", "state.db-shm", "state.db-journal"):
        return "state.db"
    if parts[0] in ("dbt", "dbt_logs"):
        return parts[0]
    if parts[:2] == ("docs", "dbt"):
        return "docs/dbt"
    if parts[0] == "dagster" and rel != "dagster/dagster.yaml":
        return "dagster"
    if name.endswith((".lock", ".tmp", ".partial")) or ".restore-" in rel:
        return "locks"
    if parts[0] == "warehouse":
        if len(parts) == 2 and name.startswith("build.duckdb"):
            return "warehouse/build.duckdb"
        if len(parts) >= 3 and parts[1] == "versions" and kept_versions is not None:
            version_id = parts[2].removesuffix(".duckdb")
            if version_id not in kept_versions:
                return "warehouse/versions"
    return None


def _plan_home(settings: Settings, kept: list[str] | None, leave_out: set[Path]) -> _Plan:
    """Walk the home: files to archive, folders, links, and what is left out and why."""
    home = settings.home
    kept_versions = set(kept) if kept is not None else None
    link = settings.published_parquet
    if kept_versions is not None and link.is_symlink():
        # the version readers get now, whatever the state store says
        target = PurePosixPath(os.readlink(link))
        if len(target.parts) >= 2 and target.parts[0] == "versions":
            kept_versions.add(target.parts[1])
    plan = _Plan()
    seen: dict[tuple[int, int], str] = {}
    for root, dirnames, filenames in os.walk(home):
        base = Path(root)
        rel_root = base.relative_to(home).as_posix()
        if base in leave_out:
            dirnames[:] = []
            continue
        if rel_root != ".":
            plan.dirs.append(rel_root)
        for name in sorted(dirnames):
            path = base / name
            if path.is_symlink():
                dirnames.remove(name)
                _plan_link(plan, home, path)
            elif path in leave_out:
                dirnames.remove(name)
        dirnames.sort()
        for name in sorted(filenames):
            path = base / name
            rel = path.relative_to(home).as_posix()
            if path in leave_out:
                continue
            if path.is_symlink():
                _plan_link(plan, home, path)
                continue
            reason = _exclusion(rel, kept_versions)
            stat = path.lstat()
            if reason is not None:
                tally = plan.excluded.setdefault(reason, {"files": 0, "bytes": 0})
                tally["files"] += 1
                tally["bytes"] += stat.st_size
                continue
            if not path.is_file():
                plan.skipped.append({"path": rel, "reason": "not a regular file (socket, fifo)"})
                continue
            key = (stat.st_dev, stat.st_ino)
            if stat.st_nlink > 1 and key in seen:
                plan.hardlinks.append({"name": HOME + rel, "same_as": HOME + seen[key]})
                continue
            seen[key] = rel
            plan.files.append((rel, path))
    # only empty folders are listed (the others come with their files); a folder left out
    # entirely is not recreated: the next run makes it
    holders = {str(PurePosixPath(rel).parent) for rel, _ in plan.files}
    holders |= {str(PurePosixPath(link["name"].removeprefix(HOME)).parent) for link in plan.links}
    holders |= {str(PurePosixPath(h["name"].removeprefix(HOME)).parent) for h in plan.hardlinks}
    full = {str(p) for h in holders for p in [PurePosixPath(h), *PurePosixPath(h).parents]}
    plan.dirs = [
        d for d in plan.dirs if d not in full and _exclusion(d + "/x", kept_versions) is None
    ]
    return plan


def _plan_link(plan: _Plan, home: Path, path: Path) -> None:
    rel = path.relative_to(home).as_posix()
    target = os.readlink(path)
    resolved = Path(os.path.normpath(path.parent / target))
    if not resolved.is_relative_to(home):
        plan.skipped.append({"path": rel, "reason": f"a link to {target}, outside the home"})
        return
    plan.links.append({"name": HOME + rel, "target": os.path.relpath(resolved, path.parent)})


def _sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _hash_members(plan: _Plan, staging: Path, progress: Progress | None) -> list[dict[str, Any]]:
    """Every member's name, source path, size and SHA-256 (read once here, again when written)."""
    sources: list[tuple[str, Path]] = [(HOME + rel, path) for rel, path in plan.files]
    state_dir = staging / "state"
    if state_dir.is_dir():
        sources += [
            (STATE + p.relative_to(state_dir).as_posix(), p)
            for p in sorted(state_dir.rglob("*"))
            if p.is_file()
        ]
    total = sum(path.stat().st_size for _, path in sources)
    done = 0
    members = []
    for name, path in sources:
        sha, size = _sha256_file(path)
        members.append({"name": name, "size": size, "sha256": sha, "source": path})
        done += size
        if progress:
            progress("hash", done, total)
    return members


def _manifest(
    kind: str,
    settings: Settings,
    plan: _Plan,
    members: list[dict[str, Any]],
    state: dict[str, Any],
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "siteledger_version": siteledger_version(),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "home": {
            "path": str(settings.home),
            "layout": {
                "home/": "files of the home, by their path under it",
                "state/schema.json": "the state store's tables: columns with portable types",
                "state/tables/<table>.jsonl": "one JSON object per row",
            },
            "dirs": plan.dirs,
            "links": plan.links,
            "hardlinks": plan.hardlinks,
            "excluded": {
                key: {"why": REBUILDABLE[key], **tally} for key, tally in plan.excluded.items()
            },
            "skipped": plan.skipped,
        },
        "state": {
            "dialect": state["dialect"],
            "in_home": state["in_home"],
            "tables": state["tables"],
        },
        "warehouse": {
            "kept_versions": state["kept_versions"],
            "published": settings.published_db.exists(),
        },
        "reports": state.get("reports", {}),
        "members": [{k: m[k] for k in ("name", "size", "sha256")} for m in members],
    }


def _write_archive(
    path: Path,
    compression: str,
    manifest: dict[str, Any],
    members: list[dict[str, Any]],
    progress: Progress | None,
) -> None:
    body = json.dumps(manifest, indent=1, sort_keys=False).encode()
    total = sum(m["size"] for m in members)
    done = 0
    with open(path, "wb") as raw, _tar_writer(raw, compression) as tar:
        _add(tar, MANIFEST, len(body), _BytesReader(body), dt.datetime.now(dt.UTC).timestamp())
        for member in members:
            source: Path = member["source"]
            with open(source, "rb") as handle:
                reader = _HashingReader(handle)
                _add(tar, member["name"], member["size"], reader, source.stat().st_mtime)
                if reader.digest.hexdigest() != member["sha256"] or reader.size != member["size"]:
                    raise BackupError(
                        f"{source} changed while the backup read it; run the backup again when "
                        "no import or run is writing to the home"
                    )
            done += member["size"]
            if progress:
                progress("write", done, total)
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


@contextmanager
def _tar_writer(raw: IO[bytes], compression: str) -> Iterator[tarfile.TarFile]:
    if compression == "zstd":
        compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        with (
            compressor.stream_writer(raw, closefd=False) as stream,
            tarfile.open(fileobj=stream, mode="w|", format=tarfile.PAX_FORMAT) as tar,
        ):
            yield tar
    elif compression == "gzip":
        with tarfile.open(fileobj=raw, mode="w|gz", format=tarfile.PAX_FORMAT) as tar:
            yield tar
    else:
        with tarfile.open(fileobj=raw, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            yield tar


def _add(tar: tarfile.TarFile, name: str, size: int, reader: Any, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime)
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, reader)


class _BytesReader:
    def __init__(self, data: bytes):
        self._data = memoryview(data)
        self._at = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._at + size
        chunk = bytes(self._data[self._at : end])
        self._at += len(chunk)
        return chunk


class _HashingReader:
    def __init__(self, handle: IO[bytes]):
        self._handle = handle
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk


# -- the state store, database-agnostic ------------------------------------------------------
def _dump_state(settings: Settings, out: Path, progress: Progress | None) -> dict[str, Any]:
    """Dump every table of the state store under ``out``; returns the manifest's state part,
    the warehouse versions to keep, and the report artefacts the registry names."""
    url = sa.make_url(settings.state_store_url)
    in_home = settings.state_url is None
    result: dict[str, Any] = {
        "dialect": url.get_backend_name(),
        "in_home": in_home,
        "tables": {},
        "kept_versions": None,
    }
    snapshot = out.parent / "state-snapshot.db"
    if url.get_backend_name() == "sqlite":
        source = Path(url.database or "")
        if not source.exists():
            result["kept_versions"] = None
            return result
        # SQLite's online backup: one consistent copy, whatever writes meanwhile
        with (
            sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src,
            sqlite3.connect(snapshot) as dst,
        ):
            src.backup(dst)
        engine = sa.create_engine(f"sqlite:///{snapshot}")
    else:
        engine = sa.create_engine(url, isolation_level="REPEATABLE READ")
    out.mkdir(parents=True)
    (out / "tables").mkdir()
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine)
        tables = metadata.sorted_tables
        schema = {"dialect": result["dialect"], "tables": [_table_spec(t) for t in tables]}
        with engine.connect() as conn, conn.begin():
            for index, table in enumerate(tables):
                count, extra = _dump_table(conn, table, out / "tables" / f"{table.name}.jsonl")
                result["tables"][table.name] = count
                for key, value in extra.items():
                    result[key] = value
                if progress:
                    progress("state", index + 1, len(tables))
        (out / "schema.json").write_text(json.dumps(schema, indent=1), encoding="utf-8")
    finally:
        engine.dispose()
        snapshot.unlink(missing_ok=True)
    return result


def _artefacts(settings: Settings, plan: _Plan, paths: list[str]) -> dict[str, Any]:
    """The report artefacts the registry names: how many, and any the archive cannot hold."""
    archived = {rel for rel, _ in plan.files} | {
        h["name"].removeprefix(HOME) for h in plan.hardlinks
    }
    outside, missing = [], []
    for path in paths:
        resolved = Path(path)
        if not resolved.is_relative_to(settings.home):
            outside.append(path)
        elif resolved.relative_to(settings.home).as_posix() not in archived:
            missing.append(path)
    return {"artefacts": len(paths), "outside_home": outside, "missing": missing}


def _dump_table(conn: Connection, table: sa.Table, path: Path) -> tuple[int, dict[str, Any]]:
    kinds = {c.name: _type_spec(c.type)["kind"] for c in table.columns}
    count = 0
    extra: dict[str, Any] = {}
    versions: list[dict[str, Any]] = []
    artefacts: list[str] = []
    with open(path, "w", encoding="utf-8") as handle:
        rows = conn.execution_options(yield_per=BATCH_ROWS).execute(sa.select(table))
        for row in rows.mappings():
            record = {name: _encode(row[name], kinds[name]) for name in kinds}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
            if table.name == "warehouse_versions":
                versions.append(record)
            elif table.name == "reports" and isinstance(record.get("artifacts"), dict):
                artefacts += [
                    str(a.get("path")) for a in record["artifacts"].values() if isinstance(a, dict)
                ]
    if table.name == "warehouse_versions":
        extra["kept_versions"] = _versions_to_keep(versions)
    if table.name == "reports":
        extra["artefacts"] = sorted(artefacts)
    return count, extra


def _versions_to_keep(versions: list[dict[str, Any]]) -> list[str]:
    """The serving version and the one a rollback would return to (siteledger.warehouse)."""
    current = [v for v in versions if v.get("status") == "current"]
    if not current:
        return []
    serving = current[0]
    earlier = sorted(
        (
            v
            for v in versions
            if v.get("status") == "superseded"
            and str(v.get("published_at")) <= str(serving.get("published_at"))
            and Path(str(v.get("path"))).exists()
        ),
        key=lambda v: str(v.get("published_at")),
    )
    return [serving["version_id"], *([earlier[-1]["version_id"]] if earlier else [])]


def _type_spec(column_type: Any) -> dict[str, Any]:
    """A reflected column type as a portable spec (SQLite and PostgreSQL spell them apart)."""
    t = column_type
    if isinstance(t, sa.Boolean):
        return {"kind": "boolean"}
    if isinstance(t, sa.BigInteger):
        return {"kind": "biginteger"}
    if isinstance(t, sa.SmallInteger):
        return {"kind": "smallinteger"}
    if isinstance(t, sa.Integer):
        return {"kind": "integer"}
    if isinstance(t, sa.Float):
        return {"kind": "float"}
    if isinstance(t, sa.Numeric):
        return {"kind": "numeric", "precision": t.precision, "scale": t.scale}
    if isinstance(t, sa.DateTime):
        # SQLite keeps no offset; siteledger stores UTC there, so a SQLite DATETIME is UTC
        return {"kind": "datetime", "timezone": True}
    if isinstance(t, sa.Date):
        return {"kind": "date"}
    if isinstance(t, sa.Time):
        return {"kind": "time"}
    if isinstance(t, sa.JSON):
        return {"kind": "json"}
    if isinstance(t, sa.LargeBinary):
        return {"kind": "binary"}
    if isinstance(t, sa.Uuid):
        return {"kind": "string", "length": 36}
    if isinstance(t, sa.Text):
        return {"kind": "text"}
    if isinstance(t, sa.String):
        return {"kind": "string", "length": t.length}
    return {"kind": "text", "declared": str(t) if not isinstance(t, sa.types.NullType) else None}


def _sa_type(spec: dict[str, Any]) -> Any:
    kind = spec.get("kind")
    simple: dict[str, Any] = {
        "boolean": sa.Boolean(),
        "biginteger": sa.BigInteger(),
        "smallinteger": sa.SmallInteger(),
        "integer": sa.Integer(),
        "float": sa.Float(),
        "date": sa.Date(),
        "time": sa.Time(),
        "json": sa.JSON(none_as_null=True),
        "binary": sa.LargeBinary(),
        "text": sa.Text(),
    }
    if kind in simple:
        return simple[kind]
    if kind == "numeric":
        return sa.Numeric(spec.get("precision"), spec.get("scale"), asdecimal=True)
    if kind == "datetime":
        return sa.DateTime(timezone=bool(spec.get("timezone", True)))
    if kind == "string":
        length = spec.get("length")
        return sa.String(int(length)) if isinstance(length, int) and length > 0 else sa.String()
    raise BackupError(f"state/schema.json: unknown column type {spec!r}")


_PG_CAST = re.compile(
    r"::(?:character varying|double precision|timestamp with(?:out)? time zone|[a-z_]+)(?:\[\])?"
)
_PG_ANY_ARRAY = re.compile(r"=\s*ANY\s*\(\(?ARRAY\[(.*?)\]\)?\)")


def _portable_where(clause: str) -> str:
    """A partial index's condition as both SQLite and PostgreSQL read it. PostgreSQL reflects
    ``state IN ('a', 'b')`` as ``((state)::text = ANY ((ARRAY['a'::character varying,
    'b'::character varying])::text[]))``, which SQLite cannot parse: the casts go and
    ``= ANY (ARRAY[...])`` becomes ``IN (...)``."""
    return _PG_ANY_ARRAY.sub(r"IN (\1)", _PG_CAST.sub("", clause))


def _table_spec(table: sa.Table) -> dict[str, Any]:
    pk = [c.name for c in table.primary_key.columns]
    indexes = []
    for index in sorted(table.indexes, key=lambda i: str(i.name)):
        clause = index.dialect_kwargs.get("sqlite_where")
        if clause is None:
            clause = index.dialect_kwargs.get("postgresql_where")
        where = None if clause is None else _portable_where(str(clause))
        indexes.append(
            {
                "name": index.name,
                "columns": [c.name for c in index.columns],
                "unique": bool(index.unique),
                "where": where,
            }
        )
    uniques = [
        {"name": c.name, "columns": [col.name for col in c.columns]}
        for c in table.constraints
        if isinstance(c, sa.UniqueConstraint)
    ]
    foreign_keys = [
        {
            "name": fk.name,
            "columns": [c.name for c in fk.columns],
            "referred_table": fk.referred_table.name,
            "referred_columns": [e.column.name for e in fk.elements],
            "ondelete": fk.ondelete,
        }
        for fk in table.foreign_key_constraints
    ]
    return {
        "name": table.name,
        "columns": [
            {"name": c.name, "type": _type_spec(c.type), "nullable": bool(c.nullable)}
            for c in table.columns
        ],
        "primary_key": pk,
        "indexes": indexes,
        "unique_constraints": uniques,
        "foreign_keys": foreign_keys,
    }


def _build_table(metadata: sa.MetaData, spec: dict[str, Any]) -> sa.Table:
    pk = list(spec.get("primary_key") or [])
    columns = []
    for column in spec["columns"]:
        kind = _sa_type(column["type"])
        single_int_pk = pk == [column["name"]] and column["type"]["kind"].endswith("integer")
        columns.append(
            sa.Column(
                column["name"],
                kind,
                primary_key=column["name"] in pk,
                nullable=bool(column.get("nullable", True)) and column["name"] not in pk,
                autoincrement=bool(single_int_pk),
            )
        )
    extras: list[Any] = []
    for unique in spec.get("unique_constraints", []):
        extras.append(sa.UniqueConstraint(*unique["columns"], name=unique.get("name")))
    for fk in spec.get("foreign_keys", []):
        extras.append(
            sa.ForeignKeyConstraint(
                fk["columns"],
                [f"{fk['referred_table']}.{c}" for c in fk["referred_columns"]],
                name=fk.get("name"),
                ondelete=fk.get("ondelete"),
            )
        )
    table = sa.Table(spec["name"], metadata, *columns, *extras)
    for index in spec.get("indexes", []):
        where = sa.text(_portable_where(index["where"])) if index.get("where") else None
        sa.Index(
            index["name"],
            *[table.c[name] for name in index["columns"]],
            unique=bool(index.get("unique")),
            sqlite_where=where,
            postgresql_where=where,
        )
    return table


def _encode(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if kind == "json" or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _decode(value: Any, spec: dict[str, Any]) -> Any:
    if value is None:
        return None
    kind = spec["kind"]
    if kind == "datetime":
        moment = dt.datetime.fromisoformat(value)
        if spec.get("timezone", True) and moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)  # dumped as UTC
        return moment
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "time":
        return dt.time.fromisoformat(value)
    if kind == "numeric":
        return decimal.Decimal(value)
    if kind == "binary":
        return base64.b64decode(value)
    if kind == "boolean":
        return bool(value)
    if kind.endswith("integer"):
        return int(value)
    if kind == "float":
        return float(value)
    return value


def _rewrite(value: Any, old: str, new: str, counter: list[int]) -> Any:
    """``value`` with paths under the old home moved under the new one (JSON walked)."""
    if isinstance(value, str):
        if value == old or value.startswith(old + "/"):
            counter[0] += 1
            return new + value[len(old) :]
        return value
    if isinstance(value, dict):
        return {k: _rewrite(v, old, new, counter) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, old, new, counter) for v in value]
    return value


def _has_rows(conn: Connection, name: str) -> bool:
    table = sa.Table(name, sa.MetaData())
    return conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is not None


def _state_clash(url: str, names: Iterable[str]) -> list[str]:
    """Tables of the dump that already hold rows in the target database."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            existing = set(sa.inspect(conn).get_table_names())
            return [name for name in names if name in existing and _has_rows(conn, name)]
    finally:
        engine.dispose()


def load_state(
    url: str,
    state_dir: Path,
    *,
    replace: bool = False,
    old_home: str | None = None,
    new_home: str | None = None,
    progress: Progress | None = None,
) -> tuple[dict[str, int], int]:
    """Create the dumped tables in the database at ``url`` and load their rows, in batches, in
    one transaction. ``replace`` drops tables of the same names first. Paths under ``old_home``
    are moved under ``new_home``. Returns rows per table and the number of paths rewritten."""
    schema = json.loads((state_dir / "schema.json").read_text(encoding="utf-8"))
    metadata = sa.MetaData()
    specs = {spec["name"]: spec for spec in schema["tables"]}
    for spec in schema["tables"]:
        _build_table(metadata, spec)
    engine = sa.create_engine(url)
    rewrite = old_home is not None and new_home is not None and old_home != new_home
    counter = [0]
    counts: dict[str, int] = {}
    try:
        with engine.begin() as conn:
            existing = set(sa.inspect(conn).get_table_names())
            present = [name for name in specs if name in existing]
            if present:
                full = [name for name in present if _has_rows(conn, name)]
                if full and not replace:
                    raise BackupError(
                        f"the state store at {engine.url.render_as_string(hide_password=True)} "
                        f"already holds rows in {full}; restore with --force to replace them"
                    )
                old = sa.MetaData()
                old.reflect(conn, only=present)
                old.drop_all(conn)
            metadata.create_all(conn)
            tables = metadata.sorted_tables
            for index, table in enumerate(tables):
                spec = {c["name"]: c["type"] for c in specs[table.name]["columns"]}
                count = 0
                batch: list[dict[str, Any]] = []
                path = state_dir / "tables" / f"{table.name}.jsonl"
                with open(path, encoding="utf-8") as handle:
                    for line in handle:
                        raw = json.loads(line)
                        row = {k: _decode(raw.get(k), spec[k]) for k in spec}
                        if rewrite:
                            row = {
                                k: _rewrite(v, str(old_home), str(new_home), counter)
                                for k, v in row.items()
                            }
                        batch.append(row)
                        if len(batch) >= BATCH_ROWS:
                            conn.execute(table.insert(), batch)
                            count += len(batch)
                            batch = []
                if batch:
                    conn.execute(table.insert(), batch)
                    count += len(batch)
                counts[table.name] = count
                if conn.dialect.name == "postgresql":
                    _reset_sequences(conn, table)
                if progress:
                    progress("state", index + 1, len(tables))
    finally:
        engine.dispose()
    return counts, counter[0]


def _reset_sequences(conn: Connection, table: sa.Table) -> None:
    """A serial column's sequence continues after the loaded ids (PostgreSQL)."""
    pk = list(table.primary_key.columns)
    if len(pk) != 1 or not isinstance(pk[0].type, sa.Integer):
        return
    quoted = conn.dialect.identifier_preparer.quote
    column, name = quoted(pk[0].name), quoted(table.name)
    conn.execute(
        sa.text(
            f"select setval(pg_get_serial_sequence(:t, :c), "  # noqa: S608 - quoted identifiers
            f"coalesce((select max({column}) from {name}), 0) + 1, false)"
        ),
        {"t": name, "c": pk[0].name},
    )


# -- reading ---------------------------------------------------------------------------------
def _member_problem(name: str) -> str | None:
    """Why ``name`` may not be extracted, or None for a plain relative path."""
    if not name or "\x00" in name:
        return "has an empty name or a NUL byte in it"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "is an absolute path"
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        return "climbs out of the target folder with '..'"
    if any(part in ("", ".") for part in parts):
        return "is not a plain relative path"
    return None


def _refuse(archive: Path, message: str) -> BackupError:
    return BackupError(f"{archive}: {message}. Nothing was written.")


@contextmanager
def _tar_reader(archive: Path) -> Iterator[tarfile.TarFile]:
    with open(archive, "rb") as raw:
        magic = raw.read(4)
        raw.seek(0)
        if magic.startswith(ZSTD_MAGIC):
            reader = zstandard.ZstdDecompressor().stream_reader(raw, closefd=False)
            with reader, tarfile.open(fileobj=reader, mode="r|") as tar:
                yield tar
        else:
            with tarfile.open(
                fileobj=raw, mode="r|gz" if magic.startswith(GZIP_MAGIC) else "r|"
            ) as tar:
                yield tar


def _check_manifest(archive: Path, manifest: Any, kinds: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _refuse(archive, "manifest.json is not a siteledger backup manifest")
    fmt = manifest.get("format_version")
    if not isinstance(fmt, int):
        raise _refuse(archive, "manifest.json has no format_version")
    ours = siteledger_version()
    theirs = str(manifest.get("siteledger_version", "0"))
    if fmt > FORMAT_VERSION:
        raise _refuse(
            archive,
            f"backup format {fmt} (written by siteledger {theirs}) is newer than the format "
            f"{FORMAT_VERSION} this siteledger {ours} reads; upgrade siteledger to restore it",
        )
    if _major(theirs) > _major(ours):
        raise _refuse(
            archive,
            f"written by siteledger {theirs}, a newer major version than this siteledger "
            f"{ours}; upgrade siteledger to at least {_major(theirs)}.0 to restore it",
        )
    if manifest.get("kind") not in kinds:
        hint = (
            "a configuration export: use `siteledger config import`"
            if manifest.get("kind") == "config"
            else f"of kind {manifest.get('kind')!r}"
        )
        raise _refuse(archive, f"this archive is {hint}")
    members = manifest.get("members")
    if not isinstance(members, list):
        raise _refuse(archive, "manifest.json lists no members")
    names = set()
    for member in members:
        name = member.get("name") if isinstance(member, dict) else None
        if not isinstance(name, str):
            raise _refuse(archive, f"manifest.json has a malformed member entry {member!r}")
        problem = _member_problem(name)
        if problem or not name.startswith((HOME, STATE)):
            raise _refuse(
                archive,
                f"manifest member {name!r} {problem or 'is outside home/ and state/'}; the "
                "archive was not written by `siteledger backup` or was altered",
            )
        if not isinstance(member.get("size"), int) or not re.fullmatch(
            r"[0-9a-f]{64}", str(member.get("sha256"))
        ):
            raise _refuse(archive, f"manifest member {name!r} has no valid size and sha256")
        if name in names:
            raise _refuse(archive, f"manifest.json lists member {name!r} twice")
        names.add(name)
    home = manifest.get("home") or {}
    for entry in [*home.get("links", []), *home.get("hardlinks", [])]:
        for key in ("name", "same_as"):
            if key in entry and (
                _member_problem(str(entry[key])) or not str(entry[key]).startswith(HOME)
            ):
                raise _refuse(archive, f"manifest link {entry[key]!r} is not a path in home/")
        if "same_as" in entry and entry["same_as"] not in names:
            raise _refuse(archive, f"manifest link {entry['name']!r} names a missing member")
        if "target" in entry:
            target = str(entry["target"])
            landing = os.path.normpath(os.path.join(os.path.dirname(entry["name"]), target))
            if target.startswith("/") or not landing.startswith(HOME):
                raise _refuse(
                    archive,
                    f"manifest link {entry['name']!r} points at {target!r}, outside the home",
                )
    for folder in home.get("dirs", []):
        if _member_problem(str(folder)):
            raise _refuse(archive, f"manifest folder {folder!r} is not a path in the home")
    return manifest


def _scan(
    archive: Path,
    kinds: tuple[str, ...],
    sink: Callable[[str, Iterator[bytes]], None] | None = None,
    progress: Progress | None = None,
    phase: str = "verify",
) -> dict[str, Any]:
    """Read the archive start to end, checking each member against the manifest; ``sink``
    receives each member's chunks (the checksum is checked after the last one)."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"no archive at {archive}")
    last = "the start"
    manifest: dict[str, Any] | None = None
    expected: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    done = total = 0
    try:
        with _tar_reader(archive) as tar:
            for info in tar:
                name = info.name
                if manifest is None:
                    if name != MANIFEST or not info.isreg():
                        raise _refuse(
                            archive,
                            "it has no manifest.json at the front: it is not a siteledger "
                            f"backup (first member {name!r})",
                        )
                    if info.size > MAX_MANIFEST_BYTES:
                        raise _refuse(archive, f"manifest.json is {info.size} bytes, too large")
                    handle = tar.extractfile(info)
                    assert handle is not None
                    try:
                        loaded = json.loads(handle.read())
                    except ValueError as exc:
                        raise _refuse(archive, f"manifest.json is not JSON: {exc}") from exc
                    manifest = _check_manifest(archive, loaded, kinds)
                    expected = {m["name"]: m for m in manifest["members"]}
                    total = sum(int(m["size"]) for m in expected.values())
                    last = MANIFEST
                    continue
                problem = _member_problem(name)
                if problem:
                    raise _refuse(
                        archive,
                        f"member {name!r} {problem}; a siteledger archive never holds such a "
                        "path - the archive was altered, use another copy",
                    )
                if not info.isreg():
                    what = (
                        "a symbolic link"
                        if info.issym()
                        else "a hard link"
                        if info.islnk()
                        else "a device"
                        if info.ischr() or info.isblk()
                        else "a folder"
                        if info.isdir()
                        else "a fifo"
                        if info.isfifo()
                        else "not a regular file"
                    )
                    raise _refuse(
                        archive,
                        f"member {name!r} is {what}; siteledger archives hold regular files only "
                        "(links are listed in the manifest) - the archive was altered",
                    )
                entry = expected.get(name)
                if entry is None:
                    raise _refuse(archive, f"member {name!r} is not listed in the manifest")
                if name in seen:
                    raise _refuse(archive, f"member {name!r} appears twice")
                if info.size != entry["size"]:
                    raise _refuse(
                        archive,
                        f"member {name!r} is {info.size} bytes, the manifest says "
                        f"{entry['size']}; the archive is damaged - use another copy",
                    )
                extracted = tar.extractfile(info)
                assert extracted is not None
                member: IO[bytes] = extracted
                digest = hashlib.sha256()

                def chunks(handle: IO[bytes] = member, digest: Any = digest) -> Iterator[bytes]:
                    while chunk := handle.read(CHUNK):
                        digest.update(chunk)
                        yield chunk

                if sink is None:
                    for _ in chunks():
                        pass
                else:
                    sink(name, chunks())
                if digest.hexdigest() != entry["sha256"]:
                    raise _refuse(
                        archive,
                        f"member {name!r} fails its checksum (sha256 "
                        f"{digest.hexdigest()[:12]}... != {entry['sha256'][:12]}...); the archive "
                        "is corrupt - use another copy",
                    )
                seen.add(name)
                last = name
                done += info.size
                if progress:
                    progress(phase, done, total)
    except BackupError:
        raise
    except (tarfile.TarError, EOFError, OSError, zstandard.ZstdError) as exc:
        raise _refuse(
            archive,
            f"the archive is truncated or damaged after {last!r} ({exc}); use another copy",
        ) from exc
    if manifest is None:
        raise _refuse(archive, "it is empty: no manifest.json")
    missing = sorted(set(expected) - seen)
    if missing:
        raise _refuse(
            archive,
            f"manifest lists {len(missing)} member(s) the archive does not hold, first "
            f"{missing[0]!r}; the archive is truncated or was altered - use another copy",
        )
    return manifest


def verify_backup(archive_path: Path, *, progress: Progress | None = None) -> dict[str, Any]:
    """Check every member of an archive against its manifest; returns the manifest."""
    return _scan(Path(archive_path), KINDS, progress=progress)


def restore_backup(
    archive_path: Path,
    settings: Settings,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> RestoreSummary:
    """Rebuild the home of ``settings`` from a backup archive.

    Refuses a non-empty home (and a state store database that already holds the dumped tables)
    unless ``force``; verifies the whole archive before writing; extracts into a folder next to
    the home, loads the state store (SQLite in the home, or ``settings.state_store_url``), then
    swaps the folder in. Paths the state store records under the archived home are moved to this
    home when the two differ."""
    archive = Path(archive_path).absolute()
    home = settings.home
    if home.exists() and not home.is_dir():
        raise BackupError(f"{home} is a file, not a home folder")
    if home.is_dir() and any(home.iterdir()) and not force:
        raise BackupError(
            f"the home {home} is not empty; restore into an empty or new folder, or pass --force "
            "to replace it (its current contents are removed once the restore has succeeded)"
        )
    manifest = _scan(archive, ("home",), progress=progress)
    external = settings.state_url is not None
    tables = list(manifest["state"]["tables"])
    if external and tables and not force:
        clash = _state_clash(settings.state_store_url, tables)
        if clash:
            raise BackupError(
                f"the state store {sa.make_url(settings.state_store_url).render_as_string()} "
                f"already holds rows in {clash}; restore with --force to replace those tables"
            )
    home.parent.mkdir(parents=True, exist_ok=True)
    needed = sum(int(m["size"]) for m in manifest["members"])
    free = shutil.disk_usage(home.parent).free
    if needed > free:
        raise BackupError(
            f"{archive}: the restore needs {needed / 1e6:,.0f} MB and {home.parent} has "
            f"{free / 1e6:,.0f} MB free; free space or restore elsewhere. Nothing was written."
        )
    work = Path(tempfile.mkdtemp(prefix=f".{home.name}.restore-", dir=home.parent))
    try:
        target = work / "home"
        target.mkdir()

        def sink(name: str, chunks: Iterator[bytes]) -> None:
            path = work / name
            if not path.resolve().is_relative_to(work.resolve()):
                raise _refuse(archive, f"member {name!r} would land outside the home")
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "xb") as handle:
                for chunk in chunks:
                    handle.write(chunk)

        _scan(archive, ("home",), sink=sink, progress=progress, phase="extract")
        _finish_tree(archive, target, manifest)
        counts: dict[str, int] = {}
        rewritten = 0
        if (work / "state" / "schema.json").exists():
            url = settings.state_store_url if external else f"sqlite:///{target / 'state.db'}"
            counts, rewritten = load_state(
                url,
                work / "state",
                replace=force,
                old_home=manifest["home"].get("path"),
                new_home=str(home),
                progress=progress,
            )
        _swap(target, home)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return RestoreSummary(home, len(manifest["members"]), counts, rewritten, manifest)


def _finish_tree(archive: Path, target: Path, manifest: dict[str, Any]) -> None:
    """Empty folders, hard links and symbolic links the manifest lists."""
    info = manifest["home"]
    for folder in info.get("dirs", []):
        (target / folder).mkdir(parents=True, exist_ok=True)
    for entry in info.get("hardlinks", []):
        dest = target / entry["name"].removeprefix(HOME)
        source = target / entry["same_as"].removeprefix(HOME)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, dest)
        except OSError:
            shutil.copy2(source, dest)
    for entry in info.get("links", []):
        dest = target / entry["name"].removeprefix(HOME)
        landing = Path(os.path.normpath(dest.parent / entry["target"]))
        if not landing.is_relative_to(target):
            raise _refuse(archive, f"link {entry['name']!r} points outside the home")
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(entry["target"], dest)


def _swap(new: Path, home: Path) -> None:
    """Put ``new`` at ``home`` by renames; the old home is removed only once ``new`` is in."""
    if not home.exists():
        os.replace(new, home)
        return
    old = home.with_name(f".{home.name}.replaced-{os.getpid()}")
    os.replace(home, old)
    try:
        os.replace(new, home)
    except OSError:
        os.replace(old, home)
        raise
    shutil.rmtree(old, ignore_errors=True)


# -- configuration between homes -------------------------------------------------------------
def import_config(path: Path, settings: Settings, *, force: bool = False) -> ConfigImportSummary:
    """Write the configuration files of an export (or of a full backup) into the home.

    Everything is checked before a file is written: the archive's checksums, then the
    organisation and every site file as the home will hold them (file:line problems). A file
    that exists with other content is replaced only with ``force``."""
    from siteledger.site.loader import ConfigProblem
    from siteledger.site.organisation import validate_files

    archive = Path(path).absolute()
    files: dict[str, bytes] = {}
    total = [0]

    def sink(name: str, chunks: Iterator[bytes]) -> None:
        rel = name.removeprefix(HOME)
        data = bytearray()
        for chunk in chunks:
            data += chunk
        if name.startswith(HOME) and _is_config(rel):
            total[0] += len(data)
            if total[0] > MAX_CONFIG_BYTES:
                raise _refuse(archive, "its configuration is larger than 64 MiB")
            files[rel] = bytes(data)

    _scan(archive, KINDS, sink=sink)
    if not files:
        raise _refuse(archive, "it holds no configuration files")
    home = settings.home
    with tempfile.TemporaryDirectory(prefix="siteledger-config-") as scratch:
        view = Path(scratch)
        shown: dict[str, str] = {}
        for rel, data in files.items():
            (view / rel).parent.mkdir(parents=True, exist_ok=True)
            (view / rel).write_bytes(data)
            shown[str(view / rel)] = f"{archive.name}:{rel}"
        for existing in sorted(home.glob("sites/*.yaml")) if home.is_dir() else []:
            rel = existing.relative_to(home).as_posix()
            if rel not in files:
                (view / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(existing, view / rel)
                shown[str(view / rel)] = str(existing)
        org = view / "organisation.yaml"
        if not org.exists() and settings.organisation_file.exists():
            shutil.copyfile(settings.organisation_file, org)
            shown[str(org)] = str(settings.organisation_file)
        problems = validate_files(org if org.exists() else None, sorted(view.glob("sites/*.yaml")))
        if problems:
            lines = [
                str(ConfigProblem(shown.get(p.file, p.file), p.path, p.message, p.line))
                for p in problems
            ]
            raise BackupError(
                f"{archive}: the configuration is not valid; nothing was written:\n"
                + "\n".join(lines)
            )
    written, unchanged, conflicts = [], [], []
    for rel, data in sorted(files.items()):
        target = home / rel
        if target.is_file() and target.read_bytes() == data:
            unchanged.append(rel)
        elif target.exists() and not force:
            conflicts.append(rel)
        else:
            written.append(rel)
    if conflicts:
        raise BackupError(
            f"{archive}: these files exist in {home} with other content: {conflicts}; "
            "nothing was written - pass --force to replace them"
        )
    for rel in written:
        target = home / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(files[rel])
        os.replace(tmp, target)
    return ConfigImportSummary(written, unchanged)


def member_sizes(manifest: dict[str, Any]) -> dict[str, int]:
    """Bytes per top-level folder of the home (and the state dump), for a summary."""
    sizes: dict[str, int] = {}
    for member in manifest.get("members", []):
        parts = str(member["name"]).split("/")
        key = parts[0] if parts[0] == "state" else "/".join(parts[1:2]) if len(parts) > 2 else "."
        sizes[key] = sizes.get(key, 0) + int(member["size"])
    return sizes
