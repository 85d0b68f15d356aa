"""Where a digest goes: one small dataclass per kind of channel, built from validated
configuration. Each knows its ``kind``, a ``masked_target()`` safe to record and show (no
password, token, signing secret, query string nor Slack webhook path) and the ``secrets()`` to
scrub from any error text."""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from siteledger.delivery import SCRUBBED, SmtpTarget, basic_auth, scrub

SMS_FIELDS = ("to", "sender", "body")
DEFAULT_SMS_FIELDS = {"to": "To", "sender": "From", "body": "Body"}  # Twilio's names
SMS_MAX_LENGTH = 1600  # Twilio's limit for one message body, in characters
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix, not a secret)
# a query value this long is taken for a token (api_key=..., sig=...) and kept out of records
_TOKEN_CHARS = 8


def _checked_url(channel: str, url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"channel {channel}: the URL must be http(s)://host/...")
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            f"channel {channel}: the URL must not hold credentials (user:password@); "
            "give them as the channel's own settings"
        )
    return url


def _url_shown(url: str) -> str:
    """Scheme, host, port and path; a query string as ``?***``."""
    parts = urllib.parse.urlsplit(url)
    shown = f"{parts.scheme}://{parts.netloc}{parts.path}"
    return shown + (f"?{SCRUBBED}" if parts.query else "")


def _url_secrets(url: str) -> list[str]:
    """The parts of an endpoint URL that may be credentials: its query string and long query
    values (tokens)."""
    query = urllib.parse.urlsplit(url).query
    values = [v for _, v in urllib.parse.parse_qsl(query) if len(v) >= _TOKEN_CHARS]
    return [query, *values] if query else []


@dataclass(frozen=True)
class EmailChannel:
    """E-mail to ``to`` through the SMTP relay ``smtp`` (STARTTLS or SSL as it says)."""

    name: str
    to: list[str]
    smtp: SmtpTarget

    kind: ClassVar[str] = "email"

    def __post_init__(self) -> None:
        if not self.to:
            raise ValueError(f"channel {self.name}: no recipients")
        if self.smtp.user and not self.smtp.encrypted:
            # the relay would get the password in clear text: refused now, not at the first alert
            raise ValueError(f"channel {self.name}: an SMTP login needs STARTTLS or SSL")

    def masked_target(self) -> str:
        return f"{', '.join(self.to)} via {self.smtp.host}:{self.smtp.port}"

    def secrets(self) -> list[str | None]:
        return [self.smtp.password]


@dataclass(frozen=True)
class SlackChannel:
    """A Slack incoming webhook. Its URL is the credential: only scheme and host are shown."""

    name: str
    url: str = field(repr=False)
    timeout: float = 10.0

    kind: ClassVar[str] = "slack"

    def __post_init__(self) -> None:
        _checked_url(self.name, self.url)

    def masked_target(self) -> str:
        parts = urllib.parse.urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}/{SCRUBBED}"

    def secrets(self) -> list[str | None]:
        parts = urllib.parse.urlsplit(self.url)
        path = parts.path.strip("/")
        token = path.rsplit("/", 1)[-1]
        return [self.url, path, token, *_url_secrets(self.url)]


@dataclass(frozen=True)
class SmsChannel:
    """An SMS gateway (Twilio-style): one POST per recipient with basic authentication, its body
    form-encoded or JSON with the field names ``fields`` gives for ``to``, ``sender`` and
    ``body`` (default ``To``, ``From``, ``Body``)."""

    name: str
    url: str
    username: str
    password: str = field(repr=False)
    to: list[str]
    sender: str
    fields: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SMS_FIELDS))
    content_type: Literal["form", "json"] = "form"
    max_length: int = SMS_MAX_LENGTH
    timeout: float = 10.0

    kind: ClassVar[str] = "sms"

    def __post_init__(self) -> None:
        _checked_url(self.name, self.url)
        if not self.to:
            raise ValueError(f"channel {self.name}: no recipients")
        unknown = sorted(set(self.fields) - set(SMS_FIELDS))
        if unknown:
            raise ValueError(f"channel {self.name}: unknown SMS fields {unknown}")
        object.__setattr__(self, "fields", {**DEFAULT_SMS_FIELDS, **self.fields})
        if self.content_type not in ("form", "json"):
            raise ValueError(f"channel {self.name}: content_type is form or json")
        if self.max_length < 20:
            raise ValueError(f"channel {self.name}: max_length {self.max_length} is too short")

    def masked_target(self) -> str:
        target = f"{', '.join(self.to)} via {_url_shown(self.url)}"
        return scrub(target, self.secrets())

    def secrets(self) -> list[str | None]:
        authorization = basic_auth(self.username, self.password)
        return [
            self.password,
            authorization,
            authorization.removeprefix("Basic "),
            *_url_secrets(self.url),
        ]


def webhook_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: ``whsec_<base64>`` (or the bare base64),
    decoded."""
    text = secret.strip().removeprefix(WEBHOOK_SECRET_PREFIX)
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the webhook secret is not whsec_<base64> nor base64") from None
    if len(key) < 16:
        raise ValueError("the webhook secret is shorter than 16 bytes")
    return key


@dataclass(frozen=True)
class WebhookChannel:
    """A receiver of signed webhooks (Standard Webhooks v1): ``secret`` is ``whsec_<base64>``
    (or the bare base64) shared with the receiver."""

    name: str
    url: str
    secret: str = field(repr=False)
    timeout: float = 10.0

    kind: ClassVar[str] = "webhook"

    def __post_init__(self) -> None:
        _checked_url(self.name, self.url)
        try:
            webhook_key(self.secret)
        except ValueError as exc:
            raise ValueError(f"channel {self.name}: {exc}") from None

    @property
    def key(self) -> bytes:
        return webhook_key(self.secret)

    def masked_target(self) -> str:
        return scrub(_url_shown(self.url), self.secrets())

    def secrets(self) -> list[str | None]:
        bare = self.secret.strip().removeprefix(WEBHOOK_SECRET_PREFIX)
        return [self.secret, bare, *_url_secrets(self.url)]


Channel = EmailChannel | SlackChannel | SmsChannel | WebhookChannel
