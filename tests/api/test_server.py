"""Against a real uvicorn on loopback: reads keep answering, each from one whole version,
while the warehouse is published over them; the audit log names the client; the CLI."""

from __future__ import annotations

import json
import os
import shutil
import threading

import duckdb
import httpx
import pytest

from api.app import create_app
from api.keys import KeyStore
from siteledger.settings import Settings
from siteledger.state import StateStore
from siteledger.warehouse import Warehouse
from tests.api.conftest import HAND, Keys, bearer
from tests.api.server import serving
from tests.cli.conftest import invoke

DAILY = f"/v1/sites/{HAND}/balances/daily"


def _add_to_inputs(settings: Settings, amount: float) -> None:
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute(
            "update marts.fct_site_balance_daily set inputs_m3 = inputs_m3 + ? where site_id = ?",
            [amount, HAND],
        )


@pytest.mark.integration
def test_reads_answer_from_one_whole_version_across_publishes(
    settings: Settings, keys: Keys
) -> None:
    app = create_app(settings)
    with serving(app) as base, httpx.Client(base_url=base, headers=bearer(keys.all)) as client:
        baseline = [i["inputs_m3"] for i in client.get(DAILY).json()["items"]]
        seen: set[float] = set()
        failures: list[str] = []
        stop = threading.Event()

        def read() -> None:
            with httpx.Client(base_url=base, headers=bearer(keys.all), timeout=30) as own:
                while not stop.is_set():
                    got = own.get(DAILY)
                    if got.status_code != 200:
                        failures.append(f"{got.status_code} {got.text}")
                        continue
                    shifts = {
                        round(i["inputs_m3"] - b, 6)
                        for i, b in zip(got.json()["items"], baseline, strict=True)
                    }
                    if len(shifts) != 1:
                        failures.append(f"rows from more than one version: {shifts}")
                    seen.update(shifts)

        readers = [threading.Thread(target=read) for _ in range(4)]
        for reader in readers:
            reader.start()
        store = StateStore(settings.state_store_url)
        warehouse = Warehouse(settings, store)
        try:
            for _ in range(3):
                _add_to_inputs(settings, 1000.0)
                warehouse.publish(["marts"], note="swap under load")
            latest = [i["inputs_m3"] for i in client.get(DAILY).json()["items"]]
            assert latest == [b + 3000.0 for b in baseline]
            # a warehouse copied into place (not a link of a version file) is picked up too
            _add_to_inputs(settings, 1000.0)
            version = warehouse.publish(["marts"], note="to copy")
            copied = settings.warehouse_dir / ".copied.duckdb"
            shutil.copy(version.path, copied)
            os.replace(copied, settings.published_db)
            after = [i["inputs_m3"] for i in client.get(DAILY).json()["items"]]
            assert after == [b + 4000.0 for b in baseline]
        finally:
            stop.set()
            for reader in readers:
                reader.join(timeout=30)
            store.dispose()
        assert failures == []
        assert 0.0 in seen and 3000.0 in seen


@pytest.mark.integration
def test_the_audit_log_of_a_real_server_names_the_loopback_client(
    settings: Settings, keys: Keys
) -> None:
    app = create_app(settings)
    with serving(app) as base:
        assert httpx.get(f"{base}/v1/sites", headers=bearer(keys.hand)).status_code == 200
        assert httpx.get(f"{base}/v1/sites").status_code == 401
    # the server's shutdown wrote what was queued
    store = StateStore(settings.state_store_url)
    entries = KeyStore(store).audit()
    store.dispose()
    assert [(e.key_id, e.status, e.client_ip) for e in reversed(entries)] == [
        (keys.hand_id, 200, "127.0.0.1"),
        (None, 401, "127.0.0.1"),
    ]


def test_the_cli_creates_lists_revokes_keys_and_shows_the_audit(settings: Settings) -> None:
    home = settings.home
    created = invoke(home, "api", "keys", "create", "bi tool", "--site", HAND, "--rate", "30")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("slk_") and len(token) > 40
    listed = invoke(home, "api", "keys", "list", "--json", columns=200)
    (row,) = [r for r in map(json.loads, listed.stdout.splitlines()) if r["name"] == "bi tool"]
    assert row["scopes"] == HAND and row["rate_per_minute"] == 30 and row["revoked_at"] is None
    assert token not in listed.output
    revoked = invoke(home, "api", "keys", "revoke", row["key_id"])
    assert revoked.exit_code == 0 and f"revoked {row['key_id']}" in revoked.output
    bad = invoke(home, "api", "keys", "create", "x", "--site", "../etc")
    assert bad.exit_code != 0 and "is not SITE, SITE/FACILITY or '*'" in bad.output
    missing = invoke(home, "api", "keys", "revoke", "key_nope")
    assert missing.exit_code != 0 and "no API key 'key_nope'" in missing.output
    empty = invoke(home, "api", "audit", "--key", row["key_id"])
    assert empty.exit_code == 0 and "no API requests recorded" in empty.output
