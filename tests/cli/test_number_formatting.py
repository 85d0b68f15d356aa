"""Numbers in the command line's tables: no negative zero after rounding, thousands separators,
status words never cut."""

from __future__ import annotations

import io
import json
from pathlib import Path

import duckdb
from rich.console import Console

from cli.run import print_monthly_balance
from siteledger.settings import Settings
from tests.cli.conftest import invoke


def test_number_never_prints_negative_zero_and_separates_thousands():
    from cli.output import count, number

    assert number(-0.3) == "0"
    assert number(-0.004, 2) == "0.00"
    assert number(-0.0, 1) == "0.0"
    assert number(-0.6) == "-1"
    assert number(-1234.5678, 2) == "-1,234.57"
    assert number(0.0004, 1, scale=100.0) == "0.0"
    assert number(-0.0004, 1, scale=100.0) == "0.0"
    assert number(None) == "" and number(float("nan"), 2) == ""
    assert count(1234567) == "1,234,567" and count(0) == "0"


def _published_balance(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(
            "create table fct_site_balance_monthly as select * from (values "
            "('demo_highveld', date '2025-07-01', 31, 0, 1234567.4, 1233999.6, -0.3, -0.2, "
            " -0.004, 'undetermined', 97.25, 0.0123), "
            "('demo_mine', date '2025-07-01', 31, 0, 98765.4, 98765.0, 0.4, -0.0001, "
            " -0.00002, 'within_threshold', 100.0, -0.0004)"
            ") t(site_id, month_start, n_days, n_days_incomplete, inputs_m3, outputs_m3, "
            "storage_change_m3, closure_error_m3, closure_error_pct, closure_status, "
            "input_measured_pct, water_intensity_m3_per_t)"
        )


def test_the_monthly_balance_has_no_negative_zero_and_keeps_words_whole(tmp_path: Path):
    published = tmp_path / "published.duckdb"
    _published_balance(published)
    for width in (120, 100, 80):
        out = io.StringIO()
        print_monthly_balance(Console(file=out, width=width, highlight=False), published)
        text = out.getvalue()
        assert "undetermined" in text and "…" not in text, text
        assert "1,234,567" in text and "1,234,000" in text, text
        assert "98,765" in text
        for negative_zero in (" -0 ", " -0.00 ", " -0.0 ", " -0.000 ", ":-0"):
            assert negative_zero not in text.replace("\n", " "), text
        assert "demo_highveld" in text and "closed" in text


def test_analytics_risk_shows_percent_without_negative_zero_and_json_numbers(tmp_path: Path):
    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    settings.published_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.published_db)) as con:
        con.execute(
            "create table fct_overflow_risk as select * from (values "
            "('demo_mine', 'process_water_dam', date '2025-07-31', 30, 0.25, -0.00001, 0.0, "
            " 'ok')) t(site_id, node_id, as_of, horizon_days, p_above_80, p_above_100, "
            "p_below_20, status)"
        )
    result = invoke(settings.home, "analytics", "risk", columns=160)
    assert result.exit_code == 0, result.output
    assert "25.0" in result.output and "spill" in result.output
    assert "-0.0" not in result.output, result.output
    [row] = [
        json.loads(line)
        for line in invoke(settings.home, "analytics", "risk", "--json").stdout.splitlines()
    ]
    assert row["p_above_80"] == 0.25 and row["horizon_days"] == 30
    assert row["as_of"] == "2025-07-31" and row["node_id"] == "process_water_dam"
    empty = invoke(settings.home, "analytics", "risk", "--site", "nowhere")
    assert "no stores with a published risk matched (site=nowhere)" in empty.output


def test_analytics_models_with_none_trained_says_what_was_searched(tmp_path: Path):
    settings = Settings(home=tmp_path / "home")
    result = invoke(settings.home, "analytics", "models", "--site", "demo_mine")
    assert "no forecast models matched" in result.output and "site=demo_mine" in result.output


def test_a_console_follows_the_width_in_force_when_it_prints(monkeypatch):
    """Commands' consoles are made when their module is imported; the width they print at is
    the one in force at the time of printing, not at import."""
    import io

    from cli.output import make_console

    monkeypatch.setenv("COLUMNS", "80")
    console = make_console(file=io.StringIO())
    assert console.width == 80
    monkeypatch.delenv("COLUMNS")
    assert console.width == 120
    monkeypatch.setenv("COLUMNS", "100")
    assert console.width == 100
    console.width = 60
    assert console.width == 60
