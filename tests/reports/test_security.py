"""Templates cannot reach Python internals; the PDF renderer fetches nothing; spreadsheets do not
evaluate text; XML is read without external entities."""

from __future__ import annotations

import csv
import http.server
import io
import json
import subprocess
import threading
from pathlib import Path
from typing import ClassVar

import pytest
from openpyxl import load_workbook

from reports.render.html import TEMPLATES, TemplateRenderError, render_html, render_pdf
from reports.render.tabular import (
    XmlValidationError,
    render_csv,
    render_xlsx,
    render_xml,
    safe_text,
    validate_xml,
)
from tests.reports.sample import sample_header, sample_payload


def _custom(tmp_path: Path, body: str) -> list[Path]:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    (folder / "custom.html.j2").write_text(body)
    return [folder, TEMPLATES]


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize(
    "expression",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ payload.__class__.__init__.__globals__ }}",
        "{{ vol.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
    ],
)
def test_template_escapes_render_nothing_of_python(tmp_path: Path, expression: str):
    dirs = _custom(tmp_path, f"<p>start</p><p>{expression}</p><p>end</p>")
    try:
        html = render_html(sample_payload(), sample_header(), "custom.html.j2", dirs)
    except TemplateRenderError as exc:
        assert "refused" in str(exc) or "failed" in str(exc)
        return
    assert "start" in html and "end" in html
    for leak in ("<class", "object", "mro", "function", "module", "__builtins__", "posix"):
        assert leak not in html


def test_calling_internals_is_refused(tmp_path: Path):
    dirs = _custom(tmp_path, "{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(TemplateRenderError):
        render_html(sample_payload(), sample_header(), "custom.html.j2", dirs)


def test_a_template_cannot_include_files_outside_the_template_folders(tmp_path: Path):
    dirs = _custom(tmp_path, "{% include '../../../../etc/passwd' %}")
    with pytest.raises(TemplateRenderError):
        render_html(sample_payload(), sample_header(), "custom.html.j2", dirs)


def test_values_are_escaped(tmp_path: Path):
    payload = sample_payload()
    payload["site"]["name"] = '<img src="file:///etc/passwd"><script>alert(1)</script>'
    html = render_html(payload, sample_header())
    assert "<script>" not in html and '<img src="file' not in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html


class _Counting(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self):
        _Counting.hits.append(self.path)
        body = b"LEAKED-FROM-HTTP" if self.path.endswith(".css") is False else b"p{color:red}"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    _Counting.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_pdf_renderer_fetches_no_file_and_no_url(tmp_path: Path, http_server: str):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    html = f"""<html><head>
      <style>@import url("{http_server}/evil.css"); @import url("file://{secret}");
      body {{ background: url("{http_server}/bg.png"); }}</style>
      <link rel="stylesheet" href="{http_server}/linked.css">
      </head><body><p>visible</p>
      <img src="file:///etc/passwd"><img src="file://{secret}">
      <img src="{http_server}/pixel.png"><iframe src="{http_server}/frame"></iframe>
      <object data="file://{secret}"></object>
      </body></html>"""
    pdf, refused, pages = render_pdf(html)
    assert pages == 1
    assert _Counting.hits == []  # the server never saw a request
    text = _pdf_text(pdf, tmp_path)
    assert "visible" in text
    assert "TOP-SECRET" not in text and "root:" not in text and "LEAKED" not in text
    assert b"TOP-SECRET" not in pdf and b"root:x:0" not in pdf
    assert any(u.startswith("file:///etc/passwd") for u in refused)
    assert any(u.startswith(http_server) for u in refused)


def test_the_shipped_template_with_hostile_values_fetches_nothing(tmp_path: Path, http_server):
    payload = sample_payload()
    payload["definition"]["narrative"] = f'<img src="{http_server}/x.png"> @import url(x)'
    payload["site"]["name"] = '<link rel="stylesheet" href="file:///etc/passwd">'
    pdf, refused, _ = render_pdf(render_html(payload, sample_header()))
    assert _Counting.hits == [] and refused == []
    assert "file:///etc/passwd" in _pdf_text(pdf, tmp_path)  # shown as text, never loaded


def test_formula_like_text_is_neutralised_in_excel_and_csv(tmp_path: Path):
    assert safe_text('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert (
        safe_text("+1") == "'+1"
        and safe_text("-2") == "'-2"
        and safe_text("@SUM(A1)") == "'@SUM(A1)"
    )
    assert safe_text(-2.5) == -2.5  # numbers stay numbers
    payload = sample_payload()
    payload["facilities"][0]["name"] = '=cmd|" /C calc"!A0'
    payload["data_quality"]["notes"].append("@SUM(1+1)*cmd|' /C calc'!A0")
    header = sample_header()
    wb = load_workbook(io.BytesIO(render_xlsx(payload, header)))
    names = [c.value for (c,) in wb["Per facility"].iter_rows(min_row=2, min_col=2, max_col=2)]
    assert names[0] == '\'=cmd|" /C calc"!A0'
    notes = [c.value for (c,) in wb["Data quality notes"].iter_rows(min_row=2)]
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in notes
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    payload["site"]["id"] = "=1+1"
    payload["metrics"]["storage_change"] = -1234.5
    rows = list(csv.reader(io.StringIO(render_csv(payload, header).decode())))
    assert all(r[1] == "'=1+1" for r in rows[1:])
    negative = [r for r in rows[1:] if r[7].startswith("-")]
    assert negative, "negative figures stay numbers in the CSV"
    assert all(float(r[7]) < 0 for r in negative)
    assert negative[0][3:] == ["summary", "storage_change", "Change in storage", "ML", "-1.2345"]
    # a carriage return inside a text stays inside its quoted field: no row is split
    payload["site"]["id"] = "north\rpit"
    split = list(csv.reader(io.StringIO(render_csv(payload, header).decode(), newline="")))
    assert len(split) == len(rows) and all(r[1] == "north\rpit" for r in split[1:])


def test_xml_validates_and_is_read_without_external_entities(tmp_path: Path):
    data = render_xml(sample_payload(), sample_header())
    validate_xml(data)
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    hostile = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<report xmlns="urn:siteledger:report:1.0">&x;</report>'
    ).encode()
    with pytest.raises(XmlValidationError) as err:
        validate_xml(hostile)
    assert "TOP-SECRET" not in str(err.value)
    broken = data.replace(b"<periodKind>annual</periodKind>", b"<periodKind>weekly</periodKind>")
    with pytest.raises(XmlValidationError, match="periodKind"):
        validate_xml(broken)


def test_json_is_plain_data(tmp_path: Path):
    from reports.render.tabular import render_json

    doc = json.loads(render_json(sample_payload(), sample_header()))
    assert doc["report"]["report_id"] == sample_header()["report_id"]
    assert doc["metrics"]["inputs"] == sample_payload()["metrics"]["inputs"]
