"""The oven's energy of a job is costed at the shop's price when the job records no oven cost:
fixtures/materials_energy_site.yaml through the real import, the site tables and ``dbt build``
of the job costs (their data and unit tests included), against figures worked out by hand.

The shop: labour 40.00 an hour, overhead 1.50 and consumables 0.25 per m2, oven energy 0.28 per
kWh. Powder PW-1: 10 kg at 9.00.

    E1  4 m2 of panels, 1 h, 25 kWh and no oven cost, 1 kg of powder (FIFO 9.00), invoiced 150:
        oven 25 x 0.28 = 7.00; labour 40.00; overhead 4 x 1.50 = 6.00; consumables 4 x 0.25 =
        1.00; total 9.00 + 40.00 + 7.00 + 6.00 + 1.00 = 63.00; margin 87.00 (58 %)
    E2  6 m2, 2 h, 30 kWh with a recorded oven cost of 5.50, 1 kg (9.00), quoted 160: the
        recorded 5.50, not 30 x 0.28 = 8.40; labour 80.00, overhead 9.00, consumables 1.50;
        total 105.00; margin 55.00
    E3  quoted only, 0 kWh: an oven cost of 0.00 at the price, but no powder issued and no
        labour yet: its cost stays incomplete
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ingestion.files import import_landing
from ingestion.site_tables import write_site_tables
from siteledger.settings import Settings
from siteledger.site import load_site
from siteledger.state import StateStore
from tests.dbt.runner import query, run_dbt, shared_home

SITE_FILE = Path(__file__).parent / "fixtures" / "materials_energy_site.yaml"
SITE = "energy_shop"
SELECT = ("--select", "+fct_job_costs")

FILES = {
    "receipts_jul.csv": (
        "receipt_id,lot_id,material_id,supplier_id,po_id,received_at,qty,unit,unit_cost,currency,"
        "expiry_date,supplier_lot\n"
        "R1,PW-1,powder_white,powderco,,2025-07-01 08:00,10,kg,9.00,,,\n"
    ),
    "movements_jul.csv": (
        "movement_id,moved_at,material_id,lot_id,kind,qty,unit,unit_cost,batch_id,job_id,reason\n"
        "M1,2025-07-02 08:00,powder_white,,issue,1,kg,,,E1,\n"
        "M2,2025-07-03 08:00,powder_white,,issue,1,kg,,,E2,\n"
    ),
    "jobs_jul.csv": (
        "job_id,customer_id,job_type_id,parts,area_m2,colour,powder_material_id,film_um,"
        "labour_hours,oven_kwh,oven_cost,quoted_price,invoiced_price,received_at,started_at,"
        "completed_at,invoiced_at,status\n"
        "E1,c_gates,panels,2,4,white,powder_white,,1,25,,140,150,2025-07-01 09:00,"
        "2025-07-02 08:00,2025-07-02 16:00,2025-07-04 09:00,invoiced\n"
        "E2,c_gates,panels,3,6,white,powder_white,,2,30,5.50,160,,2025-07-01 09:00,"
        "2025-07-03 08:00,2025-07-03 16:00,,completed\n"
        "E3,c_gates,panels,1,2,white,powder_white,,0,0,,80,,2025-07-05 09:00,,,,quoted\n"
    ),
}


def build_energy_site(home: Path) -> None:
    """Import the record files, export the site tables and build the job costs."""
    settings = Settings(home=home)
    settings.ensure_dirs()
    site = load_site(SITE_FILE)
    for name, text in FILES.items():
        (settings.landing / name).write_text(text, encoding="utf-8")
    store = StateStore(settings.state_store_url)
    try:
        results = import_landing(settings, site, store)
    finally:
        store.dispose()
    failed = {r.file_name: (r.status, r.failed, r.error) for r in results if r.failed or r.error}
    assert not failed, f"hand files did not import cleanly: {failed}"
    assert {r.status for r in results} == {"committed"}
    write_site_tables(settings, site)
    run_dbt(home, "build", *SELECT)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_home(tmp_path_factory, "materials_job_energy", build_energy_site)


def D(text: str) -> Decimal:
    return Decimal(text)


def _jobs(home: Path) -> dict[str, dict[str, Any]]:
    rows = query(home, f"select * from marts.fct_job_costs where site_id = '{SITE}'")
    return {row["job_id"]: row for row in rows}


def test_the_shop_energy_price_reaches_the_staged_settings(home: Path) -> None:
    [row] = query(
        home,
        "select oven_energy_price_per_kwh from staging.stg_site_config__materials_settings "
        f"where site_id = '{SITE}'",
    )
    assert row["oven_energy_price_per_kwh"] == 0.28


def test_a_job_without_an_oven_cost_is_costed_at_the_energy_price(home: Path) -> None:
    e1 = _jobs(home)["E1"]
    assert (e1["oven_kwh"], e1["oven_cost"], e1["oven_cost_basis"]) == (
        25.0,
        D("7.0000"),
        "energy_price",
    )
    assert (e1["powder_cost"], e1["labour_cost"]) == (D("9.0000"), D("40.0000"))
    assert (e1["overhead_cost"], e1["consumables_cost"]) == (D("6.0000"), D("1.0000"))
    assert e1["total_cost"] == D("63.0000") and e1["is_cost_complete"] is True
    assert (e1["revenue"], e1["margin"]) == (D("150.0000"), D("87.0000"))
    assert e1["margin_pct"] == pytest.approx(58.0, abs=1e-9)


def test_a_recorded_oven_cost_wins_over_the_energy_price(home: Path) -> None:
    e2 = _jobs(home)["E2"]
    assert (e2["oven_cost"], e2["oven_cost_basis"]) == (D("5.5000"), "recorded")
    assert e2["total_cost"] == D("105.0000") and e2["is_cost_complete"] is True
    assert (e2["revenue"], e2["revenue_basis"], e2["margin"]) == (
        D("160.0000"),
        "quoted",
        D("55.0000"),
    )


def test_a_quoted_job_has_its_oven_priced_but_stays_incomplete(home: Path) -> None:
    e3 = _jobs(home)["E3"]
    assert (e3["oven_cost"], e3["oven_cost_basis"]) == (D("0.0000"), "energy_price")
    assert e3["powder_cost"] is None and e3["is_cost_complete"] is False
    assert e3["revenue"] is None and e3["month"] is None
