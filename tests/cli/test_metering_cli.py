"""``siteledger metering``: a dry run previews creates, updates, deactivations and row errors
and writes nothing; an import lands and rolls back; an export of the current customers imports
again as a no-op; ``maintenance add`` writes a one-record maintenance batch through the
importer."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.metering_lake import committed_records
from siteledger.state import StateStore
from tests.cli.conftest import invoke
from tests.ingestion.hostile.home import make_home
from tests.ingestion.metering_site import metering_site, metering_site_text

CUSTOMERS = (
    "customer_id,action,name,segment,household_size\n"
    "C1,,Ani,household_iiia,4\n"
    "C2,,Budi,business,\n"
    "C3,,Citra,household_iiib,2\n"
    "C1,,Ani again,household_iiia,5\n"
)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = make_home(tmp_path, metering_site())
    h.settings.sites_dir.mkdir(parents=True, exist_ok=True)
    (h.settings.sites_dir / "small_site.yaml").write_text(metering_site_text())
    h.store.dispose()
    return h.settings.home


def _customers(home: Path) -> list[dict]:
    from siteledger.settings import Settings

    settings = Settings(home=home)
    store = StateStore(settings.state_store_url)
    try:
        table = committed_records(settings, store, "customers", "small_site")
        return sorted(table.to_pylist(), key=lambda r: (r["effective_at"], r["source_row"]))
    finally:
        store.dispose()


def _words(text: str) -> str:
    return " ".join(text.split())


def test_a_dry_run_previews_and_writes_nothing(home: Path, tmp_path: Path):
    path = tmp_path / "customers_new.csv"
    path.write_text(CUSTOMERS)

    result = invoke(home, "metering", "import", str(path), "--site", "small_site", "--dry-run")

    assert result.exit_code == 0, result.output
    out = _words(result.output)
    assert "4 row(s): 2 to import, 0 unchanged, 2 with errors; nothing written" in out
    assert "create: 2 C1 C2 update: 0 deactivate: 0" in out
    assert "line 4: unknown tariff 'household_iiib' (did you mean 'household_iiia'?)" in out
    assert "line 5: duplicate customer_id 'C1'" in out
    assert _customers(home) == []
    assert not list((home / "landing").iterdir())
    assert not (home / "lake" / "metering").exists()


def test_import_update_preview_export_reimport_and_rollback(home: Path, tmp_path: Path):
    first = tmp_path / "customers_1.csv"
    first.write_text(CUSTOMERS)
    result = invoke(home, "metering", "import", str(first))
    assert result.exit_code == 0, result.output
    assert "2 record(s), 0 unchanged, 2 quarantined" in _words(result.output)
    before = _customers(home)
    assert [r["customer_id"] for r in before] == ["C1", "C2"]

    update = tmp_path / "customers_2.csv"
    update.write_text("customer_id,action,household_size\nC1,,6\nC2,deactivate,\nC4,,\n")
    preview = _words(invoke(home, "metering", "import", str(update), "--dry-run").output)
    assert "update: 1 C1: household_size 4 -> 6" in preview
    assert "deactivate: 1 C2" in preview
    assert "line 4: segment is empty (a new customer needs its tariff group)" in preview
    applied = invoke(home, "metering", "import", str(update))
    assert applied.exit_code == 0, applied.output
    batch = applied.output.split("as batch ")[1].split(":")[0]
    assert len(_customers(home)) == 4

    exported = tmp_path / "customers_export.csv"
    result = invoke(home, "metering", "export", "customers", "--site", "small_site",
                    "--out", str(exported))  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = exported.read_text().splitlines()
    assert lines[0] == (
        "customer_id,action,name,segment,household_size,district_id,low_balance_threshold,address"
    )
    assert lines[1:] == ["C1,,Ani,household_iiia,6,,,", "C2,deactivate,Budi,business,,,,"]
    again = invoke(home, "metering", "import", str(exported))
    assert "0 record(s), 2 unchanged, 0 quarantined" in _words(again.output)

    undone = invoke(home, "metering", "rollback", batch)
    assert undone.exit_code == 0, undone.output
    assert _customers(home) == before


def test_a_file_matching_no_layout_is_refused(home: Path, tmp_path: Path):
    path = tmp_path / "clients.csv"
    path.write_text(CUSTOMERS)
    result = invoke(home, "metering", "import", str(path))
    assert result.exit_code != 0
    assert "matches no metering layout of site 'small_site'" in _words(result.output)
    with_layout = invoke(home, "metering", "import", str(path), "--layout", "crm_customers")
    assert with_layout.exit_code == 0, with_layout.output


def test_maintenance_add_writes_a_one_record_batch(home: Path, tmp_path: Path):
    customers = tmp_path / "customers_1.csv"
    customers.write_text("customer_id,segment\nC1,business\n")
    meters = tmp_path / "meters_1.csv"
    meters.write_text("meter_id,customer_id,communication\nM1,C1,lora\n")
    for path in (customers, meters):
        assert invoke(home, "metering", "import", str(path)).exit_code == 0

    result = invoke(home, "metering", "maintenance", "add", "--site", "small_site", "--meter",
                    "M1", "--type", "battery_replacement", "--due", "2025-04-01",
                    "--technician", "Rudi")  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "task MT-M1-20250401-battery_replacement: battery_replacement of meter M1 due " \
        "2025-04-01, technician Rudi" in _words(result.output)  # fmt: skip
    from siteledger.settings import Settings

    settings = Settings(home=home)
    store = StateStore(settings.state_store_url)
    [task] = committed_records(settings, store, "maintenance", "small_site").to_pylist()
    store.dispose()
    assert (task["meter_id"], task["status"], task["technician"]) == ("M1", "scheduled", "Rudi")
    assert task["source"] == "cli_maintenance"

    unknown = invoke(home, "metering", "maintenance", "add", "--meter", "M9", "--type",
                     "repair", "--due", "2025-04-01")  # fmt: skip
    assert unknown.exit_code != 0
    assert "task not added: unknown meter 'M9'" in _words(unknown.output)
    same = invoke(home, "metering", "maintenance", "add", "--meter", "M1", "--type",
                  "battery_replacement", "--due", "2025-04-01", "--technician", "Rudi")  # fmt: skip
    assert "is scheduled already (nothing changed)" in _words(same.output)
