"""Inbound webhooks: Standard Webhooks signatures checked with the same function as our own
outbound ones, replays answered without effect, events turned into imports and acks."""

from __future__ import annotations

import base64
import json
import time

import pytest
from fastapi.testclient import TestClient

from alerts.channels import webhook_key, webhook_signature
from alerts.state import AlertStore
from siteledger.settings import Settings
from siteledger.state import StateStore
from tests.api.conftest import HAND, WEBHOOK_SECRET, Keys
from tests.api.samples import add_alert
from tests.api.test_import import READINGS

URL = "/v1/webhooks/events"
EVENT_ID = "20250705T060000-aaaaaaaaaaaa"


def signed(
    event: dict, message_id: str, secret: str = WEBHOOK_SECRET, at: int | None = None
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    timestamp = int(time.time()) if at is None else at
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook_signature(webhook_key(secret), message_id, timestamp, body),
    }
    return body, headers


def ack(note: str = "crew on the way") -> dict:
    return {
        "type": "alert.acknowledged",
        "timestamp": "2025-07-05T06:05:00Z",
        "data": {"event_id": EVENT_ID, "actor": "ops-desk", "note": note},
    }


def test_a_signed_ack_acknowledges_the_alert_once(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    add_alert(settings, EVENT_ID, HAND)
    body, headers = signed(ack(), "msg_1")
    got = client.post(URL, content=body, headers=headers)
    assert got.status_code == 200, got.text
    assert got.json() == {
        "message_id": "msg_1",
        "type": "alert.acknowledged",
        "status": "processed",
        "alert_event_id": EVENT_ID,
        "import_outcome": None,
    }
    store = StateStore(settings.state_store_url)
    alerts = AlertStore(store)
    event = alerts.get(EVENT_ID)
    assert (event.acked_by, event.ack_note) == ("webhook:ops-desk", "crew on the way")
    # the same message again (a retry, or a replay inside the window) changes nothing
    replay = client.post(URL, content=body, headers=headers)
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    acks = [h for h in alerts.history(event_id=EVENT_ID) if h.kind == "ack"]
    assert len(acks) == 1
    store.dispose()


def test_a_signed_readings_event_becomes_an_import(client: TestClient, settings: Settings) -> None:
    event = {
        "type": "readings.file",
        "data": {"site_id": HAND, "content_base64": base64.b64encode(READINGS).decode()},
    }
    body, headers = signed(event, "msg_readings")
    got = client.post(URL, content=body, headers=headers)
    assert got.status_code == 200, got.text
    outcome = got.json()["import_outcome"]
    assert outcome["status"] == "committed" and outcome["imported"] == 2
    assert outcome["landing_name"].startswith("api_webhook_hand_site_manual_long_")


@pytest.mark.parametrize(
    "tamper",
    ["body", "secret", "old", "future", "no-signature", "no-id", "v2-only", "id-too-long"],
)
def test_unsigned_tampered_or_stale_messages_are_refused(
    client: TestClient, settings: Settings, tamper: str
) -> None:
    add_alert(settings, EVENT_ID, HAND)
    other = "whsec_" + base64.b64encode(b"another-signing-key-of-32-bytes!").decode()
    now = int(time.time())
    body, headers = signed(
        ack(),
        "x" * 200 if tamper == "id-too-long" else "msg_t",
        secret=other if tamper == "secret" else WEBHOOK_SECRET,
        at={"old": now - 301, "future": now + 301}.get(tamper, now),
    )
    if tamper == "body":
        body = body.replace(b"crew", b"nobody")
    if tamper == "no-signature":
        del headers["webhook-signature"]
    if tamper == "no-id":
        del headers["webhook-id"]
    if tamper == "v2-only":
        headers["webhook-signature"] = headers["webhook-signature"].replace("v1,", "v2,")
    got = client.post(URL, content=body, headers=headers)
    assert got.status_code == 401, got.text
    assert got.json()["detail"].startswith("webhook refused: ")
    store = StateStore(settings.state_store_url)
    assert AlertStore(store).get(EVENT_ID).acked_by is None
    store.dispose()


def test_a_rotated_secret_signature_list_is_accepted(
    client: TestClient, settings: Settings
) -> None:
    add_alert(settings, EVENT_ID, HAND)
    body, headers = signed(ack(), "msg_rotated")
    headers["webhook-signature"] = "v1,bm90LXRoaXMtb25l " + headers["webhook-signature"]
    assert client.post(URL, content=body, headers=headers).status_code == 200


def test_bad_events_are_explained_and_can_be_sent_again(
    client: TestClient, settings: Settings
) -> None:
    body, headers = signed({"type": "shell.exec", "data": {}}, "msg_unknown")
    got = client.post(URL, content=body, headers=headers)
    assert got.status_code == 400 and "not a known event" in got.json()["detail"]
    # an ack of an event that does not exist: 404, and the id is not burnt
    body, headers = signed(ack(), "msg_early")
    assert client.post(URL, content=body, headers=headers).status_code == 404
    add_alert(settings, EVENT_ID, HAND)
    assert client.post(URL, content=body, headers=headers).json()["status"] == "processed"
    # a prefix of an id is not enough from outside
    prefix = {**ack(), "data": {**ack()["data"], "event_id": EVENT_ID[:18]}}
    body, headers = signed(prefix, "msg_prefix")
    assert client.post(URL, content=body, headers=headers).status_code == 404
    # a resolved event cannot be acknowledged
    add_alert(settings, "20250705T060000-dddddddddddd", HAND, state="resolved")
    closed = {**ack(), "data": {**ack()["data"], "event_id": "20250705T060000-dddddddddddd"}}
    body, headers = signed(closed, "msg_closed")
    assert client.post(URL, content=body, headers=headers).status_code == 409


def test_webhooks_are_off_without_a_secret(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.app import create_app

    monkeypatch.delenv("SITELEDGER_API_WEBHOOK_SECRET", raising=False)
    with TestClient(create_app(settings)) as client:
        body, headers = signed(ack(), "msg_off")
        got = client.post(URL, content=body, headers=headers)
    assert got.status_code == 404 and "SITELEDGER_API_WEBHOOK_SECRET" in got.json()["detail"]
