"""Excel, CSV, JSON and XML renderings of a report.

Figures are exported at full precision in the report's unit (m3, or ML = m3 / 1000): nothing is
rounded away, so every export agrees with the marts. Text cells that a spreadsheet would read as
a formula (starting with = + - @, or a tab / carriage return) are prefixed with an apostrophe in
Excel and CSV. The XML is validated against the shipped XSD every time it is written, and any XML
read back is parsed without external entities or network access.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lxml import etree

from reports.data import FACILITY_MONTH_VOLUMES
from reports.metrics import METRICS, to_unit, unit_label
from reports.sustainability import AQI_CATEGORIES

XSD_PATH = Path(__file__).resolve().parents[1] / "schema" / "siteledger-report-1.0.xsd"
XML_NS = "urn:siteledger:report:1.0"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class XmlValidationError(RuntimeError):
    pass


def safe_text(value: Any) -> Any:
    """A text cell no spreadsheet evaluates; numbers pass unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class PlainWorkbook:
    """A workbook of plain sheets, as the domain reports export them: a bold, frozen header
    row, columns 12 to 48 wide by their header, and text cells no spreadsheet evaluates."""

    def __init__(self) -> None:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        self._wb = Workbook()
        self._bold = Font(bold=True)
        self._first = True

    def sheet(self, title: str, columns: list[str], rows: list[list[Any]]) -> None:
        """A sheet of ``rows`` under ``columns``; the first one fills the workbook's own sheet."""
        from openpyxl.utils import get_column_letter

        ws = self._wb.active if self._first else self._wb.create_sheet(title)
        assert ws is not None
        self._first = False
        ws.title = title
        ws.append(columns)
        for cell in ws[1]:
            cell.font = self._bold
        for row in rows:
            ws.append([safe_text(v) for v in row])
        for i, column in enumerate(columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = max(12, min(48, len(column) + 4))
        ws.freeze_panes = "A2"

    def report_sheet(
        self, payload: dict[str, Any], header: dict[str, Any], *, currency: bool = True
    ) -> None:
        """The "Report" sheet: the report's title, site, period and version facts."""
        d, site, period = payload["definition"], payload["site"], payload["period"]
        self.sheet(
            "Report",
            ["field", "value"],
            [
                ["title", d["title"]],
                ["site", f"{site.get('name') or site['id']} ({site['id']})"],
                ["period", period["key"]],
                ["start", period["start"]],
                ["end", period["end"]],
                *([["currency", site.get("currency")]] if currency else []),
                ["report_id", header.get("report_id")],
                ["version", header.get("version")],
                ["status", header.get("status")],
                ["generated_at", header.get("generated_at")],
                ["content_hash", header.get("content_hash")],
                ["warehouse_version", payload["warehouse_version"]],
            ],
        )

    def summary_sheet(
        self,
        payload: dict[str, Any],
        label_and_unit: Callable[[str], tuple[str, str | None]],
        previous: str,
    ) -> None:
        """The "Summary" sheet: each of the report's metrics against the period before
        (``previous`` heads that column), with the change in per cent of the earlier one."""
        m = payload["metrics"]
        prior = payload["comparison"]["metrics"] or {}
        self.sheet(
            "Summary",
            ["metric", "label", "unit", "value", previous, "change %"],
            [
                [
                    k,
                    *label_and_unit(k),
                    m.get(k),
                    prior.get(k),
                    None
                    if m.get(k) is None or not prior.get(k)
                    else 100.0 * (m[k] - prior[k]) / abs(prior[k]),
                ]
                for k in payload["definition"]["metrics"]
            ],
        )

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        self._wb.save(out)
        return out.getvalue()


def _vol(value: float | None, unit: str) -> float | None:
    if value is None:
        return None
    return value / 1000.0 if unit == "ML" else value


def summary_rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    unit = payload["definition"]["unit"]
    rows = []
    for key, metric in METRICS.items():
        rows.append(
            {
                "metric": key,
                "label": metric.label,
                "unit": unit_label(metric, unit),
                "value": to_unit(metric, payload["metrics"].get(key), unit),
                "in_summary": key in payload["definition"]["metrics"],
            }
        )
    return rows


# -- JSON ----------------------------------------------------------------------------------------
def render_json(payload: dict[str, Any], header: dict[str, Any]) -> bytes:
    """The payload (volumes in m3 as the marts hold them) plus the summary in the report's unit."""
    doc = {
        "report": _header_json(header),
        "summary": summary_rows(payload),
        **payload,
    }
    return (json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n").encode()


def _header_json(header: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "report_id",
        "version",
        "status",
        "validation_errors",
        "requirements",
        "content_hash",
        "generated_at",
        "generated_by",
        "due_date",
        "diff",
        "diff_against",
    )
    return {k: header.get(k) for k in keep}


# -- CSV -----------------------------------------------------------------------------------------
def render_csv(payload: dict[str, Any], header: dict[str, Any]) -> bytes:
    """Long format, one figure per row: section, item, measure, unit, value."""
    unit = payload["definition"]["unit"]
    out = io.StringIO()
    # RFC 4180 line ends: with a bare \n, the csv module leaves a field holding a \r unquoted,
    # and readers split the row there
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["report_id", "site_id", "period", "section", "item", "measure", "unit", "value"]
    )
    base = [header["report_id"], payload["site"]["id"], payload["period"]["key"]]

    def row(section: str, item: str, measure: str, u: str, value: Any) -> None:
        writer.writerow(
            [
                safe_text(v)
                for v in [*base, section, item, measure, u, "" if value is None else value]
            ]
        )

    for r in summary_rows(payload):
        row("summary", r["metric"], r["label"], r["unit"], _repr(r["value"]))
    for c in payload["categories"]:
        for measure in ("volume", "measured", "estimated", "simulated"):
            row(
                f"category_{c['direction']}",
                c["category"],
                measure,
                unit,
                _repr(_vol(c[measure], unit)),
            )
    for q in payload["quality_table"]:
        for measure in ("cat1", "cat2", "cat3", "cat_unknown", "total", "high", "low"):
            row(
                f"quality_{q['direction']}",
                q["category"],
                measure,
                unit,
                _repr(_vol(q[measure], unit)),
            )
    for f in payload["facilities"]:
        for measure in _FACILITY_VOLUMES:
            row("facility", f["node_id"], measure, unit, _repr(_vol(f[measure], unit)))
        row("facility", f["node_id"], "balance_error_pct", "%", _repr(f["balance_error_pct"]))
    for f in payload["flows"]:
        row("flow", f["flow_id"], "volume", unit, _repr(_vol(f["volume"], unit)))
    for q in header.get("requirements", []):
        row("requirement", q["id"], "passed", "", str(q["passed"]).lower())
    sx = payload.get("sustainability") or {}
    if sx.get("available"):
        row("sustainability", "index", "value", "", _repr(sx["index"]["value"]))
        row("sustainability", "index", "organisation_rank", "", _repr(sx["index"]["rank"]))
        for x in sx["metrics"]:
            for measure in _SUSTAINABILITY_MEASURES:
                u = "%" if measure.endswith("_pct") else "" if measure == "score" else x["unit"]
                row("sustainability", x["metric"], measure, u, _repr(x[measure]))
        for g in sx["goals"]:
            for measure in ("baseline", "target", "current", "progress_pct", "expected_pct"):
                u = "%" if measure.endswith("_pct") else g["unit"]
                row("sustainability_goal", g["goal_id"], measure, u, _repr(g[measure]))
            row("sustainability_goal", g["goal_id"], "status", "", g["status"])
    return out.getvalue().encode()


_SUSTAINABILITY_COLUMNS = [
    *("Metric", "Label", "Unit", "Value", "Period before", "Change vs before %"),
    *("A year earlier", "Change vs a year earlier %", "Weight", "Score (index row: rank)"),
]
_SUSTAINABILITY_FORMATS = {
    4: "0.000",
    5: "0.000",
    6: "0.00",
    7: "0.000",
    8: "0.00",
    9: "0.00",
    10: "0.0",
}
_AIR_COLUMNS = ("Highest AQI", "PM10 mean", "PM10 highest", "PM2.5 mean", "High dust days")
_GOAL_COLUMNS = (
    *("Goal", "Metric", "Unit", "Owner", "Start", "Due", "As of", "Baseline", "Target"),
    *("Current (30 days)", "Progress %", "Expected %", "Status"),
)
_SUSTAINABILITY_MEASURES = (
    "value",
    "previous",
    "change_vs_previous_pct",
    "last_year",
    "change_vs_last_year_pct",
    "score",
)


def _repr(value: Any) -> Any:
    # numbers pass as numbers (csv writes repr(): every digit kept) and are never escaped;
    # only text goes through safe_text
    return value


_FACILITY_VOLUMES = ("capacity", *FACILITY_MONTH_VOLUMES)


# -- Excel ---------------------------------------------------------------------------------------
def render_xlsx(payload: dict[str, Any], header: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    unit = payload["definition"]["unit"]
    vol_fmt = "#,##0.0" if unit == "ML" else "#,##0"
    pct_fmt = "0.00"

    def metric_format(kind: str) -> str:
        return {"volume": vol_fmt, "pct": pct_fmt, "intensity": "0.000"}.get(kind, "#,##0")

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEF2F7")
    wb = Workbook()

    def sheet(title: str, columns: list[str], rows: list[list[Any]], formats: dict[int, str]):  # type: ignore[no-untyped-def]
        ws = wb.create_sheet(title)
        ws.append(columns)
        for cell in ws[1]:
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(wrap_text=True, vertical="bottom")
        for r in rows:
            ws.append([safe_text(v) for v in r])
        for col, number_format in formats.items():
            for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
                cell.number_format = number_format
        for i, name in enumerate(columns, start=1):
            width = max([len(str(name))] + [len(str(r[i - 1])) for r in rows[:200]]) + 2
            ws.column_dimensions[get_column_letter(i)].width = min(max(width, 10), 60)
        ws.freeze_panes = "A2"
        return ws

    wb.remove(wb.active)
    summary = [
        [r["metric"], r["label"], r["unit"], r["value"], "yes" if r["in_summary"] else "no"]
        for r in summary_rows(payload)
    ]
    ws = sheet("Summary", ["Metric", "Label", "Unit", "Value", "In summary"], summary, {})
    for (cell,) in ws.iter_rows(min_row=2, min_col=4, max_col=4):
        cell.number_format = metric_format(METRICS[ws.cell(cell.row, 1).value].kind)
    fac_rows = [
        [f["node_id"], f["name"], f["kind"], f["type"]]
        + [_vol(f[k], unit) for k in _FACILITY_VOLUMES]
        + [f["balance_error_pct"], f["balance_status"], f["n_days_incomplete"]]
        for f in payload["facilities"]
    ]
    sheet(
        "Per facility",
        ["Node", "Name", "Kind", "Type"]
        + [f"{k.replace('_', ' ')} ({unit})" for k in _FACILITY_VOLUMES]
        + ["Balance error %", "Status", "Days incomplete"],
        fac_rows,
        {**{c: vol_fmt for c in range(5, 15)}, 15: pct_fmt},
    )
    month_rows = [
        [f["node_id"], f["name"], row["month"]]
        + [_vol(row[k], unit) for k in _FACILITY_VOLUMES if k != "capacity"]
        + [row["balance_error_pct"], row["n_days_incomplete"]]
        for f in payload["facilities"]
        for row in payload.get("facility_months", {}).get(f["node_id"], [])
    ]
    sheet(
        "Per facility by month",
        ["Node", "Name", "Month"]
        + [f"{k.replace('_', ' ')} ({unit})" for k in _FACILITY_VOLUMES if k != "capacity"]
        + ["Balance error %", "Days incomplete"],
        month_rows,
        {**{c: vol_fmt for c in range(4, 13)}, 13: pct_fmt},
    )
    cat_rows = [
        [q["direction"], q["category"], q["label"]]
        + [
            _vol(q[k], unit)
            for k in (
                "cat1",
                "cat2",
                "cat3",
                "cat_unknown",
                "total",
                "high",
                "low",
                "water_stressed",
            )
        ]
        + [q["measured_pct"], q["estimated_pct"], q["simulated_pct"]]
        for q in payload["quality_table"]
    ]
    sheet(
        "By category",
        [
            "Direction",
            "Category",
            "Label",
            f"Cat 1 ({unit})",
            f"Cat 2 ({unit})",
            f"Cat 3 ({unit})",
            f"No category ({unit})",
            f"Total ({unit})",
            f"High ({unit})",
            f"Low ({unit})",
            f"Water-stressed ({unit})",
            "% measured",
            "% estimated",
            "% simulated",
        ],
        cat_rows,
        {**{c: vol_fmt for c in range(4, 12)}, 12: pct_fmt, 13: pct_fmt, 14: pct_fmt},
    )
    cmp = payload["comparison"]
    comp_rows = []
    for r in cmp["rows"]:
        metric = METRICS[r["metric"]]
        comp_rows.append(
            [r["metric"], metric.label, unit_label(metric, unit)]
            + [to_unit(metric, r[k], unit) for k in ("this_period", "previous_period", "change")]
            + [r["change_pct"]]
        )
    ws = sheet(
        "Comparison",
        [
            "Metric",
            "Label",
            "Unit",
            payload["period"]["key"],
            cmp["previous_period"] or "previous (n/a)",
            "Change",
            "Change %",
        ],
        comp_rows,
        {7: pct_fmt},
    )
    for (cell,) in ws.iter_rows(min_row=2, min_col=1, max_col=1):
        number_format = metric_format(METRICS[cell.value].kind)
        for col in (4, 5, 6):
            ws.cell(cell.row, col).number_format = number_format
    if cmp["monthly"]:
        ws.append([])
        keys = payload["definition"]["metrics"]
        ws.append(["Month", *[METRICS[k].label for k in keys]])
        for cell in ws[ws.max_row]:
            cell.font = bold
        for month in cmp["monthly"]:
            ws.append([month["month"], *[to_unit(METRICS[k], month[k], unit) for k in keys]])
            for col, k in enumerate(keys, start=2):
                ws.cell(ws.max_row, col).number_format = metric_format(METRICS[k].kind)
    sx = payload.get("sustainability") or {}
    if sx.get("available"):
        index = sx["index"]
        blank: list[Any] = [None] * 5
        rows = [
            ["index", "Sustainability index", "", index["value"], *blank, index["rank"]],
            *(
                [x["metric"], x["label"], x["unit"], *(x[k] for k in _SUSTAINABILITY_MEASURES)]
                for x in sx["metrics"]
            ),
        ]
        for r, x in zip(rows[1:], sx["metrics"], strict=True):
            r[-1:] = [x["weight"], x["score"]]
        sheet("Sustainability", _SUSTAINABILITY_COLUMNS, rows, _SUSTAINABILITY_FORMATS)
        goal_keys = (
            *("goal_id", "metric", "unit", "owner", "start", "due", "as_of", "baseline"),
            *("target", "current", "progress_pct", "expected_pct", "status"),
        )
        sheet(
            "Sustainability goals",
            list(_GOAL_COLUMNS),
            [[g[k] for k in goal_keys] for g in sx["goals"]],
            {8: "0.000", 9: "0.000", 10: "0.000", 11: "0.0", 12: "0.0"},
        )
        limits = (sx.get("discharge_limits") or {}).get("limits") or []
        if limits:
            keys = ("limit_id", "sample_point_id", "parameter_id", "basis", "unit", "limit_min")
            keys += ("limit_max", "n_evaluated", "n_exceeded", "n_indeterminate")
            sheet(
                "Discharge limits",
                [
                    *("Limit", "Point", "Parameter", "Basis", "Unit", "Min", "Max", "Evaluated"),
                    *("Exceeded", "Indeterminate", "Least headroom %", "Licence"),
                ],
                [[x[k] for k in keys] + [x["worst_margin_pct"], x["reference"]] for x in limits],
                {6: "#,##0.###", 7: "#,##0.###", 11: "0.0"},
            )
        if sx.get("incidents"):
            keys = ("incident_id", "incident_type", "node_id", "flow_id", "started_day")
            keys += ("ended_day", "volume_m3", "severity", "status", "is_reported_to_authority")
            keys += ("reported_on", "source", "description")
            sheet(
                "Incidents",
                [
                    *("Incident", "Type", "Node", "Flow", "Started", "Ended", "Volume m3"),
                    *("Severity", "Status", "Reported", "Reported on", "Source", "Description"),
                ],
                [[i[k] for k in keys] for i in sx["incidents"]],
                {7: "#,##0"},
            )
        if sx.get("air"):
            sheet(
                "Air quality",
                [*("Monitor", "Name", "Days", "Days rated"), *AQI_CATEGORIES, *_AIR_COLUMNS],
                [
                    [
                        *(a["monitor_id"], a["name"], a["n_days"], a["n_days_rated"]),
                        *(a["days_by_category"][c] for c in AQI_CATEGORIES),
                        *(a["aqi_max"], a["pm10_mean_ug_m3"], a["pm10_max_ug_m3"]),
                        *(a["pm25_mean_ug_m3"], a["high_dust_days"]),
                    ]
                    for a in sx["air"]
                ],
                {12: "0", 13: "0.0", 14: "0.0", 15: "0.0"},
            )
    notes = [[n] for n in payload["data_quality"]["notes"]]
    for w in payload["data_quality"].get("worst_meters", []):
        notes.append([f"meter {w['meter_id']}: mean score {w['mean_overall_score']:.3f}"])
    for e in header.get("validation_errors", []):
        notes.append([f"validation error: {e}"])
    sheet("Data quality notes", ["Note"], notes, {})
    ws = wb["Data quality notes"]
    ws.column_dimensions["A"].width = 120
    meta = [
        ["Report id", header["report_id"]],
        ["Version", header["version"]],
        ["Status", header["status"]],
        ["Definition", payload["definition"]["id"]],
        ["Title", payload["definition"]["title"]],
        ["Regulator", payload["definition"]["regulator"]],
        ["Site", payload["site"]["id"]],
        ["Period", payload["period"]["key"]],
        ["Period start", payload["period"]["start"]],
        ["Period end", payload["period"]["end"]],
        ["Unit", unit],
        ["Due date", str(header.get("due_date"))],
        ["Published warehouse version", payload["warehouse_version"]],
        ["Content hash", header["content_hash"]],
        ["Generated at", str(header["generated_at"])],
        ["Generated by", header["generated_by"]],
        ["Schema", payload["schema"]],
    ]
    for change in header.get("diff") or []:
        meta.append([f"restated: {change['figure']}", f"{change['old']} -> {change['new']}"])
    sheet("Metadata", ["Field", "Value"], meta, {})
    for ws in wb.worksheets:
        # counts (days, ranks) as whole numbers; every float column has its format above
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if cell.number_format == "General" and type(cell.value) is int:
                    cell.number_format = "#,##0"
    wb.properties.title = payload["definition"]["title"]
    wb.properties.creator = "siteledger"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- XML -----------------------------------------------------------------------------------------
def _schema() -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(XSD_PATH), parser))


def _num(value: float | int | None) -> str | None:
    if value is None:
        return None
    return repr(float(value))


def render_xml(payload: dict[str, Any], header: dict[str, Any]) -> bytes:
    """XML of the report, validated against ``siteledger-report-1.0.xsd`` before it is returned."""
    unit = payload["definition"]["unit"]
    E = etree.Element
    ns = f"{{{XML_NS}}}"
    root = E(ns + "report", nsmap={None: XML_NS})
    root.set("id", header["report_id"])
    root.set("version", str(header["version"]))
    root.set("status", header["status"])
    head = etree.SubElement(root, ns + "header")
    d, site, period = payload["definition"], payload["site"], payload["period"]
    for tag, value in (
        ("definitionId", d["id"]),
        ("title", d["title"]),
        ("regulator", d["regulator"]),
        ("reportType", d["report_type"]),
        ("siteId", site["id"]),
        ("siteName", site["name"] or site["id"]),
        ("periodKind", period["kind"]),
        ("periodKey", period["key"]),
        ("periodStart", period["start"]),
        ("periodEnd", period["end"]),
        ("dueDate", str(header["due_date"])),
        ("unit", unit),
        ("generatedAt", _xml_datetime(header["generated_at"])),
        ("generatedBy", header["generated_by"]),
        ("warehouseVersion", payload["warehouse_version"]),
        ("contentHash", header["content_hash"]),
    ):
        etree.SubElement(head, ns + tag).text = str(value)
    summary = etree.SubElement(root, ns + "summary")
    for r in summary_rows(payload):
        el = etree.SubElement(summary, ns + "metric", key=r["metric"], unit=r["unit"] or "count")
        if r["value"] is None:
            el.set("missing", "true")
        else:
            el.text = _num(r["value"])
    cats = etree.SubElement(root, ns + "categories")
    for q in payload["quality_table"]:
        el = etree.SubElement(cats, ns + "category", direction=q["direction"], name=q["category"])
        for key in (
            "cat1",
            "cat2",
            "cat3",
            "cat_unknown",
            "total",
            "high",
            "low",
            "measured",
            "estimated",
            "simulated",
        ):
            el.set(key.replace("_", ""), _num(_vol(q[key], unit)) or "0")
    facs = etree.SubElement(root, ns + "facilities")
    for f in payload["facilities"]:
        el = etree.SubElement(facs, ns + "facility", id=f["node_id"], kind=f["kind"])
        etree.SubElement(el, ns + "name").text = f["name"]
        for key in _FACILITY_VOLUMES:
            value = _vol(f[key], unit)
            if value is not None:
                etree.SubElement(el, ns + "value", key=key).text = _num(value)
        etree.SubElement(el, ns + "status").text = f["balance_status"]
    flows = etree.SubElement(root, ns + "flows")
    for f in payload["flows"]:
        etree.SubElement(
            flows,
            ns + "flow",
            id=f["flow_id"],
            source=f["source"],
            target=f["target"],
            direction=f["direction"],
            method=f["method"],
            volume=_num(_vol(f["volume"], unit)) or "0",
        )
    reqs = etree.SubElement(root, ns + "requirements")
    for q in header.get("requirements", []):
        el = etree.SubElement(
            reqs,
            ns + "requirement",
            id=q["id"],
            metric=q["metric"],
            passed=str(q["passed"]).lower(),
        )
        if q["min"] is not None:
            el.set("min", _num(q["min"]) or "")
        if q["max"] is not None:
            el.set("max", _num(q["max"]) or "")
        if q["value"] is not None:
            el.set("value", _num(q["value"]) or "")
        el.text = q["reference"] or None
    errors = etree.SubElement(root, ns + "validationErrors")
    for e in header.get("validation_errors", []):
        etree.SubElement(errors, ns + "error").text = e
    notes = etree.SubElement(root, ns + "qualityNotes")
    for n in payload["data_quality"]["notes"]:
        etree.SubElement(notes, ns + "note").text = n
    if header.get("diff"):
        restated = etree.SubElement(
            root, ns + "restatements", against=str(header.get("diff_against"))
        )
        for change in header["diff"]:
            etree.SubElement(
                restated,
                ns + "change",
                figure=change["figure"],
                old=str(change["old"]),
                new=str(change["new"]),
            )
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    validate_xml(data)
    return data


def _xml_datetime(value: Any) -> str:
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text.replace(" ", "T")


def validate_xml(data: bytes) -> None:
    """Raise :class:`XmlValidationError` unless ``data`` is valid against the shipped XSD."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        doc = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise XmlValidationError(f"not well-formed XML: {exc}") from exc
    if doc.getroottree().docinfo.internalDTD is not None:
        raise XmlValidationError("a report document must not declare a DTD or entities")
    schema = _schema()
    try:
        valid = schema.validate(doc)
    except etree.XMLSchemaValidateError as exc:
        raise XmlValidationError(f"XML could not be validated: {exc}") from exc
    if not valid:
        errors = "; ".join(f"line {e.line}: {e.message}" for e in list(schema.error_log)[:5])
        raise XmlValidationError(f"XML does not match {XSD_PATH.name}: {errors}")
