"""Registry rows, artifacts and alert events for the API tests."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from alerts.state import AlertEvent, AlertStore
from reports.registry import Registry
from siteledger.settings import Settings
from siteledger.state import StateStore
from tests.cli.conftest import report_record

T0 = dt.datetime(2025, 7, 5, 6, 0, tzinfo=dt.UTC)
PDF = b"%PDF-1.7\n% a report of the hand site\n%%EOF\n"


def add_reports(settings: Settings, site_ids: tuple[str, ...]) -> dict[str, str]:
    """One July report per site with a PDF artifact under the reports folder; plus, for the
    first site, a report whose registry row names a file outside it. Returns site -> id."""
    store = StateStore(settings.state_store_url)
    registry = Registry(store)
    ids = {}
    for site_id in site_ids:
        record = report_record(
            "monthly_water",
            site_id,
            "2025-07",
            dt.date(2025, 7, 1),
            dt.date(2025, 7, 31),
            dt.date(2025, 8, 28),
        )
        folder = settings.reports_dir / site_id / "monthly_water" / "2025-07" / "v1"
        folder.mkdir(parents=True, exist_ok=True)
        pdf = folder / f"monthly_water_{site_id}_2025-07_v1.pdf"
        pdf.write_bytes(PDF + site_id.encode())
        record.artifacts = {"pdf": _artifact(pdf)}
        registry.add(record)
        ids[site_id] = record.report_id
    outside = report_record(
        "escape",
        site_ids[0],
        "2025-07",
        dt.date(2025, 7, 1),
        dt.date(2025, 7, 31),
        dt.date(2025, 8, 28),
    )
    state_db = settings.home / "state.db"
    link = settings.reports_dir / "link_to_state.db"
    link.symlink_to(state_db)
    outside.artifacts = {
        "pdf": {"path": str(state_db), "sha256": "0" * 64, "bytes": 1},
        "csv": {"path": str(settings.reports_dir / ".." / "state.db"), "sha256": "0", "bytes": 1},
        "xml": {"path": str(link), "sha256": "0", "bytes": 1},
        "json": {"path": "/etc/passwd", "sha256": "0", "bytes": 1},
    }
    registry.add(outside)
    ids["escape"] = outside.report_id
    store.dispose()
    return ids


def _artifact(path: Path) -> dict[str, object]:
    data = path.read_bytes()
    return {"path": str(path), "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def add_alert(settings: Settings, event_id: str, site: str, state: str = "firing") -> None:
    store = StateStore(settings.state_store_url)
    AlertStore(store)
    with store.session() as s:
        s.add(
            AlertEvent(
                event_id=event_id,
                fingerprint=hashlib.sha256(event_id.encode()).hexdigest(),
                rule_id="closure_error",
                labels={"site": site},
                site=site,
                category="compliance",
                severity="warning",
                state=state,
                summary=f"Closure error above threshold at {site}",
                value=1.73,
                threshold="> 1 %",
                unit="%",
                first_observed_at="2025-07-02",
                last_observed_at="2025-07-02",
                last_evaluated_at=T0,
                opened_at=T0,
                fired_at=T0 if state == "firing" else None,
            )
        )
    store.dispose()
