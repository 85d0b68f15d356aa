"""Notification channels: a digest of alert messages sent by e-mail, to Slack, by SMS or as a
signed webhook, its text from sandboxed templates, each try recorded as an
:class:`~alerts.types.Attempt`.

The targets (:mod:`alerts.channels.targets`) are built from validated configuration;
:func:`send_digest` sends one digest to one of them; :mod:`alerts.channels.render` says what each
message holds.
"""

from alerts.channels.render import (
    email_parts,
    ordered,
    slack_payload,
    sms_body,
    subject,
    webhook_payload,
)
from alerts.channels.send import email_message, send_digest, webhook_signature
from alerts.channels.targets import (
    Channel,
    EmailChannel,
    SlackChannel,
    SmsChannel,
    WebhookChannel,
    webhook_key,
)
from siteledger.delivery import SmtpTarget

__all__ = [
    "Channel",
    "EmailChannel",
    "SlackChannel",
    "SmsChannel",
    "SmtpTarget",
    "WebhookChannel",
    "email_message",
    "email_parts",
    "ordered",
    "send_digest",
    "slack_payload",
    "sms_body",
    "subject",
    "webhook_key",
    "webhook_payload",
    "webhook_signature",
]
