"""VEE and quality scores on the demo mine: every injected fault flagged where it is, nothing
flagged on the fault-free demo, and day scores that move as the faults say they should.

The warehouses come from the dbt tests' shared homes (built once per test run); each test
module scores a private copy of the build database, so readers of the shared one are never
locked out by a writer.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from demo.site import SCADA_LAYOUT, meter_layout
from quality.scoring import score_build
from siteledger.settings import Settings
from siteledger.site import load_site
from tests.dbt.homes import DEMO_SITE, build_two_sites
from tests.dbt.runner import shared_home

pytestmark = [
    pytest.mark.slow,
]
STEP = dt.timedelta(minutes=15)


def _build_faulty(home: Path) -> None:
    from tests.dbt.test_demo_faults import _build

    _build(home)


def scored_copy(source: Path, target: Path) -> Settings:
    """A home holding a copy of ``source``'s build database, scored."""
    settings = Settings(home=target)
    settings.ensure_dirs()
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "warehouse" / "build.duckdb", settings.warehouse_dir / "build.duckdb")
    score_build(settings)
    return settings


def read(settings: Settings, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(settings.warehouse_dir / "build.duckdb"), read_only=True) as con:
        frame = con.execute(sql).df()
    if "day" in frame.columns:
        frame["day"] = pd.to_datetime(frame["day"]).dt.date
    return frame


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Settings]:
    source = shared_home(tmp_path_factory, "faulty_demo", _build_faulty)
    return source, scored_copy(source, tmp_path_factory.mktemp("faulty_scored"))


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    source = shared_home(tmp_path_factory, "two_sites", build_two_sites)
    return scored_copy(source, tmp_path_factory.mktemp("clean_scored"))


@pytest.fixture(scope="module")
def faults(faulty) -> list[dict]:
    source, _ = faulty
    return json.loads((source / "demo" / "ground_truth" / "faults.json").read_text())


@pytest.fixture(scope="module")
def flags(faulty) -> pd.DataFrame:
    _, settings = faulty
    frame = read(
        settings,
        "select meter_id, ts_utc, day, flag, severity, value, estimated_value, "
        f"estimation_method from marts.fct_reading_flags where site_id = '{DEMO_SITE}'",
    )
    frame["ts_utc"] = pd.to_datetime(frame["ts_utc"], utc=True)
    return frame


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text.replace("Z", "+00:00"))


def _instants(fault: dict) -> list[pd.Timestamp]:
    start, end = _utc(fault["start_utc"]), _utc(fault["end_utc"])
    return list(pd.date_range(start, end, freq=STEP))


def _scada_meters(source: Path) -> list[str]:
    site = load_site(source / "sites" / f"{DEMO_SITE}.yaml")
    return [m.id for m in site.meters if meter_layout(m) == SCADA_LAYOUT]


def _expected(source: Path, faults: list[dict]) -> set[tuple[str, pd.Timestamp, str]]:
    """(meter, instant, flag) every fault of the manifest must raise."""
    site = load_site(source / "sites" / f"{DEMO_SITE}.yaml")
    logger = [m.id for m in site.meters if m.id.startswith("B")]
    expected: set[tuple[str, pd.Timestamp, str]] = set()
    for fault in faults:
        kind, meter = fault["kind"], fault["meter_id"]
        if kind == "gap":
            expected |= {(meter, t, "gap") for t in _instants(fault)}
        elif kind == "stuck":
            expected |= {(meter, t, "flat_line") for t in _instants(fault)}
        elif kind == "spike":
            expected.add((meter, _utc(fault["start_utc"]), "spike"))
        elif kind == "out_of_range":
            expected.add((meter, _utc(fault["start_utc"]), "out_of_range"))
        elif kind == "rollover":
            expected.add((meter, _utc(fault["start_utc"]), "rollover"))
        elif kind == "unit_change":
            expected |= {(meter, t, "unit_converted") for t in _instants(fault)}
        elif kind == "duplicate_rows" and fault["expected"] == "ingested":
            expected |= {(m, t, "duplicate") for m in logger for t in _instants(fault)}
        elif kind == "malformed_file":
            # a quarantined row or cell leaves its readings missing
            meters = [meter] if meter else _scada_meters(source)
            expected |= {(m, _utc(fault["start_utc"]), "gap") for m in meters}
        elif kind == "ha_unavailable":
            # the power station's camp sensor: 'unavailable'/'unknown' states are no readings
            expected |= {(meter, t, "gap") for t in _instants(fault)}
        elif kind == "ha_counter_reset":
            expected.add((meter, _utc(fault["start_utc"]), "negative_delta"))
    return expected


def test_every_injected_fault_is_flagged_at_its_meter_and_time(faulty, faults, flags):
    source, _ = faulty
    found = set(zip(flags["meter_id"], flags["ts_utc"], flags["flag"], strict=True))
    missing = _expected(source, faults) - found
    assert not missing, sorted(missing)[:20]


def test_nothing_but_the_faults_is_flagged(faulty, faults, flags):
    source, _ = faulty
    expected = _expected(source, faults)
    spike = next(f for f in faults if f["kind"] == "spike")
    # the x10 reading is also above the plant feed's valid range (1 800 m3/h)
    expected.add((spike["meter_id"], _utc(spike["start_utc"]), "out_of_range"))
    raised = flags[~flags["flag"].isin(["estimated", "prolonged_estimation"])]
    extra = set(zip(raised["meter_id"], raised["ts_utc"], raised["flag"], strict=True)) - expected
    assert not extra, sorted(extra)[:20]
    # only the 12 h stuck run is estimated for longer than the 6 h cap
    stuck = next(f for f in faults if f["kind"] == "stuck")
    prolonged = flags[flags["flag"].eq("prolonged_estimation")]
    assert set(prolonged["meter_id"]) == {stuck["meter_id"]}
    assert set(prolonged["ts_utc"]) < set(_instants(stuck))
    assert len(prolonged) >= 20


def test_the_stuck_flow_meter_is_flagged_as_a_flat_line_for_its_whole_window(faults, flags):
    fault = next(f for f in faults if f["kind"] == "stuck")
    stuck = flags[(flags["meter_id"] == fault["meter_id"]) & (flags["flag"] == "flat_line")]
    assert set(stuck["ts_utc"]) == set(_instants(fault))


def test_invalid_and_missing_readings_are_estimated_by_the_named_method(faults, flags):
    estimates = flags[flags["flag"] == "estimated"].set_index(["meter_id", "ts_utc"])
    spike = next(f for f in faults if f["kind"] == "spike")
    at_spike = estimates.loc[(spike["meter_id"], _utc(spike["start_utc"]))]
    assert at_spike["estimation_method"] == "redundant_partner"
    # the partner meter on the same pipe reads within 1 % of the true rate; the spike was x10
    raw = float(spike["detail"].split(": ")[1].split()[0])
    assert at_spike["estimated_value"] == pytest.approx(raw / 10, rel=0.05)
    gap = next(f for f in faults if f["kind"] == "gap")
    methods = {estimates.loc[(gap["meter_id"], t)]["estimation_method"] for t in _instants(gap)}
    assert methods == {"profile_average"}
    error = next(f for f in faults if f["kind"] == "out_of_range")
    at_error = estimates.loc[(error["meter_id"], _utc(error["start_utc"]))]
    assert at_error["estimation_method"] == "linear_interpolation"
    assert 0 < at_error["estimated_value"] < 3.5  # a level inside the TSF, not -9999


def test_a_six_hour_gap_on_a_15_minute_meter_scores_75_pct_complete(faulty, faults):
    _, settings = faulty
    gap = next(f for f in faults if f["kind"] == "gap")
    day = (_utc(gap["start_utc"]) + pd.Timedelta(hours=8)).date()  # Australia/Perth
    rows = read(
        settings,
        "select day, completeness_score, validity_score, overall_score, status, "
        "failing_expectations from marts.fct_quality_scores_daily "
        f"where scope = 'meter' and scope_id = '{gap['meter_id']}' order by day",
    ).set_index("day")
    assert rows.loc[day, "completeness_score"] == 75.0
    assert rows.loc[day, "validity_score"] == 100.0
    assert rows.loc[day, "failing_expectations"] == "completeness_score >= 85 (75)"
    others = rows.drop(index=day)
    malformed = {
        (_utc(f["start_utc"]) + pd.Timedelta(hours=8)).date()
        for f in faults
        if f["kind"] == "malformed_file"
    }
    # every other closed day is complete but the one whose SCADA file lost two rows
    assert (
        others.drop(index=list(malformed & set(others.index)))["completeness_score"] == 100
    ).all()


def test_the_readings_suite_names_the_out_of_range_meter_day_and_its_data_docs_page(faulty, faults):
    _, settings = faulty
    error = next(f for f in faults if f["kind"] == "out_of_range")
    day = (_utc(error["start_utc"]) + pd.Timedelta(hours=8)).date()
    rows = read(
        settings,
        "select site_id, day, failing_expectations from marts.fct_quality_scores_daily "
        f"where scope = 'meter' and scope_id = '{error['meter_id']}' "
        "and failing_expectations <> ''",
    )
    assert rows["day"].tolist() == [day]
    assert rows["failing_expectations"].iloc[0] == (
        "every reading inside the valid range (1 of 96 outside)"
    )
    site = rows["site_id"].iloc[0]
    docs = settings.home / "quality" / "data_docs"
    index = (docs / "index.html").read_text(encoding="utf-8")
    page = next((docs / "validations").glob(f"readings.{site}.*.html"))
    assert f"validations/{page.name}" in index
    per_meter = page.read_text(encoding="utf-8").split("What failed, per meter")[1]
    assert f"<strong>{error['meter_id']}</strong>" in per_meter.split("</section>")[0]


def test_the_spike_costs_its_meter_one_reading_of_validity(faulty, faults):
    _, settings = faulty
    spike = next(f for f in faults if f["kind"] == "spike")
    day = (_utc(spike["start_utc"]) + pd.Timedelta(hours=8)).date()
    row = read(
        settings,
        "select validity_score, redundancy_score from marts.fct_quality_scores_daily "
        f"where scope = 'meter' and scope_id = '{spike['meter_id']}' and day = '{day}'",
    ).iloc[0]
    assert row["validity_score"] == round(100 * 95 / 96, 2)
    assert row["redundancy_score"] == 100.0  # an invalid reading is not compared


def test_the_fault_free_demo_raises_no_flag_and_scores_excellent(clean):
    flagged = read(clean, f"select * from marts.fct_reading_flags where site_id = '{DEMO_SITE}'")
    assert flagged.empty, flagged.head(20)
    scores = read(
        clean,
        "select scope, scope_id, day, overall_score, status from marts.fct_quality_scores_daily "
        f"where site_id = '{DEMO_SITE}'",
    )
    assert len(scores) > 0
    assert set(scores["status"]) == {"excellent"}, scores[scores["status"] != "excellent"]
    site = scores[scores["scope"] == "site"]
    assert len(site) == 10  # the ten closed days; the provisional day after is not scored


def test_balance_states_the_share_of_estimated_readings(faulty, faults):
    _, settings = faulty
    gap = next(f for f in faults if f["kind"] == "gap")
    day = (_utc(gap["start_utc"]) + pd.Timedelta(hours=8)).date()
    rows = read(
        settings,
        "select day, readings_estimated_pct from marts.fct_site_balance_daily "
        f"where site_id = '{DEMO_SITE}' order by day",
    ).set_index("day")
    assert rows.loc[day, "readings_estimated_pct"] > 0
    first = rows.index.min()
    assert rows.loc[first, "readings_estimated_pct"] == 0
