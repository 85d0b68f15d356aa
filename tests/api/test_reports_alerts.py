"""Reports (list, one, download) and alerts through the API: scoped to the key's sites,
artifacts served byte for byte and never from outside the reports folder."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient

from siteledger.settings import Settings
from tests.api.conftest import HAND, OTHER, Keys, bearer
from tests.api.samples import PDF, add_alert, add_reports


def test_reports_list_and_download_are_scoped_and_byte_identical(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    ids = add_reports(settings, (HAND, OTHER))
    listed = client.get("/v1/reports", headers=bearer(keys.hand)).json()["items"]
    assert {r["report_id"] for r in listed} == {ids[HAND], ids["escape"]}
    assert {r["site_id"] for r in listed} == {HAND}
    everything = client.get("/v1/reports", headers=bearer(keys.all)).json()["items"]
    assert len(everything) == 3

    one = client.get(f"/v1/reports/{ids[HAND]}", headers=bearer(keys.hand)).json()
    (pdf,) = one["artifacts"]
    assert pdf["download"] == f"/v1/reports/{ids[HAND]}/artifacts/pdf"
    got = client.get(pdf["download"], headers=bearer(keys.hand))
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/pdf"
    assert got.content == PDF + HAND.encode()
    assert hashlib.sha256(got.content).hexdigest() == pdf["sha256"]

    # another site's report is not there for this key (the same 404 as a missing id)
    assert client.get(f"/v1/reports/{ids[OTHER]}", headers=bearer(keys.hand)).status_code == 404
    download = f"/v1/reports/{ids[OTHER]}/artifacts/pdf"
    assert client.get(download, headers=bearer(keys.hand)).status_code == 404
    assert client.get(download, headers=bearer(keys.other)).status_code == 200
    assert (
        client.get("/v1/reports", params={"site_id": OTHER}, headers=bearer(keys.hand)).status_code
        == 403
    )
    assert (
        client.get(f"/v1/reports/{ids[HAND]}/artifacts/xlsx", headers=bearer(keys.hand)).status_code
        == 404
    )


def test_an_artifact_path_outside_the_reports_folder_is_never_served(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    ids = add_reports(settings, (HAND,))
    for fmt in ("pdf", "csv", "xml", "json"):
        got = client.get(f"/v1/reports/{ids['escape']}/artifacts/{fmt}", headers=bearer(keys.hand))
        assert got.status_code == 404, fmt
        assert b"SQLite" not in got.content and b"root:" not in got.content


def test_alerts_list_only_the_keys_sites(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    add_alert(settings, "20250705T060000-aaaaaaaaaaaa", HAND)
    add_alert(settings, "20250705T060000-bbbbbbbbbbbb", OTHER)
    add_alert(settings, "20250705T060000-cccccccccccc", HAND, state="resolved")
    mine = client.get("/v1/alerts", headers=bearer(keys.hand)).json()["items"]
    assert {a["event_id"] for a in mine} == {
        "20250705T060000-aaaaaaaaaaaa",
        "20250705T060000-cccccccccccc",
    }
    open_ = client.get("/v1/alerts", params={"state": "open"}, headers=bearer(keys.hand)).json()
    assert [a["event_id"] for a in open_["items"]] == ["20250705T060000-aaaaaaaaaaaa"]
    assert open_["items"][0]["value"] == 1.73
    assert (
        client.get("/v1/alerts", params={"site_id": OTHER}, headers=bearer(keys.hand)).status_code
        == 403
    )
    # a facility-only key covers no whole site: no site's alerts
    assert client.get("/v1/alerts", headers=bearer(keys.dam_only)).json()["items"] == []
    assert len(client.get("/v1/alerts", headers=bearer(keys.all)).json()["items"]) == 3
