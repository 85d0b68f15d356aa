"""Render every format of one report: the unit of work of the render process pool."""

from __future__ import annotations

import hashlib
import importlib
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# WeasyPrint's font stack pulls in matplotlib's font cache on some systems; keep it off $HOME
os.environ.setdefault("MPLCONFIGDIR", os.path.join(tempfile.gettempdir(), "siteledger-mpl"))


SANKEY_ARTIFACT = "sankey_html"
# a domain's own HTML and workbook (``render_html``, ``render_xlsx``); water's are the default
_DOMAIN_RENDERERS = {
    "energy": "reports.energy",
    "materials": "reports.materials.render",
    "metering": "reports.metering.render",
}


def sankey_page(payload: dict[str, Any], header: dict[str, Any]) -> bytes:
    """The interactive Sankey page of a report (UTF-8 HTML)."""
    from reports.sankey import sankey_html

    d, site, period = payload["definition"], payload["site"], payload["period"]
    title = f"{d['title']}: site water flows, {site.get('name') or site['id']}, {period['label']}"
    return sankey_html(payload["flows"], d["unit"], title, status=header.get("status")).encode()


@dataclass
class RenderJob:
    payload: dict[str, Any]
    header: dict[str, Any]
    formats: list[str]
    out_dir: str
    basename: str
    template_name: str = "report.html.j2"
    template_dirs: list[str] = field(default_factory=list)


@dataclass
class RenderResult:
    artifacts: dict[str, dict[str, Any]]
    errors: list[str]
    refused_urls: list[str]
    seconds: float
    pdf_pages: int | None = None


def _write(path: Path, data: bytes) -> dict[str, Any]:
    # write then rename: a reader (or a delivery) never sees half a file
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return {"path": str(path), "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def render_job(job: RenderJob) -> RenderResult:
    """Write every requested format; a format that fails is reported, the others still written."""
    from reports.render import tabular
    from reports.render.html import render_html, render_pdf

    t0 = time.perf_counter()
    out = Path(job.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    refused: list[str] = []
    pages = None
    dirs = [Path(d) for d in job.template_dirs] or None
    domain = _DOMAIN_RENDERERS.get(job.payload.get("domain", "water"))
    for fmt in job.formats:
        try:
            if domain is not None and fmt in ("pdf", "xlsx"):
                renderer = importlib.import_module(domain)
                if fmt == "pdf":
                    html = renderer.render_html(job.payload, job.header, job.template_name, dirs)
                    data, refused, pages = render_pdf(html)
                else:
                    data = renderer.render_xlsx(job.payload, job.header)
            elif fmt == "pdf":
                html = render_html(job.payload, job.header, job.template_name, dirs)
                data, refused, pages = render_pdf(html)
            elif fmt == "xlsx":
                data = tabular.render_xlsx(job.payload, job.header)
            elif fmt == "csv":
                data = tabular.render_csv(job.payload, job.header)
            elif fmt == "json":
                data = tabular.render_json(job.payload, job.header)
            elif fmt == "xml":
                data = tabular.render_xml(job.payload, job.header)
            else:
                raise ValueError(f"unknown format {fmt!r}")
            artifacts[fmt] = _write(out / f"{job.basename}.{fmt}", data)
        except Exception as exc:
            errors.append(f"{fmt} rendering failed: {type(exc).__name__}: {exc}")
    if "pdf" in job.formats and "charts" in job.payload["definition"].get("sections", []):
        # the PDF's Sankey diagram, interactive, beside it: one self-contained HTML page
        try:
            page = sankey_page(job.payload, job.header)
            artifacts[SANKEY_ARTIFACT] = _write(out / f"{job.basename}_sankey.html", page)
        except Exception as exc:
            errors.append(f"Sankey HTML rendering failed: {type(exc).__name__}: {exc}")
    return RenderResult(artifacts, errors, refused, time.perf_counter() - t0, pages)
