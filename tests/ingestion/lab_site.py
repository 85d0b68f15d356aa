"""The small test site with water quality settings: a discharge point on the creek flow with
licence limits, a treatment pair and a monitoring point, and lab layouts (CSV and Excel)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import openpyxl

from siteledger.site.models import SiteConfig
from tests.ingestion.hostile.home import small_site

WATER_QUALITY: dict[str, Any] = {
    "sample_points": [
        {"id": "SP-DIS", "name": "Creek discharge", "flow": "dam_to_creek", "role": "discharge"},
        {"id": "SP-TIN", "name": "Plant feed", "flow": "dam_to_plant", "role": "treatment_in"},
        {"id": "SP-TOUT", "name": "Dam", "node": "dam", "role": "treatment_out"},
        {"id": "SP-BORE", "flow": "bores_to_dam", "role": "monitoring"},
    ],
    "limits": [
        {
            "id": "L-TDS",
            "sample_point": "SP-DIS",
            "parameter": "tds",
            "max": 1500,
            "reference": "L1/2020 c.1",
        },
        {"id": "L-PH", "sample_point": "SP-DIS", "parameter": "ph", "min": 6.5, "max": 8.5},
        {"id": "L-CU", "sample_point": "SP-DIS", "parameter": "cu", "max": 20, "unit": "ug/L"},
        {
            "id": "L-SO4-M",
            "sample_point": "SP-DIS",
            "parameter": "so4",
            "max": 400,
            "basis": "monthly_mean",
        },
    ],
    "treatments": [{"id": "T-1", "inlet": "SP-TIN", "outlet": "SP-TOUT"}],
    "lab_layouts": [
        {"id": "lab_edd", "format": "lab_csv", "pattern": "lab_edd_*.csv"},
        {
            "id": "lab_xlsx",
            "format": "lab_excel",
            "pattern": "lab_results_*.xlsx",
            "sheet": "Results",
            "header_row": 2,
            "timestamp_column": "Sampled",
            "sample_point_column": "Point",
            "parameter_column": "Analyte",
            "value_column": "Result",
            "unit_column": "Units",
            "qualifier_column": "",
            "lab_column": "Lab",
            "method_column": "Method",
            "sample_id_column": "Sample ID",
        },
    ],
}


def lab_site(data_start: dt.date | None = dt.date(2024, 1, 1), **wq: Any) -> SiteConfig:
    data = small_site().model_dump(by_alias=True)
    data["site"]["data_start"] = data_start
    data["water_quality"] = {**WATER_QUALITY, **wq}
    return SiteConfig.model_validate(data)


EDD_HEADER = "sample_point,sampled_at,parameter,value,unit,qualifier,lab,method,sample_id\n"


def lab_workbook(rows: list[tuple[Any, ...]], formula_row: int | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Results"
    sheet.append(["Lab report - certificate 123"])
    sheet.append(["Point", "Sampled", "Analyte", "Result", "Units", "Lab", "Method", "Sample ID"])
    for row in rows:
        sheet.append(list(row))
    if formula_row is not None:
        sheet.cell(row=formula_row, column=4).value = "=1+2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
