"""A custom report as PDF and Excel, by the shipped reports' machinery.

The HTML comes from ``templates/custom_report.html.j2`` in the sandboxed, autoescaping Jinja
environment of :mod:`reports.render.html`; a template's own words (titles, text) are values of
it, never template source. WeasyPrint gets :class:`TemplateAssetFetcher`, the report renderer's
deny-all fetcher that answers for exactly the template's checked files (logo, font: read once by
:func:`reports.custom.model.read_asset`) under ``siteledger-asset:`` names and refuses every
other URL. The workbook is a :class:`reports.render.tabular.PlainWorkbook` (bold frozen headers,
formula-like text defused), with the template's conditional fills. Files are written by the
render worker's atomic writer, which also hashes them.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

from markupsafe import Markup

from reports.charts import sankey as sankey_chart
from reports.custom.charts import xy_chart
from reports.custom.model import Asset
from reports.render.fetcher import DenyAllURLFetcher
from reports.render.html import environment
from reports.render.tabular import PlainWorkbook
from reports.render.worker import RenderJob, RenderResult, _write

TEMPLATES = Path(__file__).resolve().parent / "templates"
ASSET_SCHEME = "siteledger-asset:"


class TemplateAssetFetcher(DenyAllURLFetcher):
    """Serves the template's own checked files by name; refuses (and remembers) every other
    URL, as the shipped reports' fetcher does."""

    def __init__(self, assets: dict[str, Asset]) -> None:
        super().__init__()
        self.assets = {f"{ASSET_SCHEME}{key}": asset for key, asset in assets.items()}
        self.served: list[str] = []

    def fetch(self, url, headers=None):  # type: ignore[no-untyped-def]
        from weasyprint.urls import URLFetcherResponse

        asset = self.assets.get(str(url))
        if asset is None:
            return super().fetch(url, headers)
        self.served.append(str(url))
        return URLFetcherResponse(str(url), asset.data, {"Content-Type": asset.mime})


def _cell(value: Any, numeric: bool, decimals: int) -> str:
    if value is None:
        return "–"
    if numeric and isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if numeric and isinstance(value, float):
        if abs(value) < 0.5 * 10**-decimals:
            value = 0.0
        return f"{value:,.{decimals}f}"
    return str(value)


def render_html(payload: dict[str, Any], header: dict[str, Any], assets: dict[str, Asset]) -> str:
    """The report as one HTML document (assets referred to by ``siteledger-asset:`` names)."""
    charts: dict[tuple[int, int], Markup] = {}
    for p, page in enumerate(payload["pages"]):
        for e, item in enumerate(page["elements"]):
            if item["type"] == "chart":
                charts[(p, e)] = xy_chart(
                    item["kind"], item["title"], item["series"], item["unit"], item["x"]
                )
            elif item["type"] == "sankey":
                charts[(p, e)] = sankey_chart(item["flows"])
    env = environment([TEMPLATES], strict=True)
    template = env.get_template("custom_report.html.j2")
    return template.render(
        p=payload,
        r=header,
        b=header["branding"],
        charts=charts,
        cell=_cell,
        logo=f"{ASSET_SCHEME}logo" if "logo" in assets else None,
        font=f"{ASSET_SCHEME}font" if "font" in assets else None,
    )


def render_pdf(html: str, assets: dict[str, Asset]) -> tuple[bytes, list[str], int]:
    """PDF bytes, the URLs refused (all but the template's files), the page count."""
    from weasyprint import HTML

    fetcher = TemplateAssetFetcher(assets)
    document = HTML(string=html, base_url=None, url_fetcher=fetcher).render()
    out = io.BytesIO()
    document.write_pdf(out)
    return out.getvalue(), fetcher.refused, len(document.pages)


class _Workbook(PlainWorkbook):
    def fill(self, title: str, fills: list[list[str | None]]) -> None:
        """Fill the cells of sheet ``title`` under its header row (colours ``#rrggbb``)."""
        from openpyxl.styles import PatternFill

        ws = self._wb[title]
        for i, row in enumerate(fills, start=2):
            for j, colour in enumerate(row, start=1):
                if colour:
                    rgb = colour.lstrip("#").upper()
                    ws.cell(i, j).fill = PatternFill("solid", start_color=rgb, end_color=rgb)


def sheet_title(name: str, taken: set[str]) -> str:
    """An Excel sheet title: at most 31 characters, none of []:*?/\\, unique in the book."""
    clean = "".join("_" if c in "[]:*?/\\" else c for c in name).strip("' ") or "Sheet"
    title, n = clean[:31], 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = clean[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def render_xlsx(payload: dict[str, Any], header: dict[str, Any]) -> bytes:
    """Sheets: Report (facts), Metrics, then one per table and one per chart's data."""
    book = _Workbook()
    book.report_sheet(payload, header, currency=False)
    taken = {"report"}
    book.sheet(
        sheet_title("Metrics", taken),
        ["id", "label", "value", "unit", "aggregate", "mart", "column", "rows"],
        [
            [
                m["id"],
                m["label"],
                m["value"],
                m["unit"],
                m["aggregate"],
                m["mart"],
                m["column"],
                m["rows"],
            ]
            for page in payload["pages"]
            for m in page["elements"]
            if m["type"] == "metric"
        ],
    )
    for page in payload["pages"]:
        for item in page["elements"]:
            if item["type"] == "table":
                title = sheet_title(item["title"] or item["mart"], taken)
                book.sheet(title, item["headings"], item["rows"])
                book.fill(title, item["fills"])
            elif item["type"] == "chart":
                title = sheet_title(f"{item['title'] or item['mart']} data", taken)
                book.sheet(
                    title,
                    ["series", item["x"], "value"],
                    [
                        [s["name"], x, y]
                        for s in [*item["series"], *item["omitted"]]
                        for x, y in s["points"]
                    ],
                )
            elif item["type"] == "sankey":
                title = sheet_title(item["title"] or "Flows", taken)
                book.sheet(
                    title,
                    ["flow_id", "name", "from", "to", "volume_m3"],
                    [
                        [f["flow_id"], f["name"], f["source_name"], f["target_name"], f["volume"]]
                        for f in item["flows"]
                    ],
                )
    return book.to_bytes()


def render_custom_job(job: RenderJob, assets: dict[str, Asset]) -> RenderResult:
    """Write every requested format (pdf, xlsx); a format that fails is reported, the others
    are still written."""
    t0 = time.perf_counter()
    out = Path(job.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    refused: list[str] = []
    pages = None
    for fmt in job.formats:
        try:
            if fmt == "pdf":
                html = render_html(job.payload, job.header, assets)
                data, refused, pages = render_pdf(html, assets)
            elif fmt == "xlsx":
                data = render_xlsx(job.payload, job.header)
            else:
                raise ValueError(f"unknown format {fmt!r}")
            artifacts[fmt] = _write(out / f"{job.basename}.{fmt}", data)
        except Exception as exc:
            errors.append(f"{fmt} rendering failed: {type(exc).__name__}: {exc}")
    return RenderResult(artifacts, errors, refused, time.perf_counter() - t0, pages)
