#!/usr/bin/env python3
"""Benchmark: the data API under load - a one-year daily balance query from 50 concurrent
clients on loopback.

A small home is built the way the API tests build theirs (the hand site through dbt, scored,
published; ~20-40 s), its daily site balance is then stretched to a year (the four built days
repeated with shifted dates: 368 rows of the real mart's columns) and published again. The API
runs as ``siteledger api serve`` in its own process (uvicorn, one worker); the clients are
``--clients`` asyncio tasks of this process sharing ``--requests`` requests of
``GET /v1/sites/hand_site/balances/daily?start=2025-07-01&end=2026-06-30&limit=366`` (365 rows,
each checked), after a warm-up of one request per client; before that, 100 requests from one
client give the latency without queueing. Client and server share the machine's cores, so the
figures include the client's own cost.

Figures are printed and written to ``benchmarks/results/api.json``.

    .venv/bin/python benchmarks/bench_api.py [--clients 50] [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUERY = "/v1/sites/hand_site/balances/daily"
PARAMS = {"start": "2025-07-01", "end": "2026-06-30", "limit": "366"}
DAYS_IN_RANGE = 365


def build_home(home: Path) -> None:
    """The API tests' home, then a year of daily site balance rows, published."""
    import duckdb

    from siteledger.settings import get_settings
    from siteledger.state import StateStore
    from siteledger.warehouse import Warehouse
    from tests.api.conftest import build_api_home

    build_api_home(home)
    settings = get_settings(home)
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute(
            "insert into marts.fct_site_balance_daily "
            "select * exclude (k) replace (day + cast(4 * k as integer) as day, "
            "cast(date_trunc('month', day + cast(4 * k as integer)) as date) as month_start) "
            "from marts.fct_site_balance_daily cross join range(1, 92) as shift(k) "
            "where site_id = 'hand_site'"
        )
    store = StateStore(settings.state_store_url)
    Warehouse(settings, store).publish(["marts"], note="bench_api")
    store.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(home: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    code = "import sys; from cli.main import main; sys.argv[0] = 'siteledger'; main()"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", code, "--home", str(home), "api", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_ready(base: str, deadline_s: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the API did not answer at {base}")


async def load(base: str, token: str, clients: int, requests: int) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    remaining = [requests]
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as c:

        async def one() -> None:
            started = time.perf_counter()
            try:
                got = await c.get(QUERY, params=PARAMS)
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                return
            elapsed = time.perf_counter() - started
            if got.status_code != 200 or len(got.json()["items"]) != DAYS_IN_RANGE:
                errors.append(f"{got.status_code} {got.text[:200]}")
            else:
                latencies.append(elapsed)

        async def client() -> None:
            while remaining[0] > 0:
                remaining[0] -= 1
                await one()

        await asyncio.gather(*(one() for _ in range(clients)))  # warm-up, not counted
        latencies.clear()
        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        wall = time.perf_counter() - started
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000, 1)

    return {
        "requests": len(latencies) + len(errors),
        "errors": len(errors),
        "first_errors": errors[:3],
        "wall_s": round(wall, 2),
        "requests_per_s": round(len(latencies) / wall, 1),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "max_ms": round(ordered[-1] * 1000, 1),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--home", type=Path, help="a home built by an earlier run (kept)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    from api.keys import KeyStore
    from siteledger.settings import get_settings
    from siteledger.state import StateStore

    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        home = args.home or Path(tmp) / "home"
        if not (home / "warehouse" / "siteledger.duckdb").exists():
            home.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            build_home(home)
            print(f"home built in {time.perf_counter() - t0:.1f} s")
        settings = get_settings(home)
        store = StateStore(settings.state_store_url)
        _, token = KeyStore(store).create("bench", ["hand_site"], rate_per_minute=100_000)
        store.dispose()
        port = free_port()
        server_log = Path(tmp) / "server.log"
        server = start_server(home, port, server_log)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(base)
            single = asyncio.run(load(base, token, 1, 100))
            figures = asyncio.run(load(base, token, args.clients, args.requests))
        finally:
            server.terminate()
            server.wait(timeout=30)
            log_lines = server_log.read_text(errors="replace").splitlines()
            problems = [line for line in log_lines if "ERROR" in line or "Traceback" in line]
            print(f"server log: {len(log_lines)} lines, {len(problems)} errors", *problems[:5])
        store = StateStore(settings.state_store_url)
        audited = len(KeyStore(store).audit(limit=args.requests * 2))
        store.dispose()
    results = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "query": f"GET {QUERY}?" + "&".join(f"{k}={v}" for k, v in PARAMS.items()),
        "rows_per_response": DAYS_IN_RANGE,
        "clients": args.clients,
        "server": "siteledger api serve (uvicorn, 1 process)",
        "audit_entries_written": audited,
        **figures,
        "one_client_100_requests": {
            k: single[k] for k in ("p50_ms", "p95_ms", "p99_ms", "requests_per_s", "errors")
        },
    }
    print(json.dumps(results, indent=2))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "api.json").write_text(json.dumps(results, indent=2) + "\n")
    return 1 if figures["errors"] or single["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
