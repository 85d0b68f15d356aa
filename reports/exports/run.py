"""Running an export: read the rows, render every format, deliver to every destination, prune
what each destination keeps beyond its retention, and record the run.

One destination failing never stops the others: each is tried (with retries and backoff, as
report deliveries are) and recorded on its own; the run is ``partial`` when some failed,
``failed`` when none succeeded or the files could not be made. Nothing raises out of
:func:`run_export` once the run is recorded: the outcome is the record.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reports.exports import destinations as d
from reports.exports.config import (
    EmailDestination,
    ExportDefinition,
    FolderDestination,
    S3Destination,
    SftpDestination,
    resolve_range,
)
from reports.exports.formats import RENDERERS, ExportMeta, generated_at
from reports.exports.history import ExportHistory, ExportRun
from reports.exports.query import ExportData, column_docs, read_export
from siteledger.delivery import DeliveryError, retry, scrub


def run_key(export: ExportDefinition, as_of: dt.date) -> str:
    """What tells an export's runs apart in file names: the days covered (``FIRST_LAST``, or
    the one day), else the run's day."""
    if export.source.dates is None:
        return as_of.isoformat()
    first, last = resolve_range(export.source.dates, as_of)
    return first.isoformat() if first == last else f"{first.isoformat()}_{last.isoformat()}"


def render(
    export: ExportDefinition, as_of: dt.date, published_db: Path
) -> tuple[ExportData, ExportMeta, list[d.ExportFile]]:
    """The export's rows and its files, named ``NAME_<run key>.<format>``."""
    data = read_export(published_db, export.source, as_of)
    meta = ExportMeta(
        export=export.name,
        mart=data.mart,
        filters=data.filters,
        warehouse_version=data.warehouse_version,
        generated_at=generated_at(data.published_at),
        as_of=as_of,
        row_count=len(data.rows),
        column_docs=column_docs(data.mart),
        types=data.types,
    )
    key = run_key(export, as_of)
    files = [
        d.ExportFile(fmt, f"{export.name}_{key}.{fmt}", RENDERERS[fmt](data, meta))
        for fmt in export.formats
    ]
    return data, meta, files


@dataclass(frozen=True)
class Delivery:
    """How to reach one destination: deliver the files, list and remove old ones."""

    kind: str
    target: str
    send: Callable[[], dict[str, Any]]
    listing: Callable[[], list[tuple[str, float]]] | None = None
    remove: Callable[[list[str]], None] | None = None


def _delivery(
    dest: Any,
    export: ExportDefinition,
    key: str,
    files: list[d.ExportFile],
    meta: ExportMeta,
    targets: d.Targets,
) -> Delivery:
    """The actions for ``dest``; a system whose variables are unset is a permanent failure."""

    def unset(variable: str) -> DeliveryError:
        return DeliveryError(f"{variable} is not set: destination not configured", permanent=True)

    if isinstance(dest, FolderDestination):
        root = targets.export_root
        return Delivery(
            "folder",
            str(root / dest.path),
            lambda: d.to_folder(root, dest, files),
            lambda: d.folder_listing(root, dest),
            lambda names: d.folder_remove(root, dest, names),
        )
    if isinstance(dest, S3Destination):
        s3 = targets.s3
        if s3 is None:
            return Delivery("s3", "s3", _fail(unset("SITELEDGER_S3_BUCKET")))
        return Delivery(
            "s3",
            f"s3://{s3.bucket}/{d.s3_key(s3, dest)}/",
            lambda: d.to_s3(s3, dest, files),
            lambda: d.s3_listing(s3, dest, export.name),
            lambda names: d.s3_remove(s3, dest, names),
        )
    if isinstance(dest, EmailDestination):
        smtp = targets.smtp
        if smtp is None:
            return Delivery("email", ", ".join(dest.to), _fail(unset("SITELEDGER_SMTP_HOST")))
        facts = meta.fields()
        return Delivery(
            "email",
            f"{', '.join(dest.to)} via {smtp.host}:{smtp.port}",
            lambda: d.to_email(
                smtp, d.build_email(smtp.sender, dest, export.name, key, files, facts)
            ),
        )
    assert isinstance(dest, SftpDestination)
    target = targets.sftp
    if target is None:
        return Delivery("sftp", dest.path, _fail(unset("SITELEDGER_SFTP_HOST")))
    return Delivery(
        "sftp",
        target.describe(dest.path),
        lambda: d.to_sftp(target, dest, files),
        lambda: d.sftp.listing(target, dest.path),
        lambda names: d.sftp.remove(target, dest.path, names),
    )


def _fail(error: DeliveryError) -> Callable[[], dict[str, Any]]:
    def send() -> dict[str, Any]:
        raise error

    return send


def run_export(
    export: ExportDefinition,
    published_db: Path,
    history: ExportHistory,
    targets: d.Targets,
    as_of: dt.date | None = None,
    trigger: str = "manual",
    attempts: int = 3,
    backoff_s: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.time,
) -> ExportRun:
    """Run ``export`` for ``as_of`` (default today, UTC) and record it; the finished record."""
    as_of = as_of or dt.datetime.now(dt.UTC).date()
    run_id = history.start(export.name, as_of, export.source.mart, trigger)
    secrets = targets.secrets
    try:
        data, meta, files = render(export, as_of, published_db)
    except Exception as exc:
        return history.finish(
            run_id, status="failed", error=scrub(f"{type(exc).__name__}: {exc}", secrets)
        )
    key = run_key(export, as_of)
    outcomes = []
    for dest in export.destinations:
        delivery = _delivery(dest, export, key, files, meta, targets)
        tries = retry(
            delivery.send, attempts=attempts, backoff_s=backoff_s, secrets=secrets, sleep=sleep
        )
        last = tries[-1]
        outcome: dict[str, Any] = {
            "type": delivery.kind,
            "target": scrub(delivery.target, secrets),
            "status": "succeeded" if last.ok else "failed",
            "attempts": len(tries),
            "error": last.error,
            "removed": [],
        }
        keep = export.retention_for(dest)
        if last.ok and keep is not None and delivery.listing and delivery.remove:
            try:
                old = d.expired(delivery.listing(), export.name, keep, key, now())
                if old:
                    delivery.remove(old)
                outcome["removed"] = old
            except Exception as exc:  # the files were delivered: a failed cleanup is a note
                outcome["retention_error"] = scrub(f"{type(exc).__name__}: {exc}", secrets)
        outcomes.append(outcome)
    ok = [o for o in outcomes if o["status"] == "succeeded"]
    if not outcomes or len(ok) == len(outcomes):
        status = "succeeded"
    else:
        status = "partial" if ok else "failed"
    failed = [f"{o['type']}: {o['error']}" for o in outcomes if o["status"] == "failed"]
    return history.finish(
        run_id,
        status=status,
        rows=len(data.rows),
        filters=data.filters,
        warehouse_version=data.warehouse_version,
        files=[
            {"format": f.format, "name": f.name, "bytes": len(f.data), "sha256": f.sha256}
            for f in files
        ],
        bytes_total=sum(len(f.data) for f in files),
        destinations=outcomes,
        error="; ".join(failed)[:2000] or None,
    )


def write_files(files: list[d.ExportFile], folder: Path) -> list[Path]:
    """Write ``files`` into ``folder`` (a dry run, or the CLI's ad-hoc export)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in files:
        path = folder / f.name
        path.write_bytes(f.data)
        paths.append(path)
    return paths
