"""What a digest says, per channel: the e-mail's subject, plain text and HTML, Slack's fallback
text and blocks, the SMS body and the webhook's JSON.

Text comes from the Jinja2 templates in ``alerts/channels/templates/``, rendered in a sandbox
(templates may not reach Python internals) with HTML autoescaped in ``*.html.j2`` and Slack's
control characters (``& < >``) escaped in ``slack_*`` templates, so an alert's summary or labels
are always shown as text: never markup, never a Slack mention, never template code.

Every alert is shown with its status (FIRING, REPEAT, ESCALATED, RESOLVED), severity, summary,
site and other labels, value with its unit, threshold, the data's time, when it started (and was
resolved), what to do and who acknowledged it. A digest lists open alerts first (critical first,
escalated before firing before repeat, oldest first), then resolved ones in the same order.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import PackageLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from alerts.types import AlertMessage, Digest, severity_rank

STATUS_TEXT = {
    "firing": "FIRING",
    "repeat": "REPEAT",
    "escalated": "ESCALATED",
    "resolved": "RESOLVED",
}
_STATUS_ORDER = {"escalated": 0, "firing": 1, "repeat": 2, "resolved": 3}
SUBJECT_PREFIX = "[siteledger]"
SUBJECT_SITES = 3  # sites named in a subject; more are counted
MAX_FACTS = 8  # facts of the source row shown per alert

# Slack's limits (api.slack.com/reference/block-kit): 50 blocks a message, 3 000 characters a
# section, 150 a header; the fallback text is kept to a screenful
SLACK_MAX_BLOCKS = 50
SLACK_SECTION_CHARS = 3000
SLACK_HEADER_CHARS = 150
SLACK_TEXT_CHARS = 3000
SLACK_TEXT_ALERTS = 10
ELLIPSIS = "…"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _slack_escape(value: Any) -> str:
    """Slack mrkdwn's three control characters, so ``<!channel>`` or ``<http://x|y>`` in data
    stays text."""
    if value is None:
        return ""
    text = str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def one_line(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())


def _environment(**options: Any) -> SandboxedEnvironment:
    environment = SandboxedEnvironment(
        loader=PackageLoader("alerts.channels", "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        **options,
    )
    environment.filters["one_line"] = one_line
    return environment


# e-mail and SMS: HTML escaped in *.html.j2, plain text as is
_TEXT = _environment(autoescape=select_autoescape(enabled_extensions=("html.j2",)))
# Slack mrkdwn: every {{ value }} escaped
_SLACK = _environment(autoescape=False, finalize=_slack_escape)


def template_environment(kind: str = "text") -> SandboxedEnvironment:
    """The sandboxed environment the ``text`` (e-mail, SMS) or ``slack`` templates render in."""
    return _SLACK if kind == "slack" else _TEXT


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def format_time(moment: dt.datetime | None) -> str | None:
    return None if moment is None else f"{_utc(moment):%Y-%m-%d %H:%M} UTC"


def iso_time(moment: dt.datetime | None) -> str | None:
    return None if moment is None else _utc(moment).isoformat()


def format_number(value: float) -> str:
    """Thousands separated, at most 3 decimals, no trailing zeros; 4 significant digits below 1."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    if abs(value) < 1:
        return f"{value:.4g}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def format_value(value: float | None, unit: str | None) -> str | None:
    if value is None:
        return None
    return f"{format_number(value)} {unit}" if unit else format_number(value)


@dataclass(frozen=True)
class AlertView:
    """One alert as the templates show it: every field already text."""

    status: str
    severity: str
    summary: str
    rule_id: str
    category: str
    site: str | None
    labels: list[tuple[str, str]]
    value: str | None
    threshold: str | None
    observed_at: str
    started_at: str
    resolved_at: str | None
    description: str | None
    action: str | None
    acknowledged_by: str | None
    facts: list[tuple[str, str]]

    @property
    def labels_text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.labels)


def ordered(messages: Iterable[AlertMessage]) -> list[AlertMessage]:
    """Open alerts first, then resolved; within each critical first, escalated before firing
    before repeat, oldest first."""
    return sorted(
        messages,
        key=lambda m: (
            m.status == "resolved",
            -severity_rank(m.severity),
            _STATUS_ORDER[m.status],
            _utc(m.started_at),
            m.rule_id,
            m.fingerprint,
        ),
    )


def view(message: AlertMessage) -> AlertView:
    labels = {str(k): str(v) for k, v in message.labels.items()}
    site = labels.pop("site", None) or labels.pop("site_id", None)
    return AlertView(
        status=STATUS_TEXT[message.status],
        severity=message.severity,
        summary=message.summary,
        rule_id=message.rule_id,
        category=message.category,
        site=site,
        labels=sorted(labels.items()),
        value=format_value(message.value, message.unit),
        threshold=message.threshold,
        observed_at=message.observed_at,
        started_at=format_time(message.started_at) or "",
        resolved_at=format_time(message.resolved_at),
        description=message.description,
        action=message.action,
        acknowledged_by=message.acknowledged_by,
        facts=facts(message.details),
    )


def facts(details: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What the source row said beside the metric (capacity, volume, readings expected...), as
    ``(name, text)``: names in words, numbers with thousands separators, at most ``MAX_FACTS``."""
    out = []
    for name, value in details.items():
        if value is None or name == "error" or isinstance(value, (dict, list)):
            continue
        if isinstance(value, bool):
            text = "yes" if value else "no"
        elif isinstance(value, (int, float)):
            text = f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.0f}"
        else:
            text = str(value)[:120]
        out.append((_fact_name(name), text))
    return out[:MAX_FACTS]


def _fact_name(name: str) -> str:
    """``capacity_m3`` -> ``capacity (m³)``, ``fill_pct`` -> ``fill (%)``, ``n_expected`` ->
    ``expected (count)``."""
    unit = ""
    for suffix, text in (("_m3", " (m³)"), ("_pct", " (%)"), ("_t", " (t)")):
        if name.endswith(suffix):
            name, unit = name[: -len(suffix)], text
            break
    if name.startswith("n_"):
        name, unit = name[2:], unit or " (count)"
    return name.replace("_", " ") + unit


def counts(messages: Sequence[AlertMessage]) -> list[str]:
    """``["3 firing", "1 escalated", "1 resolved"]``: repeats count as firing."""
    by_status: Counter[str] = Counter(
        "firing" if m.status == "repeat" else m.status for m in messages
    )
    return [f"{by_status[s]} {s}" for s in ("firing", "escalated", "resolved") if by_status[s]]


def sites(messages: Sequence[AlertMessage]) -> list[str]:
    """The sites of the digest in order of first mention, the fourth and later counted."""
    seen = list(
        dict.fromkeys(
            str(m.labels.get("site") or m.labels.get("site_id"))
            for m in messages
            if m.labels.get("site") or m.labels.get("site_id")
        )
    )
    if len(seen) > SUBJECT_SITES:
        return [*seen[:SUBJECT_SITES], f"+{len(seen) - SUBJECT_SITES} more"]
    return seen


def _context(digest: Digest) -> dict[str, Any]:
    messages = ordered(digest.messages)
    return {
        "digest": digest,
        "alerts": [view(m) for m in messages],
        "counts": counts(messages),
        "sites": sites(messages),
        "prefix": SUBJECT_PREFIX,
    }


def subject(digest: Digest) -> str:
    """``[siteledger] 3 firing, 1 resolved — demo_mine``"""
    text = _TEXT.get_template("subject.txt.j2").render(_context(digest))
    return one_line(text)


def email_parts(digest: Digest) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of the digest's e-mail."""
    context = _context(digest)
    context["subject"] = subject(digest)
    text = _TEXT.get_template("email.txt.j2").render(context)
    html = _TEXT.get_template("email.html.j2").render(context)
    return context["subject"], text, html


def _cut(text: str, limit: int) -> str:
    text = text.rstrip()
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def slack_payload(digest: Digest) -> dict[str, Any]:
    """Slack's incoming-webhook JSON: ``text`` (the notification and the fallback: the subject
    and the first alerts) and ``blocks`` (a header, a section per alert, and "… and N more" when
    the digest holds more alerts than Slack takes blocks)."""
    context = _context(digest)
    head = subject(digest)
    alerts: list[AlertView] = context["alerts"]
    text = _SLACK.get_template("slack_text.mrkdwn.j2").render(
        context,
        subject=head,
        alerts=alerts[:SLACK_TEXT_ALERTS],
        more=max(len(alerts) - SLACK_TEXT_ALERTS, 0),
    )
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _cut(head, SLACK_HEADER_CHARS)},
        }
    ]
    room = SLACK_MAX_BLOCKS - 1
    shown = alerts if len(alerts) <= room else alerts[: room - 1]
    section = _SLACK.get_template("slack_alert.mrkdwn.j2")
    for alert in shown:
        body = _cut(section.render(alert=alert), SLACK_SECTION_CHARS)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body}})
    if len(shown) < len(alerts):
        more = f"{ELLIPSIS} and {len(alerts) - len(shown)} more"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    return {"text": _cut(text, SLACK_TEXT_CHARS), "blocks": blocks}


def sms_body(digest: Digest, max_length: int) -> str:
    """The SMS text: the subject, then one line per alert (open and critical first), cut at
    ``max_length`` characters with "…"."""
    context = _context(digest)
    text = _TEXT.get_template("sms.txt.j2").render(context, subject=subject(digest))
    return _cut(text, max_length)


def webhook_payload(digest: Digest) -> dict[str, Any]:
    """The signed webhook's body: ``{"type": "alert.digest", "timestamp", "data": {digest_id,
    channel, alerts: [...]}}``, alerts in digest order (open first)."""
    alerts = [
        {
            "event_id": m.event_id,
            "fingerprint": m.fingerprint,
            "rule_id": m.rule_id,
            "status": m.status,
            "severity": m.severity,
            "category": m.category,
            "summary": m.summary,
            "labels": {str(k): str(v) for k, v in m.labels.items()},
            "value": m.value if m.value is not None and math.isfinite(m.value) else None,
            "threshold": m.threshold,
            "unit": m.unit,
            "observed_at": m.observed_at,
            "started_at": iso_time(m.started_at),
            "resolved_at": iso_time(m.resolved_at),
            "action": m.action,
            "acknowledged_by": m.acknowledged_by,
            "details": {
                str(k): v
                for k, v in m.details.items()
                if v is None
                or isinstance(v, (str, int, bool))
                or (isinstance(v, float) and math.isfinite(v))
            },
        }
        for m in ordered(digest.messages)
    ]
    return {
        "type": "alert.digest",
        "timestamp": iso_time(digest.created_at),
        "data": {"digest_id": digest.digest_id, "channel": digest.channel, "alerts": alerts},
    }
