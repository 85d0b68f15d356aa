"""Which lots want a certificate of analysis made: those whose testing is complete in the
published warehouse and that have no certificate yet, or whose testing finished after the day
their latest certificate states (a retest since)."""

from __future__ import annotations

import datetime as dt

import duckdb

from reports.definitions import ReportDefinition, load_definitions
from reports.materials.catalogue import is_certificate
from reports.materials.data import local_day
from reports.registry import Registry
from siteledger.settings import Settings
from siteledger.state.store import StateStore


def certificate_definitions(settings: Settings) -> list[ReportDefinition]:
    """The deployment's certificate definitions (per-lot materials documents with tests)."""
    return [
        d
        for d in load_definitions(settings.reports_dir)
        if d.domain == "materials" and d.period == "lot" and is_certificate(d.sections)
    ]


def certificates_due(settings: Settings, store: StateStore) -> list[tuple[str, str, str]]:
    """(definition, site, lot) of every certificate to make, oldest testing first."""
    definitions = certificate_definitions(settings)
    db = settings.published_db
    if not definitions or not db.exists():
        return []
    with duckdb.connect(str(db), read_only=True) as con:
        tables = {r[0] for r in con.execute("show tables").fetchall()}
        if "fct_qc_lots" not in tables:
            return []
        rows = con.execute(
            "select q.site_id, q.lot_id, q.tested_until, s.timezone from fct_qc_lots as q "
            "left join dim_sites as s on q.site_id = s.site_id "
            "where q.status in ('pass', 'fail') order by q.tested_until, q.site_id, q.lot_id"
        ).fetchall()
    registry = Registry(store)
    due = []
    for definition in definitions:
        latest = {
            (r.site_id, r.period_key): r.period_end
            for r in registry.list(definition_id=definition.id, latest_only=True)
        }
        for site_id, lot_id, tested_until, timezone in rows:
            if not definition.applies_to(site_id):
                continue
            tested: dt.date | None = local_day(tested_until, timezone or "UTC")
            made = latest.get((site_id, lot_id))
            if made is None or (tested is not None and made < tested):
                due.append((definition.id, site_id, lot_id))
    return due
