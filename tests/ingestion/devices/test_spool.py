"""The spool and its import into the raw lake: durable segments, a bounded size, hostile
segments quarantined, delivery exactly once and in time order."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import shutil
from pathlib import Path

import pytest

from ingestion.devices import importer
from ingestion.devices.collector import Collector, CollectorConfig
from ingestion.devices.importer import delivered_segments, import_spool, spool_for
from ingestion.devices.spool import SEGMENT_FORMAT, SegmentError, Spool, read_segment
from ingestion.lake import read_quarantine, read_readings
from siteledger.settings import Settings
from siteledger.site.models import Meter, SiteConfig, SiteInfo
from siteledger.state.store import StateStore
from tests.ingestion.devices.helpers import FixedValues, ManualClock, ThreadedSimulator, free_ports

T0 = int(dt.datetime(2025, 7, 1, 0, 0, tzinfo=dt.UTC).timestamp() * 1e6)
MINUTE = 60_000_000


def _site(port: int = 15020) -> SiteConfig:
    meters = [
        Meter.model_validate(
            {
                "id": meter_id,
                "measurand": measurand,
                "unit": unit,
                "modbus": {"port": port, "unit_id": 1, "register": register},
            }
        )
        for meter_id, measurand, unit, register in (
            ("FT-1", "flow_rate", "m3/h", 0),
            ("FQ-1", "totaliser", "m3", 2),
        )
    ]
    return SiteConfig(
        site=SiteInfo(id="spool_site", name="Spool", timezone="Australia/Perth"),
        nodes=[],
        meters=meters,
    )


def _segment(cycle_us: int, values: dict[str, float], site_id: str = "spool_site") -> dict:
    return {
        "format": SEGMENT_FORMAT,
        "site_id": site_id,
        "cycle_us": cycle_us,
        "interval_s": 60.0,
        "readings": {
            "meter_id": list(values),
            "value": list(values.values()),
            "unit": ["m3/h" if m.startswith("FT") else "m3" for m in values],
        },
        "rejected": [],
        "polls": [{"device": "127.0.0.1:15020/1", "status": "ok", "latency_ms": 1.5, "meters": 2}],
    }


@pytest.fixture
def home(tmp_path: Path) -> Settings:
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    return settings


def _fill(settings: Settings, cycles: range, run: str = "abc") -> Spool:
    spool = spool_for(settings, "spool_site")
    for k in cycles:
        spool.write(_segment(T0 + k * MINUTE, {"FT-1": 10.0 + k, "FQ-1": 100.0 + k}), run)
    return spool


def _lake(settings: Settings, store: StateStore):
    return read_readings(settings, "spool_site", store=store).to_pandas()


def test_segments_are_named_in_time_order_and_torn_files_are_removed(home: Settings):
    spool = _fill(home, range(3))
    (spool.root / ".20250701T000300000000Z-abc.json.tmp").write_bytes(b'{"format": 1, "si')
    names = [p.name for p in spool.segments()]
    assert names == sorted(names) and len(names) == 3
    assert names[0] == "20250701T000000000000Z-abc.json"
    assert [p.name for p in spool.remove_torn()] == [".20250701T000300000000Z-abc.json.tmp"]
    assert not list(spool.root.glob(".*"))
    assert spool.last_cycle_us() == T0 + 2 * MINUTE
    assert read_segment(spool.segments()[1]).values == [11.0, 101.0]


def test_a_full_spool_keeps_what_it_has_and_says_so(home: Settings, caplog):
    [port] = free_ports(1)
    site = _site(port)
    spool = Spool(home.spool / "spool_site", max_bytes=1000)
    clock = ManualClock(T0 / 1e6)
    collector = Collector(
        site, spool, CollectorConfig(interval_s=60), clock, status_file=home.home / "status.json"
    )

    async def cycles() -> list[Path | None]:
        paths = [await collector.cycle(T0 / 1e6 + k * 60) for k in range(6)]
        for link in collector.links.values():
            link.close()
        return paths

    with (
        ThreadedSimulator(site, FixedValues({"FT-1": 5.0, "FQ-1": 7.0}), clock),
        caplog.at_level(logging.WARNING),
    ):
        paths = asyncio.run(cycles())
    written = [p for p in paths if p is not None]
    assert 1 <= len(written) < 6
    assert paths[len(written) :] == [None] * (6 - len(written))  # the oldest are kept
    assert all(p.exists() for p in written)
    assert spool.size_bytes <= 1000
    assert collector.stats.dropped_full == 6 - len(written)
    assert "SPOOL FULL" in caplog.text and "spool" in caplog.text
    status = json.loads((home.home / "status.json").read_text())
    assert status["dropped_spool_full"] == 6 - len(written) and status["spool_full"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x00\xff not json", "not JSON"),
        (b'{"format": 2}', "not a spool segment"),
        (b"[1, 2, 3]", "not a spool segment"),
        (b'{"format": 1, "site_id": "spool_site", "cycle_us": 1}', "missing"),
        (
            json.dumps(
                _segment(T0, {"FT-1": 1.0})
                | {"readings": {"meter_id": ["FT-1"], "value": [], "unit": []}}
            ).encode(),
            "differ in length",
        ),
        (
            json.dumps(
                _segment(T0, {"FT-1": 1.0})
                | {"readings": {"meter_id": ["FT-1"], "value": ["1.0"], "unit": ["m3/h"]}}
            ).encode(),
            "not a number",
        ),
        (json.dumps(_segment(T0, {}) | {"cycle_us": True}).encode(), "not an integer"),
        (
            json.dumps(
                _segment(T0, {"FT-1": 1.0})
                | {
                    "readings": {
                        "meter_id": ["FT-1"],
                        "value": [1.0],
                        "unit": ["m3/h"],
                        "ts_us": ["2025-07-01"],
                    }
                }
            ).encode(),
            "reading time is not an integer",
        ),
        (json.dumps(_segment(T0 + MINUTE, {})).encode(), "name and in the content differ"),
    ],
)
def test_a_hostile_segment_is_refused_with_its_reason(tmp_path: Path, content: bytes, reason):
    path = tmp_path / "20250701T000000000000Z-abc.json"
    path.write_bytes(content)
    with pytest.raises(SegmentError, match=reason):
        read_segment(path)


def test_unreadable_segments_are_quarantined_and_good_ones_still_delivered(home: Settings):
    spool = _fill(home, range(2))
    bad = spool.root / "20250701T000500000000Z-abc.json"
    bad.write_bytes(b'{"format": 1, "readings": ')
    other_site = spool.root / "20250701T000600000000Z-abc.json"
    other_site.write_text(json.dumps(_segment(T0 + 6 * MINUTE, {"FT-1": 1.0}, "elsewhere")))
    store = StateStore(home.state_store_url)
    result = import_spool(home, _site(), store)
    assert result.readings == 4 and result.quarantined_segments == 2
    assert not spool.segments()
    quarantined = [j for j in store.jobs(status="quarantined")]
    assert {j.source_file.rsplit("/", 1)[1] for j in quarantined} == {bad.name, other_site.name}
    kept = home.quarantine / "files" / quarantined[0].batch_id
    assert (kept / "reason.json").exists()
    reasons = read_quarantine(home, "spool_site").column("reason").to_pylist()
    assert any("not JSON" in r for r in reasons)
    assert any("segment of site 'elsewhere'" in r for r in reasons)


def test_unknown_meters_and_collector_rejects_become_quarantine_rows(home: Settings):
    spool = spool_for(home, "spool_site")
    segment = _segment(T0, {"FT-1": 1.0, "XX-9": 2.0})
    segment["readings"]["unit"] = ["m3/h", "m3"]
    segment["rejected"] = [{"meter_id": "FQ-1", "registers": [65535, 65535], "reason": "all ones"}]
    spool.write(segment, "abc")
    store = StateStore(home.state_store_url)
    result = import_spool(home, _site(), store)
    assert result.readings == 1 and result.quarantined_rows == 2
    rows = read_quarantine(home, "spool_site").to_pylist()
    assert {(r["column"], r["reason"]) for r in rows} == {
        ("XX-9", "meter 'XX-9' is not in the site"),
        ("FQ-1", "all ones"),
    }
    assert {r["raw_value"] for r in rows if r["column"] == "FQ-1"} == {"FFFF FFFF"}


def test_delivery_is_exactly_once_in_time_order_across_batches(home: Settings):
    _fill(home, range(5))
    store = StateStore(home.state_store_url)
    result = import_spool(home, _site(), store, max_segments=2)
    assert result.segments == 5 and len(result.batches) == 3
    jobs = [j for j in store.jobs(status="committed")]
    first_cycles = [j.details["segments"][0][0] for j in jobs]
    assert first_cycles == sorted(first_cycles)
    lake = _lake(home, store)
    assert len(lake) == 10 and not lake.duplicated(["meter_id", "ts"]).any()
    ft = lake[lake["meter_id"] == "FT-1"].sort_values("ts")
    assert ft["value"].tolist() == [10.0, 11.0, 12.0, 13.0, 14.0]
    assert ft["day"].astype(str).unique().tolist() == ["2025-07-01"]  # Perth day of 08:00
    again = import_spool(home, _site(), store)
    assert again.segments == 0 and len(_lake(home, store)) == 10


def test_a_crash_between_commit_and_cleanup_never_duplicates(home: Settings, monkeypatch):
    spool = _fill(home, range(3))
    aside = home.home / "aside"
    shutil.copytree(spool.root, aside)
    store = StateStore(home.state_store_url)
    import_spool(home, _site(), store)
    # the segments come back as if the process died after the commit, before deleting them
    for path in aside.iterdir():
        shutil.copy(path, spool.root / path.name)
    assert len(delivered_segments(store, "spool_site")) == 3
    result = import_spool(home, _site(), store)
    assert result.already_delivered == 3 and result.readings == 0
    assert not spool_for(home, "spool_site").segments()
    assert len(_lake(home, store)) == 6


def test_a_failed_batch_leaves_no_lake_files_and_its_segments_in_the_spool(
    home: Settings, monkeypatch
):
    spool = _fill(home, range(2))

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(importer, "write_readings", broken)
    store = StateStore(home.state_store_url)
    result = import_spool(home, _site(), store)
    assert result.errors and "disk full" in result.errors[0]
    assert [j.status for j in store.jobs()] == ["failed"]
    assert len(spool.segments()) == 2
    assert not list(home.readings_lake.rglob("*.parquet"))
    monkeypatch.undo()
    assert import_spool(home, _site(), store).readings == 4


def test_the_same_cycle_from_two_collectors_is_kept_once(home: Settings):
    spool = spool_for(home, "spool_site")
    spool.write(_segment(T0, {"FT-1": 1.0, "FQ-1": 2.0}), "aaa")
    spool.write(_segment(T0, {"FT-1": 1.5, "FQ-1": 2.0}), "bbb")
    store = StateStore(home.state_store_url)
    result = import_spool(home, _site(), store)
    assert result.readings == 2 and result.duplicates_dropped == 2
    lake = _lake(home, store)
    assert lake.set_index("meter_id")["value"].to_dict() == {"FT-1": 1.0, "FQ-1": 2.0}


def test_a_restarted_collector_never_polls_a_spooled_instant_again(home: Settings):
    [port] = free_ports(1)
    site = _site(port)
    clock = ManualClock(T0 / 1e6 + 10)  # 10 s into the cycle of T0 (phase: 6 s)
    status = home.home / "collector.json"

    def collector() -> Collector:
        spool = spool_for(home, "spool_site")
        return Collector(site, spool, CollectorConfig(interval_s=60), clock, status_file=status)

    first = collector()
    assert first.first_cycle() * 60 * 1_000_000 == T0 + MINUTE  # T0's poll is already late
    clock.sim_now = T0 / 1e6 - 30
    assert first.first_cycle() * 60 * 1_000_000 == T0

    async def one() -> None:
        await first.cycle(T0 / 1e6)
        for link in first.links.values():
            link.close()

    asyncio.run(one())
    assert collector().first_cycle() * 60 * 1_000_000 == T0 + MINUTE  # from the spool
    import_spool(home, site, StateStore(home.state_store_url))  # the spool is emptied
    assert not spool_for(home, "spool_site").segments()
    assert collector().first_cycle() * 60 * 1_000_000 == T0 + MINUTE  # from the status file
