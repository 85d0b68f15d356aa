"""A site's ``materials:`` settings: the hand-made example (tests/fixtures/materials_site.yaml)
with its site tables computed by hand, every cross-reference problem with its key path and a
did-you-mean, hostile values (NaN, infinity, quoted numbers, booleans, numbers for dates)
refused with file and line, and the mass, volume and count units they rest on."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from ingestion.site_tables import MATERIALS_SITE_SCHEMAS, SCHEMAS, site_tables
from siteledger.site import SiteConfigError, dump_site, load_site, parse_site_text
from siteledger.site.materials import RECORD_COLUMNS, RECORD_KINDS, MaterialsSettings
from siteledger.units import (
    MEASURANDS,
    UnknownUnitError,
    amount_converts,
    convert_amount,
    resolve_unit,
    unit_fits_measurand,
)

FIXTURES = Path(__file__).parents[1] / "fixtures"
MATERIALS_SITE = FIXTURES / "materials_site.yaml"
SMALL_SITE = FIXTURES / "small_site.yaml"


def _data() -> dict[str, Any]:
    return yaml.safe_load(MATERIALS_SITE.read_text())


def _text(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def _problems_in(text: str, tmp_path: Path) -> list[str]:
    """Problems of ``text`` loaded from a file by the site loader, as 'file:line: path: why'."""
    path = tmp_path / "site.yaml"
    path.write_text(text)
    with pytest.raises(SiteConfigError) as info:
        load_site(path)
    return [str(p).replace(str(path), "site.yaml") for p in info.value.problems]


def _problems(data: dict[str, Any], tmp_path: Path) -> list[str]:
    return _problems_in(_text(data), tmp_path)


def _only(problems: list[str], needle: str) -> str:
    found = [p for p in problems if needle in p]
    assert len(found) == 1, (needle, problems)
    return found[0]


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# -- units -------------------------------------------------------------------------------------


def test_mass_volume_and_count_units_convert_exactly():
    assert convert_amount(700, "g", "kg") == pytest.approx(0.7, rel=1e-12)
    assert convert_amount(1, "lb", "kg") == pytest.approx(0.45359237, rel=1e-12)
    assert convert_amount(16, "oz", "lb") == pytest.approx(1.0, rel=1e-12)
    assert convert_amount(2.5, "t", "kg") == pytest.approx(2500.0, rel=1e-12)
    assert convert_amount(250, "mL", "L") == pytest.approx(0.25, rel=1e-12)
    for alias in ("pcs", "pc", "ea", "unit", "units", "each"):
        assert resolve_unit(alias).symbol == "each"
        assert resolve_unit(alias).dimension == "count"
    assert convert_amount(12, "pcs", "each") == 12.0


def test_a_density_converts_a_volume_to_a_mass_and_back():
    # 5 L of olive oil at 0.91 g/mL = 4550 g = 4.55 kg
    assert convert_amount(5, "L", "kg", 0.91) == pytest.approx(4.55, rel=1e-12)
    assert convert_amount(4.55, "kg", "L", 0.91) == pytest.approx(5.0, rel=1e-12)
    # 100 g of lavender oil at 0.89 g/mL = 112.36 mL
    assert convert_amount(100, "g", "mL", 0.89) == pytest.approx(100 / 0.89, rel=1e-12)
    assert amount_converts("L", "kg", 0.91)
    assert not amount_converts("L", "kg")
    with pytest.raises(UnknownUnitError, match="without a density"):
        convert_amount(5, "L", "kg")
    with pytest.raises(UnknownUnitError, match="cannot convert"):
        convert_amount(5, "each", "kg", 0.91)


def test_the_existing_measurands_keep_their_units():
    assert unit_fits_measurand("kg", "ore_mass")
    assert unit_fits_measurand("g", "ore_mass")
    assert not unit_fits_measurand("each", "ore_mass")
    assert MEASURANDS["ore_mass"].canonical_unit == "t"
    assert resolve_unit("t").factor == 1.0


# -- the example -------------------------------------------------------------------------------


def test_the_example_loads_and_dumps_to_the_same_site():
    site = load_site(MATERIALS_SITE)
    materials = site.materials
    assert materials.enabled
    assert materials.currency == "EUR"
    oil = materials.material("olive_oil")
    assert oil is not None and (oil.unit, oil.dimension, oil.density_g_per_ml) == (
        "kg",
        "mass",
        0.91,
    )
    lavender = materials.material("lavender_oil")
    assert lavender is not None and lavender.dimension == "volume"
    recipe = materials.recipe("base_soap", 2)
    assert recipe is not None
    assert [(i.material, i.qty, i.unit) for i in recipe.inputs] == [
        ("olive_oil", 5.0, "L"),
        ("lye", 700.0, "g"),
        ("wrapper", 100.0, "each"),  # written as pcs
    ]
    assert materials.recipe("base_soap", 3) is None
    spec = materials.specification("soap_spec", 1)
    assert spec is not None and [t.numeric for t in spec.tests] == [True, False]
    # the rate valid on a day is the latest one from on or before it
    import datetime as dt

    assert materials.rate_on("USD", dt.date(2025, 6, 30)) == 0.92
    assert materials.rate_on("USD", dt.date(2025, 7, 1)) == 0.85
    assert materials.rate_on("USD", dt.date(2024, 12, 31)) is None
    assert materials.rate_on("EUR", dt.date(2000, 1, 1)) == 1.0
    assert materials.rate_on("GBP", dt.date(2025, 7, 1)) is None
    again = parse_site_text(dump_site(site))
    assert again.materials == materials


def test_site_tables_of_the_example():
    tables = site_tables(load_site(MATERIALS_SITE))
    for name, schema in MATERIALS_SITE_SCHEMAS.items():
        assert tables[name].schema.equals(schema), name
        assert schema.names[0] == "site_id", name
        assert SCHEMAS[name] is schema
    [settings] = tables["materials_settings"].to_pylist()
    assert settings == {
        "site_id": "mat_site",
        "currency": "EUR",
        "expiry_alert_days": 30,
        "margin_floor_pct": 20.0,
        "margin_fall_pct_points": 5.0,
        "price_rise_alert_pct": 10.0,
        "yield_alert_pct": 95.0,
        "service_level": 0.95,
        "holding_cost_rate": 0.25,
        "order_cost": 40.0,
        "otif_tolerance_pct": 2.0,
        "labour_rate_per_hour": 45.0,
        "overhead_rate_per_m2": 2.0,
        "overhead_pct": None,
        "consumables_per_m2": 0.3,
        "default_film_um": 70.0,
        "oven_energy_price_per_kwh": 0.28,
    }
    rates = [
        (r["currency"], r["valid_from"].isoformat(), r["rate"])
        for r in _rows(tables, "materials_exchange_rates")
    ]
    assert rates == [("USD", "2025-01-01", 0.92), ("USD", "2025-07-01", 0.85)]
    inputs = [
        (r["version"], r["material_id"], round(r["qty_base"], 12), r["unit_given"], r["qty_given"])
        for r in _rows(tables, "materials_recipe_inputs")
    ]
    # version 2: 5 L of oil x 0.91 g/mL = 4.55 kg; 700 g of lye = 0.7 kg; 100 pcs = 100 each
    assert inputs == [
        (1, "olive_oil", 5.0, "kg", 5.0),
        (1, "lye", 0.7, "kg", 0.7),
        (2, "olive_oil", 4.55, "L", 5.0),
        (2, "lye", 0.7, "g", 700.0),
        (2, "wrapper", 100.0, "each", 100.0),
    ]
    recipes = [
        (
            r["recipe_id"],
            r["version"],
            r["product_id"],
            r["valid_from"].isoformat(),
            r["yield_qty"],
            r["yield_unit"],
        )
        for r in _rows(tables, "materials_recipes")
    ]
    assert recipes == [
        ("base_soap", 1, "base_soap_bar", "2025-01-01", 100.0, "each"),
        ("base_soap", 2, "base_soap_bar", "2025-09-01", 100.0, "each"),
    ]
    materials = {r["material_id"]: r for r in _rows(tables, "materials")}
    assert materials["olive_oil"]["lead_time_sd_days"] == 2.0
    assert materials["lye"]["lead_time_days"] == 7.0  # the default
    assert materials["lavender_oil"]["dimension"] == "volume"
    assert materials["wrapper"]["dimension"] == "count"
    assert materials["wrapper"]["reorder_point"] == 500.0
    assert materials["lye"]["service_level"] == 0.95  # the site's
    powder = materials["powder_ral9005"]
    assert (
        powder["specific_gravity"],
        powder["transfer_efficiency"],
        powder["reclaim_fraction"],
    ) == (1.6, 0.6, 0.2)
    tests = [
        (r["test_id"], r["unit"], r["min_value"], r["max_value"], r["expected_text"])
        for r in _rows(tables, "materials_spec_tests")
    ]
    assert tests == [("ph", "pH", 8.0, 10.0, None), ("appearance", "", None, None, "conforms")]
    types = {r["job_type_id"]: r["film_um"] for r in _rows(tables, "materials_job_types")}
    assert types == {"wheels": 80.0, "panels": 70.0}  # panels take the shop's default
    products = {r["product_id"]: r for r in _rows(tables, "materials_products")}
    assert (products["lav_soap"]["price"], products["lav_soap"]["spec_id"]) == (6.5, "soap_spec")
    assert [r["supplier_id"] for r in _rows(tables, "materials_suppliers")] == [
        "oilco",
        "chemco",
        "powderco",
    ]
    assert _rows(tables, "materials_suppliers")[1]["lead_time_days"] is None
    assert _rows(tables, "materials_customers") == [
        {"site_id": "mat_site", "customer_id": "c_shop", "name": "Corner Shop", "segment": "retail"}
    ]
    assert _rows(tables, "materials_specifications") == [
        {"site_id": "mat_site", "spec_id": "soap_spec", "version": 1, "product_id": "base_soap_bar"}
    ]


def _rows(tables: dict, name: str) -> list[dict]:
    return tables[name].to_pylist()


def test_a_site_without_materials_has_defaults_and_empty_tables():
    site = load_site(SMALL_SITE)
    assert not site.materials.enabled
    tables = site_tables(site)
    for name in MATERIALS_SITE_SCHEMAS:
        if name != "materials_settings":
            assert tables[name].num_rows == 0, name
    [row] = tables["materials_settings"].to_pylist()
    assert (row["site_id"], row["currency"], row["service_level"]) == ("small_site", "AUD", 0.95)
    assert (row["labour_rate_per_hour"], row["overhead_rate_per_m2"], row["default_film_um"]) == (
        0.0,
        None,
        70.0,
    )
    assert row["oven_energy_price_per_kwh"] is None  # no price: oven costs only as recorded
    # ``materials:`` with nothing under it is the same
    data = yaml.safe_load(SMALL_SITE.read_text())
    data["materials"] = None
    assert parse_site_text(_text(data)).materials == MaterialsSettings()


def test_the_recipe_example_of_the_brief_needs_its_products_and_materials(tmp_path: Path):
    data = _data()
    data["materials"]["recipes"][0]["product"] = "base_soap_bars"
    data["materials"]["recipes"][1]["inputs"][0]["material"] = "olive_oli"
    data["materials"]["products"][1]["spec"] = "soap_spek"
    data["materials"]["specifications"][0]["product"] = "no_such_product"
    problems = _problems(data, tmp_path)
    assert _only(problems, "materials.recipes[0].product").endswith(
        "unknown product 'base_soap_bars' (did you mean 'base_soap_bar'?)"
    )
    assert _only(problems, "materials.recipes[1].inputs[0].material").endswith(
        "unknown material 'olive_oli' (did you mean 'olive_oil'?)"
    )
    assert _only(problems, "materials.products[1].spec").endswith(
        "unknown specification 'soap_spek' (did you mean 'soap_spec'?)"
    )
    assert "unknown product 'no_such_product'" in _only(
        problems, "materials.specifications[0].product"
    )
    assert len(problems) == 4, problems


def test_problems_name_their_line(tmp_path: Path):
    text = MATERIALS_SITE.read_text().replace(
        "{material: lye, qty: 700, unit: g}", "{material: lie, qty: 700, unit: g}"
    )
    [problem] = _problems_in(text, tmp_path)
    assert problem == (
        f"site.yaml:{_line(text, 'material: lie')}: materials.recipes[1].inputs[1].material: "
        "unknown material 'lie' (did you mean 'lye'?)"
    )


def test_duplicate_ids_and_versions_are_refused(tmp_path: Path):
    data = _data()
    m = data["materials"]
    m["materials"].append(copy.deepcopy(m["materials"][1]))
    m["recipes"].append(copy.deepcopy(m["recipes"][1]))
    m["specifications"].append(copy.deepcopy(m["specifications"][0]))
    m["specifications"][0]["tests"].append({"id": "ph", "min": 7})
    m["job_types"].append({"id": "wheels", "m2_per_man_hour": 3})
    m["exchange_rates"].append({"currency": "USD", "valid_from": "2025-07-01", "rate": 0.86})
    problems = _problems(data, tmp_path)
    assert _only(problems, "materials.materials[5].id").endswith(
        "duplicate material 'lye' (first at materials.materials[1])"
    )
    assert _only(problems, "materials.recipes[2].id").endswith(
        "duplicate recipe 'base_soap version 2' (first at materials.recipes[1])"
    )
    assert _only(problems, "materials.specifications[1].id").endswith(
        "duplicate specification 'soap_spec version 1' (first at materials.specifications[0])"
    )
    assert _only(problems, "materials.specifications[0].tests[2].id").endswith(
        "duplicate test 'ph'"
    )
    assert "duplicate job type 'wheels'" in _only(problems, "materials.job_types[2].id")
    assert "a second USD rate from 2025-07-01" in _only(
        problems, "materials.exchange_rates[2].valid_from"
    )
    assert len(problems) == 6, problems


def test_a_unit_that_does_not_fit_its_material_is_refused(tmp_path: Path):
    data = _data()
    m = data["materials"]
    m["recipes"][0]["inputs"][1]["unit"] = "L"  # lye has no density
    m["recipes"][0]["inputs"][0]["unit"] = "each"  # oil is not counted
    m["recipes"][1]["yield_unit"] = "kg"  # soap bars are counted
    m["materials"][0]["unit"] = "m"  # a length is no base unit
    m["materials"][1]["unit"] = "furlongs"
    m["products"][0]["unit"] = "kWh"
    m["materials"][3]["density_g_per_ml"] = 1.0  # a counted material has no density
    problems = _problems(data, tmp_path)
    assert "measures length" in _only(problems, "materials.materials[0].unit")
    assert "unknown unit 'furlongs'" in _only(problems, "materials.materials[1].unit")
    assert "measures energy" in _only(problems, "materials.products[0].unit")
    assert len(problems) == 3, problems  # structure first: the rest is checked once it loads

    data = _data()
    m = data["materials"]
    m["recipes"][0]["inputs"][1]["unit"] = "L"
    m["recipes"][0]["inputs"][0]["unit"] = "each"
    m["recipes"][1]["yield_unit"] = "kg"
    m["materials"][3]["density_g_per_ml"] = 1.0
    problems = _problems(data, tmp_path)
    assert _only(problems, "materials.recipes[0].inputs[1].unit").endswith(
        "unit 'L' (volume) does not fit the unit 'kg' (mass) of material 'lye'; give the "
        "material a density_g_per_ml to convert"
    )
    assert _only(problems, "materials.recipes[0].inputs[0].unit").endswith(
        "unit 'each' (count) does not fit the unit 'kg' (mass) of material 'olive_oil'"
    )
    assert "of product 'base_soap_bar'" in _only(problems, "materials.recipes[1].yield_unit")
    assert "converts only masses and volumes" in _only(
        problems, "materials.materials[3].density_g_per_ml"
    )
    assert len(problems) == 4, problems


def test_nan_infinity_quoted_numbers_and_booleans_are_refused_with_their_line(tmp_path: Path):
    text = MATERIALS_SITE.read_text()
    text = text.replace("density_g_per_ml: 0.91", "density_g_per_ml: .nan")
    text = text.replace("price: 6.50", "price: '6.50'")
    text = text.replace(
        "{material: lye, qty: 0.7, unit: kg}", "{material: lye, qty: yes, unit: kg}"
    )
    text = text.replace("yield_alert_pct: 95", "yield_alert_pct: .inf")
    text = text.replace("labour_rate_per_hour: 45", "labour_rate_per_hour: on")
    text = text.replace("oven_energy_price_per_kwh: 0.28", "oven_energy_price_per_kwh: '0.28'")
    text = text.replace("valid_from: 2025-07-01, rate: 0.85", "valid_from: 20250701, rate: 0.85")
    text = text.replace("version: 2", "version: 2.5")
    problems = _problems_in(text, tmp_path)
    nan = _only(problems, "materials.materials[0].density_g_per_ml")
    assert nan.startswith(f"site.yaml:{_line(text, 'density_g_per_ml: .nan')}:")
    assert "finite number" in nan
    assert "finite number" in _only(problems, "materials.yield_alert_pct")
    assert "valid number" in _only(problems, "materials.products[1].price")
    assert "valid number" in _only(problems, "materials.recipes[0].inputs[1].qty")
    assert _only(problems, "materials.job_shop.labour_rate_per_hour").startswith(
        f"site.yaml:{_line(text, 'labour_rate_per_hour: on')}:"
    )
    assert "valid number" in _only(problems, "materials.job_shop.oven_energy_price_per_kwh")
    assert "a date is text like 2025-01-31, got 20250701" in _only(
        problems, "materials.exchange_rates[1].valid_from"
    )
    assert "valid integer" in _only(problems, "materials.recipes[1].version")
    assert len(problems) == 8, problems


def test_bad_values_and_keys_are_refused(tmp_path: Path):
    data = _data()
    m = data["materials"]
    m["currency"] = "euro"
    m["service_level"] = 1.0
    m["exchange_rates"][0]["rate"] = 0
    m["materials"][4]["transfer_efficiency"] = 1.5
    m["materials"][0]["colour"] = "gold"
    m["specifications"][0]["tests"][0]["min"] = 11.0  # above max 10
    m["specifications"][0]["tests"][1] = {"id": "odour", "name": "Odour"}  # neither kind
    m["job_shop"]["overhead_pct"] = 15
    m["recipes"][0]["inputs"] = []
    problems = _problems(data, tmp_path)
    assert "should match pattern" in _only(problems, "materials.currency")
    assert "less than 1" in _only(problems, "materials.service_level")
    assert "greater than 0" in _only(problems, "materials.exchange_rates[0].rate")
    assert "less than or equal to 1" in _only(
        problems, "materials.materials[4].transfer_efficiency"
    )
    assert _only(problems, "materials.materials[0].colour").endswith("unknown key")
    assert "min 11 is above max 10" in _only(problems, "materials.specifications[0].tests[0]")
    assert "needs min, max or both, or expected" in _only(
        problems, "materials.specifications[0].tests[1]"
    )
    assert "not both" in _only(problems, "materials.job_shop")
    assert "at least 1 item" in _only(problems, "materials.recipes[0].inputs")
    assert len(problems) == 9, problems


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("-0.1", "greater than or equal to 0"),
        ("1500", "less than or equal to 1000"),
        ("'0.28'", "valid number"),
        ("yes", "valid number"),
        (".nan", "finite number"),
    ],
)
def test_the_oven_energy_price_is_checked_like_the_other_shop_rates(
    value: str, why: str, tmp_path: Path
):
    text = MATERIALS_SITE.read_text().replace(
        "oven_energy_price_per_kwh: 0.28", f"oven_energy_price_per_kwh: {value}"
    )
    [problem] = _problems_in(text, tmp_path)
    assert problem.startswith(
        f"site.yaml:{_line(text, 'oven_energy_price_per_kwh:')}: "
        "materials.job_shop.oven_energy_price_per_kwh"
    )
    assert why in problem


def test_the_site_currency_needs_no_rate(tmp_path: Path):
    data = _data()
    data["materials"]["exchange_rates"].append(
        {"currency": "EUR", "valid_from": "2025-01-01", "rate": 1.0}
    )
    [problem] = _problems(data, tmp_path)
    assert problem.endswith(
        "materials.exchange_rates[2].currency: EUR is the site currency; it needs no rate"
    )


# -- record layouts ----------------------------------------------------------------------------


def test_every_kind_has_a_key_and_its_columns():
    assert set(RECORD_COLUMNS) == set(RECORD_KINDS)
    assert [cols[0].name for cols in RECORD_COLUMNS.values()] == [
        "receipt_id",
        "po_id",
        "movement_id",
        "batch_id",
        "edge_id",
        "result_id",
        "sale_id",
        "job_id",
    ]


def test_layouts_are_checked_for_kind_columns_ids_and_overlapping_patterns(tmp_path: Path):
    data = _data()
    data["file_layouts"] = [
        {"id": "scada", "format": "csv_long", "pattern": "*.csv"},
    ]
    layouts = data["materials"]["layouts"]
    layouts[0]["kind"] = "reciepts"
    layouts[1]["columns"] = {"qty": "Quantity", "unit_prise": "Price"}
    layouts[2]["id"] = "scada"
    layouts[3]["format"] = "xls"
    problems = _problems(data, tmp_path)
    assert "receipts" in _only(problems, "materials.layouts[0].kind")
    assert "purchase_orders have no column 'unit_prise' (did you mean 'unit_price'?)" in _only(
        problems, "materials.layouts[1]"
    )
    assert "'csv', 'excel' or 'json'" in _only(problems, "materials.layouts[3].format")
    assert len(problems) == 3, problems

    data = _data()
    data["file_layouts"] = [{"id": "scada", "format": "csv_long", "pattern": "*.csv"}]
    data["materials"]["layouts"][2]["id"] = "scada"
    data["materials"]["layouts"].append(
        {"id": "more_receipts", "kind": "receipts", "pattern": "receipts_*.csv", "format": "csv"}
    )
    problems = _problems(data, tmp_path)
    assert _only(problems, "materials.layouts[2].id").endswith(
        "layout id 'scada' is used at file_layouts[0]"
    )
    overlaps = [p for p in problems if "overlaps" in p]
    # every csv layout overlaps the readings' *.csv; the second receipts layout the first too
    assert any(
        "materials.layouts[8].pattern: pattern 'receipts_*.csv' overlaps 'receipts_*.csv' of "
        "layout 'mat_receipts'" in p
        for p in overlaps
    ), overlaps
    assert any(
        "materials.layouts[0].pattern: pattern 'receipts_*.csv' overlaps '*.csv'" in p
        for p in overlaps
    )
    assert not any("layouts[3].pattern" in p for p in overlaps)  # batches_*.xlsx


def test_a_layout_may_rename_columns():
    data = _data()
    data["materials"]["layouts"][0]["columns"] = {"receipt_id": "GRN", "qty": "Quantity"}
    site = parse_site_text(_text(data))
    layout = site.materials.layouts[0]
    assert (layout.header("receipt_id"), layout.header("qty"), layout.header("lot_id")) == (
        "GRN",
        "Quantity",
        "lot_id",
    )


def test_the_documented_example_is_a_valid_site():
    doc = (Path(__file__).parents[2] / "docs" / "materials.md").read_text()
    block = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    data = yaml.safe_load(SMALL_SITE.read_text())
    data["materials"] = yaml.safe_load(block)["materials"]
    site = parse_site_text(_text(data))
    [oil] = [
        r
        for r in site_tables(site)["materials_recipe_inputs"].to_pylist()
        if r["material_id"] == "olive_oil"
    ]
    assert oil["qty_base"] == pytest.approx(4.55, rel=1e-12)
    assert [lay.kind for lay in site.materials.layouts] == ["receipts", "batches", "lot_edges"]
