"""A throwaway SITELEDGER_HOME with the small test site, a state store and helpers to read back
what an import left in the lake, the quarantine and the archive."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.files import ImportLimits, ImportResult, import_landing
from ingestion.lake import read_quarantine, read_readings
from siteledger.settings import Settings
from siteledger.site.loader import load_site
from siteledger.site.models import SiteConfig
from siteledger.state.store import StateStore

SMALL_SITE = Path(__file__).resolve().parents[2] / "fixtures" / "small_site.yaml"


def small_site(**layout_changes: dict[str, Any]) -> SiteConfig:
    """The small test site, with fields of its layouts changed by layout id."""
    site = load_site(SMALL_SITE)
    if not layout_changes:
        return site
    data = copy.deepcopy(site.model_dump(by_alias=True))
    for layout in data["file_layouts"]:
        layout.update(layout_changes.get(layout["id"], {}))
    return SiteConfig.model_validate(data)


@dataclass
class Home:
    settings: Settings
    store: StateStore
    site: SiteConfig

    def drop(self, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        """Write a file into the landing folder (undecodable names via ``os.fsdecode``)."""
        path = self.settings.landing / name
        path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
        return path

    def run(self, limits: ImportLimits | None = None) -> dict[str, ImportResult]:
        """Import the landing folder; results by (sanitised) file name."""
        results = import_landing(self.settings, self.site, self.store, limits=limits)
        return {r.file_name: r for r in results}

    def lake(self, **filters: Any) -> pa.Table:
        """Committed readings, sorted by source, meter and time."""
        table = read_readings(self.settings, store=self.store, **filters)
        return table.sort_by(
            [("source", "ascending"), ("meter_id", "ascending"), ("ts", "ascending")]
        )

    def lake_rows(self, **filters: Any) -> list[tuple[Any, ...]]:
        """(meter_id, ISO UTC time, value, unit) of committed readings."""
        table = self.lake(**filters)
        return [
            (m, t.isoformat(), v, u)
            for m, t, v, u in zip(
                table.column("meter_id").to_pylist(),
                table.column("ts").to_pylist(),
                table.column("value").to_pylist(),
                table.column("unit").to_pylist(),
                strict=True,
            )
        ]

    def quarantine(self, batch_id: str | None = None) -> pa.Table:
        """Quarantined rows of every batch (or one), batch after batch, in file order."""
        return read_quarantine(self.settings, batch_id=batch_id)

    def reasons(self, batch_id: str | None = None) -> list[str]:
        return self.quarantine(batch_id).column("reason").to_pylist()

    def reasons_by_row(self, batch_id: str | None = None) -> dict[int, str]:
        """Quarantine reasons by source row."""
        return {r["source_row"]: r["reason"] for r in self.quarantine(batch_id).to_pylist()}

    @staticmethod
    def record_rows(result: ImportResult, schema: pa.Schema, path: Path) -> list[dict[str, Any]]:
        """The records a result wrote (to ``path`` only, with ``schema``), in file order, without
        the load columns."""
        rows: list[dict[str, Any]] = []
        for lake_file in result.lake_files:
            table = pq.read_table(lake_file)
            assert table.schema.equals(schema)
            assert lake_file == path
            rows += table.to_pylist()
        for row in rows:
            assert row.pop("import_batch_id") == result.batch_id
            assert row.pop("source_file") == result.file_name
            row.pop("loaded_at")
        return rows

    def landing_names(self) -> list[str]:
        return sorted(p.name for p in self.settings.landing.iterdir())

    def archive_names(self) -> list[str]:
        return sorted(p.name for p in self.settings.archive.iterdir())


def make_home(root: Path, site: SiteConfig | None = None) -> Home:
    settings = Settings(home=root.resolve() / "home")
    settings.ensure_dirs()
    store = StateStore(settings.state_store_url)
    return Home(settings, store, site or small_site())
