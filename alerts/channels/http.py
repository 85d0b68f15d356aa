"""One HTTP POST as the channels make it (standard library): no redirects followed (a moved
endpoint is a configuration to fix, and a redirect would carry the body and its credentials
elsewhere), every answer other than 2xx a :class:`~siteledger.delivery.DeliveryError` saying
its status, an excerpt of its body, the wait a 429 or 503 asked for (``Retry-After``) and
whether retrying can help."""

from __future__ import annotations

import datetime as dt
import email.utils
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import IO, Any

from siteledger import __version__
from siteledger.delivery import DeliveryError

USER_AGENT = f"siteledger/{__version__}"
EXCERPT_BYTES = 300
# a reply body is read only to be shown: a receiver that sends megabytes is cut short
MAX_REPLY_BYTES = 64 * 1024


def client_error_is_permanent(status: int) -> bool:
    """A 4xx other than 408 (timeout) and 429 (too many requests) cannot be mended by trying
    again; nor can a redirect (the channel's URL is out of date)."""
    return 300 <= status < 400 or (400 <= status < 500 and status not in (408, 429))


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max((when - now).total_seconds(), 0.0)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx reaches the caller as an HTTPError


_OPENER = urllib.request.build_opener(_NoRedirects)


def _excerpt(stream: IO[bytes] | None) -> str:
    if stream is None:
        return ""
    try:
        data = stream.read(EXCERPT_BYTES)
    except OSError:
        return ""
    return " ".join(data.decode("utf-8", "replace").split())


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float,
    permanent: Callable[[int], bool] = client_error_is_permanent,
) -> int:
    """POST ``body`` to ``url``; the status of a 2xx answer, else :class:`DeliveryError`."""
    request = urllib.request.Request(  # noqa: S310 (the channels accept http(s) URLs only)
        url, data=body, headers={"User-Agent": USER_AGENT, **headers}, method="POST"
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read(MAX_REPLY_BYTES)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
        retry_after = (
            parse_retry_after(exc.headers.get("Retry-After")) if status in (429, 503) else None
        )
        excerpt = _excerpt(exc.fp)
        text = f"HTTP {status} {exc.reason}" + (f": {excerpt}" if excerpt else "")
        raise DeliveryError(
            text, status_code=status, retry_after_s=retry_after, permanent=permanent(status)
        ) from None
