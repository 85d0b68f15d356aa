"""Every fault the demo injects is ingested or quarantined exactly where its manifest says."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pytest

from demo import write_demo
from ingestion.files import import_landing
from ingestion.lake import read_readings
from siteledger.settings import Settings
from siteledger.site import load_site
from siteledger.state import StateStore


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("faults")
    settings = Settings(home=home)
    settings.ensure_dirs()
    out = write_demo(home, days=8, faults=True, seed=11, sites=("demo_mine",))
    site = load_site(out.site_file)
    store = StateStore(settings.state_store_url)
    results = {r.file_name: r for r in import_landing(settings, site, store)}
    lake = read_readings(settings, site_id=site.site.id, store=store).to_pandas()
    quarantine = (
        ds.dataset(str(settings.quarantine / "rows"), format="parquet", partitioning="hive")
        .to_table()
        .to_pandas()
    )
    faults = json.loads(Path(out.faults_manifest).read_text())
    return settings, site, results, lake, quarantine, faults


def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _faults(faults: list[dict], kind: str) -> list[dict]:
    found = [f for f in faults if f["kind"] == kind]
    assert found, f"the manifest has no {kind} fault"
    return found


def _window(lake, fault: dict):
    start, end = _ts(fault["start_utc"]), _ts(fault["end_utc"])
    rows = lake[(lake.meter_id == fault["meter_id"]) & (lake.ts >= start) & (lake.ts <= end)]
    return rows.sort_values("ts")


def test_every_file_was_handled_and_counts_add_up(ingested):
    _, _, results, lake, _, _ = ingested
    assert {r.status for r in results.values()} <= {"committed", "duplicate", "quarantined"}
    for result in results.values():
        assert result.total == result.imported + result.skipped + result.failed
    assert len(lake) == sum(r.imported for r in results.values())


def test_gap_leaves_exactly_the_missing_window_empty(ingested):
    _, _, _, lake, _, faults = ingested
    for fault in _faults(faults, "gap"):
        assert _window(lake, fault).empty
        meter = lake[lake.meter_id == fault["meter_id"]]
        before = meter[meter.ts == _ts(fault["start_utc"]) - dt.timedelta(minutes=15)]
        after = meter[meter.ts == _ts(fault["end_utc"]) + dt.timedelta(minutes=15)]
        assert len(before) == 1 and len(after) == 1


def test_stuck_sensor_values_land_unchanged(ingested):
    _, _, _, lake, _, faults = ingested
    for fault in _faults(faults, "stuck"):
        window = _window(lake, fault)
        assert len(window) == 48
        assert window.value.nunique() == 1


def test_spike_and_out_of_range_values_land_as_delivered(ingested):
    _, _, _, lake, _, faults = ingested
    for fault in _faults(faults, "spike"):
        window = _window(lake, fault)
        assert len(window) == 1
        expected = float(fault["detail"].split(": ")[1].split()[0])
        assert window.value.iloc[0] == pytest.approx(expected)
    for fault in _faults(faults, "out_of_range"):
        assert _window(lake, fault).value.tolist() == [-9999.0]


def test_totaliser_rollover_is_in_the_lake(ingested):
    _, site, _, lake, _, faults = ingested
    for fault in _faults(faults, "rollover"):
        meter = lake[lake.meter_id == fault["meter_id"]].sort_values("ts")
        at = meter.index[meter.ts == _ts(fault["start_utc"])][0]
        position = meter.index.get_loc(at)
        previous, current = meter.value.iloc[position - 1], meter.value.iloc[position]
        rollover = site.meter(fault["meter_id"]).rollover
        assert previous > 0.99 * rollover
        assert current < previous


def test_duplicate_rows_kept_raw_and_resend_not_imported(ingested):
    _, _, results, lake, _, faults = ingested
    for fault in _faults(faults, "duplicate_rows"):
        if fault["expected"] == "not_imported":
            assert results[fault["file"]].status == "duplicate"
            assert results[fault["file"]].imported == 0
            assert not (lake.source_file == fault["file"]).any()
        else:
            rows = lake[lake.source_file == fault["file"]]
            start, end = _ts(fault["start_utc"]), _ts(fault["end_utc"])
            window = rows[(rows.ts >= start) & (rows.ts <= end)]
            counts = window.groupby(["meter_id", "ts"]).size()
            assert (counts == 2).all() and len(counts) > 0


def test_unit_change_file_lands_with_its_own_unit(ingested):
    _, site, _, lake, _, faults = ingested
    for fault in _faults(faults, "unit_change"):
        rows = lake[(lake.source_file == fault["file"]) & (lake.meter_id == fault["meter_id"])]
        assert len(rows) == 96
        assert set(rows.unit) == {"L"}
        assert site.meter(fault["meter_id"]).unit == "m3"


def test_malformed_cells_and_rows_are_quarantined_and_the_rest_imported(ingested):
    _, _, results, lake, quarantine, faults = ingested
    for fault in _faults(faults, "malformed_file"):
        assert results[fault["file"]].status == "committed"
        bad = quarantine[
            (quarantine.source_file == fault["file"]) & (quarantine.source_row == fault["line"])
        ]
        assert len(bad) >= 1, fault
        if fault["meter_id"] is None:
            # the whole row is unusable: nothing from that line reaches the lake
            assert not (
                (lake.source_file == fault["file"]) & (lake.source_row == fault["line"])
            ).any()
        else:
            # only the one cell is bad: the row's other meters still land
            assert "#VALUE!" in set(bad.raw_value)
            line_rows = lake[
                (lake.source_file == fault["file"]) & (lake.source_row == fault["line"])
            ]
            assert len(line_rows) > 10 and fault["meter_id"] not in set(line_rows.meter_id)
        imported = results[fault["file"]].imported
        assert imported > 90 * 30  # the rest of the day's file is in the lake


def test_corrupt_file_is_quarantined_whole(ingested):
    settings, _, results, lake, quarantine, faults = ingested
    for fault in _faults(faults, "corrupt_file"):
        result = results[fault["file"]]
        assert result.status == "quarantined"
        assert "NUL" in (result.error or "")
        kept = settings.quarantine / "files" / result.batch_id
        assert any(p.name == fault["file"] for p in kept.iterdir())
        assert (quarantine.source_file == fault["file"]).any()
        assert not (lake.source_file == fault["file"]).any()


def test_no_good_reading_is_lost_from_a_fault_free_file(ingested):
    settings, site, results, lake, _, faults = ingested
    faulty = {f["file"] for f in faults}
    name = next(n for n in sorted(results) if n.startswith("scada_export_") and n not in faulty)
    archived = next(settings.archive.glob(f"*__{name}"))
    frame = pd.read_csv(archived, dtype=str)
    cells = frame.drop(columns=["Timestamp"]).notna().sum().sum()
    rows = lake[lake.source_file == name]
    assert len(rows) == cells == results[name].imported
    tag_to_id = {m.tag: m.id for m in site.meters if m.tag}
    column = frame.columns[1]
    meter_id = tag_to_id[column.split(" [")[0]]
    expected = frame[column].dropna().astype(float).tolist()
    assert rows[rows.meter_id == meter_id].sort_values("ts").value.tolist() == expected
