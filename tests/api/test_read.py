"""Reading endpoints: figures equal the published marts row by row, pages add up, dates are
checked, keys see their own sites only."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from siteledger.settings import Settings
from tests.api.conftest import HAND, OTHER, Keys, bearer, published_rows

DAILY = "/v1/sites/{site}/balances/daily"


def test_a_daily_balance_is_the_published_mart_row_for_row(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    got = client.get(DAILY.format(site=HAND), headers=bearer(keys.hand))
    assert got.status_code == 200
    body = got.json()
    expected = published_rows(
        settings, "select * from fct_site_balance_daily where site_id = ? order by day", [HAND]
    )
    assert len(body["items"]) == len(expected) == 4
    for item, row in zip(body["items"], expected, strict=True):
        assert item["day"] == row["day"].isoformat()
        for name in ("inputs_m3", "outputs_m3", "closure_error_m3", "storage_change_m3"):
            assert item[name] == row[name], name
        assert item["closure_status"] == row["closure_status"]
    # the hand-computed day: 6 920 m3 in, over the 1 % threshold
    day2 = next(i for i in body["items"] if i["day"] == "2025-07-02")
    assert day2["inputs_m3"] == 6920.0
    assert day2["closure_status"] == "exceeds_threshold"
    assert body["next_offset"] is None


def test_a_date_range_selects_its_days_inclusively(client: TestClient, keys: Keys) -> None:
    got = client.get(
        DAILY.format(site=HAND),
        params={"start": "2025-07-02", "end": "2025-07-03"},
        headers=bearer(keys.hand),
    )
    assert [i["day"] for i in got.json()["items"]] == ["2025-07-02", "2025-07-03"]


def test_pages_add_up_to_the_whole_list(client: TestClient, keys: Keys) -> None:
    whole = client.get(DAILY.format(site=HAND), headers=bearer(keys.hand)).json()["items"]
    pages, offset = [], 0
    while offset is not None:
        page = client.get(
            DAILY.format(site=HAND),
            params={"limit": 3, "offset": offset},
            headers=bearer(keys.hand),
        ).json()
        assert page["limit"] == 3 and page["offset"] == offset
        pages += page["items"]
        offset = page["next_offset"]
    assert pages == whole
    beyond = client.get(
        DAILY.format(site=HAND), params={"offset": 100}, headers=bearer(keys.hand)
    ).json()
    assert beyond["items"] == [] and beyond["next_offset"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 1001},
        {"offset": -1},
        {"offset": 10**12},
        {"limit": "ten"},
    ],
)
def test_page_sizes_are_bounded(client: TestClient, keys: Keys, params: dict) -> None:
    assert (
        client.get(DAILY.format(site=HAND), params=params, headers=bearer(keys.hand)).status_code
        == 422
    )


@pytest.mark.parametrize(
    "params",
    [
        {"start": "10000-01-01"},
        {"start": "99999999-12-31"},
        {"end": "-0001-01-01"},
        {"start": "2025-02-30"},
        {"start": "2025-13-01"},
        {"start": "0000-01-01"},
        {"end": "1e308"},
        {"start": "yesterday"},
        {"start": "0"},
        {"end": "1700000000"},
        {"start": "-1.7e-38"},
        {"start": "2025-07-01T00:00:00"},
    ],
)
def test_impossible_dates_are_refused_with_422(
    client: TestClient, keys: Keys, params: dict
) -> None:
    got = client.get(DAILY.format(site=HAND), params=params, headers=bearer(keys.hand))
    assert got.status_code == 422, got.text


def test_the_widest_valid_dates_answer_and_a_reversed_range_is_empty(
    client: TestClient, keys: Keys
) -> None:
    wide = client.get(
        DAILY.format(site=HAND),
        params={"start": dt.date.min.isoformat(), "end": dt.date.max.isoformat()},
        headers=bearer(keys.hand),
    )
    assert wide.status_code == 200 and len(wide.json()["items"]) == 4
    reversed_ = client.get(
        DAILY.format(site=HAND),
        params={"start": "2025-07-03", "end": "2025-07-01"},
        headers=bearer(keys.hand),
    )
    # within the schema (each date is valid), and nothing lies between: an empty page, not an
    # error (schemathesis holds a schema-valid request to a 2xx)
    assert reversed_.status_code == 200
    assert reversed_.json()["items"] == [] and reversed_.json()["next_offset"] is None


def test_monthly_facility_and_quality_endpoints_read_their_marts(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    monthly = client.get(f"/v1/sites/{HAND}/balances/monthly", headers=bearer(keys.hand)).json()
    (july,) = published_rows(
        settings, "select * from fct_site_balance_monthly where site_id = ?", [HAND]
    )
    assert [m["month_start"] for m in monthly["items"]] == ["2025-07-01"]
    assert monthly["items"][0]["inputs_m3"] == july["inputs_m3"]
    assert monthly["items"][0]["n_days"] == july["n_days"]

    dam = client.get(
        f"/v1/sites/{HAND}/facilities/dam/balances/daily", headers=bearer(keys.hand)
    ).json()["items"]
    rows = published_rows(
        settings,
        "select * from fct_node_balance_daily where site_id = ? and node_id = 'dam' order by day",
        [HAND],
    )
    assert [(d["day"], d["inflow_m3"]) for d in dam] == [
        (r["day"].isoformat(), r["inflow_m3"]) for r in rows
    ]
    dam_month = client.get(
        f"/v1/sites/{HAND}/facilities/dam/balances/monthly", headers=bearer(keys.hand)
    ).json()["items"]
    assert len(dam_month) == 1 and dam_month[0]["node_id"] == "dam"

    scores = client.get(
        f"/v1/sites/{HAND}/quality-scores",
        params={"scope": "site", "limit": 1000},
        headers=bearer(keys.hand),
    ).json()["items"]
    expected = published_rows(
        settings,
        "select day, overall_score from fct_quality_scores_daily "
        "where site_id = ? and scope = 'site' order by day",
        [HAND],
    )
    assert [(s["day"], s["overall_score"]) for s in scores] == [
        (r["day"].isoformat(), r["overall_score"]) for r in expected
    ]
    assert expected, "the fixture scored the hand site"


def test_sites_and_facilities_list_what_a_key_sees(client: TestClient, keys: Keys) -> None:
    def site_ids(token: str) -> list[str]:
        return [
            s["site_id"] for s in client.get("/v1/sites", headers=bearer(token)).json()["items"]
        ]

    assert site_ids(keys.hand) == [HAND]
    assert site_ids(keys.other) == [OTHER]
    assert site_ids(keys.all) == [HAND, OTHER]
    assert site_ids(keys.dam_only) == [OTHER]
    nodes = client.get(f"/v1/sites/{HAND}/facilities", headers=bearer(keys.hand)).json()["items"]
    assert {n["node_id"] for n in nodes} == {
        "river",
        "borefield",
        "rain",
        "dam",
        "plant",
        "creek",
        "evaporation",
        "seepage",
        "tailings",
    }
    dam_only = client.get(f"/v1/sites/{OTHER}/facilities", headers=bearer(keys.dam_only)).json()
    assert [n["node_id"] for n in dam_only["items"]] == ["dam"]
    assert client.get(f"/v1/sites/{HAND}", headers=bearer(keys.hand)).json()["site_name"] == (
        "Hand-Computed Test Site"
    )


def test_health_needs_no_key(client: TestClient) -> None:
    got = client.get("/v1/health")
    assert got.status_code == 200
    assert got.json()["status"] == "ok" and got.json()["warehouse_tables"] > 5


def test_a_home_with_nothing_published_answers_503_with_what_to_do(tmp_path: Path) -> None:
    from api.app import create_app
    from api.keys import KeyStore
    from siteledger.settings import get_settings
    from siteledger.state import StateStore

    settings = get_settings(tmp_path / "empty")
    settings.ensure_dirs()
    store = StateStore(settings.state_store_url)
    _, token = KeyStore(store).create("early", [HAND])
    store.dispose()
    with TestClient(create_app(settings)) as client:
        assert client.get("/v1/health").json() == {"status": "no_warehouse", "warehouse_tables": 0}
        got = client.get(DAILY.format(site=HAND), headers=bearer(token))
    assert got.status_code == 503
    assert "no published warehouse" in got.json()["detail"]
    assert "siteledger run" in got.json()["detail"]
