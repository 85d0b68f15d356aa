"""The import endpoint: an uploaded readings file goes through the file importer under a name
the server chose; limits, scope and hostile input."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from siteledger.settings import Settings
from siteledger.state import StateStore
from tests.api.conftest import HAND, OTHER, UPLOAD_LIMIT, Keys, bearer

READINGS = (
    b"timestamp,meter,value\n"
    b"2025-07-05T00:00:00,FT-100,120.5\n"
    b"2025-07-05T00:15:00,FT-100,121.0\n"
    b"2025-07-05T00:30:00,NO-SUCH-METER,3.0\n"
)
NAME = re.compile(r"^api_key_[0-9a-f]{12}_hand_site_manual_long_[0-9T]{15}-[0-9a-f]{16}\.csv$")


def test_an_upload_is_imported_like_a_dropped_file(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    got = client.post(
        f"/v1/sites/{HAND}/readings",
        content=READINGS,
        headers={**bearer(keys.hand), "Content-Type": "text/csv"},
    )
    assert got.status_code == 201, got.text
    body = got.json()
    assert body["status"] == "committed"
    assert (body["total"], body["imported"], body["failed"]) == (3, 2, 1)
    assert body["layout_id"] == "manual_long"
    assert NAME.match(body["landing_name"]), body["landing_name"]
    # the importer's own bookkeeping: an import job, the file archived, landing empty again
    store = StateStore(settings.state_store_url)
    job = store.get_job(body["batch_id"])
    store.dispose()
    assert job is not None and job.status == "committed" and job.source_file == body["landing_name"]
    archived = [p for p in settings.archive.rglob("*") if body["landing_name"] in p.name]
    assert len(archived) == 1 and archived[0].read_bytes() == READINGS
    assert list(settings.landing.iterdir()) == []
    # the same bytes again: the importer knows them
    again = client.post(f"/v1/sites/{HAND}/readings", content=READINGS, headers=bearer(keys.hand))
    assert again.status_code == 200 and again.json()["status"] == "duplicate"


def test_a_file_the_importer_rejects_is_reported_quarantined(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    got = client.post(
        f"/v1/sites/{HAND}/readings", content=b"\x00\x01 not a csv \xff", headers=bearer(keys.hand)
    )
    assert got.status_code == 200
    body = got.json()
    assert body["status"] == "quarantined" and body["imported"] == 0 and body["error"]
    assert list(settings.landing.iterdir()) == []


def test_size_scope_layout_and_empty_bodies_are_refused(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    url = f"/v1/sites/{HAND}/readings"
    too_big = client.post(url, content=b"x" * (UPLOAD_LIMIT + 1), headers=bearer(keys.hand))
    assert too_big.status_code == 413
    # a chunked body without a length is cut off at the limit too
    chunks = (b"y" * 4096 for _ in range(UPLOAD_LIMIT // 4096 + 2))
    assert client.post(url, content=chunks, headers=bearer(keys.hand)).status_code == 413
    assert client.post(url, content=READINGS, headers=bearer(keys.other)).status_code == 403
    assert (
        client.post(
            f"/v1/sites/{OTHER}/readings", content=READINGS, headers=bearer(keys.dam_only)
        ).status_code
        == 403
    )
    unknown = client.post(
        url, params={"layout": "scada"}, content=READINGS, headers=bearer(keys.hand)
    )
    assert unknown.status_code == 400
    assert "no CSV/Excel readings layout 'scada'" in unknown.json()["detail"]
    assert client.post(url, content=b"", headers=bearer(keys.hand)).status_code == 400
    assert client.post(url, content=READINGS).status_code == 401
    assert list(settings.landing.iterdir()) == []


def test_a_client_file_name_never_reaches_the_file_system(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    got = client.post(
        f"/v1/sites/{HAND}/readings",
        content=READINGS,
        headers={
            **bearer(keys.hand),
            "Content-Disposition": 'attachment; filename="../../../sites/evil.yaml"',
            "X-Filename": "../../sites/evil.yaml",
        },
    )
    assert got.status_code == 201
    assert NAME.match(got.json()["landing_name"])
    assert not (settings.sites_dir / "evil.yaml").exists()
    assert not list(settings.home.rglob("evil*"))
