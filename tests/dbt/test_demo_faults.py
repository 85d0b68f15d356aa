"""The faulty demo through the balance: each fault has the effect it should, and no other.

A fault is either corrected by the balance itself (a day delivered in L is converted, a
duplicated block is deduplicated, a totaliser wrap is unwrapped, a faulty rate meter loses to the
totaliser on the same pipe) or by VEE: rate-integrated volumes use the validated series, so a
spike counts with its estimate and the intervals whose rows were quarantined from a SCADA file
are filled with estimates instead of leaving the flows short. Every raw reading stays traceable
to its file and line.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from siteledger.settings import get_settings
from siteledger.site import load_site
from tests.dbt.homes import DEMO_SITE
from tests.dbt.runner import query, run_dbt, shared_home

pytestmark = [
    pytest.mark.slow,
]
TOLERANCE = 0.005
FLOOR_M3 = 0.5
# A rate-integrated flow whose lost intervals were filled by profile estimates: the profile is
# the meter's mean at that time of day over 7 days either side, so an intermittent pump that
# happened to be off at a lost instant is filled with its usual rate. On the demo (seed 11) the
# return-water pump FT-160 was off at both lost instants of 2025-07-06 but ran ~600 m3/h at the
# same times on 6 of the 7 days around: 2 x 514 m3/h x 0.25 h = +257 m3 on 6 600 m3 (+3.9 %).
ESTIMATED_TOLERANCE = 0.05


def _build(home: Path) -> None:
    from demo import write_demo
    from ingestion.files import import_landing
    from ingestion.site_tables import write_site_tables
    from siteledger.state import StateStore

    out = write_demo(home, days=8, faults=True, seed=11)
    settings = get_settings(home)
    site = load_site(out.site_file)
    import_landing(settings, site, StateStore(settings.state_store_url))
    write_site_tables(settings, site)
    run_dbt(home, "build")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_home(tmp_path_factory, "faulty_demo", _build)


def _faults(home: Path) -> list[dict]:
    return json.loads((home / "demo" / "ground_truth" / "faults.json").read_text())


def _local_day(utc_text: str) -> dt.date:
    moment = dt.datetime.fromisoformat(utc_text.replace("Z", "+00:00"))
    return (moment + dt.timedelta(hours=8)).date()  # Australia/Perth, no DST


@pytest.fixture(scope="module")
def flows(home: Path) -> pd.DataFrame:
    truth = pd.read_csv(home / "demo" / "ground_truth" / "flows_daily.csv")
    truth["day"] = pd.to_datetime(truth["day"]).dt.date
    mine = pd.DataFrame(
        query(
            home,
            "select flow_id, day, volume_m3, volume_source, n_readings, n_rollovers "
            f"from intermediate.int_flow_volumes_daily where site_id = '{DEMO_SITE}'",
        )
    )
    both = truth.merge(mine, on=["day", "flow_id"], suffixes=("_truth", ""), validate="1:1")
    assert len(both) == len(truth)
    both["error_m3"] = both["volume_m3"] - both["volume_m3_truth"]
    both["within"] = both["error_m3"].abs() <= TOLERANCE * both["volume_m3_truth"].abs() + FLOOR_M3
    return both


def test_only_the_quarantined_rows_move_any_flow_day(home: Path, flows: pd.DataFrame) -> None:
    malformed = {_local_day(f["start_utc"]) for f in _faults(home) if f["kind"] == "malformed_file"}
    off = flows[~flows["within"]]
    assert set(off["day"]) <= malformed, off
    # rate meters are filled by estimates (within their tolerance, either way); the rules fed by
    # interval readings of the same file (ore tonnes: totals, not validated rates) come out
    # short, never long; totalisers and manual readings are untouched
    rates = off[off["volume_source"] == "meter:flow_rate"]
    rules = off[off["volume_source"] != "meter:flow_rate"]
    assert set(rules["volume_source"]) <= {
        "rule:ore_moisture",
        "rule:dust_suppression",
        "rule:entrainment",
    }, off
    assert (rules["error_m3"] < 0).all(), off
    assert (rates["error_m3"].abs() <= ESTIMATED_TOLERANCE * rates["volume_m3_truth"]).all(), off


def test_rows_lost_from_a_scada_file_are_filled_with_estimates(
    home: Path, flows: pd.DataFrame
) -> None:
    lost = [f for f in _faults(home) if f["kind"] == "malformed_file" and f["meter_id"] is None]
    day = _local_day(lost[0]["start_utc"])
    rate = flows[(flows["day"] == day) & (flows["volume_source"] == "meter:flow_rate")]
    assert len(rate) > 0
    # each whole-row loss removes one 15-minute reading of every rate meter in the file: still
    # counted as not received, but the interval is estimated
    assert (rate["n_readings"] == 96 - len(lost)).all()
    meters = pd.DataFrame(
        query(
            home,
            "select flow_id, n_readings, n_estimated, estimated_volume_m3 "
            "from intermediate.int_flow_rate_volumes "
            f"where site_id = '{DEMO_SITE}' and day = '{day}'",
        )
    )
    on_rate_flows = meters[meters["flow_id"].isin(rate["flow_id"])]
    assert len(on_rate_flows) > 0
    assert (on_rate_flows["n_estimated"] == len(lost)).all(), on_rate_flows
    moving = rate[rate["volume_m3_truth"] > 1000]
    share = moving["error_m3"] / moving["volume_m3_truth"]
    # without estimates a pump running through the lost intervals was short by their share
    # (2 of 96: -2.1 %); filled, every moving flow is within ESTIMATED_TOLERANCE of the truth and
    # the continuously running one (plant to TSF) within the meter tolerance of 0.5 %
    assert (share.abs() <= ESTIMATED_TOLERANCE).all(), moving
    assert (share.abs() <= TOLERANCE).any(), moving


def test_a_spike_counts_with_its_estimate(home: Path, flows: pd.DataFrame) -> None:
    fault = next(f for f in _faults(home) if f["kind"] == "spike")
    day = _local_day(fault["start_utc"])
    flow_id = load_site(home / "sites" / "demo_mine.yaml").meter(fault["meter_id"]).flow
    truth = flows[(flows["day"] == day) & (flows["flow_id"] == flow_id)]["volume_m3_truth"].item()
    [meter_day] = query(
        home,
        "select volume_m3, n_readings, n_estimated, estimated_volume_m3 "
        "from intermediate.int_flow_rate_volumes "
        f"where meter_id = '{fault['meter_id']}' and day = '{day}'",
    )
    [estimate] = query(
        home,
        "select raw_value, validated_value, estimation_method "
        "from intermediate.int_readings_validated "
        f"where meter_id = '{fault['meter_id']}' and ts_utc = '{fault['start_utc']}'",
    )
    # the x10 reading (~7 020 m3/h for 0.25 h) would add ~1 580 m3 (+9 %) to the meter's day;
    # its redundant partner FT-130B stands in for it, and the raw value is kept beside it
    assert estimate["estimation_method"] == "redundant_partner"
    assert estimate["raw_value"] == pytest.approx(float(fault["detail"].split(": ")[1].split()[0]))
    assert estimate["validated_value"] < estimate["raw_value"] / 5
    assert meter_day["n_readings"] == 96
    assert meter_day["n_estimated"] == 1
    assert abs(meter_day["volume_m3"] - truth) <= TOLERANCE * truth + FLOOR_M3, (meter_day, truth)


def test_unit_change_duplicates_and_rollover_are_corrected(home: Path, flows: pd.DataFrame):
    site = load_site(home / "sites" / "demo_mine.yaml")
    for fault in _faults(home):
        if fault["kind"] not in ("unit_change", "rollover", "duplicate_rows"):
            continue
        day = _local_day(fault["start_utc"])
        day_flows = flows[flows["day"] == day]
        assert day_flows["within"].all(), (fault, day_flows[~day_flows["within"]])
        if fault["kind"] == "rollover":
            flow_id = site.meter(fault["meter_id"]).flow
            row = day_flows[day_flows["flow_id"] == flow_id].iloc[0]
            assert row["n_rollovers"] == 1


def test_duplicated_rows_are_counted_not_double_counted(home: Path) -> None:
    fault = next(
        f for f in _faults(home) if f["kind"] == "duplicate_rows" and f["expected"] == "ingested"
    )
    rows = query(
        home,
        "select n_copies, count(*) as n from intermediate.int_readings_deduplicated "
        f"where ts_utc between '{fault['start_utc']}' and '{fault['end_utc']}' "
        "and meter_id like 'B%' group by n_copies",
    )
    assert {r["n_copies"] for r in rows} == {2}


def test_a_spike_is_traceable_to_its_file_and_line(home: Path) -> None:
    fault = next(f for f in _faults(home) if f["kind"] == "spike")
    rows = query(
        home,
        "select value, source_file, source_row from staging.stg_lake__readings "
        f"where meter_id = '{fault['meter_id']}' and ts_utc = '{fault['start_utc']}'",
    )
    assert rows == [
        {
            "value": pytest.approx(float(fault["detail"].split(": ")[1].split()[0])),
            "source_file": fault["file"],
            "source_row": fault["line"],
        }
    ]
