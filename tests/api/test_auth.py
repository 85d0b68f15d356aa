"""Keys: missing or unknown (401), revoked or out of scope (403, or 404 where an id would leak),
rate limited (429 with Retry-After); hostile strings in every parameter; the audit log."""

from __future__ import annotations

import duckdb
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import KeyStore
from api.ratelimit import RateLimiter
from siteledger.settings import Settings
from siteledger.state import StateStore
from tests.api.conftest import HAND, OTHER, Keys, bearer

SITE_ENDPOINTS = (
    "/v1/sites/{site}",
    "/v1/sites/{site}/facilities",
    "/v1/sites/{site}/balances/daily",
    "/v1/sites/{site}/balances/monthly",
    "/v1/sites/{site}/facilities/dam/balances/daily",
    "/v1/sites/{site}/facilities/dam/balances/monthly",
    "/v1/sites/{site}/quality-scores",
)


@pytest.mark.parametrize("path", [*SITE_ENDPOINTS, "/v1/sites", "/v1/reports", "/v1/alerts"])
def test_no_key_or_an_unknown_key_is_a_401(client: TestClient, path: str) -> None:
    url = path.format(site=HAND)
    bare = client.get(url)
    assert bare.status_code == 401
    assert bare.headers["www-authenticate"] == "Bearer"
    assert "API key is required" in bare.json()["detail"]
    for headers in (
        bearer("slk_" + "A" * 43),
        bearer("not-a-key"),
        {"X-API-Key": "slk_guess"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ):
        assert client.get(url, headers=headers).status_code == 401, headers


def test_the_x_api_key_header_works_like_bearer(client: TestClient, keys: Keys) -> None:
    got = client.get("/v1/sites", headers={"X-API-Key": keys.hand})
    assert got.status_code == 200 and [s["site_id"] for s in got.json()["items"]] == [HAND]


@pytest.mark.parametrize("path", SITE_ENDPOINTS)
def test_a_revoked_key_is_a_403(client: TestClient, keys: Keys, path: str) -> None:
    got = client.get(path.format(site=HAND), headers=bearer(keys.revoked))
    assert got.status_code == 403
    assert got.json()["detail"] == f"API key {keys.revoked_id} was revoked"


@pytest.mark.parametrize("path", SITE_ENDPOINTS)
def test_a_key_for_one_site_gets_403_on_another_site(
    client: TestClient, keys: Keys, path: str
) -> None:
    got = client.get(path.format(site=OTHER), headers=bearer(keys.hand))
    assert got.status_code == 403
    assert "does not cover" in got.json()["detail"]
    # and the same for a site that does not exist at all: the answer tells nothing apart
    assert (
        client.get(path.format(site="no_such_site"), headers=bearer(keys.hand)).status_code == 403
    )
    # the owner of the other site reads it
    assert client.get(path.format(site=OTHER), headers=bearer(keys.other)).status_code == 200


def test_a_facility_key_reads_its_facility_only(client: TestClient, keys: Keys) -> None:
    own = f"/v1/sites/{OTHER}/facilities/dam/balances/daily"
    assert client.get(own, headers=bearer(keys.dam_only)).status_code == 200
    plant = f"/v1/sites/{OTHER}/facilities/plant/balances/daily"
    assert client.get(plant, headers=bearer(keys.dam_only)).status_code == 403
    whole = f"/v1/sites/{OTHER}/balances/daily"
    assert client.get(whole, headers=bearer(keys.dam_only)).status_code == 403
    assert (
        client.get(f"/v1/sites/{HAND}/facilities", headers=bearer(keys.dam_only)).status_code == 403
    )


def test_the_rate_limit_answers_429_with_retry_after_and_refills(
    settings: Settings, keys: Keys
) -> None:
    now = [1000.0]
    app = create_app(settings, limiter=RateLimiter(clock=lambda: now[0]))
    store = StateStore(settings.state_store_url)
    _, token = KeyStore(store).create("slow", [HAND], rate_per_minute=3)
    with TestClient(app) as client:
        codes = [client.get("/v1/sites", headers=bearer(token)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = client.get("/v1/sites", headers=bearer(token))
        assert refused.status_code == 429
        # 3 a minute: one token every 20 s
        assert refused.headers["retry-after"] == "20"
        assert "3 requests a minute" in refused.json()["detail"]
        # another key is not held back by this one
        assert client.get("/v1/sites", headers=bearer(keys.hand)).status_code == 200
        now[0] += 20.0
        assert client.get("/v1/sites", headers=bearer(token)).status_code == 200
        assert client.get("/v1/sites", headers=bearer(token)).status_code == 429
    store.dispose()


HOSTILE = (
    "' OR '1'='1",
    "hand_site' OR '1'='1' --",
    "hand_site; drop table dim_sites; --",
    'hand_site" union select * from dim_sites --',
    "../../state.db",
    "..%2F..%2Fstate.db",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/etc/passwd",
    "hand_site\x00",
    "hand_site/../other_site",
    "*",
    "%",
    "_",
)


@pytest.mark.parametrize("value", HOSTILE)
def test_injection_and_traversal_in_every_string_parameter_are_refused(
    client: TestClient, keys: Keys, settings: Settings, value: str
) -> None:
    from urllib.parse import quote

    raw = quote(value, safe="")
    urls = [
        *(p.format(site=raw) for p in SITE_ENDPOINTS),
        f"/v1/sites/{HAND}/facilities/{raw}/balances/daily",
        f"/v1/sites/{HAND}/facilities/{raw}/balances/monthly",
        f"/v1/reports/{raw}",
        f"/v1/reports/{raw}/artifacts/pdf",
        f"/v1/reports/x.hand_site.2025-07.v1-abc/artifacts/{raw}",
    ]
    for url in urls:
        got = client.get(url, headers=bearer(keys.hand))
        # a harmless id ('_') may name no facility: an empty page, never a wildcard's rows
        empty = got.status_code == 200 and got.json()["items"] == []
        assert got.status_code in (403, 404, 422) or empty, (url, got.status_code, got.text)
    queries = [
        ("/v1/sites/hand_site/balances/daily", {"start": value}),
        ("/v1/sites/hand_site/balances/daily", {"end": value}),
        ("/v1/sites/hand_site/quality-scores", {"scope": value}),
        ("/v1/reports", {"site_id": value}),
        ("/v1/reports", {"status": value}),
        ("/v1/alerts", {"site_id": value}),
        ("/v1/alerts", {"state": value}),
        ("/v1/sites", {"limit": value}),
    ]
    for url, params in queries:
        got = client.get(url, params=params, headers=bearer(keys.hand))
        empty = got.status_code == 200 and got.json()["items"] == []
        assert got.status_code in (403, 422) or empty, (url, params, got.status_code, got.text)
    upload = client.post(
        f"/v1/sites/{HAND}/readings",
        params={"layout": value},
        content=b"x",
        headers=bearer(keys.hand),
    )
    assert upload.status_code in (400, 422)
    # nothing was dropped, nothing outside the home was read
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        assert con.execute("select count(*) from dim_sites").fetchone() == (2,)
    assert not list(settings.landing.iterdir())


def test_a_hand_key_sees_only_its_site_even_with_wildcards_in_queries(
    client: TestClient, keys: Keys
) -> None:
    for params in ({"site_id": "%"}, {"site_id": "*"}):
        assert client.get("/v1/alerts", params=params, headers=bearer(keys.hand)).status_code in (
            403,
            422,
        )


def test_every_request_is_audited_with_key_status_and_client(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    client.get(f"/v1/sites/{HAND}/balances/daily?start=2025-07-02", headers=bearer(keys.hand))
    client.get(f"/v1/sites/{OTHER}/balances/daily", headers=bearer(keys.hand))
    client.get("/v1/sites")
    client.get("/v1/sites", headers=bearer(keys.revoked))
    client.app.state.context.audit.flush()  # type: ignore[attr-defined]
    store = StateStore(settings.state_store_url)
    entries = list(reversed(KeyStore(store).audit(limit=10)))
    store.dispose()
    got = [(e.key_id, e.method, e.path, e.query, e.status) for e in entries]
    assert got == [
        (keys.hand_id, "GET", f"/v1/sites/{HAND}/balances/daily", "start=2025-07-02", 200),
        (keys.hand_id, "GET", f"/v1/sites/{OTHER}/balances/daily", "", 403),
        (None, "GET", "/v1/sites", "", 401),
        (keys.revoked_id, "GET", "/v1/sites", "", 403),
    ]
    assert all(e.duration_ms >= 0 and e.client_ip == "testclient" for e in entries)
    only = KeyStore(StateStore(settings.state_store_url)).audit(key_id=keys.revoked_id)
    assert [e.status for e in only] == [403]


def test_tokens_are_stored_only_as_hashes(settings: Settings, keys: Keys) -> None:
    import hashlib

    from sqlalchemy import text

    store = StateStore(settings.state_store_url)
    with store.engine.connect() as con:
        rows = [tuple(map(str, r)) for r in con.execute(text("select * from api_keys"))]
    store.dispose()
    assert len(rows) == 5
    assert not any(keys.hand in cell for row in rows for cell in row)
    assert any(hashlib.sha256(keys.hand.encode()).hexdigest() in row for row in rows)
