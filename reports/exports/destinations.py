"""Where export files go: a local folder, S3, e-mail and SFTP, and what each keeps.

The S3 bucket and the SMTP relay are the reports' targets (:class:`reports.delivery.S3Target`,
:class:`siteledger.delivery.SmtpTarget`, from the same ``SITELEDGER_S3_*`` and
``SITELEDGER_SMTP_*`` variables); SFTP is :class:`reports.exports.sftp.SftpTarget`. Every
delivery writes whole files only (a temporary name renamed into place on a folder and on SFTP;
an S3 object appears whole) and checks what landed. Retention runs after a delivery, on the
export's own files only (``NAME_<run key>.<format>``): the run just delivered is always kept.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from reports.delivery import S3Target
from reports.exports import sftp
from reports.exports.config import (
    FORMATS,
    EmailDestination,
    FolderDestination,
    Retention,
    S3Destination,
    SftpDestination,
)
from reports.exports.formats import MEDIA_TYPES
from siteledger.delivery import DeliveryError, SmtpTarget, open_smtp
from siteledger.durable import fsync_path

EXPORT_DIR_ENV = "SITELEDGER_EXPORT_DIR"
_KEY = r"\d{4}-\d{2}-\d{2}(?:_\d{4}-\d{2}-\d{2})?"


@dataclass(frozen=True)
class ExportFile:
    """One rendered file of a run."""

    format: str
    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Targets:
    """The configured systems: None where a system's variables are unset."""

    export_root: Path
    s3: S3Target | None = None
    smtp: SmtpTarget | None = None
    sftp: SftpTarget | None = None

    @classmethod
    def from_env(cls, home: Path) -> Targets:
        root = os.environ.get(EXPORT_DIR_ENV)
        return cls(
            export_root=Path(root) if root else home / "exports",
            s3=S3Target.from_env(),
            smtp=SmtpTarget.from_env(),
            sftp=sftp.SftpTarget.from_env(),
        )

    @property
    def secrets(self) -> list[str | None]:
        return [
            os.environ.get("AWS_SECRET_ACCESS_KEY"),
            os.environ.get("SITELEDGER_SMTP_PASSWORD"),
            os.environ.get("SITELEDGER_SFTP_PASSWORD"),
            os.environ.get("SITELEDGER_SFTP_KEY_PASSPHRASE"),
            self.s3.secret_access_key if self.s3 else None,
            self.smtp.password if self.smtp else None,
            *(self.sftp.secrets if self.sftp else []),
        ]


SftpTarget = sftp.SftpTarget


def run_files(names: Sequence[str], export: str) -> dict[str, list[str]]:
    """The files among ``names`` that are runs of ``export``, by run key."""
    pattern = re.compile(rf"^{re.escape(export)}_({_KEY})\.({'|'.join(FORMATS)})$")
    runs: dict[str, list[str]] = {}
    for name in names:
        match = pattern.match(name)
        if match:
            runs.setdefault(match.group(1), []).append(name)
    return runs


def expired(
    files: Sequence[tuple[str, float]],
    export: str,
    keep: Retention | None,
    current: str,
    now: float,
) -> list[str]:
    """The names of ``files`` ((name, mtime)) that ``keep`` lets go: runs beyond the newest
    ``keep_last`` (by run key: the period they cover) or last written more than ``keep_days``
    ago. The ``current`` run always stays."""
    if keep is None or (keep.keep_last is None and keep.keep_days is None):
        return []
    mtimes = dict(files)
    runs = run_files([n for n, _ in files], export)
    keys = sorted(runs, reverse=True)
    drop: set[str] = set()
    if keep.keep_last is not None:
        kept = [k for k in keys if k != current][: max(keep.keep_last - 1, 0)]
        drop |= {k for k in keys if k != current and k not in kept}
    if keep.keep_days is not None:
        cutoff = now - keep.keep_days * 86400
        drop |= {k for k in keys if k != current and max(mtimes[n] for n in runs[k]) < cutoff}
    return sorted(n for k in drop for n in runs[k])


def _inside(root: Path, folder: Path) -> Path:
    """``folder`` resolved, refused unless it stays inside ``root`` (a symlink cannot lead out)."""
    real_root, real = root.resolve(), folder.resolve()
    if real != real_root and real_root not in real.parents:
        raise DeliveryError(f"{folder} leads outside the export folder {root}", permanent=True)
    return real


def to_folder(root: Path, dest: FolderDestination, files: Sequence[ExportFile]) -> dict[str, Any]:
    root.mkdir(parents=True, exist_ok=True)
    folder = _inside(root, root / dest.path)
    folder.mkdir(parents=True, exist_ok=True)
    folder = _inside(root, folder)
    written = []
    for f in files:
        final = folder / f.name
        temp = folder / f".{f.name}.{uuid.uuid4().hex[:12]}.part"
        try:
            with temp.open("wb") as handle:
                handle.write(f.data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, final)
        finally:
            temp.unlink(missing_ok=True)  # gone once renamed; a failed write leaves nothing
        written.append(str(final))
    fsync_path(folder)
    return {"paths": written}


def folder_listing(root: Path, dest: FolderDestination) -> list[tuple[str, float]]:
    folder = root / dest.path
    if not folder.is_dir():
        return []
    folder = _inside(root, folder)
    return [(p.name, p.stat().st_mtime) for p in folder.iterdir() if p.is_file()]


def folder_remove(root: Path, dest: FolderDestination, names: Sequence[str]) -> None:
    folder = _inside(root, root / dest.path)
    for name in names:
        (folder / name).unlink(missing_ok=True)


def s3_key(target: S3Target, dest: S3Destination, name: str = "") -> str:
    return "/".join(p for p in (target.prefix, dest.prefix, name) if p)


def to_s3(
    target: S3Target, dest: S3Destination, files: Sequence[ExportFile], client: Any = None
) -> dict[str, Any]:
    s3 = client or target.client()
    keys = []
    for f in files:
        key = s3_key(target, dest, f.name)
        s3.put_object(
            Bucket=target.bucket,
            Key=key,
            Body=f.data,
            ContentType=MEDIA_TYPES[f.format],
            Metadata={"sha256": f.sha256},
        )
        head = s3.head_object(Bucket=target.bucket, Key=key)
        if head["ContentLength"] != len(f.data) or head["Metadata"].get("sha256") != f.sha256:
            raise DeliveryError(f"s3://{target.bucket}/{key} does not match the file")
        keys.append(key)
    return {"bucket": target.bucket, "keys": keys}


def s3_listing(target: S3Target, dest: S3Destination, export: str) -> list[tuple[str, float]]:
    s3 = target.client()
    base = s3_key(target, dest) + "/"
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=target.bucket, Prefix=f"{base}{export}_"
    ):
        for obj in page.get("Contents", []):
            name = obj["Key"][len(base) :]
            if "/" not in name:
                out.append((name, obj["LastModified"].timestamp()))
    return out


def s3_remove(target: S3Target, dest: S3Destination, names: Sequence[str]) -> None:
    s3 = target.client()
    for name in names:
        s3.delete_object(Bucket=target.bucket, Key=s3_key(target, dest, name))


def build_email(
    sender: str,
    dest: EmailDestination,
    export: str,
    run_key: str,
    files: Sequence[ExportFile],
    facts: Sequence[tuple[str, str]],
) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = dest.subject or f"siteledger export {export} ({run_key})"
    msg["From"] = sender
    msg["To"] = ", ".join(dest.to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="siteledger")
    msg["X-Siteledger-Export"] = export
    lines = [f"Export {export}, run {run_key}.", ""]
    lines += [f"{k}: {v}" for k, v in facts]
    lines += ["", "Attached files and their SHA-256:"]
    lines += [f"  {f.name}  {f.sha256}  ({len(f.data)} bytes)" for f in files]
    msg.set_content("\n".join(lines) + "\n")
    for f in files:
        maintype, subtype = MEDIA_TYPES[f.format].split("/", 1)
        msg.add_attachment(f.data, maintype=maintype, subtype=subtype, filename=f.name)
    return msg


def to_email(target: SmtpTarget, msg: EmailMessage) -> dict[str, Any]:
    with open_smtp(target) as smtp:
        refused = smtp.send_message(msg)
    if refused:
        raise DeliveryError(f"recipients refused: {sorted(refused)}")
    return {"message_id": msg["Message-ID"], "recipients": msg["To"]}


def to_sftp(
    target: SftpTarget, dest: SftpDestination, files: Sequence[ExportFile]
) -> dict[str, Any]:
    return {"paths": sftp.upload(target, dest.path, [(f.name, f.data) for f in files])}
