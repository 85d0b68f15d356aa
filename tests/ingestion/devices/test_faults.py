"""Every fault the simulator can inject is seen by the collector, lands in device health, and
never stops it; values the device cannot have are quarantined with a reason."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
from pathlib import Path

import pytest

from demo.devices.simulator import Fault
from demo.devices.values import DemoValues
from ingestion.devices.collector import Collector, CollectorConfig
from ingestion.devices.health import health_table
from ingestion.devices.importer import import_spool, spool_for
from ingestion.devices.spool import read_segment
from ingestion.lake import read_quarantine, read_readings
from siteledger.settings import Settings
from siteledger.state.store import StateStore
from tests.ingestion.devices.helpers import (
    DEMO_ORIGIN,
    DEMO_START,
    ManualClock,
    ThreadedSimulator,
    demo_site_on_free_ports,
    free_ports,
)

pytestmark = pytest.mark.integration
STEP = 900.0


def _port(site, meter_id: str) -> int:
    return site.meter(meter_id).modbus.port


def _unit(site, meter_id: str) -> int:
    return site.meter(meter_id).modbus.unit_id


def test_every_fault_kind_is_recorded_and_the_collector_keeps_polling(tmp_path: Path):
    site = demo_site_on_free_ports()
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    values = DemoValues(site, DEMO_START, days=1)
    clock = ManualClock(DEMO_ORIGIN.timestamp())
    config = CollectorConfig(
        interval_s=STEP, timeout_s=0.1, retries=1, backoff_s=0.01, reconnect_s=0.0, stuck_cycles=4
    )
    collector = Collector(site, spool_for(settings, site.site.id), config, clock)
    scada, logger = _port(site, "FT-110"), _port(site, "B01-FQ")
    transfer_unit = _unit(site, "FT-120")
    level_unit = _unit(site, "LT-101")

    async def run(steps: range) -> list:
        polls = []
        for k in steps:
            clock.sim_now = DEMO_ORIGIN.timestamp() + k * STEP + 1
            path = await collector.cycle(DEMO_ORIGIN.timestamp() + k * STEP)
            polls.append({p["device"]: p for p in read_segment(path).polls})
        return polls

    async def scenario(sim: ThreadedSimulator) -> tuple[list, dict, list]:
        # the rollover is injected before the first poll: moving a count is itself a jump
        sim.inject(Fault("rollover", meter="FQ-131", before_rollover=5.0))
        await run(range(0, 2))
        faults = [
            Fault("unreachable", port=logger),
            Fault("timeout", port=scada, unit_id=level_unit),
            Fault("exception", port=scada, unit_id=transfer_unit, code=4),
            Fault("garbage", meter="FT-110", garbage="nan"),
            Fault("garbage", meter="JQ-112", garbage="inf"),  # uint32: all ones
            Fault("stuck", meter="AT-193"),
        ]
        for fault in faults:
            sim.inject(fault)
        faulted = await run(range(2, 6))
        store = StateStore(settings.state_store_url)
        import_spool(settings, site, store)
        during = {row["device"]: row for row in health_table(store, site, now=_at(6))}
        sim.clear()
        recovered = await run(range(6, 8))
        for link in collector.links.values():
            link.close()
        return faulted, during, recovered

    with ThreadedSimulator(site, values, clock) as sim:
        faulted, during, recovered = asyncio.run(scenario(sim))

    key = {m: f"127.0.0.1:{_port(site, m)}/{_unit(site, m)}" for m in ("FT-110", "B01-FQ")}
    key |= {"LT-101": f"127.0.0.1:{scada}/{level_unit}"}
    key |= {"FT-120": f"127.0.0.1:{scada}/{transfer_unit}", "AT-193": _key(site, "AT-193")}
    last = faulted[-1]
    assert last[key["B01-FQ"]]["error_kind"] == "unreachable"
    assert last[key["LT-101"]]["error_kind"] == "timeout"
    assert last[key["LT-101"]]["attempts"] == 2  # one retry
    assert last[key["FT-120"]]["error"] == "Modbus exception 4"
    assert last[key["FT-110"]]["error_kind"] == "garbage"
    assert last[key["AT-193"]]["error_kind"] == "stuck"  # frozen for 4 cycles
    # devices without a fault on the same connections kept answering
    assert last[_key(site, "TT-601")]["status"] == "ok"
    assert all(p["status"] == "ok" for p in recovered[-1].values()), [
        p for p in recovered[-1].values() if p["status"] != "ok"
    ]

    assert during[key["B01-FQ"]]["status"] == "offline"
    assert during[key["LT-101"]]["status"] == "offline"
    assert during[key["FT-120"]]["status"] == "erroring"
    assert during[key["FT-110"]]["status"] == "erroring"
    assert during[key["AT-193"]]["status"] == "erroring"
    assert during[key["B01-FQ"]]["error_counts"] == {"unreachable": 4}
    assert during[key["LT-101"]]["error_counts"] == {"timeout": 4}
    assert during[key["FT-120"]]["error_counts"] == {"exception": 4}
    assert during[_key(site, "FQ-131")]["event_counts"] == {"rollover": 1}
    assert during[_key(site, "TT-601")]["status"] == "online"
    assert during[key["B01-FQ"]]["last_seen_at"] == _at(1)

    store = StateStore(settings.state_store_url)
    import_spool(settings, site, store)
    after = {row["device"]: row for row in health_table(store, site, now=_at(8))}
    assert {row["status"] for row in after.values()} == {"online"}
    assert after[key["B01-FQ"]]["last_seen_at"] == _at(7)

    quarantine = read_quarantine(settings, site.site.id).to_pylist()
    reasons = {(row["column"], row["reason"]) for row in quarantine}
    assert ("FT-110", "not a finite number (nan)") in reasons
    assert ("JQ-112", "registers all ones: the device reports no value") in reasons
    assert {row["raw_value"] for row in quarantine if row["column"] == "JQ-112"} == {"FFFF FFFF"}
    lake = read_readings(settings, site.site.id, store=store).to_pandas()
    assert not lake.duplicated(["meter_id", "ts"]).any()
    # no reading of a faulted device during the fault, every reading of the others; the
    # borefield logger gave its cycles back from its history once it answered again
    during_fault = lake[lake["ts"].between(_at(2), _at(5))]
    assert not during_fault["meter_id"].isin(["LT-101", "FT-120", "FT-110"]).any()
    assert (during_fault["meter_id"] == "TT-601").sum() == 4
    for meter_id in ("B01-FQ", "B03-FT", "B06-JI"):
        series = lake[lake["meter_id"] == meter_id].set_index("ts")["value"].sort_index()
        assert list(series.index) == [_at(k) for k in range(8)], meter_id
        truth = [values.grid[meter_id][k] for k in range(8)]
        assert series.to_numpy() == pytest.approx(truth, rel=1e-6), meter_id
    assert after[key["B01-FQ"]]["event_counts"] == {"backfill": 1}
    stuck = lake[(lake["meter_id"] == "AT-193") & lake["ts"].between(_at(2), _at(5))]
    assert stuck["value"].nunique() == 1  # stored (the quality stage flags flatlines)
    # the totaliser wrapped at its rollover and the collector said so
    rolled = lake[lake["meter_id"] == "FQ-131"].sort_values("ts")["value"].to_numpy()
    assert rolled[0] == pytest.approx(site.meter("FQ-131").rollover - 5.0)
    assert (rolled[1:] < rolled[0]).any()


def _key(site, meter_id: str) -> str:
    mb = site.meter(meter_id).modbus
    return f"127.0.0.1:{mb.port}/{mb.unit_id}"


def _at(step: int) -> dt.datetime:
    return DEMO_ORIGIN + dt.timedelta(seconds=step * STEP)


def test_a_server_that_speaks_nonsense_is_an_error_not_a_crash(tmp_path: Path):
    """A TCP server that answers every request with noise, and one that hangs up at once."""
    noisy, rude = free_ports(2)
    stop = threading.Event()

    def serve(port: int, answer: bytes | None) -> None:
        with socket.create_server(("127.0.0.1", port)) as server:
            server.settimeout(0.1)
            while not stop.is_set():
                try:
                    conn, _ = server.accept()
                except TimeoutError:
                    continue
                with conn:
                    if answer is not None:
                        conn.settimeout(1)
                        try:
                            while conn.recv(260):
                                conn.sendall(answer)
                        except OSError:
                            pass

    threads = [
        threading.Thread(target=serve, args=(noisy, bytes(range(40)) * 3), daemon=True),
        threading.Thread(target=serve, args=(rude, None), daemon=True),
    ]
    for thread in threads:
        thread.start()
    site = demo_site_on_free_ports()
    site.meters = [m for m in site.meters if m.id in ("FT-110", "FQ-111", "B01-FQ")]
    for meter in site.meters:
        meter.modbus.port = rude if meter.id == "B01-FQ" else noisy
    config = CollectorConfig(interval_s=STEP, timeout_s=0.1, retries=1, backoff_s=0.01)
    clock = ManualClock(DEMO_ORIGIN.timestamp())
    collector = Collector(site, spool_for(Settings(home=tmp_path), site.site.id), config, clock)

    async def cycles() -> list[list[dict]]:
        paths = [await collector.cycle(DEMO_ORIGIN.timestamp() + k * STEP) for k in range(2)]
        return [read_segment(path).polls for path in paths]

    try:
        for polls in asyncio.run(cycles()):
            assert polls and all(p["status"] == "error" for p in polls)
            assert {p["error_kind"] for p in polls} <= {"timeout", "connection", "protocol"}
    finally:
        stop.set()
        for thread in threads:
            thread.join(2)
