"""From a channel's validated configuration to a target that sends: secrets are read from the
environment variables the configuration names, at send time, never from files."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Mapping
from typing import Any

from alerts.channels import (
    Channel,
    EmailChannel,
    SlackChannel,
    SmsChannel,
    SmtpTarget,
    WebhookChannel,
    send_digest,
)
from alerts.types import AlertMessage, Attempt, Digest
from siteledger.delivery import DeliveryError


def _secret(env: Mapping[str, str], variable: str | None, what: str, channel: str) -> str:
    if not variable:
        raise ValueError(f"channel {channel}: no environment variable is named for its {what}")
    value = env.get(variable)
    if not value:
        raise ValueError(f"channel {channel}: {variable} (its {what}) is not set")
    return value


def build_channel(name: str, config: Any, env: Mapping[str, str] | None = None) -> Channel:
    """The target for channel ``name`` from its configuration; ``ValueError`` saying what is
    missing (an unset variable, no SMTP relay) when it cannot be built."""
    env = os.environ if env is None else env
    kind = config.kind
    if kind == "email":
        try:
            smtp = SmtpTarget.from_env(env)
        except DeliveryError as exc:
            raise ValueError(f"channel {name}: {exc}") from exc
        if smtp is None:
            raise ValueError(f"channel {name}: e-mail needs SITELEDGER_SMTP_HOST (the relay)")
        return EmailChannel(name=name, to=list(config.to), smtp=smtp)
    if kind == "slack":
        return SlackChannel(name=name, url=_secret(env, config.url_env, "webhook URL", name))
    if kind == "sms":
        fields = config.fields
        if hasattr(fields, "model_dump"):
            fields = fields.model_dump()
        return SmsChannel(
            name=name,
            url=config.url,
            username=_secret(env, config.username_env, "user name", name),
            password=_secret(env, config.password_env, "password", name),
            to=list(config.to),
            sender=config.sender,
            fields=dict(fields),
            content_type=config.content_type,
        )
    if kind == "webhook":
        secret = _secret(env, config.secret_env, "signing secret", name)
        return WebhookChannel(name=name, url=config.url, secret=secret)
    raise ValueError(f"channel {name}: unknown kind {kind!r}")


def send_test_message(
    ruleset: Any, channel: str, now: dt.datetime, env: Mapping[str, str] | None = None
) -> list[Attempt]:
    """Send one test message to ``channel`` (``siteledger alerts test-notify``)."""
    config = ruleset.channels.get(channel)
    if config is None:
        known = ", ".join(sorted(ruleset.channels)) or "none"
        raise ValueError(f"no channel named {channel!r} is configured (configured: {known})")
    target = build_channel(channel, config, env)
    message = AlertMessage(
        event_id="test",
        fingerprint="test",
        rule_id="test_notification",
        status="firing",
        severity="info",
        category="platform",
        summary=f"Test notification to {channel}: the channel works",
        labels={"channel": channel},
        started_at=now,
        observed_at=now.isoformat(timespec="seconds"),
        action="Nothing to do: sent by siteledger alerts test-notify.",
    )
    digest = Digest(
        digest_id=f"msg_{uuid.uuid4().hex}", channel=channel, created_at=now, messages=(message,)
    )
    return send_digest(target, digest)
