"""Collector speed: 500 simulated Modbus devices x 10 registers, polled over TCP on 127.0.0.1.

The device simulator runs in its own process (``siteledger devices simulate``) on 10 ports x 50
unit ids, each device holding 5 float32 meters in 10 holding registers (one block read). This
process runs the collector and measures:

- back-to-back cycles (``Collector.cycle``: poll all 500 devices, decode, write the spool
  segment durably): wall time per full cycle and registers/s sustained;
- the collector's CPU per cycle (its own process time), and the run loop itself at a short
  interval for a while, from which the CPU share at a 60 s poll interval follows;
- importing the spooled cycles into the raw lake (readings/s).

Figures are printed and written to ``benchmarks/results/collector.json``.

    python benchmarks/bench_collector.py [--ports 10] [--units 50] [--cycles 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from ingestion.devices.collector import Collector, CollectorConfig
from ingestion.devices.importer import import_spool, spool_for
from siteledger.settings import Settings
from siteledger.site import load_site
from siteledger.state.store import StateStore

RESULTS = Path(__file__).parent / "results" / "collector.json"
METERS_PER_DEVICE = 5  # float32: 10 registers


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def site_config(ports: list[int], units: int) -> dict[str, Any]:
    meters = []
    for port_index, port in enumerate(ports):
        for unit in range(1, units + 1):
            for i in range(METERS_PER_DEVICE):
                meters.append(
                    {
                        "id": f"P{port_index:02d}-U{unit:03d}-M{i}",
                        "measurand": "temperature",
                        "unit": "degC",
                        "valid_range": [-5.0, 50.0],
                        "modbus": {
                            "port": port,
                            "unit_id": unit,
                            "register": 2 * i,
                            "data_type": "float32",
                        },
                    }
                )
    return {
        "site": {"id": "bench_devices", "name": "Collector benchmark"},
        "nodes": [],
        "meters": meters,
    }


def wait_for_ports(ports: list[int], seconds: float = 60) -> None:
    deadline = time.time() + seconds
    for port in ports:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError(f"simulator did not open port {port}") from None
                time.sleep(0.2)


async def back_to_back(collector: Collector, cycles: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    instant = 60.0 * (int(time.time() // 60) - cycles - 10)
    await collector.cycle(instant)  # connect
    for k in range(cycles):
        wall, cpu = time.perf_counter(), time.process_time()
        await collector.cycle(instant + 60.0 * (k + 1))
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    for link in collector.links.values():
        link.close()
    return walls, cpus


async def paced(collector: Collector, seconds: float) -> tuple[float, float, int]:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, stop.set)
    wall, cpu = time.perf_counter(), time.process_time()
    stats = await collector.run(stop)
    return time.perf_counter() - wall, time.process_time() - cpu, stats.cycles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=10)
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--cycles", type=int, default=30)
    parser.add_argument("--paced-interval", type=float, default=2.0)
    parser.add_argument("--paced-seconds", type=float, default=20.0)
    args = parser.parse_args()
    ports = free_ports(args.ports)
    with tempfile.TemporaryDirectory(prefix="bench-collector-") as tmp:
        home = Path(tmp)
        site_file = home / "bench_devices.yaml"
        site_file.write_text(yaml.safe_dump(site_config(ports, args.units)), encoding="utf-8")
        site = load_site(site_file)
        siteledger = str(Path(sys.executable).with_name("siteledger"))
        simulator = subprocess.Popen(
            [siteledger, "devices", "simulate", str(site_file)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_ports(ports)
            settings = Settings(home=home / "home")
            settings.ensure_dirs()
            # back-to-back cycles read the simulator within the same wall second, so values repeat;
            # the stuck-value check would flag every device (it works, but it is not measured here)
            config = CollectorConfig(interval_s=60.0, timeout_s=2.0, stuck_cycles=1_000_000)
            collector = Collector(site, spool_for(settings, site.site.id), config)
            devices = len(collector.devices)
            registers = sum(d.register_count for d in collector.devices)
            walls, cpus = asyncio.run(back_to_back(collector, args.cycles))
            errors = collector.stats.device_errors
            paced_config = CollectorConfig(
                interval_s=args.paced_interval, timeout_s=2.0, stuck_cycles=1_000_000
            )
            paced_collector = Collector(site, spool_for(settings, site.site.id), paced_config)
            paced_wall, paced_cpu, paced_cycles = asyncio.run(
                paced(paced_collector, args.paced_seconds)
            )
        finally:
            simulator.terminate()
            simulator.wait(10)
        store = StateStore(settings.state_store_url)
        t0 = time.perf_counter()
        imported = import_spool(settings, site, store)
        import_s = time.perf_counter() - t0

    cycle_mean = statistics.mean(walls)
    cycle_p95 = sorted(walls)[int(0.95 * (len(walls) - 1))]
    cpu_per_cycle = statistics.mean(cpus)
    cpu_per_paced_cycle = paced_cpu / max(paced_cycles, 1)
    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "devices": devices,
        "registers_per_cycle": registers,
        "endpoints": args.ports,
        "cycles": args.cycles,
        "device_errors": errors,
        "cycle_wall_s_mean": round(cycle_mean, 4),
        "cycle_wall_s_p95": round(cycle_p95, 4),
        "cycle_wall_s_max": round(max(walls), 4),
        "registers_per_s_sustained": round(registers * len(walls) / sum(walls)),
        "collector_cpu_s_per_cycle": round(cpu_per_cycle, 4),
        "paced_interval_s": args.paced_interval,
        "paced_cycles": paced_cycles,
        "paced_cpu_pct_of_one_core": round(100 * paced_cpu / paced_wall, 2),
        "paced_cpu_s_per_cycle": round(cpu_per_paced_cycle, 4),
        "cpu_pct_of_one_core_at_60s": round(100 * cpu_per_paced_cycle / 60.0, 3),
        "spool_import_readings": imported.readings,
        "spool_import_segments": imported.segments,
        "spool_import_s": round(import_s, 3),
        "spool_import_readings_per_s": round(imported.readings / import_s),
        "targets": {"cycle_s": 1.0, "registers_per_s": 20000, "cpu_pct_at_60s": 20.0},
    }
    for key, value in results.items():
        print(f"{key:32s} {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    runs = previous.get("runs", {}) if isinstance(previous, dict) else {}
    runs[f"{args.ports}x{args.units}"] = results
    RESULTS.write_text(json.dumps({"runs": runs}, indent=2) + "\n", encoding="utf-8")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
