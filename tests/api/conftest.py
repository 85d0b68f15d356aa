"""A small published home for the API tests: the hand site built by dbt and scored, a second
site (``other_site``, the hand site's rows under another id) so that scopes have something to
keep out, site files with a CSV readings layout, and keys of every kind."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import yaml
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import KeyStore
from siteledger.settings import Settings, get_settings
from siteledger.state import StateStore
from tests.dbt.homes import HAND_SITE_FILE, add_hand_site
from tests.dbt.runner import run_dbt, shared_home

HAND = "hand_site"
OTHER = "other_site"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"inbound-webhook-key-of-32-bytes!").decode()
UPLOAD_LIMIT = 64 * 1024
# the marts the API reads, copied under OTHER's id
SITE_TABLES = (
    "dim_sites",
    "dim_nodes",
    "fct_site_balance_daily",
    "fct_site_balance_monthly",
    "fct_node_balance_daily",
    "fct_node_balance_monthly",
    "fct_quality_scores_daily",
)
READINGS_LAYOUT = {
    "id": "manual_long",
    "format": "csv_long",
    "pattern": "manual_*.csv",
    "timestamp_column": "timestamp",
    "meter_column": "meter",
    "value_column": "value",
}


def write_site_files(settings: Settings) -> None:
    """The hand site with a CSV readings layout, and OTHER (the same site under another id)."""
    config = yaml.safe_load(HAND_SITE_FILE.read_text())
    config["file_layouts"] = [READINGS_LAYOUT]
    settings.sites_dir.mkdir(parents=True, exist_ok=True)
    (settings.sites_dir / f"{HAND}.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    config["site"]["id"] = OTHER
    (settings.sites_dir / f"{OTHER}.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def copy_rows_to_other_site(build_db: Path) -> None:
    with duckdb.connect(str(build_db)) as con:
        for table in SITE_TABLES:
            con.execute(
                f"insert into marts.{table} select * replace ('{OTHER}' as site_id) "
                f"from marts.{table} where site_id = '{HAND}'"
            )


def build_api_home(home: Path) -> None:
    """Hand site built (models only), scored, copied to OTHER and published (~20 s)."""
    from quality.scoring import score_build
    from siteledger.warehouse import Warehouse

    add_hand_site(home)
    settings = get_settings(home)
    settings.ensure_dirs()
    write_site_files(settings)
    run_dbt(home, "run")
    score_build(settings, data_docs=False)
    copy_rows_to_other_site(settings.build_db)
    store = StateStore(settings.state_store_url)
    Warehouse(settings, store).publish(["marts"], note="tests/api")
    store.dispose()


@pytest.fixture(scope="session")
def api_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_home(tmp_path_factory, "api_home", build_api_home)


@pytest.fixture
def home(api_template: Path, tmp_path: Path) -> Path:
    """A home of its own for each test (imports, publishes and keys change it)."""
    target = tmp_path / "home"
    shutil.copytree(api_template, target, symlinks=True)
    return target


@pytest.fixture
def settings(home: Path) -> Settings:
    return get_settings(home)


@dataclass
class Keys:
    hand: str
    other: str
    all: str
    dam_only: str
    revoked: str
    hand_id: str
    revoked_id: str


@pytest.fixture
def keys(settings: Settings) -> Iterator[Keys]:
    store = StateStore(settings.state_store_url)
    ks = KeyStore(store)
    hand_key, hand = ks.create("hand reader", [HAND], 10_000)
    _, other = ks.create("other reader", [OTHER], 10_000)
    _, everything = ks.create("admin", ["*"], 100_000)
    _, dam = ks.create("dam contractor", [f"{OTHER}/dam"], 10_000)
    gone, revoked = ks.create("former", [HAND], 10_000)
    ks.revoke(gone.key_id)
    yield Keys(hand, other, everything, dam, revoked, hand_key.key_id, gone.key_id)
    store.dispose()


@pytest.fixture
def client(settings: Settings, keys: Keys) -> Iterator[TestClient]:
    app = create_app(settings, webhook_secret=WEBHOOK_SECRET, max_upload_bytes=UPLOAD_LIMIT)
    with TestClient(app) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def published_rows(settings: Settings, sql: str, params: list[object]) -> list[dict[str, object]]:
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        cursor = con.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
