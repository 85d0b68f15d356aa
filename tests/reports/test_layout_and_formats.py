"""What a reader sees: number formats in Excel, the draft watermark on every page, names and
units in the PDF text."""

from __future__ import annotations

import io
import shutil
import subprocess
from typing import Any

import pytest
from openpyxl import load_workbook

from reports.render.html import render_html, render_pdf
from reports.render.tabular import render_xlsx
from tests.reports.sample import sample_header, sample_payload


def _numeric_cells_without_format(data: bytes) -> list[str]:
    wb = load_workbook(io.BytesIO(data))
    bad = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value: Any = cell.value
                if isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                if cell.number_format == "General":
                    bad.append(f"{ws.title}!{cell.coordinate}={value!r}")
    return bad


@pytest.mark.parametrize("definition_id", ["annual_water_report", "monthly_sustainability_report"])
def test_every_numeric_excel_cell_has_a_number_format(definition_id: str):
    payload = sample_payload(definition_id)
    data = render_xlsx(payload, sample_header(definition_id))
    assert _numeric_cells_without_format(data) == []


def test_the_comparison_months_use_the_volume_format_of_the_summary():
    payload = sample_payload("annual_water_report")
    wb = load_workbook(io.BytesIO(render_xlsx(payload, sample_header("annual_water_report"))))
    ws = wb["Comparison"]
    header_row = next(r for r in ws.iter_rows() if r[0].value == "Month")
    month_row = ws[header_row[0].row + 1]
    labels = [c.value for c in header_row]
    formats = {labels[i]: month_row[i].number_format for i in range(1, len(labels))}
    # volumes as in the other sheets (this definition reports in ML: one decimal)
    assert payload["definition"]["unit"] == "ML"
    assert formats["Total inputs (withdrawal)"] == "#,##0.0"
    assert all(f != "General" for f in formats.values())


def _pdf_pages_text(pdf: bytes, tmp_path) -> list[str]:  # type: ignore[no-untyped-def]
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return text.split("\f")[:-1]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler) not installed")
@pytest.mark.parametrize("status", ["draft", "rejected"])
def test_every_page_of_a_draft_or_rejected_report_says_so(status: str, tmp_path):
    payload = sample_payload("annual_water_report")
    header = {**sample_header("annual_water_report"), "status": status}
    pdf, _, n_pages = render_pdf(render_html(payload, header))
    pages = _pdf_pages_text(pdf, tmp_path)
    assert len(pages) == n_pages > 3
    word = status.upper()
    assert [i + 1 for i, page in enumerate(pages) if word not in page] == []


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler) not installed")
def test_a_validated_report_carries_no_watermark(tmp_path):
    payload = sample_payload("annual_water_report")
    header = {**sample_header("annual_water_report"), "status": "validated"}
    pdf, _, _ = render_pdf(render_html(payload, header))
    pages = _pdf_pages_text(pdf, tmp_path)
    assert not any("DRAFT" in page for page in pages)


def _payload_with_unnamed_flows(definition_id: str) -> dict[str, Any]:
    """A synthetic site whose discharge flows have no name in the site file: the site tables
    then carry the flow id as the name."""
    from demo.report_data import synthetic_site
    from reports.data import build_payload
    from tests.reports.sample import _definition

    data = synthetic_site(n_stores=3, n_months=12)
    for row in data.sankey:
        if row["flow_id"].endswith("_discharge"):
            row["flow_name"] = row["flow_id"]
    definition = _definition(definition_id)
    return build_payload(data, definition, data.periods(definition)[0])


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler) not installed")
def test_flows_without_a_name_are_shown_by_their_ends_never_by_their_id(tmp_path):
    payload = _payload_with_unnamed_flows("quarterly_discharge_report")
    discharge = next(f for f in payload["discharges"] if f["flow_id"] == "store_01_discharge")
    assert discharge["name"] == f"{discharge['source_name']} → {discharge['target_name']}"
    header = sample_header("quarterly_discharge_report")
    pdf, _, _ = render_pdf(render_html(payload, header))
    text = " ".join(" ".join(_pdf_pages_text(pdf, tmp_path)).split())
    for f in payload["discharges"]:
        assert f["flow_id"] not in text
    assert discharge["source_name"] in text


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler) not installed")
@pytest.mark.parametrize(
    "definition_id", ["monthly_water_return", "annual_water_report", "quarterly_discharge_report"]
)
def test_pdf_text_writes_cubic_metres_one_way(definition_id: str, tmp_path):
    payload = sample_payload(definition_id)
    pdf, _, _ = render_pdf(render_html(payload, sample_header(definition_id)))
    pages = _pdf_pages_text(pdf, tmp_path)
    found = [(i + 1, line.strip()) for i, p in enumerate(pages) for line in p.splitlines()]
    assert [(n, line) for n, line in found if "m3" in line] == []
    assert any("m³" in line for _, line in found)


def test_a_one_month_report_does_not_speak_of_every_month():
    notes = sample_payload("monthly_water_return")["data_quality"]["notes"]
    assert not any("every month" in n for n in notes)
    assert "Closure within the site threshold in July 2025." in notes
    year = sample_payload("annual_water_report")["data_quality"]["notes"]
    assert "Monthly closure within the site threshold in each of the 12 months." in year


def _page_fill(pdf: bytes, tmp_path) -> list[float]:  # type: ignore[no-untyped-def]
    """How far down each page's body the text reaches (0 = empty, 1 = to the footer)."""
    import re

    path = tmp_path / "fill.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    fills = []
    for height, body in re.findall(
        r'<page width="[\d.]+" height="([\d.]+)">(.*?)</page>', out, re.S
    ):
        top, bottom = float(height) * 22 / 297, float(height) * 277 / 297  # the page margins
        ys = [float(y) for y in re.findall(r'yMax="([\d.]+)"', body)]
        ys = [y for y in ys if top < y < bottom - 1]  # not the running header and footer
        fills.append((max(ys) - top) / (bottom - top) if ys else 0.0)
    return fills


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler) not installed")
@pytest.mark.parametrize("definition_id", ["monthly_water_return", "quarterly_discharge_report"])
def test_no_page_is_left_half_empty_before_the_next_section(definition_id: str, tmp_path):
    payload = sample_payload(definition_id)
    pdf, _, _ = render_pdf(render_html(payload, sample_header(definition_id)))
    fills = _page_fill(pdf, tmp_path)
    # the cover and the last page aside, every page is filled to at least 60 % of its body
    assert [(i + 2, round(f, 2)) for i, f in enumerate(fills[1:-1]) if f < 0.6] == []


def _with_sustainability(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with a sustainability block as the published marts give it: one scored
    metric, one detected discharge incident on a flow."""
    flow = next(f for f in payload["flows"] if f["flow_id"].endswith("_discharge"))
    payload["definition"]["sections"] = ["sustainability"]
    payload["sustainability"] = {
        "available": True,
        "index": {"value": 70.0, "rank": 1, "n_sites_ranked": 1, "n_components_scored": 1,
                  "n_components": 1, "weight_covered_pct": 100.0},
        "metrics": [
            {"metric": "recycled_share", "label": "Recycling ratio", "unit": "%", "value": 38.7,
             "previous": 40.1, "change_vs_previous_pct": -3.5, "last_year": None,
             "change_vs_last_year_pct": None, "weight": 1.0, "score": 31.0},
        ],
        "goals": [],
        "discharge_limits": None,
        "air": [],
        "incidents": [
            {"source": "detected", "incident_id": "x", "incident_type": "discharge",
             "node_id": None, "flow_id": flow["flow_id"], "started_day": "2025-08-15",
             "ended_day": "2025-08-15", "volume_m3": None, "severity": "high",
             "status": "contained", "is_reported_to_authority": False, "reported_on": None,
             "description": "discharge outside its licence"},
        ],
    }  # fmt: skip
    return payload


def test_every_numeric_cell_of_the_sustainability_sheets_has_a_number_format():
    payload = _with_sustainability(sample_payload("annual_water_report"))
    data = render_xlsx(payload, sample_header("annual_water_report"))
    assert _numeric_cells_without_format(data) == []


def test_an_incident_is_placed_by_the_flows_name_not_its_id():
    payload = _with_sustainability(sample_payload("annual_water_report"))
    flow = next(f for f in payload["flows"] if f["flow_id"].endswith("_discharge"))
    html = render_html(payload, sample_header("annual_water_report"))
    row = html[html.index("detected from the data") :].split("</tr>")[0]
    assert flow["name"] in row and flow["flow_id"] not in row
