"""Dagster face of ingestion: the raw readings asset imports landing files in-process."""

from __future__ import annotations

import shutil
from pathlib import Path

from dagster import materialize

from ingestion.lake import read_readings
from orchestration.ingestion.assets import readings
from orchestration.resources import SiteledgerHome
from siteledger.settings import Settings

FIXTURE = Path(__file__).parents[1] / "fixtures" / "small_site.yaml"


def test_raw_readings_asset_imports_landing_files(tmp_path: Path):
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    shutil.copy(FIXTURE, settings.sites_dir / "small_site.yaml")
    (settings.landing / "logger_20250701.csv").write_text(
        "meter,time_utc,value,unit\n"
        "FQ-200,2025-07-01T00:00:00Z,100.0,m3\n"
        "FQ-200,2025-07-01T00:15:00Z,112.5,m3\n"
        "FT-999,2025-07-01T00:15:00Z,1.0,m3\n"
    )
    result = materialize([readings], resources={"siteledger": SiteledgerHome(home=str(tmp_path))})
    assert result.success
    metadata = result.asset_materializations_for_node("raw__readings")[0].metadata
    assert metadata["readings_imported"].value == 2
    assert metadata["rows_quarantined"].value == 1
    table = read_readings(settings, site_id="small_site")
    assert sorted(table.column("value").to_pylist()) == [100.0, 112.5]
    assert not any(settings.landing.iterdir())


def test_a_drop_of_one_site_is_not_listed_as_unmatched_for_the_other():
    from types import SimpleNamespace

    from orchestration.ingestion.assets import import_table, matched_once

    def result(name: str, status: str, imported: int = 0) -> SimpleNamespace:
        layout = None if status == "unmatched" else "scada_export"
        return SimpleNamespace(
            file_name=name, status=status, layout_id=layout, total=imported,
            imported=imported, skipped=0, failed=0,
        )  # fmt: skip

    # site A imports a.csv, site B imports b.csv, nobody knows stray.csv
    results = [
        result("a.csv", "committed", 10),
        result("b.csv", "unmatched"),
        result("stray.csv", "unmatched"),
        result("a.csv", "unmatched"),
        result("b.csv", "committed", 5),
        result("stray.csv", "unmatched"),
    ]
    merged = matched_once(results)
    assert sorted((r.file_name, r.status) for r in merged) == [
        ("a.csv", "committed"),
        ("b.csv", "committed"),
        ("stray.csv", "unmatched"),
    ]
    table = {(row["layout"], row["status"]): row for row in import_table(merged)}
    assert table[("scada_export", "committed")]["files"] == 2
    assert table[("scada_export", "committed")]["imported"] == 15
    assert table[("-", "unmatched")]["files"] == 1
