"""What a report says, read from the published warehouse only.

:class:`PublishedSite` loads one site's rows of the marts from the published DuckDB file (opened
read-only: the build's lock never blocks it) once; :func:`build_payload` then cuts one period out
of them. Every figure is a mart value or a sum of mart values over the period's months (storage:
the first month's opening and the last month's closing); ratios are recomputed from the sums the
way the marts compute them. The payload is plain JSON: the renderers, the registry (content hash,
diff) and the tests all read the same dict.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from reports.definitions import ReportDefinition
from reports.metrics import CATEGORY_LABELS, INPUT_CATEGORIES, METRICS, OUTPUT_CATEGORIES
from reports.periods import Period, complete_periods, month_end, previous

SCHEMA_ID = "siteledger-report/1.0"
QUALITY_SCORES_TABLE = "fct_quality_scores_daily"
REQUIRED_TABLES = (
    "dim_sites",
    "dim_nodes",
    "fct_site_balance_monthly",
    "fct_node_balance_monthly",
    "fct_node_balance_daily",
    "fct_flow_sankey",
    "fct_site_water_by_category",
    "fct_report_water_by_quality_monthly",
)
# sums of these monthly columns are the period's figures
_SUMMED = (
    "inputs_m3",
    *(f"input_{c}_m3" for c in INPUT_CATEGORIES),
    "outputs_m3",
    *(f"output_{c}_m3" for c in OUTPUT_CATEGORIES),
    "diversions_m3",
    "storage_change_m3",
    "closure_error_m3",
    "task_feed_m3",
    "task_feed_raw_m3",
    "task_feed_worked_m3",
    "task_feed_treated_m3",
    "ore_feed_t",
    "input_measured_m3",
    "input_estimated_m3",
    "input_simulated_m3",
    "output_measured_m3",
    "output_estimated_m3",
    "output_simulated_m3",
    "n_days",
    "n_days_incomplete",
    "n_flows_missing",
)


class ReportDataError(RuntimeError):
    pass


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, (_plain(v) for v in row), strict=True)) for row in cursor.fetchall()]


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class PublishedSite:
    """One site's mart rows from one published warehouse version."""

    warehouse_version: str
    site: dict[str, Any]
    months: dict[dt.date, dict[str, Any]]
    node_months: list[dict[str, Any]]
    store_days: list[dict[str, Any]]
    nodes: dict[str, dict[str, Any]]
    by_quality: list[dict[str, Any]]
    by_category: list[dict[str, Any]]
    sankey: list[dict[str, Any]]
    quality_site: list[dict[str, Any]] = field(default_factory=list)
    quality_meters: list[dict[str, Any]] = field(default_factory=list)
    has_quality_scores: bool = False

    def complete_months(self) -> set[dt.date]:
        """Months with data on every calendar day."""
        return {
            month
            for month, row in self.months.items()
            if row["n_days"] == month_end(month).day
            and row["first_day"] == month
            and row["last_day"] == month_end(month)
        }

    def periods(self, definition: ReportDefinition) -> list[Period]:
        return complete_periods(
            definition.period, self.complete_months(), definition.financial_year_start_month
        )


def published_version(db_path: Path) -> str:
    with duckdb.connect(str(db_path), read_only=True) as con:
        row = con.execute("select version_id from _siteledger_publish").fetchone()
    if not row:
        raise ReportDataError(f"{db_path} has no publish record")
    return str(row[0])


def site_ids(db_path: Path) -> list[str]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return [r[0] for r in con.execute("select site_id from dim_sites order by 1").fetchall()]


def load_site(db_path: Path, site_id: str) -> PublishedSite:
    """Read every mart row of ``site_id`` that reports use from the published file."""
    if not db_path.exists():
        raise ReportDataError(f"no published warehouse at {db_path}; run the main job first")
    with duckdb.connect(str(db_path), read_only=True) as con:
        tables = {r[0] for r in con.execute("show tables").fetchall()}
        missing = [t for t in REQUIRED_TABLES if t not in tables]
        if missing:
            raise ReportDataError(
                f"the published warehouse lacks {missing}; rebuild and publish the marts"
            )
        version = str(con.execute("select version_id from _siteledger_publish").fetchone()[0])  # type: ignore[index]
        sites = _rows(con, "select * from dim_sites where site_id = ?", [site_id])
        if not sites:
            raise ReportDataError(f"site {site_id!r} is not in the published warehouse")
        months = {
            r["month_start"]: r
            for r in _rows(
                con,
                "select * from fct_site_balance_monthly where site_id = ? order by month_start",
                [site_id],
            )
        }
        nodes = {
            r["node_id"]: r
            for r in _rows(
                con, "select * from dim_nodes where site_id = ? order by node_id", [site_id]
            )
        }
        node_months = _rows(
            con,
            "select * from fct_node_balance_monthly where site_id = ? "
            "order by node_id, month_start",
            [site_id],
        )
        store_days = _rows(
            con,
            "select node_id, day, closing_storage_m3 from fct_node_balance_daily "
            "where site_id = ? and node_kind = 'store' order by node_id, day",
            [site_id],
        )
        by_quality = _rows(
            con,
            "select * from fct_report_water_by_quality_monthly where site_id = ? "
            "order by month_start, direction, waf_category, quality_category",
            [site_id],
        )
        by_category = _rows(
            con,
            "select * from fct_site_water_by_category where site_id = ? and period_grain = 'month' "
            "order by period_start, direction, category_position, waf_category",
            [site_id],
        )
        sankey = _rows(
            con,
            "select * from fct_flow_sankey where site_id = ? and period_grain = 'month' "
            "order by period_start, flow_id",
            [site_id],
        )
        data = PublishedSite(
            version,
            sites[0],
            months,
            node_months,
            store_days,
            nodes,
            by_quality,
            by_category,
            sankey,
        )
        if QUALITY_SCORES_TABLE in tables:
            data.has_quality_scores = True
            data.quality_site = _rows(
                con,
                f"select day, overall_score, completeness_score, validity_score, "  # noqa: S608
                f"timeliness_score, consistency_score, redundancy_score, status "
                f"from {QUALITY_SCORES_TABLE} where site_id = ? and scope = 'site' order by day",
                [site_id],
            )
            data.quality_meters = _rows(
                con,
                f"select day, scope_id, overall_score, status, "  # noqa: S608
                f"cast(failing_expectations as varchar) as failing_expectations "
                f"from {QUALITY_SCORES_TABLE} where site_id = ? and scope = 'meter'",
                [site_id],
            )
    return data


# -- period figures --------------------------------------------------------------------------------
def _div(num: float | None, den: float | None) -> float | None:
    if num is None or den in (None, 0):
        return None
    return num / den  # type: ignore[operator]


def _sum(values: list[Any]) -> float | None:
    present = [v for v in values if v is not None]
    return float(sum(present)) if present else None


def period_metrics(
    data: PublishedSite, period: Period, discharge_categories: list[str]
) -> dict[str, float | None]:
    """Every catalogue metric of the period, volumes in m3, shares in %."""
    rows = [data.months[m] for m in period.months if m in data.months]
    if not rows:
        raise ReportDataError(f"no data for {period.key} of {data.site['site_id']}")
    s = {col: _sum([r.get(col) for r in rows]) for col in _SUMMED}
    inputs, outputs = s["inputs_m3"], s["outputs_m3"]
    opening, closing = rows[0]["opening_storage_m3"], rows[-1]["closing_storage_m3"]
    closure = s["closure_error_m3"]
    closure_pct = None if closure is None else _pct(closure, inputs)
    feed = s["task_feed_m3"]
    out: dict[str, float | None] = {
        "inputs": inputs,
        **{f"input_{c}": s[f"input_{c}_m3"] for c in INPUT_CATEGORIES},
        "outputs": outputs,
        **{f"output_{c}": s[f"output_{c}_m3"] for c in OUTPUT_CATEGORIES},
        "diversions": s["diversions_m3"],
        "discharge": _sum([s.get(f"output_{c}_m3") or 0.0 for c in discharge_categories]),
        "consumption": _sum(
            [s["output_evaporation_m3"], s["output_entrainment_m3"], s["output_other_m3"]]
        ),
        "opening_storage": opening,
        "closing_storage": closing,
        "storage_change": s["storage_change_m3"],
        "closure_error": closure,
        "closure_error_pct": closure_pct,
        "closure_error_abs_pct": None if closure_pct is None else abs(closure_pct),
        "task_feed": feed,
        "task_feed_raw": s["task_feed_raw_m3"],
        "reused": s["task_feed_worked_m3"],
        "recycled": s["task_feed_treated_m3"],
        "reuse_pct": _pct(s["task_feed_worked_m3"], feed),
        "recycling_pct": _pct(
            (s["task_feed_worked_m3"] or 0.0) + (s["task_feed_treated_m3"] or 0.0), feed
        ),
        "ore_feed_t": s["ore_feed_t"],
        "water_intensity_m3_per_t": _div(inputs, s["ore_feed_t"]),
        "n_days": s["n_days"],
        "n_days_incomplete": s["n_days_incomplete"],
        "n_flow_days_missing": s["n_flows_missing"],
    }
    for method in ("measured", "estimated", "simulated"):
        out[f"input_{method}_pct"] = _pct(s[f"input_{method}_m3"], inputs)
        out[f"output_{method}_pct"] = _pct(s[f"output_{method}_m3"], outputs)
    assert set(out) == set(METRICS), set(METRICS) ^ set(out)
    return out


def _pct(num: float | None, den: float | None) -> float | None:
    share = _div(num, den)
    return None if share is None else 100.0 * share


def _categories(data: PublishedSite, period: Period) -> list[dict[str, Any]]:
    months = set(period.months)
    acc: dict[tuple[str, str], dict[str, Any]] = {}
    for r in data.by_category:
        if r["period_start"] not in months:
            continue
        key = (r["direction"], r["waf_category"])
        row = acc.setdefault(
            key,
            {
                "direction": r["direction"],
                "category": r["waf_category"],
                "label": CATEGORY_LABELS.get(key, r["waf_category"].replace("_", " ").title()),
                "position": r["category_position"] if r["category_position"] is not None else 99,
                "volume": 0.0,
                "measured": 0.0,
                "estimated": 0.0,
                "simulated": 0.0,
            },
        )
        for col in ("volume", "measured", "estimated", "simulated"):
            row[col] += (r[f"{col}_m3"] if col != "volume" else r["volume_m3"]) or 0.0
    order = {"input": 0, "output": 1, "diversion": 2}
    rows = sorted(acc.values(), key=lambda x: (order[x["direction"]], x["position"]))
    for row in rows:
        row.pop("position")
        row["measured_pct"] = _pct(row["measured"], row["volume"])
    return rows


def _quality_table(data: PublishedSite, period: Period, stressed: bool) -> list[dict[str, Any]]:
    """Rows of the WAF/ICMM/GRI table: category x (Cat 1 | 2 | 3 | total | high | low | ...)."""
    months = set(period.months)
    acc: dict[tuple[str, str], dict[str, Any]] = {}
    for r in data.by_quality:
        if r["month_start"] not in months:
            continue
        key = (r["direction"], r["waf_category"])
        row = acc.setdefault(
            key,
            {
                "direction": r["direction"],
                "category": r["waf_category"],
                "label": CATEGORY_LABELS.get(key, r["waf_category"].replace("_", " ").title()),
                **dict.fromkeys(
                    ("cat1", "cat2", "cat3", "cat_unknown", "total", "high", "low"), 0.0
                ),
                **dict.fromkeys(("measured", "estimated", "simulated"), 0.0),
            },
        )
        volume = r["volume_m3"] or 0.0
        cat = {1: "cat1", 2: "cat2", 3: "cat3"}.get(r["quality_category"], "cat_unknown")
        row[cat] += volume
        row["total"] += volume
        if r["quality_class"] in ("high", "low"):
            row[r["quality_class"]] += volume
        for method in ("measured", "estimated", "simulated"):
            row[method] += r[f"{method}_m3"] or 0.0
    order = {"input": 0, "output": 1, "diversion": 2}
    positions = {c: i for i, c in enumerate((*INPUT_CATEGORIES, *OUTPUT_CATEGORIES))}
    rows = sorted(
        acc.values(), key=lambda x: (order[x["direction"]], positions.get(x["category"], 99))
    )
    for row in rows:
        row["water_stressed"] = row["total"] if stressed else 0.0
        for method in ("measured", "estimated", "simulated"):
            row[f"{method}_pct"] = _pct(row[method], row["total"])
    return rows


def _facilities(data: PublishedSite, period: Period) -> list[dict[str, Any]]:
    months = set(period.months)
    per_node: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in data.node_months:
        if r["month_start"] in months:
            per_node[r["node_id"]].append(r)
    out = []
    kind_order = {"store": 0, "task": 1}
    for node_id, rows in per_node.items():
        rows.sort(key=lambda r: r["month_start"])
        node = data.nodes.get(node_id, {})
        inflow, outflow = (
            _sum([r["inflow_m3"] for r in rows]),
            _sum([r["outflow_m3"] for r in rows]),
        )
        error = _sum([r["balance_error_m3"] for r in rows])
        threshold = rows[-1]["balance_threshold_pct"]
        pct = _pct(error, inflow)
        status = (
            "undetermined"
            if pct is None
            else ("within_threshold" if abs(pct) <= threshold else "exceeds_threshold")
        )
        out.append(
            {
                "node_id": node_id,
                "name": node.get("node_name") or node_id,
                "kind": rows[0]["node_kind"],
                "type": node.get("node_type") or "",
                "capacity": node.get("capacity_m3"),
                "opening_storage": rows[0]["opening_storage_m3"],
                "closing_storage": rows[-1]["closing_storage_m3"],
                "storage_change": _sum([r["storage_change_m3"] for r in rows]),
                "inflow": inflow,
                "outflow": outflow,
                "rainfall": _sum([r["rainfall_m3"] for r in rows]),
                "evaporation": _sum([r["evaporation_m3"] for r in rows]),
                "seepage": _sum([r["seepage_m3"] for r in rows]),
                "balance_error": error,
                "balance_error_pct": pct,
                "balance_status": status,
                "n_days_incomplete": int(sum(r["n_days_incomplete"] for r in rows)),
            }
        )
    out.sort(key=lambda x: (kind_order.get(x["kind"], 9), x["name"]))
    return out


# the volumes of a facility month, as the node balance mart names them (without ``_m3``)
FACILITY_MONTH_VOLUMES = (
    "opening_storage",
    "closing_storage",
    "storage_change",
    "inflow",
    "outflow",
    "rainfall",
    "evaporation",
    "seepage",
    "balance_error",
)


def _facility_months(data: PublishedSite, period: Period) -> dict[str, list[dict[str, Any]]]:
    """Each facility month by month (the marts' rows as they are), for periods of several months."""
    months = set(period.months)
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in data.node_months:
        if r["month_start"] in months:
            out[r["node_id"]].append(
                {
                    "month": r["month_start"].strftime("%Y-%m"),
                    **{k: r[f"{k}_m3"] for k in FACILITY_MONTH_VOLUMES},
                    "balance_error_pct": _pct(r["balance_error_m3"], r["inflow_m3"]),
                    "n_days_incomplete": int(r["n_days_incomplete"]),
                }
            )
    for rows in out.values():
        rows.sort(key=lambda row: row["month"])
    return dict(out)


def _flows(data: PublishedSite, period: Period) -> list[dict[str, Any]]:
    """Per-flow volumes over the period (the Sankey links and the discharge table)."""
    months = set(period.months)
    acc: dict[str, dict[str, Any]] = {}
    for r in data.sankey:
        if r["period_start"] not in months:
            continue
        row = acc.setdefault(
            r["flow_id"],
            {
                "flow_id": r["flow_id"],
                "name": r["flow_name"],
                "source": r["source_node_id"],
                "source_name": r["source_node_name"],
                "source_kind": r["source_node_kind"],
                "target": r["target_node_id"],
                "target_name": r["target_node_name"],
                "target_kind": r["target_node_kind"],
                "direction": r["direction"],
                "category": r["waf_category"],
                "quality_category": r["quality_category"],
                "method": r["method"],
                "volume": 0.0,
                "n_days_missing": 0,
            },
        )
        row["volume"] += r["volume_m3"] or 0.0
        row["n_days_missing"] += int(r["n_days_missing"] or 0)
    return sorted(acc.values(), key=lambda x: x["flow_id"])


def _storage_trend(data: PublishedSite, period: Period) -> dict[str, list[list[Any]]]:
    trend: dict[str, list[list[Any]]] = defaultdict(list)
    for r in data.store_days:
        if period.start <= r["day"] <= period.end:
            trend[r["node_id"]].append([r["day"].isoformat(), r["closing_storage_m3"]])
    return dict(trend)


def _data_quality(
    data: PublishedSite, period: Period, metrics: dict[str, float | None]
) -> dict[str, Any]:
    months = [data.months[m] for m in period.months if m in data.months]
    notes = [
        f"Accuracy: inputs {_p(metrics['input_measured_pct'])} measured, "
        f"{_p(metrics['input_estimated_pct'])} estimated, "
        f"{_p(metrics['input_simulated_pct'])} simulated; outputs "
        f"{_p(metrics['output_measured_pct'])} measured, "
        f"{_p(metrics['output_estimated_pct'])} estimated, "
        f"{_p(metrics['output_simulated_pct'])} simulated.",
        f"{int(metrics['n_days_incomplete'] or 0)} of {int(metrics['n_days'] or 0)} days have an "
        f"incomplete balance; {int(metrics['n_flow_days_missing'] or 0)} flow-days have no volume "
        "(counted as nothing in the totals).",
    ]
    bad = [
        f"{r['month_start']:%b %Y} ({r['closure_status'].replace('_', ' ')})"
        for r in months
        if r["closure_status"] != "within_threshold"
    ]
    notes.append(
        "Monthly closure within the site threshold in every month."
        if not bad
        else "Monthly closure not within the threshold in: " + ", ".join(bad) + "."
    )
    out: dict[str, Any] = {"scores_available": data.has_quality_scores, "notes": notes}
    if not data.has_quality_scores:
        notes.append(
            "Data-quality scores are not available in the published warehouse version "
            f"{data.warehouse_version}; the statements above come from the balance marts."
        )
        return out
    site_rows = [r for r in data.quality_site if period.start <= r["day"] <= period.end]
    scores = [r["overall_score"] for r in site_rows if r["overall_score"] is not None]
    by_status: dict[str, int] = defaultdict(int)
    for r in site_rows:
        by_status[str(r["status"])] += 1
    out["site"] = {
        "days_scored": len(site_rows),
        "mean_overall_score": float(sum(scores)) / len(scores) if scores else None,
        "min_overall_score": min(scores) if scores else None,
        "days_by_status": dict(sorted(by_status.items())),
    }
    meters: dict[str, list[float]] = defaultdict(list)
    failing: dict[str, set[str]] = defaultdict(set)
    for r in data.quality_meters:
        if period.start <= r["day"] <= period.end and r["overall_score"] is not None:
            meters[r["scope_id"]].append(r["overall_score"])
            if r["failing_expectations"]:
                failing[r["scope_id"]].add(str(r["failing_expectations"])[:120])
    means = {k: sum(v) / len(v) for k, v in meters.items()}
    best = max(means.values(), default=None)
    # the five lowest-scoring meters, leaving out those at the best score (nothing to say)
    worst = sorted((s, k) for k, s in means.items() if s < best)[:5] if best is not None else []
    out["worst_meters"] = [
        {"meter_id": k, "mean_overall_score": s, "failing": sorted(failing[k])[:3]}
        for s, k in worst
    ]
    if scores:
        notes.append(
            f"Site data-quality score over {len(site_rows)} days: mean "
            f"{out['site']['mean_overall_score']:.2f}, "
            f"lowest {out['site']['min_overall_score']:.2f} ("
            + ", ".join(f"{n} days {status}" for status, n in out["site"]["days_by_status"].items())
            + ")."
        )
    return out


def _p(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} %"


def _comparison(
    data: PublishedSite, definition: ReportDefinition, period: Period, this: dict[str, Any]
) -> dict[str, Any]:
    prev = previous(period, definition.financial_year_start_month)
    rows = []
    prev_metrics = None
    if all(m in data.months for m in prev.months):
        prev_metrics = period_metrics(data, prev, definition.discharge_categories)
    for key in definition.metrics:
        old = prev_metrics.get(key) if prev_metrics else None
        new = this.get(key)
        change = None if old is None or new is None else new - old
        rows.append(
            {
                "metric": key,
                "this_period": new,
                "previous_period": old,
                "change": change,
                "change_pct": _pct(change, abs(old)) if old else None,
            }
        )
    monthly = []
    for month in period.months:
        if month in data.months:
            mp = Period("monthly", f"{month:%Y-%m}", month, month_end(month))
            m = period_metrics(data, mp, definition.discharge_categories)
            monthly.append({"month": mp.key, **{k: m[k] for k in definition.metrics}})
    return {"previous_period": prev.key if prev_metrics else None, "rows": rows, "monthly": monthly}


def build_payload(
    data: PublishedSite, definition: ReportDefinition, period: Period
) -> dict[str, Any]:
    """The whole content of one report (without its registry header)."""
    metrics = period_metrics(data, period, definition.discharge_categories)
    site = data.site
    stressed = bool(site.get("is_water_stressed"))
    flows = _flows(data, period)
    return {
        "schema": SCHEMA_ID,
        "definition": {
            "id": definition.id,
            "title": definition.title,
            "regulator": definition.regulator,
            "report_type": definition.report_type,
            "unit": definition.unit,
            "sections": definition.sections,
            "metrics": definition.metrics,
            "discharge_categories": definition.discharge_categories,
            "narrative": definition.narrative,
            "fingerprint": definition.fingerprint,
        },
        "site": {
            "id": site["site_id"],
            "name": site.get("site_name"),
            "organisation": site.get("organisation"),
            "region": site.get("region"),
            "timezone": site.get("timezone"),
            "regulators": site.get("regulators"),
            "water_stressed": stressed,
            "closure_threshold_pct": site.get("closure_threshold_pct"),
            "quality_high_categories": site.get("quality_high_categories"),
        },
        "period": period.as_dict(),
        "warehouse_version": data.warehouse_version,
        "metrics": metrics,
        "categories": _categories(data, period),
        "quality_table": _quality_table(data, period, stressed),
        "facilities": _facilities(data, period),
        "facility_months": _facility_months(data, period),
        "discharges": [
            f
            for f in flows
            if f["direction"] == "output" and f["category"] in definition.discharge_categories
        ],
        "flows": flows,
        "storage_trend": _storage_trend(data, period),
        "comparison": _comparison(data, definition, period, metrics),
        "data_quality": _data_quality(data, period, metrics),
    }


def canonical_json(payload: Any) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def content_hash(payload: dict[str, Any]) -> str:
    """Hash of the report's figures: the same data gives the same hash whatever version of the
    warehouse it was read from (the version id is left out). The comparison with the previous
    period is context, not the period's figures: a restated earlier month must not make a new
    version of every later one."""
    body = {k: v for k, v in payload.items() if k not in ("warehouse_version", "comparison")}
    body["data_quality"] = {k: v for k, v in payload["data_quality"].items() if k != "notes"} | {
        "notes": [n for n in payload["data_quality"]["notes"] if "warehouse version" not in n]
    }
    return hashlib.sha256(canonical_json(body)).hexdigest()
