"""What every delivery of the platform shares: targets configured from the environment, the SMTP
relay and a connection to it, secrets kept out of recorded text, and retries with backoff.

Report delivery (:mod:`reports.delivery`) and the alert channels (:mod:`alerts.channels`) are
built on these. A target reads its fields from prefixed variables (:func:`prefixed_env`, typed
by the field's default; see :class:`FromEnvironment`). :func:`retry` runs an action until it
succeeds, recording every try: exponential backoff (optionally capped, optionally with jitter),
the receiver's own "retry after N seconds" when it gives one, and no further try after a failure
that retrying cannot mend (:class:`DeliveryError` with ``permanent``).
"""

from __future__ import annotations

import base64
import os
import random
import smtplib
import ssl
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Generic, Self, TypeVar

TRUE_TEXT = ("1", "true", "yes", "on")
SCRUBBED = "***"
# recorded error text is kept short: an excerpt says what went wrong, a whole HTML error page
# does not
MAX_ERROR_CHARS = 2000

T = TypeVar("T")


class DeliveryError(RuntimeError):
    """A delivery that failed. ``status_code``: the receiver's answer (an HTTP or SMTP code), if
    any; ``retry_after_s``: the wait the receiver asked for before the next try;
    ``permanent``: retrying cannot succeed (refused, gone, misconfigured): stop."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        retry_after_s: float | None = None,
        permanent: bool = False,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retry_after_s = retry_after_s
        self.permanent = permanent


def prefixed_env(
    prefix: str, names: Mapping[str, str], env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The non-empty variables ``prefix + NAME`` for each ``field -> NAME`` of ``names``, keyed by
    field (``SITELEDGER_SMTP_`` + ``FROM`` -> ``{"sender": ...}``)."""
    env = os.environ if env is None else env
    return {field: env[prefix + name] for field, name in names.items() if env.get(prefix + name)}


class FromEnvironment:
    """``from_env`` for a delivery target (a dataclass): its fields from ``ENV_PREFIX``
    variables, each converted to the type of the field's default; None when ``ENV_REQUIRED`` is
    unset (the target is off)."""

    ENV_PREFIX: ClassVar[str]
    ENV_NAMES: ClassVar[dict[str, str]]  # field -> variable name after the prefix
    ENV_REQUIRED: ClassVar[str]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self | None:
        values = prefixed_env(cls.ENV_PREFIX, cls.ENV_NAMES, env)
        if cls.ENV_REQUIRED not in values:
            return None
        defaults = {f.name: f.default for f in fields(cls)}  # type: ignore[arg-type]
        typed: dict[str, Any] = {}
        for name, text in values.items():
            default = defaults.get(name)
            if isinstance(default, bool):
                typed[name] = text.strip().lower() in TRUE_TEXT
            elif isinstance(default, int | float):
                variable = cls.ENV_PREFIX + cls.ENV_NAMES[name]
                try:
                    typed[name] = type(default)(text)
                except ValueError:
                    raise DeliveryError(f"{variable}={text!r} is not a number") from None
            else:
                typed[name] = text
        return cls(**typed)


@dataclass(frozen=True)
class SmtpTarget(FromEnvironment):
    """An SMTP relay: plain, STARTTLS or implicit TLS (``use_ssl``, port 465), the server
    certificate always verified (against ``ca_file`` when given)."""

    host: str
    port: int = 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    use_ssl: bool = False
    sender: str = "siteledger@localhost"
    timeout: float = 30.0
    ca_file: str | None = None

    ENV_PREFIX: ClassVar[str] = "SITELEDGER_SMTP_"
    ENV_NAMES: ClassVar[dict[str, str]] = {
        "host": "HOST",
        "port": "PORT",
        "user": "USER",
        "password": "PASSWORD",
        "starttls": "STARTTLS",
        "use_ssl": "SSL",
        "sender": "FROM",
        "ca_file": "CA_FILE",
    }
    ENV_REQUIRED: ClassVar[str] = "host"

    @property
    def encrypted(self) -> bool:
        return self.starttls or self.use_ssl


@contextmanager
def open_smtp(target: SmtpTarget) -> Iterator[smtplib.SMTP]:
    """A connection to ``target``, greeted, encrypted as configured and logged in; closed on
    exit. A login over an unencrypted connection is refused before the password is sent."""
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
            if not target.encrypted:
                # smtplib would send the password in clear text
                raise DeliveryError(
                    "SMTP login needs STARTTLS or SSL; refusing to send it in clear"
                )
            smtp.login(target.user, target.password or "")
        yield smtp


def basic_auth(user: str, password: str) -> str:
    """The ``Authorization`` header value of HTTP basic authentication."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def scrub(text: str, secrets: Iterable[str | None], limit: int = MAX_ERROR_CHARS) -> str:
    """``text`` with every secret of 3 characters or more (and its URL-encoded forms) replaced by
    ``***``, cut to ``limit`` characters. Longer secrets first, so a URL that holds a token is
    replaced whole rather than around it."""
    variants: set[str] = set()
    for secret in secrets:
        if secret and len(secret) >= 3:
            variants |= {
                secret,
                urllib.parse.quote(secret, safe=""),
                urllib.parse.quote_plus(secret, safe=""),
            }
    for variant in sorted(variants, key=len, reverse=True):
        text = text.replace(variant, SCRUBBED)
    return text[:limit]


def backoff_delay(
    number: int,
    backoff_s: float,
    max_backoff_s: float | None = None,
    jitter: float = 0.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """The wait after failed try ``number`` (from 1): ``backoff_s * 2 ** (number - 1)``, capped
    at ``max_backoff_s``, then shortened by up to ``jitter`` of itself (0: exact; 0.5: between
    half and all of it; 1: anywhere from none to all) so that senders failing together do not
    retry together."""
    delay = backoff_s * 2 ** (number - 1)
    if max_backoff_s is not None:
        delay = min(delay, max_backoff_s)
    return delay * (1.0 - jitter * rand())


@dataclass(frozen=True)
class Try(Generic[T]):
    """One run of a delivery action: its ``number`` (from 1), its ``result`` when it succeeded,
    else its ``error`` text (``Type: message``, secrets scrubbed) with what the failure said
    (``status_code``, ``retry_after_s``, ``permanent``). ``wait_s`` is the wait before the next
    try; None when no try follows."""

    number: int
    result: T | None = None
    error: str | None = None
    status_code: int | None = None
    retry_after_s: float | None = None
    permanent: bool = False
    wait_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def retry(
    action: Callable[[], T],
    *,
    attempts: int = 4,
    backoff_s: float = 1.0,
    max_backoff_s: float | None = None,
    jitter: float = 0.0,
    secrets: Iterable[str | None] = (),
    sleep: Callable[[float], None] = time.sleep,
    on_try: Callable[[Try[T]], None] | None = None,
    rand: Callable[[], float] = random.random,
) -> list[Try[T]]:
    """Run ``action`` until it returns, at most ``attempts`` times; every try, as ``on_try``
    saw it (before the wait that follows it).

    After a failure the wait is the :class:`DeliveryError`'s ``retry_after_s`` when it has one,
    else :func:`backoff_delay`. No try follows a permanent failure, nor one whose receiver asks
    for a longer wait than ``max_backoff_s`` (blocking that long would hold up every other
    delivery; the caller can try again later and the try records the wait asked for)."""
    secrets = list(secrets)
    tries: list[Try[T]] = []
    for number in range(1, attempts + 1):
        try:
            result = action()
        except Exception as exc:
            failure = exc if isinstance(exc, DeliveryError) else None
            retry_after = failure.retry_after_s if failure else None
            permanent = bool(failure and failure.permanent)
            wait: float | None = None
            if number < attempts and not permanent:
                if retry_after is None:
                    wait = backoff_delay(number, backoff_s, max_backoff_s, jitter, rand)
                elif max_backoff_s is None or retry_after <= max_backoff_s:
                    wait = max(retry_after, 0.0)
            attempt: Try[T] = Try(
                number,
                error=scrub(f"{type(exc).__name__}: {exc}", secrets),
                status_code=failure.status_code if failure else None,
                retry_after_s=retry_after,
                permanent=permanent,
                wait_s=wait,
            )
            tries.append(attempt)
            if on_try is not None:
                on_try(attempt)
            if wait is None:
                break
            sleep(wait)
            continue
        attempt = Try(number, result=result)
        tries.append(attempt)
        if on_try is not None:
            on_try(attempt)
        break
    return tries
