"""Environmental incidents from drop files: a YAML file (``incidents:`` list) or a CSV file
(one incident per row, a header of :data:`CSV_COLUMNS`), into the incidents register.

Every row is validated alone: a bad row becomes a quarantine row (and a ``file:line`` problem)
and never stops the others. Recording is idempotent (an incident's id is given or derived from
what it is), and the same bytes imported again are a ``duplicate`` import job. Files named
``incidents*.yaml``, ``incidents*.yml`` or ``incidents*.csv`` in the landing folder are picked
up by :func:`import_incident_drops` and archived like any other drop.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import io
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ingestion.files.errors import FileRejected, FileVanished
from ingestion.files.landing import read_landed_file
from ingestion.files.limits import ImportLimits
from ingestion.files.names import sanitise_name
from ingestion.files.quarantine import QuarantineRows, files_dir, write_rows
from ingestion.lake import import_lock
from siteledger.settings import Settings
from siteledger.site.loader import SiteConfigError, parse_yaml_mapping
from siteledger.site.models import SiteConfig
from siteledger.state.incidents import (
    Incident,
    export_incidents,
    record_incident,
    site_problems,
)
from siteledger.state.store import ImportJob, StateStore, new_batch_id, utcnow

log = logging.getLogger(__name__)

SOURCE = "incidents"
# the quarantine and import jobs of the register are not one site's: a file may name several
REGISTER_SITE = "_register"
DROP_PATTERNS = ("incidents*.yaml", "incidents*.yml", "incidents*.csv")
CSV_COLUMNS = (
    "incident_id",
    "site_id",
    "type",
    "node",
    "flow",
    "started_at",
    "ended_at",
    "volume_m3",
    "severity",
    "status",
    "reported_to_authority",
    "reported_on",
    "authority_reference",
    "description",
)
MAX_INCIDENT_FILE_BYTES = 16 * 1024 * 1024


@dataclass
class IncidentImport:
    """What importing one incident file did. ``problems`` are ``file:line: reason`` texts."""

    file_name: str
    status: str  # committed | duplicate | quarantined
    batch_id: str | None = None
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.problems)


@dataclass(frozen=True)
class _Candidate:
    line: int | None
    data: dict[str, Any]


def _yaml_rows(text: str, name: str) -> tuple[list[_Candidate], list[tuple[int | None, str]]]:
    try:
        doc = parse_yaml_mapping(text, name)
    except SiteConfigError as exc:
        raise FileRejected("; ".join(str(p) for p in exc.problems)) from exc
    items = doc.data.get("incidents")
    unknown = sorted(set(doc.data) - {"incidents"})
    if not isinstance(items, list):
        raise FileRejected(f"{name}: expected a list under 'incidents:'")
    bad: list[tuple[int | None, str]] = [
        (doc.line(key), f"{key}: unknown key (only 'incidents')") for key in unknown
    ]
    rows = []
    for i, item in enumerate(items):
        path = f"incidents[{i}]"
        if not isinstance(item, dict):
            bad.append((doc.line(path), f"{path}: expected a mapping"))
            continue
        rows.append(_Candidate(doc.line(path), item))
    return rows, bad


def _csv_rows(text: str) -> tuple[list[_Candidate], list[tuple[int | None, str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration as exc:
        raise FileRejected("empty file: no header") from exc
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown or len(set(header)) != len(header):
        raise FileRejected(
            f"header has unknown or repeated columns {unknown or header}; "
            f"columns are {', '.join(CSV_COLUMNS)}"
        )
    rows: list[_Candidate] = []
    bad: list[tuple[int | None, str]] = []
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            bad.append((line, f"row has {len(cells)} fields, header has {len(header)}"))
            continue
        data = {k: (v.strip() or None) for k, v in zip(header, cells, strict=True)}
        rows.append(_Candidate(line, {k: v for k, v in data.items() if v is not None}))
    return rows, bad


def parse_incident_file(
    data: bytes, name: str, sites: dict[str, SiteConfig]
) -> tuple[list[Incident], list[tuple[int | None, str]]]:
    """Valid incidents (times in UTC) and (line, reason) of every bad row of a file's bytes."""
    if b"\x00" in data:
        raise FileRejected("binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejected(f"not UTF-8 text (bad byte at offset {exc.start})") from exc
    if name.lower().endswith((".yaml", ".yml")):
        rows, bad = _yaml_rows(text, name)
    elif name.lower().endswith(".csv"):
        rows, bad = _csv_rows(text)
    else:
        raise FileRejected("an incident file is .yaml, .yml or .csv")
    incidents = []
    for row in rows:
        try:
            incident = Incident.model_validate(row.data)
        except ValidationError as exc:
            reasons = []
            for err in exc.errors(include_url=False):
                where = ".".join(str(p) for p in err["loc"]) or "incident"
                message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
                reasons.append(f"{where}: {message.removeprefix('Value error, ')}")
            bad.append((row.line, "; ".join(reasons)))
            continue
        problems = site_problems(incident, sites)
        if problems:
            bad.append((row.line, "; ".join(problems)))
            continue
        incidents.append(incident.localised(sites[incident.site_id]))
    return incidents, bad


def import_incident_file(
    settings: Settings,
    store: StateStore,
    sites: list[SiteConfig],
    path: Path,
    recorded_via: str | None = None,
) -> IncidentImport:
    """Record the incidents of one YAML or CSV file; bad rows are quarantined with reasons."""
    name = sanitise_name(path.name)
    data = path.read_bytes()
    if len(data) > MAX_INCIDENT_FILE_BYTES:
        return _rejected(settings, store, name, data, f"file is {len(data)} bytes; too large")
    return _import_bytes(settings, store, sites, name, data, recorded_via or f"file:{name}")


def _import_bytes(
    settings: Settings,
    store: StateStore,
    sites: list[SiteConfig],
    name: str,
    data: bytes,
    recorded_via: str,
) -> IncidentImport:
    sha256 = hashlib.sha256(data).hexdigest()
    earlier = store.committed_job_for_content(REGISTER_SITE, sha256)
    if earlier is not None:
        return IncidentImport(name, "duplicate", earlier.batch_id)
    by_id = {site.site.id: site for site in sites}
    try:
        incidents, bad = parse_incident_file(data, name, by_id)
    except FileRejected as exc:
        return _rejected(settings, store, name, data, exc.reason)
    batch_id = new_batch_id()
    result = IncidentImport(name, "committed", batch_id)
    for incident in incidents:
        incident_id, outcome = record_incident(store, incident, recorded_via)
        getattr(result, outcome).append(incident_id)
    result.problems = [f"{name}:{line or '?'}: {reason}" for line, reason in bad]
    rows = QuarantineRows()
    for line, reason in bad:
        rows.add(line, reason)
    now = utcnow()
    write_rows(settings, REGISTER_SITE, SOURCE, batch_id, name, rows, now)
    store.add_job(
        ImportJob(
            batch_id=batch_id,
            site_id=REGISTER_SITE,
            source=SOURCE,
            source_file=name,
            content_sha256=sha256,
            size_bytes=len(data),
            status="committed",
            total_rows=len(incidents) + len(bad),
            imported_rows=len(incidents),
            failed_rows=len(bad),
            details={
                "added": result.added,
                "updated": result.updated,
                "unchanged": result.unchanged,
            },
            started_at=now,
            finished_at=utcnow(),
        )
    )
    export_incidents(settings, store)
    return result


def _rejected(
    settings: Settings, store: StateStore, name: str, data: bytes, reason: str
) -> IncidentImport:
    batch_id = new_batch_id()
    rows = QuarantineRows()
    rows.add(None, reason)
    now = utcnow()
    write_rows(settings, REGISTER_SITE, SOURCE, batch_id, name, rows, now)
    store.add_job(
        ImportJob(
            batch_id=batch_id,
            site_id=REGISTER_SITE,
            source=SOURCE,
            source_file=name,
            content_sha256=hashlib.sha256(data).hexdigest(),
            size_bytes=len(data),
            status="quarantined",
            error=reason,
            started_at=now,
            finished_at=utcnow(),
        )
    )
    return IncidentImport(name, "quarantined", batch_id, problems=[f"{name}: {reason}"])


def is_incident_drop(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in DROP_PATTERNS)


def import_incident_drops(
    settings: Settings, store: StateStore, sites: list[SiteConfig]
) -> list[IncidentImport]:
    """Import every incident file of the landing folder (name order) and archive it."""
    settings.ensure_dirs()
    results = []
    limits = ImportLimits(max_file_bytes=MAX_INCIDENT_FILE_BYTES)
    with import_lock(settings):
        for path in sorted(settings.landing.iterdir()):
            if not is_incident_drop(path.name):
                continue
            name = sanitise_name(path.name)
            try:
                landed = read_landed_file(path, settings.landing, limits)
            except FileVanished:
                continue
            except FileRejected as exc:
                results.append(_rejected(settings, store, name, b"", exc.reason))
                continue
            result = _import_bytes(settings, store, sites, name, landed.data, f"file:{name}")
            if result.status == "quarantined":
                target = files_dir(settings, result.batch_id or "") / name
                target.parent.mkdir(parents=True, exist_ok=True)
            else:
                target = settings.archive / f"{result.batch_id}__{name}"
            if landed.still_there():
                os.replace(path, target)
            results.append(result)
    return results
