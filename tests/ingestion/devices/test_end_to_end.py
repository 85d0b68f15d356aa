"""The device path end to end, as real processes on 127.0.0.1: ``siteledger devices simulate``
and ``siteledger devices collect`` on a shared accelerated clock (one 15-minute step of the demo
model per 0.3 s), the spool imported into the raw lake, and dbt's balance compared with the
demo generator's ground truth. The borefield logger goes offline in the middle of the day (its
history fills the gap when it is back), and the platform imports once mid-day and once at the
end (the spool buffers in between).

A second test kills the collector with SIGKILL in the middle of its cycles: nothing it spooled
is torn or lost but the cycle in flight, and a restarted collector carries on without polling an
instant twice."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from demo import write_demo
from demo.devices.values import DemoValues
from ingestion.devices.clock import SimClock
from ingestion.devices.health import health_table
from ingestion.devices.importer import import_spool
from ingestion.devices.spool import SEGMENT_RE, cycle_us_of, read_segment
from ingestion.files import import_landing
from ingestion.lake import read_readings
from ingestion.site_tables import write_site_tables
from siteledger.settings import get_settings
from siteledger.site import dump_site, load_site
from siteledger.state.store import StateStore
from tests.dbt.runner import query, run_dbt
from tests.ingestion.devices.helpers import (
    DEMO_ORIGIN,
    DEMO_START,
    ThreadedSimulator,
    free_ports,
    on_ports,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SITELEDGER = str(Path(sys.executable).with_name("siteledger"))
STEP = 900.0
SPEED = 3000.0  # 0.3 s of wall time per 15-minute step
RELATIVE, FLOOR_M3 = 0.005, 0.5  # as tests/dbt/test_demo_end_to_end.py


def _wait_for_step(clock: SimClock, step: float) -> None:
    delay = clock.wall_at(DEMO_ORIGIN.timestamp() + step * STEP) - time.time()
    if delay > 0:
        time.sleep(delay)


def _at(step: int) -> pd.Timestamp:
    return pd.Timestamp(DEMO_ORIGIN) + pd.Timedelta(seconds=step * STEP)


def _stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def _collector(home: Path, site_file: Path, clock: SimClock) -> subprocess.Popen:
    return subprocess.Popen(
        [SITELEDGER, "--home", str(home), "devices", "collect", str(site_file),
         "--interval", "15min", "--clock", clock.spec(), "--timeout", "0.05", "--retries", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def test_devices_to_the_balance_with_an_outage_in_the_middle(tmp_path: Path):
    home = tmp_path / "home"
    out = write_demo(home, days=1, sites=("demo_mine",))
    settings = get_settings(home)
    # the devices deliver what the SCADA export and the borefield logger would; the manual
    # workbook (dip boards, pan, lab moisture) still arrives as a file
    for drop in out.drop_files:
        if not drop.name.startswith("manual_readings_"):
            drop.unlink()
    site = load_site(out.site_file)
    used = sorted({m.modbus.port for m in site.meters if m.modbus})
    site = on_ports(site, dict(zip(used, free_ports(len(used)), strict=True)))
    out.site_file.write_text(dump_site(site), encoding="utf-8")
    logger_port = site.meter("B01-FQ").modbus.port
    store = StateStore(settings.state_store_url)
    assert [r.status for r in import_landing(settings, site, store)] == ["committed"]
    write_site_tables(settings, site)

    # the processes take 2-3 s to start, more on a busy machine: the day starts in 8 s
    clock = SimClock.starting(DEMO_ORIGIN, SPEED, delay=8.0)
    faults = tmp_path / "faults.json"
    faults.write_text("[]")
    simulator = subprocess.Popen(
        [SITELEDGER, "devices", "simulate", str(out.site_file), "--days", "1",
         "--clock", clock.spec(), "--faults", str(faults)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    collector = _collector(home, out.site_file, clock)
    try:
        _wait_for_step(clock, 30)
        faults.write_text(json.dumps([{"kind": "unreachable", "port": logger_port}]))
        _wait_for_step(clock, 40)
        faults.write_text("[]")
        _wait_for_step(clock, 60)
        mid_day = import_spool(settings, site, store)  # the platform catches up part-way
        _wait_for_step(clock, 97.5)  # the closing instant (step 96) is polled
    finally:
        collector_rc = _stop(collector)
        simulator_rc = _stop(simulator)
    collector_log = collector.stdout.read() if collector.stdout else ""
    assert collector_rc == 0, collector_log
    assert simulator_rc == 0
    status = json.loads((settings.spool / "demo_mine" / "collector.json").read_text())
    assert status["running"] is False and status["skipped_late"] == 0, status
    assert mid_day.segments > 0 and mid_day.readings > 0
    final = import_spool(settings, site, store)
    assert final.segments > 0 and not final.errors

    # every polled value is the simulator's truth at the cycle's instant
    lake = read_readings(settings, "demo_mine", source="device", store=store).to_pandas()
    assert not lake.duplicated(["meter_id", "ts"]).any()
    day = lake[lake["ts"].between(_at(0), _at(96))]
    truth = DemoValues(site, DEMO_START, days=1)
    steps = ((day["ts"] - _at(0)).dt.total_seconds() // STEP).astype(int)
    expected = [truth.grid[m][k] for m, k in zip(day["meter_id"], steps, strict=True)]
    assert (day["value"] - expected).abs().le(1e-4 * (1 + pd.Series(expected).abs().values)).all()
    # every meter has every instant of the day: the borefield logger's outage was filled from
    # its history once it answered again
    first = day["ts"].min()
    assert first == _at(0), f"the collector started late: first cycle {first}\n{collector_log}"
    counts = day.groupby("meter_id")["ts"].nunique()
    polled = [m.id for m in site.meters if m.modbus]
    assert (counts[polled] == 97).all(), counts[polled][counts[polled] != 97]
    health = {row["device"]: row for row in health_table(store, site, now=_at(97).to_pydatetime())}
    bore_health = health[f"127.0.0.1:{logger_port}/1"]
    assert bore_health["error_counts"].get("unreachable", 0) >= 4, bore_health
    assert bore_health["event_counts"].get("backfill") == 1, bore_health
    assert bore_health["status"] == "online"

    # through dbt: the day's flows and closure as the ground truth has them
    run_dbt(home, "build")
    flows = pd.read_csv(home / "demo" / "ground_truth" / "flows_daily.csv")
    flows["day"] = pd.to_datetime(flows["day"]).dt.date
    mine = pd.DataFrame(
        query(
            home,
            "select flow_id, day, volume_m3 from intermediate.int_flow_volumes_daily "
            f"where site_id = 'demo_mine' and day = '{DEMO_START}'",
        )
    )
    both = flows.merge(mine, on=["day", "flow_id"], suffixes=("_truth", ""), validate="1:1")
    assert len(both) == len(flows)
    error = (both["volume_m3"] - both["volume_m3_truth"]).abs()
    worst = both[error > RELATIVE * both["volume_m3_truth"].abs() + FLOOR_M3]
    assert worst.empty, worst.to_string()
    [balance] = query(
        home,
        "select is_complete, closure_error_pct, inputs_m3 from marts.fct_site_balance_daily "
        f"where site_id = 'demo_mine' and day = '{DEMO_START}'",
    )
    site_truth = pd.read_csv(home / "demo" / "ground_truth" / "site_daily.csv").iloc[0]
    assert balance["is_complete"]
    assert abs(balance["closure_error_pct"]) < 100 * RELATIVE
    assert balance["inputs_m3"] == pytest.approx(site_truth["inputs_m3"], rel=RELATIVE)


def test_kill_9_loses_at_most_the_cycle_in_flight(tmp_path: Path):
    home = tmp_path / "home"
    site = load_site(write_demo(tmp_path / "demo", days=1, sites=("demo_mine",)).site_file)
    used = sorted({m.modbus.port for m in site.meters if m.modbus})
    site = on_ports(site, dict(zip(used, free_ports(len(used)), strict=True)))
    site_file = tmp_path / "site.yaml"
    site_file.write_text(dump_site(site), encoding="utf-8")
    settings = get_settings(home)
    spool = settings.spool / "demo_mine"
    clock = SimClock.starting(DEMO_ORIGIN, SPEED * 2, delay=0.0)  # 0.15 s per cycle
    with ThreadedSimulator(site, DemoValues(site, DEMO_START, days=1), clock):
        collector = _collector(home, site_file, clock)
        deadline = time.time() + 30
        while len([p for p in spool.glob("*.json") if SEGMENT_RE.match(p.name)]) < 8:
            assert time.time() < deadline and collector.poll() is None, "collector did not start"
            time.sleep(0.05)
        time.sleep(0.37)  # mid-cycle, most likely
        os.kill(collector.pid, signal.SIGKILL)
        killed_at = clock.now()
        collector.wait(5)
        before = sorted(p for p in spool.iterdir() if SEGMENT_RE.match(p.name))
        torn = [p for p in spool.iterdir() if p.name.endswith(".tmp") and p.name.startswith(".2")]
        assert len(torn) <= 1  # at most the cycle in flight
        cycles = [read_segment(p).cycle_us for p in before]  # every finished segment is whole
        assert cycles == [cycles[0] + k * int(STEP * 1e6) for k in range(len(cycles))]
        # the cycles due before the kill are all there, but possibly the one in flight
        due = int((killed_at - 0.1 * STEP) // STEP)
        assert cycles[-1] // int(STEP * 1e6) >= due - 1

        restarted = _collector(home, site_file, clock)
        while len([p for p in spool.iterdir() if SEGMENT_RE.match(p.name)]) < len(before) + 3:
            assert time.time() < deadline + 20 and restarted.poll() is None
            time.sleep(0.05)
        assert _stop(restarted) == 0
    assert not [p for p in spool.iterdir() if p.name.endswith(".tmp")]  # cleaned on restart
    after = sorted(cycle_us_of(p.name) for p in spool.iterdir() if SEGMENT_RE.match(p.name))
    assert len(after) == len(set(after)) and after[: len(cycles)] == cycles
    store = StateStore(settings.state_store_url)
    result = import_spool(settings, site, store)
    assert result.segments == len(after)
    lake = read_readings(settings, "demo_mine", store=store).to_pandas()
    assert not lake.duplicated(["meter_id", "ts"]).any()
    assert lake["ts"].nunique() == len(after)
    assert dt.datetime.fromtimestamp(after[0] / 1e6, dt.UTC) >= DEMO_ORIGIN - dt.timedelta(hours=1)
