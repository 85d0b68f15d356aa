"""The small test site with a ``metering:`` section: two tariffs (one with two versions), a
district fed by the site's borefield totaliser, and one layout of every metering kind (CSV, an
Excel customers layout, a JSON purchases layout and a readings layout in litres). The site is in
Australia/Perth (UTC+8, no daylight saving)."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from siteledger.site.loader import parse_site_text
from siteledger.site.models import SiteConfig
from tests.ingestion.hostile.home import SMALL_SITE

METERING: dict[str, Any] = {
    "currency": "IDR",
    "emergency_credit": 20000,
    "tariffs": [
        {
            "id": "household_iiia",
            "name": "Household IIIA",
            "versions": [
                {
                    "effective_from": "2025-01-01",
                    "fixed_charge_per_month": 7500,
                    "blocks": [
                        {"up_to_m3": 10, "rate": 3550},
                        {"up_to_m3": 20, "rate": 4700},
                        {"rate": 5500},
                    ],
                },
                {
                    "effective_from": "2025-07-01",
                    "fixed_charge_per_month": 8000,
                    "blocks": [{"up_to_m3": 10, "rate": 3800}, {"rate": 6000}],
                },
            ],
        },
        {
            "id": "business",
            "name": "Business",
            "versions": [{"effective_from": "2025-01-01", "blocks": [{"rate": 9000}]}],
        },
    ],
    "districts": [{"id": "north", "name": "North zone", "bulk_meters": ["FQ-200"]}],
    "layouts": [
        {"id": "crm_customers", "kind": "customers", "pattern": "customers_*.csv", "format": "csv"},
        {
            "id": "crm_customers_xlsx",
            "kind": "customers",
            "pattern": "customers_*.xlsx",
            "format": "excel",
        },
        {"id": "crm_meters", "kind": "meters", "pattern": "meters_*.csv", "format": "csv"},
        {"id": "promo", "kind": "vouchers", "pattern": "vouchers_*.csv", "format": "csv"},
        {"id": "pay", "kind": "purchases", "pattern": "purchases_*.csv", "format": "csv"},
        {"id": "pay_json", "kind": "purchases", "pattern": "purchases_*.json", "format": "json"},
        {"id": "headend", "kind": "readings", "pattern": "readings_*.csv", "format": "csv"},
        {
            "id": "headend_l",
            "kind": "readings",
            "pattern": "litres_*.csv",
            "format": "csv",
            "unit": "L",
            "timezone": "UTC",
            "columns": {"meter_id": "serial", "read_at": "time", "interval_m3": "litres"},
        },
        {"id": "events", "kind": "meter_events", "pattern": "events_*.csv", "format": "csv"},
        {"id": "jobs", "kind": "maintenance", "pattern": "maintenance_*.csv", "format": "csv"},
    ],
}


def metering_site_data(**changes: Any) -> dict[str, Any]:
    """The small site's data with the metering section (``changes`` replace its keys)."""
    data = yaml.safe_load(SMALL_SITE.read_text())
    data["site"]["data_start"] = "2025-01-01"
    section = copy.deepcopy(METERING)
    section.update(changes)
    data["metering"] = section
    return data


def metering_site_text(**changes: Any) -> str:
    return yaml.safe_dump(metering_site_data(**changes), sort_keys=False)


def metering_site(**changes: Any) -> SiteConfig:
    return parse_site_text(metering_site_text(**changes))
