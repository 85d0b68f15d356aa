"""The metering site tables (Contract 3) of the test site, computed by hand, and of a site
without a metering section (one settings row of defaults, no tariffs or districts)."""

from __future__ import annotations

import datetime as dt

from ingestion.site_tables import METERING_SITE_SCHEMAS, SCHEMAS, site_tables
from tests.ingestion.hostile.home import small_site
from tests.ingestion.metering_site import metering_site


def test_metering_tables_of_the_test_site():
    tables = site_tables(metering_site(leak={"night_start": "23:00", "night_end": "04:00"}))
    for name, schema in METERING_SITE_SCHEMAS.items():
        assert tables[name].schema.equals(schema)
        assert SCHEMAS[name] is schema
    [settings] = tables["metering_settings"].to_pylist()
    assert settings["site_id"] == "small_site"
    assert settings["currency"] == "IDR"
    assert settings["low_balance_days"] == "7,3,1"
    assert settings["peak_hours"] == "7,8,18,19,20"
    assert (settings["night_start_hour"], settings["night_end_hour"]) == (23, 4)
    assert settings["emergency_credit"] == 20000.0
    assert settings["maintenance_due_days"] == 14
    tariffs = tables["metering_tariffs"].to_pylist()
    assert [(r["tariff_id"], r["effective_from"], r["effective_to"]) for r in tariffs] == [
        ("household_iiia", dt.date(2025, 1, 1), dt.date(2025, 6, 30)),
        ("household_iiia", dt.date(2025, 7, 1), None),
        ("business", dt.date(2025, 1, 1), None),
    ]
    assert [r["fixed_charge_per_month"] for r in tariffs] == [7500.0, 8000.0, 0.0]
    blocks = [
        (
            r["tariff_id"],
            str(r["effective_from"]),
            r["block_no"],
            r["from_m3"],
            r["to_m3"],
            r["rate"],
        )
        for r in tables["metering_tariff_blocks"].to_pylist()
    ]
    assert blocks == [
        ("household_iiia", "2025-01-01", 1, 0.0, 10.0, 3550.0),
        ("household_iiia", "2025-01-01", 2, 10.0, 20.0, 4700.0),
        ("household_iiia", "2025-01-01", 3, 20.0, None, 5500.0),
        ("household_iiia", "2025-07-01", 1, 0.0, 10.0, 3800.0),
        ("household_iiia", "2025-07-01", 2, 10.0, None, 6000.0),
        ("business", "2025-01-01", 1, 0.0, None, 9000.0),
    ]
    assert tables["metering_districts"].to_pylist() == [
        {
            "site_id": "small_site",
            "district_id": "north",
            "name": "North zone",
            "bulk_meter_id": "FQ-200",
        }
    ]


def test_a_site_without_metering_has_one_row_of_defaults():
    tables = site_tables(small_site())
    [settings] = tables["metering_settings"].to_pylist()
    assert settings["currency"] == "IDR"
    assert settings["credit_days_window"] == 7
    assert (settings["night_start_hour"], settings["night_end_hour"]) == (2, 5)
    for name in ("metering_tariffs", "metering_tariff_blocks", "metering_districts"):
        assert tables[name].num_rows == 0
