"""The outlook section: forecasts, overflow risk, scenarios and model accuracy from the analytics
tables of the published warehouse, shown only when issued at the period's close."""

from __future__ import annotations

import copy
import datetime as dt
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from demo.report_data import synthetic_site
from reports.charts import forecast_band, scenario_lines
from reports.data import (
    OUTLOOK_WINDOW_DAYS,
    PublishedSite,
    build_payload,
    content_hash,
    legacy_content_hash,
    load_analytics,
)
from reports.definitions import ReportDefinition, load_definitions
from reports.periods import Period
from reports.render.html import render_html
from tests.reports.outlook_sample import CAPACITY, analytics_rows, write_analytics
from tests.reports.sample import sample_header

PERIOD_END = dt.date(2025, 7, 31)


def _monthly() -> ReportDefinition:
    return next(d for d in load_definitions() if d.id == "monthly_water_return")


def _site(analytics: dict[str, list[dict[str, Any]]] | None) -> PublishedSite:
    data = synthetic_site(n_stores=3, n_months=3)
    if analytics is not None:
        data.analytics = analytics
    return data


def _payload(data: PublishedSite) -> dict[str, Any]:
    definition = _monthly()
    period = data.periods(definition)[0]
    assert period.end == PERIOD_END
    return build_payload(data, definition, period)


def _section(html: str) -> str:
    start = html.index("Outlook: forecasts and overflow risk")
    return html[start : html.index("</section>", start)]


def _html(payload: dict[str, Any]) -> str:
    return render_html(payload, sample_header("monthly_water_return"))


# -- the block --------------------------------------------------------------------------------
def test_the_outlook_holds_the_tables_figures():
    tables = analytics_rows()
    outlook = _payload(_site(tables))["outlook"]
    assert outlook["available"] is True
    assert outlook["as_of"] == "2025-07-31"
    assert [s["node_id"] for s in outlook["stores"]] == ["store_01", "store_02", "store_03"]
    first = outlook["stores"][0]
    assert first["name"] == "Storage dam 01"
    assert first["capacity"] == CAPACITY
    # the history is the period's observed days up to as_of, the forecast every horizon day
    assert first["history"][0][0] == "2025-07-01" and first["history"][-1][0] == "2025-07-31"
    assert len(first["forecast"]) == 90
    day1 = next(
        r
        for r in tables["fct_forecast_daily"]
        if r["series_id"].endswith("store_01/closing_storage_m3") and r["horizon_day"] == 1
    )
    assert first["forecast"][0] == {
        "day": "2025-08-01",
        "horizon_day": 1,
        **{k: day1[k] for k in ("mean", "lo80", "hi80", "lo95", "hi95")},
    }
    risk = {r["horizon_days"]: r for r in first["risk"]}
    assert risk[30]["p_above_100"] == 0.237
    assert risk[30]["p_above_80"] == 0.61
    assert risk[30]["p_below_20"] == 0.004
    assert risk[1]["label"] == "next 24 h" and risk[30]["label"] == "next 30 days"
    # scenarios at the end of the horizon, the base case first
    assert [s["scenario_id"] for s in first["scenarios"]] == ["base", "plant_shutdown", "wet"]
    base = first["scenarios"][0]
    assert base["horizon_day"] == 90 and base["day"] == "2025-10-29"
    assert base["p50_volume"] == 10_300.0 + 400.0 * 90
    assert base["p_above_100"] == pytest.approx(0.237)
    # demand: the 30-day total is the sum of the daily means, with no interval of its own
    (demand,) = outlook["demand"]
    assert demand["n_days"] == 30
    assert demand["total_mean"] == pytest.approx(sum(1000.0 + h for h in range(1, 31)))
    assert not any(k.startswith(("lo", "hi")) for k in demand)
    # the current models only, with their backtest figures
    assert {m["model_id"] for m in outlook["models"]} == {
        "m-store_01",
        "m-store_02",
        "m-store_03",
        "m-demand",
    }
    assert outlook["models"][0]["mase"] == pytest.approx(0.8)
    assert outlook["models"][0]["coverage_95"] == pytest.approx(0.931)
    assert outlook["not_forecast"] == [
        {
            "series_id": "synthetic/site/synthetic/inflow_m3",
            "label": "Site inflow",
            "target": "site_inflow",
            "status": "too_short",
            "reason": "only 12 days of history, 60 needed",
        }
    ]


def test_the_section_shows_the_figures_as_the_tables_hold_them():
    section = _section(_html(_payload(_site(analytics_rows()))))
    assert "As of 2025-07-31" in section
    assert "seasonal regression model with rain" in section
    assert "20 000 simulated" in section
    # P>100 % within 30 days of 0.237 reads 23.7 %; the second store's half of it 11.8 %
    assert re.search(r"next 30 days</td><td class=\"n\">61.0 %</td><td class=\"n\">23.7 %", section)
    assert "11.8 %" in section
    assert "30,465 m³" in section  # the demand total
    assert "not the sum of the daily intervals" in section
    assert ">0.80<" in section and "93.1 %" in section  # MASE and 95 % coverage
    assert "Site inflow" in section and "only 12 days of history, 60 needed" in section
    # a chart pair per store: the band with both intervals and the scenarios
    assert section.count('class="band95"') == 3
    assert section.count('class="band80"') == 3
    assert section.count("scenarios (median)") == 3
    # scenario names are escaped wherever they appear
    assert "Plant shutdown &lt;2 weeks&gt; &amp; no draw" in section
    assert "<2 weeks>" not in section
    assert "Read with care" not in section  # no model's backtest went badly


def test_a_model_whose_backtest_went_badly_is_shown_with_its_warning():
    rows = analytics_rows()
    warning = "95 % intervals held 29% of actuals in the backtest"
    rows["fct_forecast_status"][0]["backtest_warning"] = warning
    payload = _payload(_site(rows))
    warned = [m for m in payload["outlook"]["models"] if m["warning"]]
    assert [m["series_id"] for m in warned] == [rows["fct_forecast_status"][0]["series_id"]]
    section = _section(_html(payload))
    assert f"Read with care</strong> — {warned[0]['label']}: {warning}." in section


# -- degrading --------------------------------------------------------------------------------
def test_without_the_tables_the_section_says_so_and_the_rest_is_unchanged():
    plain = _payload(_site(None))
    assert plain["outlook"] == {
        "available": False,
        "reason": "not_published",
        "note": "No outlook was published with this warehouse version.",
        "not_forecast": [],
    }
    html = _html(plain)
    assert "No outlook was published with this warehouse version." in _section(html)
    assert 'class="band95"' not in html
    # every other part of the payload is what it was without the analytics
    with_outlook = _payload(_site(analytics_rows()))
    assert {k: v for k, v in with_outlook.items() if k != "outlook"} == {
        k: v for k, v in plain.items() if k != "outlook"
    }


def test_empty_tables_are_no_outlook():
    empty = {name: [] for name in analytics_rows()}
    outlook = _payload(_site(empty))["outlook"]
    assert outlook["available"] is False
    assert outlook["reason"] == "not_published"


@pytest.mark.parametrize(
    ("as_of", "shown"),
    [
        (PERIOD_END, True),
        (PERIOD_END + dt.timedelta(days=OUTLOOK_WINDOW_DAYS), True),
        (PERIOD_END + dt.timedelta(days=OUTLOOK_WINDOW_DAYS + 1), False),
        (PERIOD_END - dt.timedelta(days=1), False),
    ],
)
def test_an_outlook_is_shown_only_when_issued_at_the_periods_close(as_of: dt.date, shown: bool):
    outlook = _payload(_site(analytics_rows(as_of=as_of)))["outlook"]
    assert outlook["available"] is shown
    if not shown:
        assert outlook["reason"] == "not_issued_at_close"
        assert outlook["latest_as_of"] == as_of.isoformat()
        section = _section(_html(_payload(_site(analytics_rows(as_of=as_of)))))
        assert "No outlook issued at the close of this period" in section
        assert 'class="band95"' not in section


def test_of_several_issues_the_first_at_the_close_is_taken():
    early, late = (
        analytics_rows(as_of=PERIOD_END + dt.timedelta(days=2)),
        analytics_rows(as_of=PERIOD_END + dt.timedelta(days=20)),
    )
    both = {name: early[name] + late[name] for name in early}
    outlook = _payload(_site(both))["outlook"]
    assert outlook["as_of"] == (PERIOD_END + dt.timedelta(days=2)).isoformat()
    assert len(outlook["stores"][0]["forecast"]) == 90


def test_the_outlook_is_not_part_of_the_versions_identity():
    payload = _payload(_site(analytics_rows()))
    plain = _payload(_site(None))
    assert content_hash(payload, []) == content_hash(plain, [])
    assert legacy_content_hash(payload) == legacy_content_hash(plain)
    changed = copy.deepcopy(payload)
    changed["outlook"]["stores"][0]["risk"][1]["p_above_100"] = 0.9
    assert content_hash(changed, []) == content_hash(payload, [])


def test_a_definition_without_the_section_has_no_outlook():
    data = _site(analytics_rows())
    definition = _monthly().model_copy(update={"sections": ["summary", "storage"]})
    period = Period("monthly", "2025-07", dt.date(2025, 7, 1), PERIOD_END)
    assert "outlook" not in build_payload(data, definition, period)


# -- from a published warehouse -----------------------------------------------------------------
def test_the_tables_are_read_from_the_published_file_for_the_site_only(tmp_path: Path):
    db = tmp_path / "published.duckdb"
    tables = analytics_rows()
    other = analytics_rows(site_id="elsewhere", stores=("pond",))
    write_analytics(db, {name: tables[name] + other[name] for name in tables})
    with duckdb.connect(str(db), read_only=True) as con:
        names = {r[0] for r in con.execute("show tables").fetchall()}
        loaded = load_analytics(con, names, "synthetic")
    assert {r["site_id"] for rows in loaded.values() for r in rows} == {"synthetic"}
    assert len(loaded["fct_forecast_daily"]) == len(tables["fct_forecast_daily"])
    outlook = _payload(_site(loaded))["outlook"]
    assert outlook["as_of"] == "2025-07-31"
    assert outlook["stores"][0]["risk"][1]["p_above_100"] == 0.237
    assert outlook == _payload(_site(tables))["outlook"]


def test_a_missing_table_or_column_is_left_out(tmp_path: Path):
    db = tmp_path / "published.duckdb"
    tables = analytics_rows()
    del tables["fct_scenario_projection"]
    write_analytics(db, tables)
    with duckdb.connect(str(db)) as con:
        con.execute("alter table fct_overflow_risk drop column p_below_20")
    with duckdb.connect(str(db), read_only=True) as con:
        names = {r[0] for r in con.execute("show tables").fetchall()}
        loaded = load_analytics(con, names, "synthetic")
    assert set(loaded) == {"fct_forecast_daily", "fct_forecast_status", "fct_model_registry"}
    outlook = _payload(_site(loaded))["outlook"]
    assert outlook["available"] is True
    assert outlook["stores"][0]["risk"] == [] and outlook["stores"][0]["scenarios"] == []
    section = _section(_html(_payload(_site(loaded))))
    assert section.count('class="band95"') == 3
    assert "scenarios (median)" not in section


# -- charts -----------------------------------------------------------------------------------
def _forecast(n: int = 10) -> list[dict[str, Any]]:
    return [
        {
            "day": (dt.date(2025, 8, 1) + dt.timedelta(days=h)).isoformat(),
            "mean": 500.0 + 10 * h,
            "lo80": 450.0,
            "hi80": 560.0 + 10 * h,
            "lo95": 400.0,
            "hi95": 600.0 + 12 * h,
        }
        for h in range(n)
    ]


def test_the_forecast_chart_draws_both_bands_the_capacity_and_escapes_the_name():
    history = [[f"2025-07-{d:02d}", 400.0 + d] for d in range(1, 32)]
    svg = str(forecast_band('Dam <b>"1"</b> & co', history, _forecast(), 1000.0, "m3"))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "Dam &lt;b&gt;&quot;1&quot;&lt;/b&gt; &amp; co" in svg
    assert "<b>" not in svg
    polygons = re.findall(r'<polygon class="(band\d\d)"[^>]* points="([^"]+)"', svg)
    assert [p[0] for p in polygons] == ["band95", "band80"]
    assert all(len(p[1].split()) == 20 for p in polygons)  # upper and lower edge, 10 days each
    assert 'class="forecast-mean"' in svg and 'stroke-dasharray="4 2"' in svg
    assert 'class="observed"' in svg
    assert 'class="as-of"' in svg and "as of 31 Jul 2025" in svg
    assert 'class="capacity"' in svg and 'class="80-pct-of-capacity"' in svg
    assert ">capacity (1,000)<" in svg and ">80 % of capacity<" in svg
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_the_scenario_chart_emphasises_the_base_case_and_escapes_names():
    days = [(dt.date(2025, 8, 1) + dt.timedelta(days=h)).isoformat() for h in range(5)]
    scenarios = [
        {"scenario_id": "wet", "name": "Wet <year>", "points": [[d, 600.0] for d in days]},
        {"scenario_id": "base", "name": "Base case", "points": [[d, 500.0] for d in days]},
    ]
    svg = str(scenario_lines("Dam & pond", scenarios, 1000.0))
    lines = re.findall(r'<polyline class="scenario"[^>]*stroke-width="([\d.]+)"', svg)
    assert lines == ["1", "2"]  # the base case drawn last, on top, and heavier
    assert "Wet &lt;year&gt;" in svg and "<year>" not in svg
    assert "Dam &amp; pond" in svg
    assert re.search(r'font-weight="bold">Base case<', svg)


# -- end to end on the published demo year --------------------------------------------------------
@pytest.mark.integration
@pytest.mark.slow
def test_a_monthly_return_from_a_warehouse_with_an_outlook(home: Path):
    import json
    import subprocess

    from lxml import etree

    from reports.render.tabular import XML_NS
    from reports.service import generate
    from siteledger.settings import get_settings
    from siteledger.state import StateStore

    db = home / "warehouse" / "siteledger.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        stores = tuple(
            r[0]
            for r in con.execute(
                "select node_id from dim_nodes where site_id = 'demo_mine' "
                "and node_kind = 'store' order by node_id"
            ).fetchall()
        )
    write_analytics(db, analytics_rows(dt.date(2026, 6, 30), "demo_mine", stores))
    settings = get_settings(home)
    (outcome,) = generate(
        settings,
        StateStore(settings.state_store_url),
        definition_ids=["monthly_water_return"],
        period_keys=["2026-06"],
        generated_by="tests",
        workers=1,
    )
    artifacts = outcome.record.artifacts
    doc = json.loads(Path(artifacts["json"]["path"]).read_bytes())
    assert doc["outlook"]["as_of"] == "2026-06-30"
    assert len(doc["outlook"]["stores"]) == len(stores)
    assert doc["outlook"]["stores"][0]["risk"][1]["p_above_100"] == 0.237
    text = subprocess.run(
        ["pdftotext", "-layout", artifacts["pdf"]["path"], "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Outlook: forecasts and overflow risk" in text
    assert "As of 2026-06-30" in text
    assert re.search(r"next 30 days\s+61\.0 %\s+23\.7 %\s+0\.4 %", text)
    # the XML stays the regulatory figures only, and valid against its schema
    xml = etree.parse(artifacts["xml"]["path"])
    assert not xml.getroot().findall(f".//{{{XML_NS}}}outlook")


def test_each_series_is_taken_at_its_own_issue_and_model():
    tables = analytics_rows()
    # the demand series was last observed a day after the stores, the risk three days after; a
    # challenger model's rows of the first store sit beside the current model's
    for r in tables["fct_forecast_daily"]:
        if r["target"] == "site_demand":
            r["as_of"] = PERIOD_END + dt.timedelta(days=1)
    challenger = [
        {**r, "model_id": "a-challenger", "mean": -1.0}
        for r in tables["fct_forecast_daily"]
        if r["scope_id"] == "store_01"
    ]
    tables["fct_forecast_daily"] += challenger
    lagging = analytics_rows(as_of=PERIOD_END + dt.timedelta(days=3))
    tables["fct_overflow_risk"] = lagging["fct_overflow_risk"]
    outlook = _payload(_site(tables))["outlook"]
    assert outlook["as_of"] == (PERIOD_END + dt.timedelta(days=3)).isoformat()
    first = outlook["stores"][0]
    assert first["as_of"] == PERIOD_END.isoformat()
    assert first["model_id"] == "m-store_01"
    assert all(f["mean"] > 0 for f in first["forecast"])
    assert first["risk"][1]["p_above_100"] == 0.237
    assert outlook["demand"][0]["n_days"] == 30
    assert outlook["demand"][0]["total_mean"] == pytest.approx(30_465.0)
