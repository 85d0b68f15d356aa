"""Delivery of report artifacts: S3 upload (boto3) and e-mail with attachments (SMTP).

Where to deliver comes from the environment only:

- S3: ``SITELEDGER_S3_BUCKET`` (required to enable), ``SITELEDGER_S3_PREFIX`` (default
  ``reports``), ``SITELEDGER_S3_ENDPOINT_URL`` (MinIO, moto, ...), credentials through the standard
  AWS variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``).
- SMTP: ``SITELEDGER_SMTP_HOST`` (required to enable), ``SITELEDGER_SMTP_PORT`` (default 25),
  ``SITELEDGER_SMTP_USER`` / ``SITELEDGER_SMTP_PASSWORD``, ``SITELEDGER_SMTP_STARTTLS`` (1/true),
  ``SITELEDGER_SMTP_SSL`` (implicit TLS), ``SITELEDGER_SMTP_CA_FILE`` (a private CA to trust; the
  server certificate is always verified), ``SITELEDGER_SMTP_FROM``.

Every attempt is a row in the state store (channel, target, attempt number, outcome, error text
with secrets removed). A failed attempt is retried with exponential backoff; when all attempts
fail the report and its files stay exactly as they were, and ``siteledger reports deliver ID``
tries again. Uploaded objects carry the artifact's SHA-256, and the upload is checked against it.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from reports.registry import DeliveryAttempt, Registry, ReportRecord

_TRUE = ("1", "true", "yes", "on")


class DeliveryError(RuntimeError):
    pass


@dataclass(frozen=True)
class S3Target:
    bucket: str
    prefix: str = "reports"
    endpoint_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> S3Target | None:
        env = os.environ if env is None else env
        bucket = env.get("SITELEDGER_S3_BUCKET")
        if not bucket:
            return None
        return cls(
            bucket=bucket,
            prefix=env.get("SITELEDGER_S3_PREFIX", "reports").strip("/"),
            endpoint_url=env.get("SITELEDGER_S3_ENDPOINT_URL") or None,
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


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int = 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    use_ssl: bool = False
    sender: str = "siteledger@localhost"
    timeout: float = 30.0
    ca_file: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpTarget | None:
        env = os.environ if env is None else env
        host = env.get("SITELEDGER_SMTP_HOST")
        if not host:
            return None
        return cls(
            host=host,
            port=int(env.get("SITELEDGER_SMTP_PORT", "25")),
            user=env.get("SITELEDGER_SMTP_USER") or None,
            password=env.get("SITELEDGER_SMTP_PASSWORD") or None,
            starttls=env.get("SITELEDGER_SMTP_STARTTLS", "").lower() in _TRUE,
            use_ssl=env.get("SITELEDGER_SMTP_SSL", "").lower() in _TRUE,
            sender=env.get("SITELEDGER_SMTP_FROM", "siteledger@localhost"),
            ca_file=env.get("SITELEDGER_SMTP_CA_FILE") or None,
        )


def _scrub(text: str, secrets: list[str | None]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***")
    return text[:2000]


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
    import boto3

    s3 = client or boto3.client("s3", endpoint_url=target.endpoint_url)
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
    context = ssl.create_default_context(cafile=target.ca_file)
    smtp_cls = smtplib.SMTP_SSL if target.use_ssl else smtplib.SMTP
    kwargs: dict[str, Any] = {"timeout": target.timeout}
    if target.use_ssl:
        kwargs["context"] = context
    with smtp_cls(target.host, target.port, **kwargs) as smtp:
        smtp.ehlo()
        if target.starttls:
            smtp.starttls(context=context)
            smtp.ehlo()
        if target.user:
            if not (target.starttls or target.use_ssl):
                # smtplib would send the password in clear text
                raise DeliveryError(
                    "SMTP login needs STARTTLS or SSL; refusing to send it in clear"
                )
            smtp.login(target.user, target.password or "")
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
    error = None
    for n in range(1, attempts + 1):
        try:
            detail = action()
        except Exception as exc:
            error = _scrub(f"{type(exc).__name__}: {exc}", secrets)
            registry.record_attempt(
                DeliveryAttempt(
                    report_id=record.report_id,
                    channel=channel,
                    target=target_text,
                    attempt=n,
                    status="failed",
                    error=error,
                )
            )
            if n < attempts:
                sleep(backoff_s * 2 ** (n - 1))
            continue
        registry.record_attempt(
            DeliveryAttempt(
                report_id=record.report_id,
                channel=channel,
                target=target_text,
                attempt=n,
                status="succeeded",
                details=detail,
            )
        )
        return DeliveryOutcome(channel, True, n, detail=detail)
    return DeliveryOutcome(channel, False, attempts, error=error)


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
    secrets = [
        os.environ.get("AWS_SECRET_ACCESS_KEY"),
        os.environ.get("SITELEDGER_SMTP_PASSWORD"),
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
