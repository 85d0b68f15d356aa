"""Report HTML from a sandboxed Jinja2 template, and the PDF WeasyPrint makes of it.

Templates run in a :class:`~jinja2.sandbox.SandboxedEnvironment` with autoescape: a template
cannot reach Python internals (``''.__class__`` is undefined, calling unsafe attributes raises)
and every value is escaped. WeasyPrint gets a URL fetcher that refuses every URL, so a template
or a value that smuggles in ``<img src="file:///etc/passwd">``, an ``http://`` URL or a CSS
``@import`` renders without it; charts are inline SVG and the stylesheet is inlined.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, Undefined
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from reports import charts
from reports.metrics import METRICS, fmt, to_unit, unit_label

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


class TemplateRenderError(RuntimeError):
    pass


def environment(template_dirs: list[Path], strict: bool = False) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader([str(p) for p in template_dirs]),
        autoescape=True,
        undefined=StrictUndefined if strict else Undefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["units"] = display_units
    return env


def display_units(text: Any) -> str:
    """Prose as a reader sees it: the unit codes m3 and ug/m3 written m³ and µg/m³ (m3/t as
    m³/t, m3/day as m³/day)."""
    return re.sub(r"\bm3\b", "m³", re.sub(r"\bug/m3\b", "µg/m³", str(text)))


def _context(payload: dict[str, Any], header: dict[str, Any]) -> dict[str, Any]:
    d = payload["definition"]
    unit = d["unit"]
    m = payload["metrics"]

    def vol(value: float | None) -> str:
        return fmt(
            None if value is None else (value / 1000.0 if unit == "ML" else value), "volume", unit
        )

    def pct(value: float | None) -> str:
        return fmt(value, "pct")

    def metric_text(key: str, value: float | None) -> str:
        metric = METRICS[key]
        return fmt(to_unit(metric, value, unit), metric.kind, unit)

    cmp = payload["comparison"]
    prev = {row["metric"]: row for row in cmp["rows"]}
    summary_rows = []
    for key in d["metrics"]:
        metric = METRICS[key]
        row = prev.get(key, {})
        summary_rows.append(
            {
                "key": key,
                "label": metric.label,
                "unit": unit_label(metric, unit).replace("m3", "m³"),
                "text": metric_text(key, m.get(key)),
                "previous_text": metric_text(key, row.get("previous_period")),
                "change_text": metric_text(key, row.get("change")),
            }
        )
    requirements = [
        {
            **q,
            "text": fmt(q["value"], METRICS[q["metric"]].kind, unit),
            "unit": q["unit"].replace("m3", "m³"),
        }
        for q in header.get("requirements", [])
    ]
    totals = {}
    for direction in ("input", "output", "diversion"):
        rows = [q for q in payload["quality_table"] if q["direction"] == direction]
        tot = {
            k: sum(r[k] for r in rows)
            for k in (
                *("cat1", "cat2", "cat3", "total", "high", "low", "water_stressed"),
                *("measured", "estimated", "simulated"),
            )
        }
        for method in ("measured", "estimated", "simulated"):
            tot[f"{method}_pct"] = 100.0 * tot[method] / tot["total"] if tot["total"] else None
        totals[direction] = tot
    stores = [f for f in payload["facilities"] if f["kind"] == "store"]
    capacity = {f["node_id"]: f["capacity"] for f in stores}
    names = {f["node_id"]: f["name"] for f in stores}
    chart_set = {
        "categories": charts.category_bars(payload["categories"], unit),
        "sankey": charts.sankey(payload["flows"], unit),
        "storage": [
            charts.storage_trend(names.get(node, node), points, capacity.get(node), unit)
            for node, points in sorted(
                payload["storage_trend"].items(), key=lambda kv: names.get(kv[0], kv[0])
            )
        ],
        "outlook": _outlook_charts(payload.get("outlook"), unit),
    }
    m_ = m
    check = None
    if (
        m_["inputs"] is not None
        and m_["discharge"] is not None
        and m_["storage_change"] is not None
    ):
        check = m_["inputs"] - m_["discharge"] - m_["storage_change"] - (m_["closure_error"] or 0.0)
    place_names = {f["flow_id"]: f["name"] for f in payload.get("flows", [])} | {
        f["node_id"]: f["name"] for f in payload.get("facilities", [])
    }

    def place(incident: dict[str, Any]) -> str:
        """Where an incident happened, by the node's or flow's name (its id if unknown)."""
        key = incident.get("node_id") or incident.get("flow_id") or ""
        return str(place_names.get(key, key))

    return {
        "payload": payload,
        "place": place,
        "d": d,
        "r": header,
        "m": m,
        "site": payload["site"],
        "period": payload["period"],
        "cmp": cmp,
        "unit": "ML" if unit == "ML" else "m³",
        "unit_name": "megalitres (ML)" if unit == "ML" else "cubic metres (m³)",
        "summary_rows": summary_rows,
        "requirements": requirements,
        "totals": totals,
        "stores": stores,
        "charts": chart_set,
        "consumption_check": check,
        "vol": vol,
        "pct": pct,
        "num": lambda v: fmt(v, "tonnes"),
        "dec3": lambda v: fmt(v, "intensity"),
        "fill": lambda f: (
            f"{100.0 * f['closing_storage'] / f['capacity']:.0f} %"
            if f.get("capacity") and f.get("closing_storage") is not None
            else "n/a"
        ),
        "prob": _prob,
        "sval": _sustainability_value,
        "metric_label": lambda k: METRICS[k].label,
        "metric_text": metric_text,
        "status_label": lambda s: {
            "within_threshold": "within",
            "exceeds_threshold": "EXCEEDS",
            "undetermined": "undetermined",
        }.get(s, s),
        "branding": header.get("branding", {}),
        "accent": header.get("branding", {}).get("accent_colour", "#1f4e79"),
        "css": (TEMPLATES / "report.css").read_text(encoding="utf-8"),
    }


def _sustainability_value(value: float | None, unit: str) -> str:
    """A sustainability metric's value in its own unit: ratios to three decimals, shares and
    changes as percentages, an index to a whole number."""
    if unit == "%":
        return fmt(value, "pct")
    if "/" in unit:
        return fmt(value, "intensity")
    return fmt(value, "tonnes")


def _prob(value: float | None) -> str:
    """A probability (0-1) as a percentage with one decimal: 0.237 -> 23.7 %."""
    return "n/a" if value is None else f"{100.0 * value:.1f} %"


def _outlook_charts(outlook: dict[str, Any] | None, unit: str) -> dict[str, dict[str, Markup]]:
    """Per store of the outlook: its forecast band and its scenarios (when it has them)."""
    if not outlook or not outlook.get("available"):
        return {}
    out: dict[str, dict[str, Markup]] = {}
    for store in outlook["stores"]:
        charts_of: dict[str, Markup] = {}
        if store["forecast"]:
            charts_of["band"] = charts.forecast_band(
                store["name"],
                store["history"],
                store["forecast"],
                store["capacity"],
                unit,
                as_of=store["as_of"],
            )
        if store["scenario_paths"]:
            charts_of["scenarios"] = charts.scenario_lines(
                store["name"], store["scenario_paths"], store["capacity"], unit
            )
        out[store["node_id"]] = charts_of
    return out


def render_html(
    payload: dict[str, Any],
    header: dict[str, Any],
    template_name: str = "report.html.j2",
    template_dirs: list[Path] | None = None,
) -> str:
    """The report as one self-contained HTML document."""
    context = _context(payload, header)
    # the stylesheet is the shipped file, never user input: autoescape must leave it alone
    context["css"] = Markup(context["css"])  # noqa: S704
    return render_template(template_name, context, template_dirs)


def render_template(
    template_name: str, context: dict[str, Any], template_dirs: list[Path] | None = None
) -> str:
    """``template_name`` rendered with ``context`` in the sandbox over ``template_dirs`` (the
    shipped templates by default); a refused or failing template is a TemplateRenderError."""
    env = environment(template_dirs or [TEMPLATES])
    try:
        return env.get_template(template_name).render(**context)
    except SecurityError as exc:
        raise TemplateRenderError(f"template {template_name!r} was refused: {exc}") from exc
    except TemplateError as exc:
        raise TemplateRenderError(f"template {template_name!r} failed: {exc}") from exc


def render_pdf(html: str) -> tuple[bytes, list[str], int]:
    """PDF bytes of ``html``, the URLs that were refused (nothing is ever fetched), page count."""
    from weasyprint import HTML  # imported here: ~0.6 s, only where a PDF is made

    from reports.render.fetcher import DenyAllURLFetcher

    fetcher = DenyAllURLFetcher()
    document = HTML(string=html, base_url=None, url_fetcher=fetcher).render()
    out = io.BytesIO()
    document.write_pdf(out)
    return out.getvalue(), fetcher.refused, len(document.pages)
