"""Alert digests sent to real local receivers (aiosmtpd, http.server): what arrives, byte for
byte where it matters; retries, waits and permanent failures as each attempt records them; no
secret in any attempt or log line; data shown as text, never as markup or template code."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import time
from dataclasses import replace
from typing import Any

import pytest
from jinja2.exceptions import SecurityError

from alerts.channels import (
    EmailChannel,
    SlackChannel,
    SmsChannel,
    SmtpTarget,
    WebhookChannel,
    send_digest,
    slack_payload,
    sms_body,
)
from alerts.channels.render import template_environment
from alerts.channels.verify import WebhookRefused, verify_webhook
from alerts.types import AlertMessage, Attempt
from tests.alerts.samples import T0, digest, freeboard, water_use
from tests.alerts.servers import HttpReceiver, Reply, SmtpReceiver, free_port

pytestmark = pytest.mark.integration

SENT_AT = dt.datetime(2025, 7, 14, 6, 5, 30, tzinfo=dt.UTC)
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"siteledger-test-signing-key-0001").decode()


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def at_sent() -> dt.datetime:
    return SENT_AT


# --- e-mail ------------------------------------------------------------------------------------

EMAIL_TEXT = """\
[siteledger] 1 escalated, 1 resolved — demo_mine

ESCALATED · CRITICAL · Freeboard of TSF1 below the licence minimum
  Site: demo_mine
  Labels: store=tsf1
  Value: 0.42 m
  Threshold: < 0.5 m
  Capacity (m³): 1,250,000
  Closing storage (m³): 1,190,000
  Data time: 2025-07-14
  Started: 2025-07-14 06:00 UTC
  Action: Stop deposition to TSF1 and call the geotechnical engineer.
  Acknowledged by: j.smith
  Rule: tsf_freeboard (compliance)

RESOLVED · WARNING · Raw water use above plan
  Site: demo_mine
  Value: 1,234.5 kL
  Threshold: > 1 000 kL
  Data time: 2025-07-13
  Started: 2025-07-13 06:00 UTC
  Resolved: 2025-07-14 06:00 UTC
  Rule: raw_water_use (operational)

--
Digest dg-0001 to channel ops.
"""


def test_email_digest_arrives_with_its_subject_both_parts_and_every_recipient():
    with SmtpReceiver() as smtp:
        channel = EmailChannel(
            "ops",
            ["officer@mine.example", "shift@mine.example"],
            smtp.target(sender="alerts@mine.example"),
        )
        attempts = send_digest(channel, digest(), now=at_sent)
    assert attempts == [
        Attempt(
            digest_id="dg-0001",
            channel="ops",
            kind="email",
            target=f"officer@mine.example, shift@mine.example via 127.0.0.1:{smtp.port}",
            attempt=1,
            ok=True,
            at=SENT_AT,
            event_ids=("ev-water", "ev-freeboard"),
        )
    ]
    (mail,) = smtp.messages
    assert mail.mail_from == "alerts@mine.example"
    assert mail.rcpt_tos == ["officer@mine.example", "shift@mine.example"]
    message = mail.message
    assert message["Subject"] == "[siteledger] 1 escalated, 1 resolved — demo_mine"
    assert message["From"] == "alerts@mine.example"
    assert message["To"] == "officer@mine.example, shift@mine.example"
    assert message["Date"] == "Mon, 14 Jul 2025 06:05:30 +0000"
    assert message["Message-ID"] == "<alerts.dg-0001@mine.example>"
    assert message.get_content_type() == "multipart/alternative"
    assert mail.part("plain") == EMAIL_TEXT
    html = mail.part("html")
    for shown in (
        "<strong>ESCALATED</strong> · <strong>CRITICAL</strong> · Freeboard of TSF1 below",
        '<th align="left">Site</th><td>demo_mine</td>',
        '<th align="left">Labels</th><td>store=tsf1</td>',
        '<th align="left">Value</th><td>0.42 m</td>',
        '<th align="left">Threshold</th><td>&lt; 0.5 m</td>',
        '<th align="left">Data time</th><td>2025-07-14</td>',
        '<th align="left">Started</th><td>2025-07-14 06:00 UTC</td>',
        '<th align="left">Action</th><td>Stop deposition to TSF1 and call the geotechnical',
        '<th align="left">Acknowledged by</th><td>j.smith</td>',
        "<strong>RESOLVED</strong> · <strong>WARNING</strong> · Raw water use above plan",
        '<th align="left">Value</th><td>1,234.5 kL</td>',
        '<th align="left">Resolved</th><td>2025-07-14 06:00 UTC</td>',
    ):
        assert shown in html, shown
    # firing before resolved in both parts
    assert html.index("ESCALATED") < html.index("RESOLVED")


def test_email_html_escapes_a_hostile_summary_the_text_part_shows_it_as_written():
    hostile = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
    with SmtpReceiver() as smtp:
        channel = EmailChannel("ops", ["officer@mine.example"], smtp.target())
        (attempt,) = send_digest(channel, digest(freeboard(summary=hostile)), now=at_sent)
    assert attempt.ok
    (mail,) = smtp.messages
    html = mail.part("html")
    assert "<script>" not in html and "<img" not in html
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; "
        "&lt;img src=x onerror=alert(1)&gt;" in html
    )
    assert f"ESCALATED · CRITICAL · {hostile}\n" in mail.part("plain")


def test_email_temporary_refusal_is_retried_a_permanent_one_is_not():
    with SmtpReceiver("451 4.3.0 Mailbox busy, try again later") as smtp:
        channel = EmailChannel("ops", ["officer@mine.example"], smtp.target())
        sleeps = Sleeps()
        attempts = send_digest(channel, digest(), sleep=sleeps, now=at_sent, rand=lambda: 0.0)
    assert [(a.attempt, a.ok, a.status_code) for a in attempts] == [
        (1, False, 451),
        (2, True, None),
    ]
    assert attempts[0].error == (
        "DeliveryError: SMTPDataError: SMTP 451 4.3.0 Mailbox busy, try again later"
    )
    assert sleeps == [0.5]
    assert len(smtp.messages) == 1

    with SmtpReceiver("550 5.1.1 Mailbox unavailable") as smtp:
        channel = EmailChannel("ops", ["nobody@mine.example"], smtp.target())
        sleeps = Sleeps()
        attempts = send_digest(channel, digest(), sleep=sleeps, now=at_sent)
    assert [(a.attempt, a.ok, a.status_code) for a in attempts] == [(1, False, 550)]
    assert sleeps == [] and smtp.messages == []


def test_email_to_a_relay_that_is_down_is_tried_with_backoff_then_given_up():
    port = free_port()  # nothing listens
    channel = EmailChannel(
        "ops", ["officer@mine.example"], SmtpTarget(host="127.0.0.1", port=port, timeout=1.0)
    )
    sleeps = Sleeps()
    attempts = send_digest(
        channel, digest(), attempts=4, backoff_s=0.5, sleep=sleeps, now=at_sent, rand=lambda: 0.0
    )
    assert [a.ok for a in attempts] == [False] * 4
    assert all(a.error.startswith("ConnectionRefusedError") for a in attempts)
    assert sleeps == [0.5, 1.0, 2.0]


def test_an_email_channel_that_would_log_in_without_tls_is_refused_when_built():
    relay = SmtpTarget(host="127.0.0.1", user="alerts", password="pw-1234")
    with pytest.raises(ValueError, match="SMTP login needs STARTTLS or SSL"):
        EmailChannel("ops", ["a@b.example"], relay)
    EmailChannel("ops", ["a@b.example"], replace(relay, starttls=True))


# --- Slack -------------------------------------------------------------------------------------

SLACK_BODY = {
    "text": (
        "[siteledger] 1 escalated, 1 resolved — demo_mine\n"
        "ESCALATED CRITICAL: Freeboard of TSF1 below the licence minimum (demo_mine) 0.42 m\n"
        "RESOLVED WARNING: Raw water use above plan (demo_mine) 1,234.5 kL"
    ),
    "blocks": [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": "[siteledger] 1 escalated, 1 resolved — demo_mine",
            },
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    "*ESCALATED* · *CRITICAL* · Freeboard of TSF1 below the licence minimum\n"
                    "Site: demo_mine · store=tsf1\n"
                    "Value: *0.42 m* · threshold &lt; 0.5 m · data time 2025-07-14\n"
                    "capacity (m³) 1,250,000 · closing storage (m³) 1,190,000\n"
                    "Started 2025-07-14 06:00 UTC\n"
                    "Action: Stop deposition to TSF1 and call the geotechnical engineer.\n"
                    "Acknowledged by j.smith\n"
                    "Rule tsf_freeboard (compliance)"
                ),
            },
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    "*RESOLVED* · *WARNING* · Raw water use above plan\n"
                    "Site: demo_mine\n"
                    "Value: *1,234.5 kL* · threshold &gt; 1 000 kL · data time 2025-07-13\n"
                    "Started 2025-07-13 06:00 UTC · resolved 2025-07-14 06:00 UTC\n"
                    "Rule raw_water_use (operational)"
                ),
            },
        },
    ],
}


def test_slack_gets_the_exact_text_and_blocks():
    with HttpReceiver() as slack:
        channel = SlackChannel("ops", slack.url_for("/services/T0001/B0001/hook-token-1234"))
        (attempt,) = send_digest(channel, digest(), now=at_sent)
    assert attempt.ok and attempt.status_code == 200
    assert attempt.target == f"http://127.0.0.1:{slack.port}/***"
    (request,) = slack.requests
    assert request.method == "POST"
    assert request.path == "/services/T0001/B0001/hook-token-1234"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.json() == SLACK_BODY


def test_slack_429_waits_what_retry_after_says_then_sends_again():
    with HttpReceiver(Reply.retry_after(1), Reply(200)) as slack:
        channel = SlackChannel("ops", slack.url_for("/services/T0001/B0001/hook-token-1234"))
        sleeps = Sleeps()
        attempts = send_digest(channel, digest(), sleep=sleeps, now=at_sent)
    assert sleeps == [1.0]
    assert attempts == [
        Attempt(
            digest_id="dg-0001",
            channel="ops",
            kind="slack",
            target=f"http://127.0.0.1:{slack.port}/***",
            attempt=1,
            ok=False,
            at=SENT_AT,
            status_code=429,
            error="DeliveryError: HTTP 429 Too Many Requests: rate_limited",
            retry_after_s=1.0,
            event_ids=("ev-water", "ev-freeboard"),
        ),
        replace(attempts[0], attempt=2, ok=True, status_code=200, error=None, retry_after_s=None),
    ]
    first, second = slack.requests
    assert first.body == second.body


def test_slack_asking_for_a_longer_wait_than_allowed_is_left_for_later():
    with HttpReceiver(Reply.retry_after(120)) as slack:
        channel = SlackChannel("ops", slack.url_for("/services/T/B/hook-token-1234"))
        sleeps = Sleeps()
        attempts = send_digest(channel, digest(), sleep=sleeps, max_backoff_s=30, now=at_sent)
    assert [(a.ok, a.status_code, a.retry_after_s) for a in attempts] == [(False, 429, 120.0)]
    assert sleeps == []


def test_slack_client_errors_stop_at_once_server_errors_back_off_with_jitter():
    with HttpReceiver(Reply(404, "no_service")) as slack:
        channel = SlackChannel("ops", slack.url_for("/services/T/B/hook-token-1234"))
        sleeps = Sleeps()
        attempts = send_digest(channel, digest(), sleep=sleeps, now=at_sent)
    assert [(a.ok, a.status_code, a.error) for a in attempts] == [
        (False, 404, "DeliveryError: HTTP 404 Not Found: no_service")
    ]
    assert sleeps == []

    with HttpReceiver(500, 502, 503, 500) as slack:
        channel = SlackChannel("ops", slack.url_for("/services/T/B/hook-token-1234"))
        sleeps = Sleeps()
        draws = iter([0.0, 1.0, 0.5])
        attempts = send_digest(
            channel,
            digest(),
            attempts=4,
            backoff_s=0.5,
            max_backoff_s=1.5,
            jitter=0.5,
            sleep=sleeps,
            now=at_sent,
            rand=lambda: next(draws),
        )
    assert [a.status_code for a in attempts] == [500, 502, 503, 500]
    # 0.5 (no cut), 1.0 cut by half, 2.0 capped at 1.5 then cut by a quarter
    assert sleeps == [0.5, 0.5, 1.125]


def alerts_of_every_kind(count: int) -> tuple[AlertMessage, ...]:
    statuses = ("firing", "repeat", "escalated", "resolved")
    severities = ("info", "warning", "critical")
    return tuple(
        freeboard(
            event_id=f"ev-{i:03d}",
            fingerprint=f"fp-{i:03d}",
            rule_id=f"rule_{i:03d}",
            status=statuses[i % 4],
            severity=severities[i % 3],
            summary=f"Alert number {i} " + "with a long explanation " * 20,
            labels={"site": "demo_mine", "meter": f"FM-{i:03d}"},
            resolved_at=T0 if statuses[i % 4] == "resolved" else None,
        )
        for i in range(count)
    )


def test_a_digest_of_120_alerts_stays_within_slacks_limits():
    longest = freeboard(summary="x" * 5000, started_at=T0 - dt.timedelta(days=1))
    many = digest(*alerts_of_every_kind(119), longest)
    with HttpReceiver() as slack:
        channel = SlackChannel("ops", slack.url_for("/services/T/B/hook-token-1234"))
        (attempt,) = send_digest(channel, many, now=at_sent)
    assert attempt.ok
    body = slack.requests[0].json()
    blocks = body["blocks"]
    assert len(blocks) == 50
    assert [b["type"] for b in blocks] == ["header"] + ["section"] * 48 + ["context"]
    assert blocks[-1]["elements"] == [{"type": "mrkdwn", "text": "… and 72 more"}]
    assert len(blocks[0]["text"]["text"]) <= 150
    sections = [b["text"]["text"] for b in blocks[1:-1]]
    assert max(len(s) for s in sections) == 3000  # the 5 000-character summary, cut
    assert sections[0].startswith("*ESCALATED* · *CRITICAL* · xxx") and sections[0].endswith("…")
    assert all(len(s) <= 3000 for s in sections)
    # open critical alerts lead; no resolved alert is shown while open ones are left out
    assert all("*RESOLVED*" not in s for s in sections)
    assert len(body["text"]) <= 3000 and body["text"].endswith("… and 110 more")
    assert body["text"].startswith("[siteledger] 60 firing, 31 escalated, 29 resolved — demo_mine")


def test_slack_mentions_and_links_in_data_stay_text():
    payload = slack_payload(digest(freeboard(summary="<!channel> see <http://evil.example|x>")))
    section = payload["blocks"][1]["text"]["text"]
    assert section.startswith(
        "*ESCALATED* · *CRITICAL* · &lt;!channel&gt; see &lt;http://evil.example|x&gt;\n"
    )
    assert "<!channel>" not in payload["text"]


# --- SMS ---------------------------------------------------------------------------------------

SMS_TEXT = (
    "[siteledger] 1 escalated, 1 resolved — demo_mine\n"
    "ESCALATED CRITICAL Freeboard of TSF1 below the licence minimum @demo_mine [store=tsf1]: "
    "0.42 m (threshold < 0.5 m), data 2025-07-14, since 2025-07-14 06:00 UTC. "
    "Action: Stop deposition to TSF1 and call the geotechnical engineer. Ack: j.smith\n"
    "RESOLVED WARNING Raw water use above plan @demo_mine: 1,234.5 kL (threshold > 1 000 kL), "
    "data 2025-07-13, since 2025-07-13 06:00 UTC, resolved 2025-07-14 06:00 UTC."
)


def sms_channel(url: str, **changes: Any) -> SmsChannel:
    channel = SmsChannel(
        name="ops",
        url=url,
        username="AC0123456789",
        password="sms-auth-token-9876",
        to=["+61400000001", "+61400000002"],
        sender="+61400999000",
    )
    return replace(channel, **changes)


def test_sms_posts_the_form_fields_with_basic_auth_to_every_recipient():
    with HttpReceiver() as gateway:
        channel = sms_channel(gateway.url_for("/2010-04-01/Accounts/AC0123456789/Messages.json"))
        (attempt,) = send_digest(channel, digest(), now=at_sent)
    assert attempt.ok and attempt.status_code == 200
    assert attempt.target == (
        f"+61400000001, +61400000002 via http://127.0.0.1:{gateway.port}"
        "/2010-04-01/Accounts/AC0123456789/Messages.json"
    )
    token = base64.b64encode(b"AC0123456789:sms-auth-token-9876").decode()
    assert [r.form() for r in gateway.requests] == [
        {"To": "+61400000001", "From": "+61400999000", "Body": SMS_TEXT},
        {"To": "+61400000002", "From": "+61400999000", "Body": SMS_TEXT},
    ]
    for request in gateway.requests:
        assert request.headers["authorization"] == f"Basic {token}"
        assert request.headers["content-type"] == (
            "application/x-www-form-urlencoded; charset=utf-8"
        )


def test_sms_as_json_with_the_gateways_field_names():
    with HttpReceiver() as gateway:
        channel = sms_channel(
            gateway.url_for("/send"),
            to=["+61400000001"],
            content_type="json",
            fields={"to": "recipient", "body": "message"},
        )
        (attempt,) = send_digest(channel, digest(), now=at_sent)
    assert attempt.ok
    (request,) = gateway.requests
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.json() == {
        "recipient": "+61400000001",
        "From": "+61400999000",
        "message": SMS_TEXT,
    }


def test_sms_is_cut_at_max_length_open_critical_alerts_first():
    info = freeboard(
        event_id="ev-info", severity="info", status="firing", summary="Rain gauge RG1 silent"
    )
    critical = freeboard()
    the_digest = digest(water_use(), info, critical)
    whole = sms_body(the_digest, 100_000)
    body = sms_body(the_digest, 160)
    assert len(whole) > 160
    assert len(body) <= 160
    assert body == whole[:159].rstrip() + "…"
    assert body.split("\n")[1].startswith("ESCALATED CRITICAL Freeboard of TSF1")
    lines = whole.split("\n")
    assert [line.split(" ", 2)[:2] for line in lines[1:]] == [
        ["ESCALATED", "CRITICAL"],
        ["FIRING", "INFO"],
        ["RESOLVED", "WARNING"],
    ]
    with HttpReceiver() as gateway:
        channel = sms_channel(gateway.url_for("/send"), to=["+61400000001"], max_length=160)
        send_digest(channel, the_digest, now=at_sent)
    assert gateway.requests[0].form()["Body"] == body


def test_an_sms_retry_goes_only_to_the_recipients_that_have_not_had_it():
    with HttpReceiver(200, 500, 200) as gateway:
        channel = sms_channel(gateway.url_for("/send"))
        sleeps = Sleeps()
        attempts = send_digest(channel, digest(), sleep=sleeps, now=at_sent, rand=lambda: 0.0)
    assert [(a.ok, a.status_code) for a in attempts] == [(False, 500), (True, 200)]
    assert attempts[0].error == ("DeliveryError: +61400000002: HTTP 500 Internal Server Error: ok")
    assert [r.form()["To"] for r in gateway.requests] == [
        "+61400000001",
        "+61400000002",
        "+61400000002",
    ]


# --- signed webhook ----------------------------------------------------------------------------


SignatureRefused = WebhookRefused


def verify_standard_webhook(
    secret: str, headers: dict[str, str], body: bytes, now: float, tolerance_s: int = 300
) -> None:
    """A receiver's check (:func:`alerts.channels.verify.verify_webhook`, what the data API's
    inbound webhooks use) on the headers a test server recorded."""
    verify_webhook(secret, {k.lower(): v for k, v in headers.items()}, body, now, tolerance_s)


WEBHOOK_BODY = {
    "type": "alert.digest",
    "timestamp": "2025-07-14T06:00:00+00:00",
    "data": {
        "digest_id": "dg-0001",
        "channel": "ops",
        "alerts": [
            {
                "event_id": "ev-freeboard",
                "fingerprint": "fp-freeboard",
                "rule_id": "tsf_freeboard",
                "status": "escalated",
                "severity": "critical",
                "category": "compliance",
                "summary": "Freeboard of TSF1 below the licence minimum",
                "labels": {"site": "demo_mine", "store": "tsf1"},
                "value": 0.42,
                "threshold": "< 0.5 m",
                "unit": "m",
                "observed_at": "2025-07-14",
                "started_at": "2025-07-14T06:00:00+00:00",
                "resolved_at": None,
                "action": "Stop deposition to TSF1 and call the geotechnical engineer.",
                "acknowledged_by": "j.smith",
                "details": {
                    "capacity_m3": 1250000.0,
                    "closing_storage_m3": 1190000.0,
                    "error": None,
                },
            },
            {
                "event_id": "ev-water",
                "fingerprint": "fp-water",
                "rule_id": "raw_water_use",
                "status": "resolved",
                "severity": "warning",
                "category": "operational",
                "summary": "Raw water use above plan",
                "labels": {"site": "demo_mine"},
                "value": 1234.5,
                "threshold": "> 1 000 kL",
                "unit": "kL",
                "observed_at": "2025-07-13",
                "started_at": "2025-07-13T06:00:00+00:00",
                "resolved_at": "2025-07-14T06:00:00+00:00",
                "action": None,
                "acknowledged_by": None,
                "details": {},
            },
        ],
    },
}


def test_webhook_body_and_signature_verify_as_the_standard_says():
    with HttpReceiver(204) as receiver:
        channel = WebhookChannel("ops", receiver.url_for("/hooks/siteledger"), WEBHOOK_SECRET)
        (attempt,) = send_digest(channel, digest())
    assert attempt.ok and attempt.status_code == 204
    assert attempt.target == f"http://127.0.0.1:{receiver.port}/hooks/siteledger"
    (request,) = receiver.requests
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == "dg-0001"
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
    assert request.headers["webhook-signature"].startswith("v1,")
    assert request.json() == WEBHOOK_BODY
    verify_standard_webhook(WEBHOOK_SECRET, request.headers, request.body, now=time.time())
    # the verifier is a real check: a changed body, an old timestamp or another key fail
    with pytest.raises(SignatureRefused, match="no valid signature"):
        verify_standard_webhook(
            WEBHOOK_SECRET, request.headers, request.body.replace(b"0.42", b"0.62"), time.time()
        )
    with pytest.raises(SignatureRefused, match="tolerance"):
        verify_standard_webhook(
            WEBHOOK_SECRET, request.headers, request.body, now=time.time() + 301
        )
    other = "whsec_" + base64.b64encode(b"another-signing-key-of-32-bytes!").decode()
    with pytest.raises(SignatureRefused):
        verify_standard_webhook(other, request.headers, request.body, now=time.time())


def test_a_bare_base64_secret_signs_the_same_as_its_whsec_form():
    bare = WEBHOOK_SECRET.removeprefix("whsec_")
    with HttpReceiver() as receiver:
        send_digest(WebhookChannel("ops", receiver.url_for("/h"), bare), digest())
    (request,) = receiver.requests
    verify_standard_webhook(WEBHOOK_SECRET, request.headers, request.body, now=time.time())


def test_webhook_retries_keep_the_id_and_are_signed_afresh():
    clock = iter(T0 + dt.timedelta(seconds=s) for s in range(0, 100, 5))

    def now() -> dt.datetime:
        return next(clock)

    with HttpReceiver(500, 500, 200) as receiver:
        channel = WebhookChannel("ops", receiver.url_for("/hooks/siteledger"), WEBHOOK_SECRET)
        sleeps = Sleeps()
        attempts = send_digest(channel, digest(), sleep=sleeps, now=now, rand=lambda: 0.0)
    assert [(a.attempt, a.ok, a.status_code) for a in attempts] == [
        (1, False, 500),
        (2, False, 500),
        (3, True, 200),
    ]
    assert sleeps == [0.5, 1.0]
    requests = receiver.requests
    assert [r.headers["webhook-id"] for r in requests] == ["dg-0001"] * 3
    assert len({r.body for r in requests}) == 1
    timestamps = [int(r.headers["webhook-timestamp"]) for r in requests]
    assert timestamps == sorted(set(timestamps))  # each try stamped when it was made
    for request, stamp in zip(requests, timestamps, strict=True):
        verify_standard_webhook(WEBHOOK_SECRET, request.headers, request.body, now=stamp)


def test_webhook_410_stops_after_one_attempt_other_client_errors_are_retried():
    with HttpReceiver(Reply(410, "endpoint disabled")) as receiver:
        channel = WebhookChannel("ops", receiver.url_for("/hooks/siteledger"), WEBHOOK_SECRET)
        sleeps = Sleeps()
        attempts = send_digest(channel, digest(), sleep=sleeps)
    assert [(a.ok, a.status_code) for a in attempts] == [(False, 410)]
    assert sleeps == [] and len(receiver.requests) == 1

    with HttpReceiver(400, 200) as receiver:
        channel = WebhookChannel("ops", receiver.url_for("/hooks/siteledger"), WEBHOOK_SECRET)
        attempts = send_digest(channel, digest(), sleep=Sleeps())
    assert [(a.ok, a.status_code) for a in attempts] == [(False, 400), (True, 200)]


def test_a_redirect_is_not_followed():
    with HttpReceiver(Reply(302, b"", {"Location": "http://127.0.0.1:9/elsewhere"})) as receiver:
        channel = SlackChannel("ops", receiver.url_for("/services/T/B/hook-token-1234"))
        attempts = send_digest(channel, digest(), sleep=Sleeps())
    assert [(a.ok, a.status_code) for a in attempts] == [(False, 302)]
    assert len(receiver.requests) == 1


# --- secrets -----------------------------------------------------------------------------------


def test_no_secret_reaches_an_attempt_or_the_log_even_from_an_echoing_endpoint(caplog):
    caplog.set_level(logging.DEBUG)
    slack_token = "slack-hook-token-Zq81xv"
    sms_token = "sms-auth-token-9876"
    api_key = "gateway-api-key-55aa"
    webhook_key_text = WEBHOOK_SECRET.removeprefix("whsec_")
    with HttpReceiver(default=Reply.echo(500)) as endpoint:
        channels = [
            SlackChannel("ops", endpoint.url_for(f"/services/T0001/B0001/{slack_token}")),
            sms_channel(endpoint.url_for(f"/send?api_key={api_key}"), to=["+61400000001"]),
            WebhookChannel(
                "ops", endpoint.url_for(f"/hooks/{webhook_key_text}?sig={api_key}"), WEBHOOK_SECRET
            ),
        ]
        attempts = [
            a
            for channel in channels
            for a in send_digest(channel, digest(), attempts=2, sleep=Sleeps())
        ]
    assert len(attempts) == 6 and not any(a.ok for a in attempts)
    # the endpoint did echo them: what was recorded had them taken out
    echoed = " ".join(r.path + str(r.headers) for r in endpoint.requests)
    assert slack_token in echoed and api_key in echoed and webhook_key_text in echoed
    assert all("***" in (a.error or "") for a in attempts)
    authorization = base64.b64encode(f"AC0123456789:{sms_token}".encode()).decode()
    recorded = " ".join(f"{a.target} {a.error}" for a in attempts) + caplog.text
    for secret in (slack_token, sms_token, authorization, api_key, webhook_key_text):
        assert secret not in recorded, secret
    assert "HTTP 500 Internal Server Error" in caplog.text
    assert [a.target for a in attempts[::2]] == [
        f"http://127.0.0.1:{endpoint.port}/***",
        f"+61400000001 via http://127.0.0.1:{endpoint.port}/send?***",
        f"http://127.0.0.1:{endpoint.port}/hooks/***?***",
    ]


def test_channel_reprs_hold_no_secret():
    sms = sms_channel("https://api.sms.example/send")
    slack = SlackChannel("ops", "https://hooks.slack.com/services/T0001/B0001/slack-hook-token")
    hook = WebhookChannel("ops", "https://hooks.example/x", WEBHOOK_SECRET)
    text = repr(sms) + repr(slack) + repr(hook)
    assert "sms-auth-token-9876" not in text
    assert "slack-hook-token" not in text
    assert WEBHOOK_SECRET.removeprefix("whsec_") not in text
    assert slack.masked_target() == "https://hooks.slack.com/***"


# --- templates ---------------------------------------------------------------------------------


def test_template_code_in_a_summary_is_shown_as_text_never_evaluated():
    code = "{{ ''.__class__.__mro__ }} {% for x in range(3) %}{{ x }}{% endfor %}"
    with SmtpReceiver() as smtp, HttpReceiver() as http:
        the_digest = digest(freeboard(summary=code))
        send_digest(EmailChannel("ops", ["a@mine.example"], smtp.target()), the_digest)
        send_digest(SlackChannel("ops", http.url_for("/services/T/B/hook-token-1")), the_digest)
        send_digest(sms_channel(http.url_for("/send"), to=["+61400000001"]), the_digest)
    (mail,) = smtp.messages
    assert f"· {code}\n" in mail.part("plain")
    assert "{{ &#39;&#39;.__class__.__mro__ }} {% for x in range(3) %}" in mail.part("html")
    slack, sms = http.requests
    assert f"· {code}\n" in slack.json()["blocks"][1]["text"]["text"]
    assert f"CRITICAL {code} @demo_mine" in sms.form()["Body"]


@pytest.mark.parametrize("kind", ["text", "slack"])
def test_the_template_environments_are_sandboxed(kind):
    environment = template_environment(kind)
    with pytest.raises(SecurityError):
        environment.from_string("{{ ''.__class__.__mro__[1].__subclasses__() }}").render()
    with pytest.raises(SecurityError):
        environment.from_string("{{ cycler.__init__.__globals__ }}").render()
