"""Sending one digest to one channel: the message is built once, then tried until it is
delivered, each try an :class:`~alerts.types.Attempt` (secrets scrubbed from target and error).

Retries (:func:`siteledger.delivery.retry`): exponential backoff with jitter, capped; the wait a
receiver asks for with ``Retry-After`` (Slack's 429, any 503) when it gives one, and no wait
beyond ``max_backoff_s`` (the attempt records what was asked, the caller tries again later). A
permanent failure stops at once: an HTTP 4xx other than 408/429 (a webhook: only 410, Standard
Webhooks' "disable this endpoint"), an SMTP 5xx, recipients refused.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import random
import re
import smtplib
import time
import urllib.parse
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime

from alerts.channels import http
from alerts.channels.render import email_parts, slack_payload, sms_body, webhook_payload
from alerts.channels.targets import (
    Channel,
    EmailChannel,
    SlackChannel,
    SmsChannel,
    WebhookChannel,
)
from alerts.types import Attempt, Digest
from siteledger.delivery import DeliveryError, Try, basic_auth, open_smtp, retry

log = logging.getLogger(__name__)

Action = Callable[[], int | None]  # one try; the receiver's status code when it has one


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def webhook_signature(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks v1: ``v1,`` + base64 HMAC-SHA256 over ``{id}.{timestamp}.{body}``."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def email_message(channel: EmailChannel, digest: Digest, now: dt.datetime) -> EmailMessage:
    """The digest as one multipart/alternative e-mail (plain text and HTML). Its Message-ID
    comes from the digest id, so a digest sent again is recognisably the same message."""
    subject, text, html = email_parts(digest)
    sender = channel.smtp.sender
    domain = sender.rpartition("@")[2] or "siteledger"
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(channel.to)
    message["Date"] = format_datetime(now.astimezone(dt.UTC))
    message["Message-ID"] = f"<alerts.{re.sub(r'[^A-Za-z0-9._-]', '-', digest.digest_id)}@{domain}>"
    message["X-Siteledger-Digest-Id"] = digest.digest_id
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def _email_action(channel: EmailChannel, digest: Digest, now: Callable[[], dt.datetime]) -> Action:
    message = email_message(channel, digest, now())

    def send() -> int | None:
        try:
            with open_smtp(channel.smtp) as smtp:
                refused = smtp.send_message(message, to_addrs=channel.to)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(
                f"every recipient refused: {sorted(exc.recipients)}", permanent=True
            ) from None
        except smtplib.SMTPResponseException as exc:
            reply = exc.smtp_error
            reply_text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
            raise DeliveryError(
                f"{type(exc).__name__}: SMTP {exc.smtp_code} {reply_text}",
                status_code=exc.smtp_code,
                permanent=500 <= exc.smtp_code < 600,
            ) from None
        if refused:
            # the others have it: sending again would give them a second copy
            raise DeliveryError(f"recipients refused: {sorted(refused)}", permanent=True)
        return None

    return send


def _slack_action(channel: SlackChannel, digest: Digest) -> Action:
    body = json.dumps(slack_payload(digest), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    return lambda: http.post(channel.url, body, headers, timeout=channel.timeout)


def _said(exc: Exception) -> str:
    return str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"


def _sms_action(channel: SmsChannel, digest: Digest) -> Action:
    text = sms_body(digest, channel.max_length)
    names = channel.fields
    headers = {"Authorization": basic_auth(channel.username, channel.password)}
    if channel.content_type == "json":
        headers["Content-Type"] = "application/json; charset=utf-8"
    else:
        headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    delivered: set[str] = set()  # a retry sends only to the numbers that have not had it

    def send() -> int | None:
        status: int | None = None
        failures: list[tuple[str, DeliveryError | Exception]] = []
        for number in channel.to:
            if number in delivered:
                continue
            fields = {names["to"]: number, names["sender"]: channel.sender, names["body"]: text}
            if channel.content_type == "json":
                body = json.dumps(fields, ensure_ascii=False).encode()
            else:
                body = urllib.parse.urlencode(fields).encode()
            try:
                status = http.post(channel.url, body, headers, timeout=channel.timeout)
            except Exception as exc:
                failures.append((number, exc))
                continue
            delivered.add(number)
        if not failures:
            return status
        errors = [e for _, e in failures if isinstance(e, DeliveryError)]
        waits = [e.retry_after_s for e in errors if e.retry_after_s is not None]
        raise DeliveryError(
            "; ".join(f"{number}: {_said(e)}" for number, e in failures),
            status_code=errors[-1].status_code if errors else None,
            retry_after_s=max(waits) if waits else None,
            permanent=len(errors) == len(failures) and all(e.permanent for e in errors),
        )

    return send


def _webhook_action(
    channel: WebhookChannel, digest: Digest, now: Callable[[], dt.datetime]
) -> Action:
    body = json.dumps(webhook_payload(digest), separators=(",", ":")).encode()
    key = channel.key

    def send() -> int | None:
        # signed afresh each try: receivers refuse timestamps more than a few minutes old
        timestamp = int(now().timestamp())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": digest.digest_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": webhook_signature(key, digest.digest_id, timestamp, body),
        }
        return http.post(
            channel.url, body, headers, timeout=channel.timeout, permanent=lambda s: s == 410
        )

    return send


def _action(channel: Channel, digest: Digest, now: Callable[[], dt.datetime]) -> Action:
    if isinstance(channel, EmailChannel):
        return _email_action(channel, digest, now)
    if isinstance(channel, SlackChannel):
        return _slack_action(channel, digest)
    if isinstance(channel, SmsChannel):
        return _sms_action(channel, digest)
    if isinstance(channel, WebhookChannel):
        return _webhook_action(channel, digest, now)
    raise TypeError(f"not a channel: {channel!r}")


def send_digest(
    channel: Channel,
    digest: Digest,
    *,
    attempts: int = 4,
    backoff_s: float = 0.5,
    max_backoff_s: float = 30.0,
    jitter: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], dt.datetime] = _utcnow,
    rand: Callable[[], float] = random.random,
) -> list[Attempt]:
    """Send ``digest`` over ``channel``: every try, in order; the last is ok when it was
    delivered. Waits between tries go through ``sleep``; ``now`` stamps attempts (and webhook
    timestamps); ``rand`` draws the jitter (the wait is cut by up to ``jitter`` of itself)."""
    if not digest.messages:
        raise ValueError(f"digest {digest.digest_id} has no messages")
    if digest.channel != channel.name:
        raise ValueError(f"digest {digest.digest_id} is for {digest.channel}, not {channel.name}")
    secrets = channel.secrets()
    target = channel.masked_target()
    event_ids = tuple(m.event_id for m in digest.messages)
    recorded: list[Attempt] = []

    def record(one: Try[int | None]) -> None:
        attempt = Attempt(
            digest_id=digest.digest_id,
            channel=channel.name,
            kind=channel.kind,
            target=target,
            attempt=one.number,
            ok=one.ok,
            at=now(),
            status_code=one.result if one.ok else one.status_code,
            error=one.error,
            retry_after_s=one.retry_after_s,
            event_ids=event_ids,
        )
        recorded.append(attempt)
        if one.ok:
            log.info("digest %s sent to %s (%s)", digest.digest_id, channel.name, target)
        else:
            then = "giving up" if one.wait_s is None else f"next try in {one.wait_s:.1f} s"
            log.warning(
                "digest %s to %s (%s), attempt %d failed: %s; %s",
                digest.digest_id,
                channel.name,
                target,
                one.number,
                one.error,
                then,
            )

    retry(
        _action(channel, digest, now),
        attempts=attempts,
        backoff_s=backoff_s,
        max_backoff_s=max_backoff_s,
        jitter=jitter,
        secrets=secrets,
        sleep=sleep,
        on_try=record,
        rand=rand,
    )
    return recorded
