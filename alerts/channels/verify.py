"""Checking a Standard Webhooks v1 signature, the receiving side of :func:`webhook_signature`.

The sender signs ``{webhook-id}.{webhook-timestamp}.{body}`` with HMAC-SHA256 under the key that
the ``whsec_<base64>`` secret encodes; the ``webhook-signature`` header holds space-separated
``v1,<base64>`` signatures (several while a secret is being rotated). A receiver accepts the
message when one of them matches, compared in constant time, and the timestamp is within a
tolerance of its own clock (five minutes by default, as the specification suggests), which
bounds how long a captured message could be replayed; remembering the ids seen within that
window (the caller's job) closes the rest.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from alerts.channels.send import webhook_signature
from alerts.channels.targets import webhook_key

DEFAULT_TOLERANCE_S = 300
# webhook-id values are the sender's message ids (msg_..., a digest id): bounded so that a
# hostile id cannot fill the store of seen ids
MAX_ID_LENGTH = 128


class WebhookRefused(Exception):
    """The message is not signed by the shared secret, or its timestamp is out of tolerance."""


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> str:
    """Check a received message's Standard Webhooks headers; returns its ``webhook-id``.

    ``headers`` is looked up by lower-case name (what HTTP servers and Starlette give).
    Raises :class:`WebhookRefused` naming what is wrong.
    """
    webhook_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not webhook_id or not timestamp or not signatures:
        raise WebhookRefused(
            "missing header: webhook-id, webhook-timestamp and webhook-signature are required"
        )
    if len(webhook_id) > MAX_ID_LENGTH or not webhook_id.isprintable():
        raise WebhookRefused(f"webhook-id is not printable text of at most {MAX_ID_LENGTH} chars")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise WebhookRefused("webhook-timestamp is not whole seconds since the epoch")
    if abs(now - int(timestamp)) > tolerance_s:
        raise WebhookRefused(f"timestamp outside the tolerance of {tolerance_s} s")
    expected = webhook_signature(webhook_key(secret), webhook_id, int(timestamp), body)
    for signature in signatures.split(" "):
        if signature.startswith("v1,") and hmac.compare_digest(
            signature.encode("utf-8", "replace"), expected.encode()
        ):
            return webhook_id
    raise WebhookRefused("no valid signature")
