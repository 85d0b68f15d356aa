"""Delivery of report artifacts: S3 upload (boto3) and e-mail with attachments (SMTP).

Where to deliver comes from the environment (the CLI; Dagster jobs use resources, below):

- S3: ``SITELEDGER_S3_BUCKET`` (required to enable), ``SITELEDGER_S3_PREFIX`` (default
  ``reports``), ``SITELEDGER_S3_ENDPOINT_URL`` (MinIO, moto, ...), credentials through the standard
  AWS variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``) unless
  the target carries its own.
- SMTP: ``SITELEDGER_SMTP_HOST`` (required to enable), ``SITELEDGER_SMTP_PORT`` (default 25),
  ``SITELEDGER_SMTP_USER`` / ``SITELEDGER_SMTP_PASSWORD``, ``SITELEDGER_SMTP_STARTTLS`` (1/true),
  ``SITELEDGER_SMTP_SSL`` (implicit TLS), ``SITELEDGER_SMTP_CA_FILE`` (a private CA to trust; the
  server certificate is always verified), ``SITELEDGER_SMTP_FROM``.

Both targets read their variables the same way (:func:`siteledger.delivery.prefixed_env`, typed
by the field); the Dagster resources build the same targets from their own configuration. The SMTP
target and connection, the secret scrubbing and the retries are the platform's shared delivery
core (:mod:`siteledger.delivery`), which the alert channels use too.

Every attempt is a row in the state store (channel, target, attempt number, outcome, error text
with secrets removed). A failed attempt is retried with exponential backoff; when all attempts
fail the report and its files stay exactly as they were, and ``siteledger reports deliver ID``
tries again. Uploaded objects carry the artifact's SHA-256, and the upload is checked against it.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, ClassVar

from reports.registry import DeliveryAttempt, Registry, ReportRecord
from siteledger.delivery import (
    DeliveryError,
    FromEnvironment,
    SmtpTarget,
    Try,
    open_smtp,
    prefixed_env,
    retry,
)

__all__ = [
    "DeliveryError",
    "DeliveryOutcome",
    "S3Target",
    "SmtpTarget",
    "build_email",
    "deliver",
    "deliver_to",
    "prefixed_env",
    "send_email",
    "undelivered",
    "upload_s3",
    "with_retries",
]


@dataclass(frozen=True)
class S3Target(FromEnvironment):
    """An S3 bucket (or an S3-compatible endpoint). Credentials left None come from boto3's own
    chain (the standard ``AWS_*`` variables, a profile, an instance role)."""

    bucket: str
    prefix: str = "reports"
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)

    ENV_PREFIX: ClassVar[str] = "SITELEDGER_S3_"
    ENV_NAMES: ClassVar[dict[str, str]] = {
        "bucket": "BUCKET",
        "prefix": "PREFIX",
        "endpoint_url": "ENDPOINT_URL",
    }
    ENV_REQUIRED: ClassVar[str] = "bucket"

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefix", self.prefix.strip("/"))

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )

    def key(self, record: ReportRecord, filename: str) -> str:
        parts = [
            self.prefix,
            record.site_id,
            record.definition_id,
            record.period_key,
            f"v{record.version}",
            filename,
        ]
        return "/".join(p for p in parts if p)


def _files(record: ReportRecord, formats: list[str] | None) -> list[tuple[str, Path, str]]:
    """(format, path, expected sha256) of the artifacts to deliver, checked on disk first."""
    out = []
    for fmt, art in sorted(record.artifacts.items()):
        if formats and fmt not in formats:
            continue
        path = Path(art["path"])
        if not path.exists():
            raise DeliveryError(f"artifact {path} of report {record.report_id} is missing")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != art["sha256"]:
            raise DeliveryError(
                f"artifact {path} changed since it was generated (sha256 {digest[:12]} != "
                f"{art['sha256'][:12]}); regenerate the report"
            )
        out.append((fmt, path, art["sha256"]))
    if not out:
        raise DeliveryError(f"report {record.report_id} has no artifacts to deliver")
    return out


def upload_s3(record: ReportRecord, target: S3Target, client: Any = None) -> dict[str, Any]:
    """Put every artifact under ``prefix/site/definition/period/vN/`` and check what landed."""
    s3 = client or target.client()
    keys = {}
    for fmt, path, sha in _files(record, None):
        key = target.key(record, path.name)
        data = path.read_bytes()
        s3.put_object(
            Bucket=target.bucket,
            Key=key,
            Body=data,
            ContentType=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
            Metadata={"sha256": sha, "report-id": record.report_id, "status": record.status},
        )
        head = s3.head_object(Bucket=target.bucket, Key=key)
        if head["ContentLength"] != len(data) or head["Metadata"].get("sha256") != sha:
            raise DeliveryError(f"s3://{target.bucket}/{key} does not match the artifact")
        keys[fmt] = key
    return {"bucket": target.bucket, "keys": keys}


def build_email(record: ReportRecord, sender: str, recipients: list[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = (
        f"{record.report_type.replace('_', ' ')} — {record.site_id} — {record.period_key} "
        f"(version {record.version}, {record.status})"
    )
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="siteledger")
    msg["X-Siteledger-Report-Id"] = record.report_id
    lines = [
        f"Report {record.report_id}",
        f"Site: {record.site_id}",
        f"Period: {record.period_key} ({record.period_start:%Y-%m-%d} to "
        f"{record.period_end:%Y-%m-%d})",
        f"Version: {record.version}; status: {record.status}",
        f"Content hash (SHA-256 of the figures): {record.content_hash}",
        f"Built from published warehouse version {record.warehouse_version}.",
        "",
        "Attached files and their SHA-256:",
    ]
    for art_fmt, art in sorted(record.artifacts.items()):
        lines.append(f"  {Path(art['path']).name}  {art['sha256']}  ({art_fmt})")
    msg.set_content("\n".join(lines) + "\n")
    for _, path, _ in _files(record, None):
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(
            path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name
        )
    return msg


def send_email(record: ReportRecord, target: SmtpTarget, recipients: list[str]) -> dict[str, Any]:
    if not recipients:
        raise DeliveryError(f"report {record.report_id} has no recipients")
    msg = build_email(record, target.sender, recipients)
    with open_smtp(target) as smtp:
        refused = smtp.send_message(msg)
    if refused:
        raise DeliveryError(f"recipients refused: {sorted(refused)}")
    return {"message_id": msg["Message-ID"], "recipients": recipients}


@dataclass
class DeliveryOutcome:
    channel: str
    ok: bool
    attempts: int
    detail: dict[str, Any] | None = None
    error: str | None = None


def with_retries(
    registry: Registry,
    record: ReportRecord,
    channel: str,
    target_text: str,
    action: Callable[[], dict[str, Any]],
    secrets: list[str | None],
    attempts: int = 4,
    backoff_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryOutcome:
    """Run ``action`` up to ``attempts`` times (backoff 1, 2, 4 s ...), recording each attempt."""

    def record_try(attempt: Try[dict[str, Any]]) -> None:
        outcome: dict[str, Any] = (
            {"status": "succeeded", "details": attempt.result}
            if attempt.ok
            else {"status": "failed", "error": attempt.error}
        )
        registry.record_attempt(
            DeliveryAttempt(
                report_id=record.report_id,
                channel=channel,
                target=target_text,
                attempt=attempt.number,
                **outcome,
            )
        )

    tries = retry(
        action,
        attempts=attempts,
        backoff_s=backoff_s,
        secrets=secrets,
        sleep=sleep,
        on_try=record_try,
    )
    last = tries[-1]
    if last.ok:
        return DeliveryOutcome(channel, True, last.number, detail=last.result)
    return DeliveryOutcome(channel, False, last.number, error=last.error)


def deliver(
    registry: Registry,
    record: ReportRecord,
    recipients: list[str],
    s3: S3Target | None = None,
    smtp: SmtpTarget | None = None,
    attempts: int = 4,
    backoff_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[DeliveryOutcome]:
    """Deliver one report over every configured channel (the environment's when not given)."""
    s3 = s3 if s3 is not None else S3Target.from_env()
    smtp = smtp if smtp is not None else SmtpTarget.from_env()
    return deliver_to(registry, record, recipients, s3, smtp, attempts, backoff_s, sleep)


def deliver_to(
    registry: Registry,
    record: ReportRecord,
    recipients: list[str],
    s3: S3Target | None,
    smtp: SmtpTarget | None,
    attempts: int = 4,
    backoff_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[DeliveryOutcome]:
    """Deliver one report over exactly the channels given (None: that channel is not used)."""
    secrets = [
        os.environ.get("AWS_SECRET_ACCESS_KEY"),
        os.environ.get("SITELEDGER_SMTP_PASSWORD"),
        s3.secret_access_key if s3 else None,
        smtp.password if smtp else None,
    ]
    outcomes = []
    if s3 is not None:
        target = s3
        outcomes.append(
            with_retries(
                registry,
                record,
                "s3",
                f"s3://{target.bucket}/{target.key(record, '')}",
                lambda: upload_s3(record, target),
                secrets,
                attempts,
                backoff_s,
                sleep,
            )
        )
    if smtp is not None:
        mail = smtp
        outcomes.append(
            with_retries(
                registry,
                record,
                "email",
                ", ".join(recipients) + f" via {mail.host}:{mail.port}",
                lambda: send_email(record, mail, recipients),
                secrets,
                attempts,
                backoff_s,
                sleep,
            )
        )
    return outcomes


def undelivered(
    registry: Registry, channels: Iterable[str]
) -> list[tuple[ReportRecord, list[str]]]:
    """Every submitted report with the channels (of ``channels``: ``s3``, ``email``) it still
    needs: never attempted, or whose last attempt failed."""
    wanted = sorted(set(channels))
    pending = []
    for record in registry.list(status="submitted"):
        last: dict[str, str] = {}
        for attempt in registry.attempts(record.report_id):  # oldest first
            last[attempt.channel] = attempt.status
        todo = [c for c in wanted if last.get(c) != "succeeded"]
        if todo:
            pending.append((record, todo))
    return pending


def undelivered_by_email(
    registry: Registry, definitions: Iterable[Any], domain: str
) -> list[ReportRecord]:
    """The internal reports of a domain (``energy``, ``materials``) still owed an e-mail: for
    each of its calendar definitions (per-lot documents are not mailed), site and period, the
    latest version when it is validated or submitted (an internal report needs no submission)
    and no e-mail of that version has succeeded. Oldest period first."""
    ids = sorted({d.id for d in definitions if d.domain == domain and d.period != "lot"})
    owed = []
    latest = [r for d in ids for r in registry.list(definition_id=d, latest_only=True)]
    for record in latest:
        if record.status not in ("validated", "submitted"):
            continue
        attempts = [a for a in registry.attempts(record.report_id) if a.channel == "email"]
        if not any(a.status == "succeeded" for a in attempts):
            owed.append(record)
    return sorted(owed, key=lambda r: (r.period_start, r.definition_id, r.site_id))
