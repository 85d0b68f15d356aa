"""The faulty demo through the balance: each fault has the effect it should, and no other.

Without the quality stage (VEE) a fault is either corrected by the balance itself (a day delivered
in L is converted, a duplicated block is deduplicated, a totaliser wrap is unwrapped, a faulty
rate meter loses to the totaliser on the same pipe) or it shows: rows quarantined from a SCADA
file leave rate-integrated flows short by the intervals they held. Every raw reading stays
traceable to its file and line.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from siteledger.settings import get_settings
from siteledger.site import load_site
from tests.dbt.homes import DEMO_SITE, demo_available
from tests.dbt.runner import query, run_dbt, shared_home

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not demo_available(), reason="needs ingestion.demo and ingestion.files"),
]
TOLERANCE = 0.005
FLOOR_M3 = 0.5


def _build(home: Path) -> None:
    from ingestion.demo import write_demo
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
    # rate meters and the rules fed by interval readings of the same file (ore tonnes) come out
    # short, never long; totalisers and manual readings are untouched
    assert set(off["volume_source"]) <= {
        "meter:flow_rate",
        "rule:ore_moisture",
        "rule:dust_suppression",
        "rule:entrainment",
    }, off
    assert (off["error_m3"] < 0).all(), off


def test_rows_lost_from_a_scada_file_shorten_rate_integrated_flows(
    home: Path, flows: pd.DataFrame
) -> None:
    lost = [f for f in _faults(home) if f["kind"] == "malformed_file" and f["meter_id"] is None]
    day = _local_day(lost[0]["start_utc"])
    rate = flows[(flows["day"] == day) & (flows["volume_source"] == "meter:flow_rate")]
    assert len(rate) > 0
    # each whole-row loss removes one 15-minute interval of every rate meter in the file
    assert (rate["n_readings"] == 96 - len(lost)).all()
    moving = rate[rate["volume_m3_truth"] > 1000]
    share = moving["error_m3"] / moving["volume_m3_truth"]
    # never more than the lost intervals' share (plus meter noise), never a gain; a pump that ran
    # steadily through the lost intervals is short by about that share
    assert share.between(-(len(lost) / 96) - TOLERANCE, TOLERANCE).all(), moving
    assert (share < -(len(lost) / 96) * 0.8).any(), moving


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
