"""SITELEDGER_HOME folders the dbt tests build on."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from demo import write_demo
from ingestion.files import import_landing
from ingestion.site_tables import write_site_tables
from siteledger.settings import get_settings
from siteledger.site import load_site
from tests.dbt.hand_lake import D4, write_hand_lake
from tests.dbt.runner import run_dbt

HAND_SITE_FILE = Path(__file__).parent / "fixtures" / "hand_site.yaml"
HAND_SITE = "hand_site"
DEMO_SITE = "demo_mine"
HIGHVELD_SITE = "demo_highveld"
DEMO_SITES = (DEMO_SITE, HIGHVELD_SITE)
DEMO_DAYS = 10


def add_hand_site(home: Path, through: dt.date = D4) -> None:
    """Site tables and hand readings (day folders up to ``through``) under ``home``."""
    settings = get_settings(home)
    write_site_tables(settings, load_site(HAND_SITE_FILE))
    write_hand_lake(settings.lake, through=through)


def add_demo_site(home: Path) -> None:
    """Ten days of the demo organisation's two mines (demo_mine fault-free, demo_highveld with
    its few reading faults): generated drops, imported site by site, site tables written."""
    import_demo(home, days=DEMO_DAYS, sites=DEMO_SITES)


def import_demo(home: Path, **demo: Any) -> None:
    """The demo organisation written with ``demo`` (write_demo's arguments), every drop imported
    and committed site by site, and the site tables written."""
    from siteledger.state import StateStore

    output = write_demo(home, **demo)
    settings = get_settings(home)
    settings.ensure_dirs()
    store = StateStore(settings.state_store_url)
    for site_file in output.site_files:
        site = load_site(site_file)
        results = import_landing(settings, site, store)
        # the other mine's drops share the landing folder and wait for its own import
        statuses = {r.status for r in results} - {"unmatched"}
        if statuses != {"committed"}:
            raise AssertionError(f"demo import did not commit: {[r.error for r in results]}")
        write_site_tables(settings, site)
    left = sorted(p.name for p in settings.landing.iterdir())
    if left:
        raise AssertionError(f"demo drops no site imported: {left[:5]}")


def build_two_sites(home: Path) -> None:
    """The hand site and (when available) the demo's two mines in one lake, one ``dbt build``."""
    add_hand_site(home)
    add_demo_site(home)
    run_dbt(home, "build")
