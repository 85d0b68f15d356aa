"""The shapes the alert engine's parts pass each other: a rule's lifecycle policy, what one
evaluation observed for one scope, and the messages the channels send.

Rules (:mod:`alerts.rules`) are validated configuration; the lifecycle (:mod:`alerts.state`) keeps
events in the state store; the channels (:mod:`alerts.channels`) send digests. None of them
imports another's internals: they meet here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

SEVERITIES = ("info", "warning", "critical")
Severity = Literal["info", "warning", "critical"]
CATEGORIES = (
    "data_quality",
    "operational",
    "compliance",
    "sustainability",
    "predictive",
    "platform",
    "energy",
    "materials",
    "metering",
)
# what an evaluation that found no row (or a null value) for a scope does to its alert
NoDataPolicy = Literal["ok", "keep_last", "alerting"]
# what an evaluation that failed (the source could not be read) does to the rule's alerts
ErrorPolicy = Literal["keep_last", "alerting", "ok"]
EventState = Literal["pending", "firing", "resolved"]
MessageStatus = Literal["firing", "repeat", "escalated", "resolved"]


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


def fingerprint(rule_id: str, labels: Mapping[str, Any]) -> str:
    """Rule id + sorted labels, hashed: the identity of one alert (one open event at a time)."""
    canonical = json.dumps(
        [rule_id, sorted((str(k), str(v)) for k, v in labels.items())], separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Escalation:
    """After ``after_occurrences`` breaching evaluations of an open alert, ``after_repeats``
    notifications of it, or ``after`` unacknowledged (whichever comes first), notify ``channels``
    too and raise the severity to ``severity`` (either may be empty). Escalates once."""

    after_occurrences: int | None = None
    after_repeats: int | None = None
    after: dt.timedelta | None = None
    channels: tuple[str, ...] = ()
    severity: Severity | None = None


@dataclass(frozen=True)
class LifecyclePolicy:
    """How a rule's alerts move: ``for_count`` consecutive breaching evaluations before firing
    (1 fires at once); ``keep_firing_count`` clear evaluations before an automatic resolution
    (1 resolves at the first clear one); ``auto_resolve`` False leaves resolution to a person."""

    severity: Severity = "warning"
    for_count: int = 1
    keep_firing_count: int = 1
    auto_resolve: bool = True
    no_data: NoDataPolicy = "keep_last"
    on_error: ErrorPolicy = "keep_last"
    repeat_interval: dt.timedelta = dt.timedelta(hours=4)
    ack_timeout: dt.timedelta | None = None
    escalation: Escalation | None = None
    channels: tuple[str, ...] = ()
    notify_resolved: bool = True


@dataclass(frozen=True)
class Observation:
    """What one evaluation of one rule found for one scope at one point of the data's time.

    ``breached`` is None when there was no data (no row, or a null metric): the rule's no-data
    policy decides. ``observed_at`` is the data's time (a day, a month, a poll), ``evaluated_at``
    the wall-clock time of the evaluation."""

    rule_id: str
    labels: Mapping[str, str]
    breached: bool | None
    observed_at: str
    evaluated_at: dt.datetime
    value: float | None = None
    threshold: str | None = None
    summary: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule_id, self.labels)


@dataclass(frozen=True)
class AlertMessage:
    """One alert as a notification states it."""

    event_id: str
    fingerprint: str
    rule_id: str
    status: MessageStatus
    severity: Severity
    category: str
    summary: str
    labels: Mapping[str, str]
    started_at: dt.datetime
    observed_at: str
    value: float | None = None
    threshold: str | None = None
    unit: str | None = None
    description: str | None = None
    action: str | None = None
    resolved_at: dt.datetime | None = None
    acknowledged_by: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Digest:
    """Every message one evaluation sends to one channel, sent as one notification.
    ``digest_id`` is unique and stable across retries (a webhook receiver's idempotency key)."""

    digest_id: str
    channel: str
    created_at: dt.datetime
    messages: tuple[AlertMessage, ...]

    @property
    def highest_severity(self) -> Severity:
        return max((m.severity for m in self.messages), key=severity_rank, default="info")


@dataclass(frozen=True)
class Attempt:
    """One try to deliver one digest to one channel, as the history records it (secrets
    masked in ``target`` and ``error``)."""

    digest_id: str
    channel: str
    kind: str
    target: str
    attempt: int
    ok: bool
    at: dt.datetime
    status_code: int | None = None
    error: str | None = None
    retry_after_s: float | None = None
    event_ids: tuple[str, ...] = ()
