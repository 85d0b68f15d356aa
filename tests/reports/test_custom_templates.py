"""Custom report templates on the hand-computed site: the figures match the hand-checked balances,
hostile templates are refused with their file and line (or neutralised), and the PDF, the
workbook and the page previews are what the template asks for."""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from cli.main import cli
from reports.custom.data import CustomDataError
from reports.custom.dates import resolve_period
from reports.custom.model import TemplateError, load_template
from reports.custom.render import render_html, render_pdf
from reports.custom.service import (
    LIBRARY,
    CustomReportError,
    find_template,
    generate,
    library_names,
    prepare,
    preview,
)
from reports.registry import Registry
from siteledger.settings import get_settings
from siteledger.state import StateStore
from tests.dbt.hand_expected import (
    CLOSURE_M3,
    DAM_ERROR_M3,
    DAM_INFLOW_M3,
    DAM_OUTFLOW_M3,
    DAYS,
    FLOW_M3,
    INPUTS_M3,
    PLANT_ERROR_M3,
)
from tests.dbt.hand_lake import D2
from tests.dbt.runner import shared_home

SITE = "hand_site"
RANGE = "2025-07-01..2025-07-03"  # the three hand-computed days


def _build_hand_home(home: Path) -> None:
    """The hand site's lake, built by dbt (models only) and published (~25 s)."""
    from siteledger.warehouse import Warehouse
    from tests.dbt.homes import add_hand_site
    from tests.dbt.runner import run_dbt

    add_hand_site(home)
    run_dbt(home, "run")
    settings = get_settings(home)
    settings.ensure_dirs()
    store = StateStore(settings.state_store_url)
    Warehouse(settings, store).publish(["marts"], note="tests/reports custom templates")
    store.dispose()


@pytest.fixture(scope="module")
def hand_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_home(tmp_path_factory, "custom_templates_hand", _build_hand_home)


@pytest.fixture
def home(hand_home: Path, tmp_path: Path) -> Path:
    """A copy of the published warehouse with a state store of its own."""
    target = tmp_path / "home"
    (target / "warehouse").mkdir(parents=True)
    shutil.copy(
        hand_home / "warehouse" / "siteledger.duckdb",
        target / "warehouse" / "siteledger.duckdb",
    )
    return target


BASE: dict[str, Any] = {
    "name": "hand_facilities",
    "title": "Facilities of {site_name}",
    "facilities": {"sites": [SITE], "nodes": ["dam", "plant"]},
    "period": RANGE,
    "branding": {"logo": "logo.png", "accent_colour": "#336699", "footer": "{period}"},
    "pages": [
        {
            "title": "Balances",
            "elements": [
                {
                    "type": "metric",
                    "id": "inputs",
                    "label": "Water in",
                    "mart": "fct_site_balance_daily",
                    "column": "inputs_m3",
                    "unit": "m³",
                },
                {
                    "type": "metric",
                    "id": "days_over",
                    "label": "Days over 1 %",
                    "mart": "fct_site_balance_daily",
                    "column": "closure_error_pct",
                    "aggregate": "count",
                    "where": "closure_error_pct > 1",
                    "formatting": [{"when": "value > 0", "colour": "#f4cccc"}],
                },
                {"type": "text", "text": "{site_name} took in {inputs} over {period}."},
                {
                    "type": "table",
                    "title": "Facility days",
                    "mart": "fct_node_balance_daily",
                    "columns": ["day", "node_id", "inflow_m3", "outflow_m3", "balance_error_m3"],
                    "sort": ["day", "node_id"],
                    "formatting": [
                        {"when": "balance_error_m3 > 100", "colour": "#ea9999"},
                        {
                            "when": "abs(balance_error_m3) > 10",
                            "colour": "#f4cccc",
                            "column": "balance_error_m3",
                        },
                    ],
                },
                {
                    "type": "chart",
                    "kind": "line",
                    "title": "Inflow by facility",
                    "mart": "fct_node_balance_daily",
                    "x": "day",
                    "y": ["inflow_m3"],
                    "series": "node_id",
                },
            ],
        },
        {
            "title": "Exceptions",
            "elements": [
                {
                    "type": "table",
                    "title": "Days over 1 %",
                    "mart": "fct_site_balance_daily",
                    "columns": ["day", "closure_error_m3", "closure_error_pct"],
                    "where": "closure_error_pct > 1",
                },
                {"type": "sankey", "title": "Flows"},
            ],
        },
    ],
}
PNG = b"\x89PNG\r\n\x1a\n"


def _png(path: Path) -> None:
    """A real 2x2 PNG (Pillow ships with WeasyPrint)."""
    from PIL import Image

    Image.new("RGB", (2, 2), (31, 78, 121)).save(path)


def write_template(folder: Path, body: dict[str, Any] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _png(folder / "logo.png")
    (folder / "template.yaml").write_text(yaml.safe_dump(body or BASE, sort_keys=False))
    return folder


def _expected_node_rows() -> list[list[Any]]:
    rows = []
    for day in DAYS:
        rows.append(
            [day.isoformat(), "dam", DAM_INFLOW_M3[day], DAM_OUTFLOW_M3[day], DAM_ERROR_M3[day]]
        )
        rows.append(
            [
                day.isoformat(),
                "plant",
                FLOW_M3[("dam_to_plant", day)],
                FLOW_M3[("plant_to_tailings", day)],
                PLANT_ERROR_M3[day],
            ]
        )
    return rows


def _elements(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for page in payload["pages"] for e in page["elements"]]


def test_template_reproduces_the_hand_checked_table_chart_and_metrics(
    home: Path, tmp_path: Path
) -> None:
    folder = write_template(tmp_path / "tpl")
    _, payloads = prepare(get_settings(home), folder, None)
    assert len(payloads) == 1
    payload, rng = payloads[0]
    assert (rng.start, rng.end) == (DAYS[0], DAYS[-1])
    metric_in, metric_days, text, table, chart, exceptions, sankey = _elements(payload)

    # metric cards: sum of the site's daily inputs; days with closure above 1 % (only D2)
    assert metric_in["value"] == pytest.approx(sum(INPUTS_M3.values()), abs=1e-6)
    assert metric_in["text"] == f"{sum(INPUTS_M3.values()):,.0f} m³"
    assert metric_days["value"] == 1.0 and metric_days["colour"] == "#f4cccc"
    assert text["text"] == f"Hand-Computed Test Site took in {metric_in['text']} over {rng.label}."

    # the table: two facilities, three days, row by row against the hand balances
    assert table["columns"] == ["day", "node_id", "inflow_m3", "outflow_m3", "balance_error_m3"]
    assert table["total_rows"] == 6
    for got, want in zip(table["rows"], _expected_node_rows(), strict=True):
        assert got[:2] == want[:2]
        assert got[2:] == pytest.approx(want[2:], abs=1e-6)
    # formatting: the plant's D2 error (120 m3) fills its row; its 20 m3 days the error cell only
    fills = {(r[0], r[1]): f for r, f in zip(table["rows"], table["fills"], strict=True)}
    assert fills[(D2.isoformat(), "plant")] == ["#ea9999"] * 5
    assert fills[(DAYS[0].isoformat(), "plant")] == [None, None, None, None, "#f4cccc"]
    assert fills[(DAYS[0].isoformat(), "dam")] == [None] * 5

    # the chart: one line per facility, its points the hand inflows
    assert [s["name"] for s in chart["series"]] == ["dam", "plant"]
    dam, plant = chart["series"]
    assert dam["points"] == [[d.isoformat(), pytest.approx(DAM_INFLOW_M3[d])] for d in DAYS]
    assert plant["points"] == [
        [d.isoformat(), pytest.approx(FLOW_M3[("dam_to_plant", d)])] for d in DAYS
    ]

    # "only days with closure error above 1 %": D2 alone, its closure the hand one
    assert len(exceptions["rows"]) == 1
    day, closure, pct = exceptions["rows"][0]
    assert day == D2.isoformat()
    assert closure == pytest.approx(CLOSURE_M3[D2], abs=1e-6)
    assert pct == pytest.approx(100 * CLOSURE_M3[D2] / INPUTS_M3[D2], abs=1e-9)

    # the Sankey: the site's flows over the month, river to dam among them
    river = next(f for f in sankey["flows"] if f["flow_id"] == "river_to_dam")
    assert river["volume"] == pytest.approx(sum(FLOW_M3[("river_to_dam", d)] for d in DAYS))


def test_rendered_pdf_and_workbook_are_registered(home: Path, tmp_path: Path) -> None:
    folder = write_template(tmp_path / "tpl")
    settings = get_settings(home)
    store = StateStore(settings.state_store_url)
    (outcome,) = generate(settings, store, folder, None)
    assert outcome.action == "created" and outcome.errors == []
    record = outcome.record
    assert record.definition_id == "custom:hand_facilities"
    assert (record.site_id, record.period_key, record.version) == (SITE, RANGE, 1)
    assert record.status == "validated"
    assert outcome.refused_urls == []  # the logo was served from the folder, nothing else asked
    pdf = Path(record.artifacts["pdf"]["path"])
    xlsx = Path(record.artifacts["xlsx"]["path"])
    import hashlib

    assert hashlib.sha256(pdf.read_bytes()).hexdigest() == record.artifacts["pdf"]["sha256"]
    assert pdf.read_bytes().startswith(b"%PDF")
    assert outcome.pdf_pages == 2
    pdftotext = shutil.which("pdftotext")
    if pdftotext is not None:  # the words on the pages, as a reader sees them
        import subprocess

        text = subprocess.run(
            [pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "Facilities of Hand-Computed Test Site" in text
        assert f"{sum(INPUTS_M3.values()):,.0f} m³" in text  # 18,680 m³
        assert "Hand-Computed Test Site took in 18,680 m³ over 01 Jul 2025 – 03 Jul 2025." in text
        assert "fct_node_balance_daily: 6 of 6 rows shown." in text

    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == [
        "Report",
        "Metrics",
        "Facility days",
        "Inflow by facility data",
        "Days over 1 %",
        "Flows",
    ]
    rows = list(book["Facility days"].iter_rows(values_only=True))
    assert rows[0] == ("day", "node_id", "inflow_m3", "outflow_m3", "balance_error_m3")
    for got, want in zip(rows[1:], _expected_node_rows(), strict=True):
        assert list(got[:2]) == want[:2]
        assert list(got[2:]) == pytest.approx(want[2:], abs=1e-6)
    plant_d2 = next(
        i for i, r in enumerate(rows) if r[:2] == (D2.isoformat(), "plant")
    )  # the header is row 1: data row i is sheet row i + 1
    assert book["Facility days"].cell(plant_d2 + 1, 1).fill.start_color.rgb.endswith("EA9999")
    metrics = {r[0]: r[2] for r in book["Metrics"].iter_rows(min_row=2, values_only=True)}
    assert metrics["inputs"] == pytest.approx(sum(INPUTS_M3.values()))
    report = dict(book["Report"].iter_rows(min_row=2, values_only=True))
    assert report["report_id"] == record.report_id

    # the same figures and template again: no new version
    (again,) = generate(settings, store, folder, None)
    assert again.action == "unchanged" and again.record.report_id == record.report_id
    assert [r.report_id for r in Registry(store).list(definition_id=record.definition_id)] == [
        record.report_id
    ]
    # a changed template (its fingerprint) makes version 2
    body = copy.deepcopy(BASE)
    body["title"] = "Facility days of {site_name}"
    write_template(folder, body)
    (changed,) = generate(settings, store, folder, None)
    assert changed.action == "created" and changed.record.version == 2


def _problem(folder: Path) -> str:
    with pytest.raises(TemplateError) as info:
        load_template(folder)
    return str(info.value)


def _with(path: list[Any], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(BASE)
    node: Any = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return body


@pytest.mark.parametrize(
    ("path", "value", "message", "line"),
    [
        (["branding", "logo"], "../../etc/passwd", "leads out of the template's folder", 11),
        (["branding", "logo"], "/etc/passwd", "is an absolute path", 11),
        (["branding", "logo"], "http://203.0.113.9/logo.png", "is a URL", 11),
        (["branding", "logo"], "file:///etc/passwd", "is a URL", 11),
        (["branding", "font"], "https://fonts.example.com/a.woff2", "is a URL", None),
        (["branding", "logo"], "missing.png", "no such file", 11),
        (["branding", "logo"], "template.yaml", "file types allowed here", 11),
        (["title"], "{{ ''.__class__.__mro__ }}", "template syntax is not run", 2),
        (["title"], "Report for {password}", "unknown placeholder {password}", 2),
        (
            ["pages", 0, "elements", 2, "text"],
            "{{ ''.__class__.__mro__[1].__subclasses__() }}",
            "template syntax is not run",
            None,
        ),
        (["pages", 0, "elements", 2, "text"], "{% for x in range(10**9) %}", "not run", None),
        (
            ["pages", 0, "elements", 3, "sort", 0],
            "day desc; select 1",
            "is not a column name",
            None,
        ),
        (
            ["pages", 0, "elements", 1, "where"],
            "__import__('os')",
            "'__import__' is not allowed",
            None,
        ),
        (
            ["pages", 0, "elements", 1, "where"],
            "closure_error_pct > 1 and os.system('id')",
            "is not allowed",
            None,
        ),
        (["pages", 0, "elements", 3, "limit"], 10**6, "less than or equal to 2000", None),
        (
            ["pages", 0, "elements", 3, "columns", 1],
            "node_id; drop table dim_sites",
            "is not a column name",
            None,
        ),
        (["pages", 0, "elements", 3, "mart"], "main.fct_x --", "is not a published mart", None),
        (["pages"], [{"elements": [{"type": "text", "text": "x"}]}] * 21, "21 pages", 14),
        (["period"], "next_century", "is not a period", 9),
    ],
)
def test_hostile_templates_are_refused_with_file_and_line(
    tmp_path: Path, path: list[Any], value: Any, message: str, line: int | None
) -> None:
    folder = write_template(tmp_path / "tpl", _with(path, value))
    text = _problem(folder)
    assert message in text
    where = str(folder / "template.yaml")
    assert where in text
    if line is not None:
        assert f"template.yaml:{line}:" in text


def test_a_logo_linking_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    folder = write_template(tmp_path / "tpl", _with(["branding", "logo"], "logo_link.png"))
    outside = tmp_path / "secret.png"
    _png(outside)
    (folder / "logo_link.png").symlink_to(outside)
    assert "is a link leading out of the template's folder" in _problem(folder)


def test_a_file_that_is_not_what_its_name_says_is_refused(tmp_path: Path) -> None:
    folder = write_template(tmp_path / "tpl")
    (folder / "logo.png").write_text("root:x:0:0:root:/root:/bin/bash\n")
    assert "is not a image/png file" in _problem(folder)


def test_a_million_pages_cost_nothing(tmp_path: Path) -> None:
    # as JSON: over the file size limit; as YAML aliases (10 x 10 x ... = 10^6): over the
    # node limit; both refused before any model is built
    folder = tmp_path / "json"
    folder.mkdir()
    body = {**BASE, "pages": [{"elements": [{"type": "text", "text": "x"}]}] * 10**6}
    (folder / "template.json").write_text(json.dumps(body))
    assert "the limit is 262144" in _problem(folder)
    folder = tmp_path / "aliases"
    folder.mkdir()
    lines = ["a0: &a0 {elements: [{type: text, text: x}]}"]
    for i in range(1, 7):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    (folder / "template.yaml").write_text(
        "\n".join(lines) + "\nname: x\ntitle: x\nfacilities: {sites: [x]}\npages: *a6\n"
    )
    assert "YAML expands to more than" in _problem(folder)


def test_unknown_column_and_mart_are_named_with_a_suggestion(home: Path, tmp_path: Path) -> None:
    body = _with(["pages", 0, "elements", 3, "columns", 2], "inflow_m4")
    body["pages"][1]["elements"][0]["mart"] = "fct_site_balance_dayly"
    body["pages"][0]["elements"][1]["where"] = "closure_err_pct > 1"
    folder = write_template(tmp_path / "tpl", body)
    with pytest.raises(TemplateError) as info:
        prepare(get_settings(home), folder, None)
    text = str(info.value)
    assert "pages[0].elements[3].columns[2]: unknown column of fct_node_balance_daily " in text
    assert "'inflow_m4'; did you mean 'inflow_m3'?" in text
    assert "unknown mart 'fct_site_balance_dayly'; did you mean 'fct_site_balance_daily'?" in text
    assert "unknown name 'closure_err_pct'; did you mean 'closure_error_pct'?" in text
    assert len(info.value.problems) == 3
    assert all(p.line for p in info.value.problems)


def test_template_text_is_shown_never_run(home: Path, tmp_path: Path) -> None:
    """Past the validator (a payload built by hand), text is still a value of the sandboxed,
    autoescaping template: Jinja syntax, markup and URLs come out as the characters written."""
    folder = write_template(tmp_path / "tpl")
    loaded, payloads = prepare(get_settings(home), folder, None)
    payload = payloads[0][0]
    hostile = "{{ ''.__class__.__mro__ }} {% for x in range(10**9) %}{% endfor %}"
    payload["pages"][0]["elements"][2]["text"] = hostile
    payload["pages"][0]["title"] = '<img src="file:///etc/passwd"><link href="http://x/a.css">'
    header = {
        "report_id": "r",
        "status": "validated",
        "validation_errors": [],
        "generated_at": "now",
        "branding": loaded.template.branding.model_dump(),
    }
    html = render_html(payload, header, loaded.assets)
    assert "{{ &#39;&#39;.__class__.__mro__ }}" in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    assert "<class" not in html and '<img src="file:' not in html
    _, refused, pages = render_pdf(html, loaded.assets)
    assert refused == [] and pages == 2


def test_an_svg_logo_reaching_out_is_drawn_without_its_reference(
    home: Path, tmp_path: Path
) -> None:
    folder = write_template(tmp_path / "tpl", _with(["branding", "logo"], "logo.svg"))
    (folder / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">'
        '<image href="http://127.0.0.1:9/steal.png" width="20" height="20"/>'
        '<image href="file:///etc/passwd" width="20" height="20"/></svg>'
    )
    settings = get_settings(home)
    (outcome,) = generate(settings, StateStore(settings.state_store_url), folder, None)
    assert outcome.errors == []
    assert sorted(outcome.refused_urls) == ["file:///etc/passwd", "http://127.0.0.1:9/steal.png"]


def test_a_chart_past_its_point_limit_is_refused(home: Path, tmp_path: Path) -> None:
    body = _with(["pages", 0, "elements", 4, "max_points"], 5)
    folder = write_template(tmp_path / "tpl", body)
    with pytest.raises(CustomDataError, match="would draw 6 points; its limit is 5"):
        prepare(get_settings(home), folder, None)


def test_relative_periods_use_the_financial_year() -> None:
    today = dt.date(2026, 2, 10)
    assert resolve_period("last_month", 7, today).key == "2026-01"
    assert resolve_period("last_quarter", 7, today).key == "FY2026-Q2"
    last_fy = resolve_period("last_financial_year", 7, today)
    assert (last_fy.key, last_fy.start, last_fy.end) == (
        "FY2025",
        dt.date(2024, 7, 1),
        dt.date(2025, 6, 30),
    )
    assert resolve_period("this_month", 7, today).end == today


def test_library_templates_render_and_preview_every_page(home: Path, tmp_path: Path) -> None:
    assert library_names() == [
        "closure_error_exceptions",
        "monthly_facility_summary",
        "quarterly_water_overview",
    ]
    settings = get_settings(home)
    for name in library_names():
        pngs = preview(settings, LIBRARY / name, "2025-07", tmp_path / "png")
        assert pngs, name
        for png in pngs:
            assert png.read_bytes().startswith(PNG)
    names = sorted(p.name for p in (tmp_path / "png").iterdir())
    assert "monthly_facility_summary_hand_site_2025-07-2.png" in names
    # a home's own templates are found by name before the library's
    own = settings.reports_dir / "custom" / "closure_error_exceptions"
    shutil.copytree(LIBRARY / "closure_error_exceptions", own)
    assert find_template("closure_error_exceptions", settings) == own
    assert (
        find_template("quarterly_water_overview", settings) == LIBRARY / "quarterly_water_overview"
    )
    with pytest.raises(CustomReportError, match=r"no template '\.\./x'"):
        find_template("../x", settings)


def test_cli_custom_and_preview(home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(
        cli,
        [
            "--home",
            str(home),
            "reports",
            "custom",
            "closure_error_exceptions",
            "--period",
            "2025-07",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "custom:closure_error_exceptions" in result.output
    files = sorted(p.name for p in out.iterdir())
    assert files == [
        "closure_error_exceptions_hand_site_2025-07_v1.pdf",
        "closure_error_exceptions_hand_site_2025-07_v1.xlsx",
    ]
    book = openpyxl.load_workbook(out / files[1])
    assert book.sheetnames[:3] == ["Report", "Metrics", "Days over the site's closure th"]
    rows = list(book.worksheets[2].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == [D2.isoformat()]  # only D2 is over the site's 1 %

    result = runner.invoke(
        cli,
        [
            "--home",
            str(home),
            "reports",
            "preview",
            "monthly_facility_summary",
            "--period",
            "2025-07",
            "--out",
            str(tmp_path / "png"),
        ],
    )
    assert result.exit_code == 0, result.output
    printed = result.output.split()
    assert len(printed) == 2 and all(Path(p).read_bytes().startswith(PNG) for p in printed)

    bad = write_template(tmp_path / "bad", _with(["branding", "logo"], "../../etc/passwd"))
    result = runner.invoke(cli, ["--home", str(home), "reports", "custom", str(bad)])
    assert result.exit_code == 1
    assert "leads out of the template's folder" in result.output
    assert "template.yaml:11: branding.logo:" in result.output


def test_preview_without_a_rasteriser_says_what_to_install(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reports.custom.service as service

    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.7\n")
    monkeypatch.setattr(service.shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "pypdfium2", None)
    with pytest.raises(service.CustomReportError, match=r"pdftoppm .* or the pypdfium2 package"):
        service.pdf_to_png(pdf, tmp_path / "png", "x")


def test_the_templates_font_and_logo_are_served_from_its_folder_only(
    home: Path, tmp_path: Path
) -> None:
    from weasyprint import HTML

    from reports.custom.render import TemplateAssetFetcher

    font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf")
    if not font.exists():
        pytest.skip("no DejaVu Sans Condensed font file on this machine")
    folder = write_template(tmp_path / "tpl", _with(["branding", "font"], "fonts/brand.ttf"))
    (folder / "fonts").mkdir()
    shutil.copy(font, folder / "fonts" / "brand.ttf")
    loaded, payloads = prepare(get_settings(home), folder, None)
    header = {
        "report_id": "r",
        "status": "validated",
        "validation_errors": [],
        "generated_at": "now",
        "branding": loaded.template.branding.model_dump(),
    }
    html = render_html(payloads[0][0], header, loaded.assets)
    fetcher = TemplateAssetFetcher(loaded.assets)
    document = HTML(string=html, base_url=None, url_fetcher=fetcher).render()
    assert sorted(set(fetcher.served)) == ["siteledger-asset:font", "siteledger-asset:logo"]
    assert fetcher.refused == []
    pdf = tmp_path / "out.pdf"
    document.write_pdf(pdf)
    pdffonts = shutil.which("pdffonts")
    if pdffonts is not None:
        import subprocess

        fonts = subprocess.run([pdffonts, str(pdf)], capture_output=True, text=True, check=True)
        assert "+TemplateFont-Semi-Condensed" in fonts.stdout  # embedded, used for the text
