"""What a report says, read from the published warehouse only.

:class:`PublishedSite` loads one site's rows of the marts from the published DuckDB file (opened
read-only: the build's lock never blocks it) once; :func:`build_payload` then cuts one period out
of them. A period's balance figures (sums, storage, closure error, %, status, reuse, recycling,
intensity, accuracy shares) are one row of the period marts ``fct_site_balance_period`` and
``fct_node_balance_period`` (month, financial quarter, financial year): the balance rules live in
dbt only. Tables by category, quality and flow are sums of the monthly mart rows. The payload is
plain JSON: the renderers, the registry (content hash, diff) and the tests all read the same dict.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from reports.definitions import ReportDefinition
from reports.energy import EnergyData, build_energy_payload, load_energy
from reports.materials.data import MaterialsData, load_materials
from reports.metering.data import MeteringData, load_metering
from reports.metrics import CATEGORY_LABELS, INPUT_CATEGORIES, METRICS, OUTPUT_CATEGORIES
from reports.periods import Period, complete_periods, month_end, period_containing, previous
from reports.sustainability import load_sustainability, sustainability_section

SCHEMA_ID = "siteledger-report/1.0"
QUALITY_SCORES_TABLE = "fct_quality_scores_daily"
REQUIRED_TABLES = (
    "dim_sites",
    "dim_nodes",
    "fct_site_balance_monthly",
    "fct_site_balance_period",
    "fct_node_balance_monthly",
    "fct_node_balance_period",
    "fct_node_balance_daily",
    "fct_flow_sankey",
    "fct_site_water_by_category",
    "fct_report_water_by_quality_monthly",
)
ORGANISATION_TABLES = (
    "dim_sites",
    "fct_organisation_balance_annual",
    "fct_site_comparison_annual",
)
# the analytics tables an outlook is read from, and the columns each needs to be used (a table
# missing, or without these columns, is treated as not published; unknown columns are ignored)
ANALYTICS_TABLES: dict[str, tuple[str, ...]] = {
    "fct_forecast_daily": (
        "site_id",
        "series_id",
        "target",
        "scope",
        "scope_id",
        "as_of",
        "day",
        "horizon_day",
        "mean",
        "lo80",
        "hi80",
        "lo95",
        "hi95",
    ),
    "fct_forecast_status": ("site_id", "series_id", "target", "status", "reason"),
    "fct_model_registry": ("series_id", "is_current"),
    "fct_overflow_risk": (
        "site_id",
        "node_id",
        "as_of",
        "horizon_days",
        "p_above_80",
        "p_above_100",
        "p_below_20",
    ),
    "fct_scenario_projection": (
        "site_id",
        "scenario_id",
        "scenario_name",
        "node_id",
        "day",
        "horizon_day",
        "p50_volume_m3",
    ),
}
# an outlook belongs to a period's report only if it was issued (its last observed day, as_of)
# at the period's close: on the period's last day or up to this many days after it
OUTLOOK_WINDOW_DAYS = 45
# observed days drawn before the forecast: the period's days, at most this many
OUTLOOK_HISTORY_DAYS = 62
DEMAND_TOTAL_DAYS = 30
OUTLOOK_METHOD = (
    "Forecasts from a seasonal regression model with rain; probabilities from 20 000 simulated "
    "rain sequences through each store's balance."
)
# report period kinds -> the period marts' period_kind
PERIOD_KINDS = {"monthly": "month", "quarterly": "quarter", "annual": "year"}


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
    # rows of fct_site_balance_period / fct_node_balance_period by (period_kind, period_start)
    site_periods: dict[tuple[str, dt.date], dict[str, Any]] = field(default_factory=dict)
    node_periods: dict[tuple[str, dt.date], list[dict[str, Any]]] = field(default_factory=dict)
    quality_site: list[dict[str, Any]] = field(default_factory=list)
    quality_meters: list[dict[str, Any]] = field(default_factory=list)
    has_quality_scores: bool = False
    # rows of the analytics tables for the site, by table; a table not published is absent
    analytics: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # rows of the sustainability marts for the site, by table; a table not published is absent
    sustainability: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # rows of the energy marts for the site; None for a site without an energy section
    energy: EnergyData | None = None
    # rows of the materials marts for the site; None for a site without a materials section
    materials: MaterialsData | None = None
    # rows of the metering marts for the site; None for a site without a metering section
    metering: MeteringData | None = None

    def complete_months(self) -> set[dt.date]:
        """Months with data on every calendar day."""
        return {
            month
            for month, row in self.months.items()
            if row["n_days"] == month_end(month).day
            and row["first_day"] == month
            and row["last_day"] == month_end(month)
        }

    @property
    def financial_year_start_month(self) -> int:
        """The organisation's first month of the financial year, as the marts were cut with."""
        return int(self.site["financial_year_start_month"])

    def fy_start_month(self, definition: ReportDefinition) -> int:
        """The financial year start for ``definition`` (the organisation's; a definition may only
        repeat it)."""
        return definition.fy_start_month(self.financial_year_start_month)

    def periods(self, definition: ReportDefinition) -> list[Period]:
        if definition.domain == "energy":
            return self.energy.periods(definition.period) if self.energy is not None else []
        if definition.domain == "materials":
            if self.materials is None:
                return []
            return self.materials.periods(definition.period, definition.sections)
        if definition.domain == "metering":
            return self.metering.periods(definition.period) if self.metering is not None else []
        return complete_periods(
            definition.period, self.complete_months(), self.fy_start_month(definition)
        )

    def period_row(self, period: Period) -> dict[str, Any]:
        """The period's row of ``fct_site_balance_period``."""
        row = self.site_periods.get((PERIOD_KINDS[period.kind], period.start))
        if row is None:
            raise ReportDataError(f"no data for {period.key} of {self.site['site_id']}")
        if row["period_key"] != period.key:
            raise ReportDataError(
                f"the warehouse names the period starting {period.start} {row['period_key']!r}, "
                f"not {period.key!r}: it was built with another financial year start; rebuild it"
            )
        return row


def published_version(db_path: Path) -> str:
    with duckdb.connect(str(db_path), read_only=True) as con:
        row = con.execute("select version_id from _siteledger_publish").fetchone()
    if not row:
        raise ReportDataError(f"{db_path} has no publish record")
    return str(row[0])


def site_ids(db_path: Path) -> list[str]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return [r[0] for r in con.execute("select site_id from dim_sites order by 1").fetchall()]


def water_site_ids(db_path: Path) -> list[str] | None:
    """The published sites with a water model (at least one node): only they file water
    reports. A site without nodes (a workshop whose site file has only a ``materials:`` section)
    is in ``dim_sites`` but has no row in any water mart. None when the published file has no
    ``dim_nodes`` (one published before it existed): every site is then taken to have one."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        tables = {r[0] for r in con.execute("show tables").fetchall()}
        if "dim_nodes" not in tables:
            return None
        return [
            r[0]
            for r in con.execute("select distinct site_id from dim_nodes order by 1").fetchall()
        ]


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
        site_periods = {
            (r["period_kind"], r["period_start"]): r
            for r in _rows(
                con,
                "select * from fct_site_balance_period where site_id = ? "
                "order by period_kind, period_start",
                [site_id],
            )
        }
        node_periods: dict[tuple[str, dt.date], list[dict[str, Any]]] = defaultdict(list)
        for r in _rows(
            con,
            "select * from fct_node_balance_period where site_id = ? "
            "order by period_kind, period_start, node_id",
            [site_id],
        ):
            node_periods[(r["period_kind"], r["period_start"])].append(r)
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
            site_periods=site_periods,
            node_periods=dict(node_periods),
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
        data.analytics = load_analytics(con, tables, site_id)
        data.sustainability = load_sustainability(con, tables, site_id)
        data.energy = load_energy(con, tables, site_id)
        data.materials = load_materials(
            con, tables, site_id, sites[0].get("timezone"), db_path=db_path
        )
        data.metering = load_metering(con, tables, site_id, sites[0].get("timezone"))
    return data


def load_analytics(
    con: duckdb.DuckDBPyConnection, tables: set[str], site_id: str
) -> dict[str, list[dict[str, Any]]]:
    """The analytics rows of ``site_id`` (:data:`ANALYTICS_TABLES`), by table. A table that is
    not in the warehouse (versions published before the analytics existed) or lacks a column the
    outlook needs is left out; the model registry, which may not name the site, is cut to the
    site's series."""
    out: dict[str, list[dict[str, Any]]] = {}
    for table, needed in ANALYTICS_TABLES.items():
        if table not in tables:
            continue
        columns = {r[0] for r in con.execute(f'describe "{table}"').fetchall()}
        if any(c not in columns for c in needed):
            continue
        if "site_id" in columns:
            out[table] = _rows(con, f'select * from "{table}" where site_id = ?', [site_id])  # noqa: S608
        else:
            out[table] = _rows(con, f'select * from "{table}"', [])  # noqa: S608
    if "fct_model_registry" in out:
        series = {
            r["series_id"]
            for t in ("fct_forecast_daily", "fct_forecast_status")
            for r in out.get(t, [])
        }
        out["fct_model_registry"] = [
            r
            for r in out["fct_model_registry"]
            if r.get("site_id") == site_id or r["series_id"] in series
        ]
    return out


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
    """Every catalogue metric of the period, volumes in m3, shares in %: the period mart's row
    (ratios scaled to %); discharge and consumption add its category columns up."""
    row = data.period_row(period)
    closure_pct = row["closure_error_pct"]
    out: dict[str, float | None] = {
        "inputs": row["inputs_m3"],
        **{f"input_{c}": row[f"input_{c}_m3"] for c in INPUT_CATEGORIES},
        "outputs": row["outputs_m3"],
        **{f"output_{c}": row[f"output_{c}_m3"] for c in OUTPUT_CATEGORIES},
        "diversions": row["diversions_m3"],
        "discharge": _sum([row.get(f"output_{c}_m3") or 0.0 for c in discharge_categories]),
        "consumption": _sum(
            [row["output_evaporation_m3"], row["output_entrainment_m3"], row["output_other_m3"]]
        ),
        "opening_storage": row["opening_storage_m3"],
        "closing_storage": row["closing_storage_m3"],
        "storage_change": row["storage_change_m3"],
        "closure_error": row["closure_error_m3"],
        "closure_error_pct": closure_pct,
        "closure_error_abs_pct": None if closure_pct is None else abs(closure_pct),
        "task_feed": row["task_feed_m3"],
        "task_feed_raw": row["task_feed_raw_m3"],
        "reused": row["reused_m3"],
        "recycled": row["recycled_m3"],
        "reuse_pct": _ratio_pct(row["reuse_ratio"]),
        "recycling_pct": _ratio_pct(row["recycling_ratio"]),
        "ore_feed_t": row["ore_feed_t"],
        "water_intensity_m3_per_t": row["water_intensity_m3_per_t"],
        "n_days": row["n_days"],
        "n_days_incomplete": row["n_days_incomplete"],
        "n_flow_days_missing": row["n_flows_missing"],
    }
    for method in ("measured", "estimated", "simulated"):
        out[f"input_{method}_pct"] = row[f"input_{method}_pct"]
        out[f"output_{method}_pct"] = row[f"output_{method}_pct"]
    assert set(out) == set(METRICS), set(METRICS) ^ set(out)
    return out


def _ratio_pct(ratio: float | None) -> float | None:
    return None if ratio is None else 100.0 * ratio


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
    """Each store and task over the period: its row of ``fct_node_balance_period``."""
    out = []
    kind_order = {"store": 0, "task": 1}
    for r in data.node_periods.get((PERIOD_KINDS[period.kind], period.start), []):
        node = data.nodes.get(r["node_id"], {})
        out.append(
            {
                "node_id": r["node_id"],
                "name": node.get("node_name") or r["node_id"],
                "kind": r["node_kind"],
                "type": node.get("node_type") or "",
                "capacity": node.get("capacity_m3"),
                **{k: r[f"{k}_m3"] for k in FACILITY_MONTH_VOLUMES},
                "balance_error_pct": r["balance_error_pct"],
                "balance_status": r["balance_status"],
                "n_days_incomplete": int(r["n_days_incomplete"]),
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
    """Each facility month by month (the period mart's month rows as they are)."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for month in period.months:
        for r in data.node_periods.get(("month", month), []):
            out[r["node_id"]].append(
                {
                    "month": month.strftime("%Y-%m"),
                    **{k: r[f"{k}_m3"] for k in FACILITY_MONTH_VOLUMES},
                    "balance_error_pct": r["balance_error_pct"],
                    "n_days_incomplete": int(r["n_days_incomplete"]),
                }
            )
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
    for row in acc.values():
        row["name"] = flow_display_name(row)
    return sorted(acc.values(), key=lambda x: x["flow_id"])


def flow_display_name(flow: dict[str, Any]) -> str:
    """The flow's configured name, or "source → target" by node names when the site file gives
    none (the site tables then carry the flow id as its name, which a reader cannot place)."""
    name = (flow.get("name") or "").strip()
    if name and name != flow["flow_id"]:
        return name
    source = flow.get("source_name") or flow.get("source") or "?"
    target = flow.get("target_name") or flow.get("target") or "?"
    return f"{source} → {target}"


def _storage_trend(data: PublishedSite, period: Period) -> dict[str, list[list[Any]]]:
    trend: dict[str, list[list[Any]]] = defaultdict(list)
    for r in data.store_days:
        if period.start <= r["day"] <= period.end:
            trend[r["node_id"]].append([r["day"].isoformat(), r["closing_storage_m3"]])
    return dict(trend)


# -- outlook ---------------------------------------------------------------------------------------
def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _iso(value: Any) -> str | None:
    day = _date(value)
    return None if day is None else day.isoformat()


def _float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _scenario_as_of(row: dict[str, Any]) -> dt.date | None:
    day, horizon = _date(row.get("day")), row.get("horizon_day")
    if day is None or horizon is None:
        return None
    return day - dt.timedelta(days=int(horizon))


def _series_label(series_id: str, target: str | None, nodes: dict[str, dict[str, Any]]) -> str:
    """A reader's name for a series (``site/scope/scope_id/metric``)."""
    parts = str(series_id).split("/")
    if len(parts) == 4 and parts[1] == "node":
        name = nodes.get(parts[2], {}).get("node_name") or parts[2]
        return f"{name} ({(target or parts[3]).replace('_', ' ')})"
    if target:
        return target.replace("_", " ").capitalize()
    return str(series_id)


def _unavailable(reason: str, note: str, **extra: Any) -> dict[str, Any]:
    return {"available": False, "reason": reason, "note": note, **extra}


def _outlook(data: PublishedSite, period: Period) -> dict[str, Any]:
    """Forecasts, overflow risk, scenarios and model accuracy issued at the close of ``period``.

    The outlook comes from the analytics tables of the same published warehouse version. It
    belongs to the report only if it was issued at the period's close: its ``as_of`` (the last
    observed day) lies on the period end or up to :data:`OUTLOOK_WINDOW_DAYS` days after it; of
    several issues in that window the first is taken. A report regenerated long after the period
    (or a warehouse without the tables) says so instead of showing a later outlook."""
    a = data.analytics
    forecast_rows = a.get("fct_forecast_daily", [])
    risk_rows = a.get("fct_overflow_risk", [])
    scenario_rows = a.get("fct_scenario_projection", [])
    status_rows = a.get("fct_forecast_status", [])
    issued = sorted(
        {d for d in (_date(r["as_of"]) for r in forecast_rows) if d}
        | {d for d in (_date(r["as_of"]) for r in risk_rows) if d}
        | {d for d in (_scenario_as_of(r) for r in scenario_rows) if d}
    )
    not_ok = [
        {
            "series_id": r["series_id"],
            "label": _series_label(r["series_id"], r.get("target"), data.nodes),
            "target": r.get("target"),
            "status": r["status"] or "unknown",
            "reason": r.get("reason") or "",
        }
        for r in sorted(status_rows, key=lambda r: str(r["series_id"]))
        if r["status"] != "ok"
    ]
    if not issued:
        return _unavailable(
            "not_published",
            "No outlook was published with this warehouse version.",
            not_forecast=not_ok,
        )
    window_end = period.end + dt.timedelta(days=OUTLOOK_WINDOW_DAYS)
    if not any(period.end <= d <= window_end for d in issued):
        latest = issued[-1]
        when = "before the period ended" if latest < period.end else "after the period's close"
        return _unavailable(
            "not_issued_at_close",
            "No outlook issued at the close of this period: the outlook in this warehouse "
            f"version is as of {latest.isoformat()}, {when} (an outlook is shown only when issued "
            f"between {period.end.isoformat()} and {window_end.isoformat()}).",
            latest_as_of=latest.isoformat(),
        )
    # each series (store, scenario) on its own last observed day: one may lag another by a day
    window = (period.end, window_end)
    forecasts = _first_issue(forecast_rows, lambda r: r["series_id"], lambda r: r["as_of"], window)
    risk_rows = _first_issue(risk_rows, lambda r: r["node_id"], lambda r: r["as_of"], window)
    scenario_rows = _first_issue(
        scenario_rows, lambda r: (r["node_id"], r["scenario_id"]), _scenario_as_of, window
    )
    as_of = max(
        d
        for d in (
            *(_date(r["as_of"]) for r in forecasts),
            *(_date(r["as_of"]) for r in risk_rows),
            *(_scenario_as_of(r) for r in scenario_rows),
        )
        if d
    )
    models = {str(r["series_id"]): r.get("model_id") for r in status_rows}
    stores = _outlook_stores(data, period, forecasts, risk_rows, scenario_rows, models)
    return {
        "available": True,
        "as_of": as_of.isoformat(),
        "window_days": OUTLOOK_WINDOW_DAYS,
        "method": OUTLOOK_METHOD,
        "stores": stores,
        "demand": _outlook_demand(forecasts, data.nodes, models),
        "models": _outlook_models(data, a.get("fct_model_registry", []), status_rows),
        "not_forecast": not_ok
        + [
            {
                "series_id": f"{data.site['site_id']}/node/{s['node_id']}/overflow_risk",
                "label": f"{s['name']} (overflow risk)",
                "target": "overflow_risk",
                "status": r["status"],
                "reason": r["reason"],
            }
            for s in stores
            for r in s["risk"]
            if r["status"] not in (None, "ok")
        ],
    }


def _base_first(scenario: dict[str, Any]) -> tuple[bool, str]:
    return scenario["scenario_id"] != "base", str(scenario["name"])


def _first_issue(
    rows: list[dict[str, Any]],
    key: Callable[[dict[str, Any]], Any],
    as_of: Callable[[dict[str, Any]], Any],
    window: tuple[dt.date, dt.date],
) -> list[dict[str, Any]]:
    """The rows of each ``key``'s first issue (``as_of``) inside ``window``."""
    first: dict[Any, dt.date] = {}
    for r in rows:
        day = _date(as_of(r))
        if day is not None and window[0] <= day <= window[1]:
            k = key(r)
            first[k] = min(first.get(k, day), day)
    return [r for r in rows if key(r) in first and _date(as_of(r)) == first[key(r)]]


def _pick_model(
    rows: list[dict[str, Any]], models: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """One model's rows of a series: the model its forecast status names, else (a table holding
    several) the lowest model id."""
    ids = sorted({str(r.get("model_id")) for r in rows})
    if len(ids) <= 1:
        return rows
    named = str((models or {}).get(str(rows[0]["series_id"])))
    chosen = named if named in ids else ids[0]
    return [r for r in rows if str(r.get("model_id")) == chosen]


def _outlook_stores(
    data: PublishedSite,
    period: Period,
    forecasts: list[dict[str, Any]],
    risk_rows: list[dict[str, Any]],
    scenario_rows: list[dict[str, Any]],
    models: dict[str, Any],
) -> list[dict[str, Any]]:
    by_node: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in forecasts:
        if r["target"] == "store_volume" and r["scope"] == "node":
            by_node[str(r["scope_id"])].append(r)
    risks: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in risk_rows:
        risks[str(r["node_id"])].append(r)
    scenarios: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in scenario_rows:
        scenarios[str(r["node_id"])][str(r["scenario_id"])].append(r)
    out = []
    for node_id in sorted(set(by_node) | set(risks) | set(scenarios)):
        node = data.nodes.get(node_id, {})
        rows = sorted(
            _pick_model(by_node.get(node_id, []), models), key=lambda r: int(r["horizon_day"])
        )
        # the store's last observed day: its forecast's, else its risk's or scenarios'
        issued = [_date(r["as_of"]) for r in rows[:1]] or [
            *(_date(r["as_of"]) for r in risks.get(node_id, [])),
            *(_scenario_as_of(r) for rs in scenarios.get(node_id, {}).values() for r in rs),
        ]
        as_of = max(d for d in issued if d)
        history_start = max(period.start, as_of - dt.timedelta(days=OUTLOOK_HISTORY_DAYS))
        capacity = next(
            (c for c in (_float(r.get("capacity_m3")) for r in rows) if c),
            _float(node.get("capacity_m3")),
        )
        horizon_risk = []
        for r in sorted(risks.get(node_id, []), key=lambda r: int(r["horizon_days"])):
            days = int(r["horizon_days"])
            horizon_risk.append(
                {
                    "horizon_days": days,
                    "label": "next 24 h" if days == 1 else f"next {days} days",
                    "p_above_80": _float(r["p_above_80"]),
                    "p_above_100": _float(r["p_above_100"]),
                    "p_below_20": _float(r["p_below_20"]),
                    "n_paths": r.get("n_paths"),
                    "status": r.get("status") or "ok",
                    "reason": r.get("reason") or "",
                }
            )
        scenario_end, scenario_paths = [], []
        for scenario_id, srows in scenarios.get(node_id, {}).items():
            srows = sorted(srows, key=lambda r: int(r["horizon_day"]))
            end = srows[-1]
            scenario_end.append(
                {
                    "scenario_id": scenario_id,
                    "name": end.get("scenario_name") or scenario_id,
                    "day": _date(end["day"]).isoformat(),  # type: ignore[union-attr]
                    "horizon_day": int(end["horizon_day"]),
                    "p10_volume": _float(end.get("p10_volume_m3")),
                    "p50_volume": _float(end["p50_volume_m3"]),
                    "p90_volume": _float(end.get("p90_volume_m3")),
                    "p_above_100": _float(end.get("p_above_100")),
                }
            )
            scenario_paths.append(
                {
                    "scenario_id": scenario_id,
                    "name": end.get("scenario_name") or scenario_id,
                    "points": [
                        [_date(r["day"]).isoformat(), _float(r["p50_volume_m3"])]  # type: ignore[union-attr]
                        for r in srows
                    ],
                }
            )
        out.append(
            {
                "node_id": node_id,
                "name": node.get("node_name") or node_id,
                "as_of": as_of.isoformat(),
                "capacity": capacity,
                "unit": rows[0].get("unit") if rows else None,
                "model_id": rows[0].get("model_id") if rows else None,
                "history": [
                    [r["day"].isoformat(), r["closing_storage_m3"]]
                    for r in data.store_days
                    if r["node_id"] == node_id and history_start <= r["day"] <= as_of
                ],
                "forecast": [
                    {
                        "day": _date(r["day"]).isoformat(),  # type: ignore[union-attr]
                        "horizon_day": int(r["horizon_day"]),
                        **{k: _float(r[k]) for k in ("mean", "lo80", "hi80", "lo95", "hi95")},
                    }
                    for r in rows
                ],
                "risk": horizon_risk,
                "scenarios": sorted(scenario_end, key=_base_first),
                "scenario_paths": sorted(scenario_paths, key=_base_first),
            }
        )
    out.sort(key=lambda s: (str(s["name"]), s["node_id"]))
    return out


def _outlook_demand(
    forecasts: list[dict[str, Any]], nodes: dict[str, dict[str, Any]], models: dict[str, Any]
) -> list[dict[str, Any]]:
    """Each site-demand series over its next :data:`DEMAND_TOTAL_DAYS` days: the total is the sum
    of the daily means; the intervals are daily only (the interval of a sum is not the sum of the
    daily intervals, so the total has none)."""
    by_series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in forecasts:
        if r["target"] == "site_demand":
            by_series[str(r["series_id"])].append(r)
    out = []
    for series_id, rows in sorted(by_series.items()):
        days = sorted(
            (r for r in _pick_model(rows, models) if int(r["horizon_day"]) <= DEMAND_TOTAL_DAYS),
            key=lambda r: int(r["horizon_day"]),
        )
        means = [_float(r["mean"]) for r in days]
        if not days or any(m is None for m in means):
            continue
        first, last = days[0], days[-1]
        out.append(
            {
                "series_id": series_id,
                "label": _series_label(series_id, "site_demand", nodes),
                "unit": first.get("unit") or "m3",
                "model_id": first.get("model_id"),
                "n_days": len(days),
                "first_day": _date(first["day"]).isoformat(),  # type: ignore[union-attr]
                "last_day": _date(last["day"]).isoformat(),  # type: ignore[union-attr]
                "total_mean": float(sum(m for m in means if m is not None)),
                "daily_mean": float(sum(m for m in means if m is not None)) / len(days),
                "daily": [
                    {
                        "day": _date(r["day"]).isoformat(),  # type: ignore[union-attr]
                        **{k: _float(r[k]) for k in ("mean", "lo80", "hi80", "lo95", "hi95")},
                    }
                    for r in days
                ],
            }
        )
    return out


def _outlook_models(
    data: PublishedSite, registry: list[dict[str, Any]], status_rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The current model of each of the site's series with its backtest figures (fractions)."""
    targets = {str(r["series_id"]): r.get("target") for r in status_rows}
    warnings = {str(r["series_id"]): r.get("backtest_warning") or "" for r in status_rows}
    out = []
    for r in registry:
        if not r.get("is_current"):
            continue
        target = r.get("target") or targets.get(str(r["series_id"]))
        out.append(
            {
                "series_id": r["series_id"],
                "label": _series_label(r["series_id"], target, data.nodes),
                "target": target,
                "model_id": r.get("model_id"),
                "model_type": r.get("model_type"),
                "status": r.get("status"),
                "mase": _float(r.get("backtest_mase")),
                "coverage_80": _float(r.get("backtest_coverage_80")),
                "coverage_95": _float(r.get("backtest_coverage_95")),
                "within_10pct_share": _float(r.get("backtest_within_10pct_share")),
                "warning": warnings.get(str(r["series_id"]), ""),
                # days: the published file holds the warehouse's dates (reports read days)
                **{k: _iso(r.get(k)) for k in ("trained_at", "next_retrain_at")},
            }
        )
    out.sort(key=lambda m: (str(m["target"]) != "store_volume", m["label"]))
    return out


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
    if bad:
        notes.append("Monthly closure not within the threshold in: " + ", ".join(bad) + ".")
    elif len(months) == 1:
        notes.append(f"Closure within the site threshold in {months[0]['month_start']:%B %Y}.")
    elif months:
        notes.append(
            f"Monthly closure within the site threshold in each of the {len(months)} months."
        )
    else:
        notes.append("No month of the period has a closure in the published warehouse.")
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
    prev = previous(period, data.fy_start_month(definition))
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


def _definition_block(definition: ReportDefinition) -> dict[str, Any]:
    """What a report says of the definition it was made from (site and organisation alike)."""
    return {
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
    }


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
        "definition": _definition_block(definition),
        "site": {
            "id": site["site_id"],
            "name": site.get("site_name"),
            "organisation": site.get("organisation_name") or site.get("organisation"),
            "region": site.get("region_name") or site.get("region"),
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
        # forecasts issued at the period's close: shown, never part of the version's identity
        **({"outlook": _outlook(data, period)} if "outlook" in definition.sections else {}),
        **(
            {"sustainability": sustainability_section(data.sustainability, period)}
            if "sustainability" in definition.sections
            else {}
        ),
    }


# -- organisation reports --------------------------------------------------------------------------
@dataclass
class PublishedOrganisation:
    """One organisation's consolidated rows (organisation -> region -> site) from one published
    warehouse version. ``site`` describes the organisation in the shape a report's header takes
    (its id is the organisation id)."""

    warehouse_version: str
    site: dict[str, Any]
    years: dict[dt.date, dict[str, Any]]  # fct_organisation_balance_annual, scope organisation
    regions: dict[dt.date, list[dict[str, Any]]]  # the same, scope region
    site_years: dict[dt.date, list[dict[str, Any]]]  # fct_site_comparison_annual

    @property
    def financial_year_start_month(self) -> int:
        return int(self.site["financial_year_start_month"])

    def fy_start_month(self, definition: ReportDefinition) -> int:
        return definition.fy_start_month(self.financial_year_start_month)

    def periods(self, definition: ReportDefinition) -> list[Period]:
        """Financial years complete at every site of the organisation."""
        fy = self.fy_start_month(definition)
        return [
            period_containing("annual", start, fy)
            for start, row in sorted(self.years.items())
            if row["n_sites_complete"] == row["n_sites"]
        ]


def site_regulators(db_path: Path) -> dict[str, list[str]]:
    """The regulators each published site names (empty: the site names none)."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = con.execute("select site_id, regulators from dim_sites order by 1").fetchall()
    return {site: [r for r in (regs or "").split(",") if r] for site, regs in rows}


def organisation_ids(db_path: Path) -> list[str]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return [
            r[0]
            for r in con.execute(
                "select distinct organisation from dim_sites where organisation is not null "
                "order by 1"
            ).fetchall()
        ]


def load_organisation(db_path: Path, organisation: str) -> PublishedOrganisation:
    """Read the consolidated marts of ``organisation`` from the published file."""
    if not db_path.exists():
        raise ReportDataError(f"no published warehouse at {db_path}; run the main job first")
    with duckdb.connect(str(db_path), read_only=True) as con:
        tables = {r[0] for r in con.execute("show tables").fetchall()}
        missing = [t for t in ORGANISATION_TABLES if t not in tables]
        if missing:
            raise ReportDataError(
                f"the published warehouse lacks {missing}; rebuild and publish the marts"
            )
        version = str(con.execute("select version_id from _siteledger_publish").fetchone()[0])  # type: ignore[index]
        sites = _rows(
            con, "select * from dim_sites where organisation = ? order by site_id", [organisation]
        )
        if not sites:
            raise ReportDataError(f"organisation {organisation!r} has no site in the warehouse")
        fy_months = {s["financial_year_start_month"] for s in sites}
        if len(fy_months) != 1:
            raise ReportDataError(
                f"the sites of {organisation!r} were built with different financial years "
                f"({sorted(fy_months)}); rebuild the warehouse"
            )
        annual = _rows(
            con,
            "select * from fct_organisation_balance_annual where organisation = ? "
            "order by period_start, scope, scope_id",
            [organisation],
        )
        comparison = _rows(
            con,
            "select * from fct_site_comparison_annual where organisation = ? "
            "order by period_start, region, site_id",
            [organisation],
        )
    regions: dict[dt.date, list[dict[str, Any]]] = defaultdict(list)
    for r in annual:
        if r["scope"] == "region":
            regions[r["period_start"]].append(r)
    site_years: dict[dt.date, list[dict[str, Any]]] = defaultdict(list)
    for r in comparison:
        site_years[r["period_start"]].append(r)
    thresholds = [s["closure_threshold_pct"] for s in sites if s["closure_threshold_pct"]]
    header = {
        "site_id": organisation,
        "site_name": sites[0].get("organisation_name") or organisation,
        "organisation": sites[0].get("organisation_name") or organisation,
        "region": "; ".join(
            sorted({s.get("region_name") or s.get("region") or "unassigned" for s in sites})
        ),
        "timezone": "; ".join(sorted({s["timezone"] for s in sites})),
        "regulators": ",".join(
            sorted({r for s in sites for r in (s.get("regulators") or "").split(",") if r})
        ),
        "is_water_stressed": any(s.get("is_water_stressed") for s in sites),
        "closure_threshold_pct": min(thresholds) if thresholds else None,
        "quality_high_categories": None,
        "financial_year_start_month": fy_months.pop(),
        "site_ids": [s["site_id"] for s in sites],
    }
    return PublishedOrganisation(
        version,
        header,
        {r["period_start"]: r for r in annual if r["scope"] == "organisation"},
        dict(regions),
        dict(site_years),
    )


def _ml_to_m3(value: float | None) -> float | None:
    return None if value is None else 1000.0 * value


def organisation_metrics(
    data: PublishedOrganisation, period: Period, discharge_categories: list[str]
) -> dict[str, float | None]:
    """Every catalogue metric of the organisation's financial year from its consolidated row
    (ML in the mart, m3 here as in every payload; ratios scaled to %)."""
    row = data.years.get(period.start)
    if row is None or row["financial_year"] != period.key:
        raise ReportDataError(f"no consolidated figures for {period.key} of {data.site['site_id']}")
    v = {k[: -len("_ml")]: _ml_to_m3(x) for k, x in row.items() if k.endswith("_ml")}
    closure_pct = row["closure_error_pct"]
    days = [r["n_days"] for r in data.site_years.get(period.start, [])]
    out: dict[str, float | None] = {
        "inputs": v["inputs"],
        **{f"input_{c}": v[f"input_{c}"] for c in INPUT_CATEGORIES},
        "outputs": v["outputs"],
        **{f"output_{c}": v[f"output_{c}"] for c in OUTPUT_CATEGORIES},
        "diversions": v["diversions"],
        "discharge": _sum([v.get(f"output_{c}") or 0.0 for c in discharge_categories]),
        "consumption": _sum([v["output_evaporation"], v["output_entrainment"], v["output_other"]]),
        "opening_storage": v["opening_storage"],
        "closing_storage": v["closing_storage"],
        "storage_change": v["storage_change"],
        "closure_error": v["closure_error"],
        "closure_error_pct": closure_pct,
        "closure_error_abs_pct": None if closure_pct is None else abs(closure_pct),
        "task_feed": v["task_feed"],
        "task_feed_raw": v["task_feed_raw"],
        "reused": v["reused"],
        "recycled": v["recycled"],
        "reuse_pct": _ratio_pct(row["reuse_ratio"]),
        "recycling_pct": _ratio_pct(row["recycling_ratio"]),
        "ore_feed_t": row["ore_feed_t"],
        "water_intensity_m3_per_t": row["water_intensity_m3_per_t"],
        # the period has data on every day only when it has at every site
        "n_days": min(days) if days else None,
        "n_days_incomplete": row["n_site_days_incomplete"],
        "n_flow_days_missing": row["n_flows_missing"],
    }
    for method in ("measured", "estimated", "simulated"):
        out[f"input_{method}_pct"] = row[f"input_{method}_pct"]
        out[f"output_{method}_pct"] = row[f"output_{method}_pct"]
    assert set(out) == set(METRICS), set(METRICS) ^ set(out)
    return out


def _site_rows(data: PublishedOrganisation, period: Period) -> list[dict[str, Any]]:
    """The sites of the organisation as rows (m3), in region order, with their ranks."""
    regions = {r["scope_id"]: r["scope_name"] for r in data.regions.get(period.start, [])}
    return [
        {
            "site_id": r["site_id"],
            "name": r["site_name"] or r["site_id"],
            "region": r["region"],
            "region_name": regions.get(r["region"], r["region"]),
            "complete": bool(r["is_complete"]),
            **{
                k: _ml_to_m3(r[f"{k}_ml"])
                for k in ("inputs", "withdrawal", "outputs", "storage_change", "closure_error")
            },
            "closure_error_pct": r["closure_error_pct"],
            "closure_status": r["closure_status"],
            "ore_feed_t": r["ore_feed_t"],
            "water_intensity_m3_per_t": r["water_intensity_m3_per_t"],
            "withdrawal_m3_per_t": r["withdrawal_m3_per_t"],
            "recycled_share_pct": r["recycled_share_pct"],
            "input_measured_pct": r["input_measured_pct"],
            "intensity_rank": r["water_intensity_m3_per_t_rank_in_organisation"],
            "intensity_rank_in_region": r["water_intensity_m3_per_t_rank_in_region"],
            "withdrawal_per_t_rank": r["withdrawal_m3_per_t_rank_in_organisation"],
            "closure_rank": r["closure_error_abs_pct_rank_in_organisation"],
            "recycled_share_rank": r["recycled_share_pct_rank_in_organisation"],
        }
        for r in data.site_years.get(period.start, [])
    ]


def _region_rows(data: PublishedOrganisation, period: Period) -> list[dict[str, Any]]:
    return [
        {
            "region": r["scope_id"],
            "name": r["scope_name"] or r["scope_id"],
            "n_sites": r["n_sites"],
            **{
                k: _ml_to_m3(r[f"{k}_ml"])
                for k in ("inputs", "outputs", "storage_change", "closure_error")
            },
            "closure_error_pct": r["closure_error_pct"],
            "closure_status": r["closure_status"],
            "water_intensity_m3_per_t": r["water_intensity_m3_per_t"],
        }
        for r in data.regions.get(period.start, [])
    ]


def build_organisation_payload(
    data: PublishedOrganisation, definition: ReportDefinition, period: Period
) -> dict[str, Any]:
    """The content of an organisation's report: its consolidated figures, its regions and its
    sites as rows; the site-level tables (categories, facilities, flows) are empty."""
    metrics = organisation_metrics(data, period, definition.discharge_categories)
    prev = previous(period, data.fy_start_month(definition))
    prev_metrics = None
    prev_row = data.years.get(prev.start)
    if prev_row is not None and prev_row["n_sites_complete"] == prev_row["n_sites"]:
        prev_metrics = organisation_metrics(data, prev, definition.discharge_categories)
    rows = []
    for key in definition.metrics:
        old = prev_metrics.get(key) if prev_metrics else None
        new = metrics.get(key)
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
    sites = _site_rows(data, period)
    org = data.site
    incomplete = [s["name"] for s in sites if not s["complete"]]
    notes = [
        f"Consolidated over {len(sites)} site{'' if len(sites) == 1 else 's'}: every volume is "
        "the sum of the sites' figures, "
        "each site on its own local days; ratios are recomputed from the sums.",
        f"Accuracy: inputs {_p(metrics['input_measured_pct'])} measured, "
        f"{_p(metrics['input_estimated_pct'])} estimated, "
        f"{_p(metrics['input_simulated_pct'])} simulated; outputs "
        f"{_p(metrics['output_measured_pct'])} measured, "
        f"{_p(metrics['output_estimated_pct'])} estimated, "
        f"{_p(metrics['output_simulated_pct'])} simulated.",
        f"{int(metrics['n_days_incomplete'] or 0)} site-days have an incomplete balance; "
        f"{int(metrics['n_flow_days_missing'] or 0)} flow-days have no volume.",
    ]
    if incomplete:
        notes.append("Sites without data on every day: " + ", ".join(incomplete) + ".")
    return {
        "schema": SCHEMA_ID,
        "scope": "organisation",
        "definition": _definition_block(definition),
        "site": {
            "id": org["site_id"],
            "name": org["site_name"],
            "organisation": org["organisation"],
            "region": org["region"],
            "timezone": org["timezone"],
            "regulators": org["regulators"],
            "water_stressed": org["is_water_stressed"],
            "closure_threshold_pct": org["closure_threshold_pct"],
            "closure_status": data.years[period.start]["closure_status"],
            "quality_high_categories": org["quality_high_categories"],
            "sites": org["site_ids"],
        },
        "period": period.as_dict(),
        "warehouse_version": data.warehouse_version,
        "metrics": metrics,
        "regions": _region_rows(data, period),
        "sites": sites,
        "categories": [],
        "quality_table": [],
        "facilities": [],
        "facility_months": {},
        "discharges": [],
        "flows": [],
        "storage_trend": {},
        "comparison": {
            "previous_period": prev.key if prev_metrics else None,
            "rows": rows,
            "monthly": [],
        },
        "data_quality": {"scores_available": False, "notes": notes},
    }


def build_report_payload(
    data: PublishedSite | PublishedOrganisation, definition: ReportDefinition, period: Period
) -> dict[str, Any]:
    """The payload of a site's or an organisation's report."""
    if isinstance(data, PublishedOrganisation):
        return build_organisation_payload(data, definition, period)
    if definition.domain == "energy":
        if data.energy is None:
            raise ReportDataError(f"site {data.site['site_id']!r} has no energy data")
        return build_energy_payload(
            data.energy, data.site, definition, period, data.warehouse_version
        )
    if definition.domain == "materials":
        if data.materials is None:
            raise ReportDataError(f"site {data.site['site_id']!r} has no materials data")
        from reports.materials.lots import build_lot_payload
        from reports.materials.monthly import build_monthly_payload

        build = build_lot_payload if definition.period == "lot" else build_monthly_payload
        return build(data.materials, data.site, definition, period, data.warehouse_version)
    if definition.domain == "metering":
        if data.metering is None:
            raise ReportDataError(f"site {data.site['site_id']!r} has no metering data")
        from reports.metering.monthly import build_monthly_payload as build_metering

        return build_metering(data.metering, data.site, definition, period, data.warehouse_version)
    return build_payload(data, definition, period)


def canonical_json(payload: Any) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


# What identifies a report version (content_hash): the figures and the definition, never prose.
# Top-level parts that are not the period's figures: the payload's format id, where the figures
# were read from, the previous period (context: a restated earlier month must not make a new
# version of every later one), and the definition (identified by its fingerprint instead).
# The outlook is a forecast issued after the period, not one of its figures: a nightly forecast
# must not make a new version of (or restate) the period's report.
# The names a materials report gives its ids and the reasons a document is kept in draft are
# prose too: the figures they come from are what identify it.
_NOT_FIGURES = (
    "schema",
    "warehouse_version",
    "comparison",
    "definition",
    "outlook",
    "names",
    "errors",
)
# labels, names and sentences a reader sees in each part; none of them is a figure
_PROSE = {
    "site": ("name", "organisation", "region", "regulators"),
    "period": ("label",),
    "categories": ("label",),
    "quality_table": ("label",),
    "facilities": ("name", "type"),
    "discharges": ("name", "source_name", "target_name"),
    "flows": ("name", "source_name", "target_name"),
    "data_quality": ("notes",),
    # an energy report's recommendations: the sentence is prose, the figure it rests on is not
    "recommendations": ("text",),
}
_REQUIREMENT_PROSE = ("label", "unit", "reference")
# the sustainability section's lists and the prose of their rows
_SUSTAINABILITY_PROSE = {
    "metrics": ("label",),
    "goals": ("label", "status_label", "owner"),
    "air": ("name",),
    "incidents": ("description", "authority_reference"),
}


def _without(part: Any, keys: tuple[str, ...]) -> Any:
    if isinstance(part, dict):
        return {k: v for k, v in part.items() if k not in keys}
    if isinstance(part, list):
        return [_without(item, keys) for item in part]
    return part


def report_identity(payload: dict[str, Any], requirements: list[dict[str, Any]]) -> dict[str, Any]:
    """The part of a report that makes it a regulatory version: its figures and its definition.

    Kept: every number (metrics, categories, quality table, facilities and their months, flows
    and discharges, storage trend, data-quality scores), the period (kind, key, dates, months),
    the site's id and the settings its figures depend on (time zone, water stress, closure
    threshold, high-quality categories), the requirement outcomes (id, metric, bounds, value,
    passed) and the definition's fingerprint (which covers everything in the definition file).

    Left out: prose -- notes, labels, names, the period's label, requirement references -- so
    rewording a sentence makes no new version; the warehouse version the figures were read from;
    the comparison with the previous period; the outlook (forecasts issued after the period, which
    change with every analytics run). The rule names the prose to leave out rather than
    the figures to keep: a field added to the payload counts as a figure until it is named here.
    """
    body = {k: v for k, v in payload.items() if k not in _NOT_FIGURES}
    for part, keys in _PROSE.items():
        if part in body:
            body[part] = _without(body[part], keys)
    if "sustainability" in body:
        # the analysis is re-estimated on every run from the whole history: not the period's
        section = {k: v for k, v in body["sustainability"].items() if k not in ("note", "analysis")}
        for part, keys in _SUSTAINABILITY_PROSE.items():
            if part in section:
                section[part] = _without(section[part], keys)
        body["sustainability"] = section
    body["definition_fingerprint"] = payload["definition"]["fingerprint"]
    body["requirements"] = _without(requirements, _REQUIREMENT_PROSE)
    return body


# Decimal places a figure keeps in the content hash. A rebuild of the same lake sums in
# parallel, in another order, and moves a float's last bits (22212.26375 comes back as
# 22212.263749999995): that noise must not make a new version of a report. Rounding to
# significant digits is not enough: readings are decimals (22212.26375 sits exactly on a
# nine-digit rounding boundary) and small differences of large sums (a balance error) carry the
# noise of the sums. Figures are m3, t, % and money: a change below a millionth is no restatement.
HASH_DECIMALS = 6


def _settled(value: Any) -> Any:
    """``value`` with every finite float rounded to HASH_DECIMALS places (and -0.0 as 0.0)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return value
        return round(value, HASH_DECIMALS) + 0.0
    if isinstance(value, dict):
        return {k: _settled(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_settled(v) for v in value]
    return value


def content_hash(payload: dict[str, Any], requirements: list[dict[str, Any]]) -> str:
    """SHA-256 of :func:`report_identity`, its floats to HASH_DECIMALS places: the same
    figures, requirement outcomes and definition give the same hash whatever the wording of the
    report, the warehouse version they were read from or the order a rebuild summed them in.
    The registry makes a new version of a period only when this hash (or the definition)
    changes."""
    identity = _settled(report_identity(payload, requirements))
    return hashlib.sha256(canonical_json(identity)).hexdigest()


def exact_content_hash(payload: dict[str, Any], requirements: list[dict[str, Any]]) -> str:
    """The hash registry rows written before :func:`content_hash` rounded the floats carry (the
    identity's floats as they were), so a period whose figures have not changed since is still
    recognised."""
    return hashlib.sha256(canonical_json(report_identity(payload, requirements))).hexdigest()


def legacy_content_hash(payload: dict[str, Any]) -> str:
    """The hash registry rows written before :func:`content_hash` left prose out carry (the
    whole payload but the warehouse version, the comparison and the note naming the warehouse
    version), so a period whose figures have not changed since is still recognised."""
    body = {
        k: v for k, v in payload.items() if k not in ("warehouse_version", "comparison", "outlook")
    }
    body["data_quality"] = {k: v for k, v in payload["data_quality"].items() if k != "notes"} | {
        "notes": [n for n in payload["data_quality"]["notes"] if "warehouse version" not in n]
    }
    return hashlib.sha256(canonical_json(body)).hexdigest()
