#!/usr/bin/env python3
"""Benchmark: rendering compliance reports.

* annual report (12 months) of a synthetic site with 20 stores and a plant (21 facilities,
  20 storage-trend charts of 365 daily points, 120 flows in the Sankey): figures, validation and
  every format (PDF, Excel, CSV, JSON, XML with its XSD check), in this process, best of N;
* with ``--home DIR`` (a home the demo ran in): every report of every complete period of the
  published warehouse, from reading the marts to the registry, across ``--workers`` processes,
  in a fresh state store (the home's registry is not touched).

Figures are printed and written to ``benchmarks/results/reports.json``.

    .venv/bin/python benchmarks/bench_reports.py [--stores 20] [--repeat 3] [--home DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLCONFIGDIR", tempfile.mkdtemp(prefix="mpl-"))


def bench_synthetic(stores: int, repeat: int, out_dir: Path) -> dict:
    from demo.report_data import synthetic_site
    from reports.data import build_payload, content_hash
    from reports.definitions import load_definitions
    from reports.render.worker import RenderJob, render_job
    from reports.validation import check

    definition = next(d for d in load_definitions() if d.id == "annual_water_report")
    data = synthetic_site(n_stores=stores, n_months=12)
    (period,) = data.periods(definition)
    runs = []
    for i in range(repeat):
        t0 = time.perf_counter()
        payload = build_payload(data, definition, period)
        results, errors = check(definition, payload)
        t_payload = time.perf_counter() - t0
        header = {
            "report_id": f"bench.{i}",
            "version": 1,
            "status": "validated",
            "validation_errors": errors,
            "requirements": results,
            "content_hash": content_hash(payload, results),
            "generated_at": "2026-07-01T04:00:00+00:00",
            "generated_by": "bench",
            "due_date": "2026-09-28",
            "branding": definition.branding.model_dump(),
            "diff": None,
            "diff_against": None,
        }
        result = render_job(
            RenderJob(payload, header, list(definition.formats), str(out_dir), f"annual_{i}")
        )
        assert not result.errors, result.errors
        total = time.perf_counter() - t0
        runs.append(
            {
                "figures_s": round(t_payload, 4),
                "render_s": round(result.seconds, 3),
                "total_s": round(total, 3),
                "pdf_pages": result.pdf_pages,
                "bytes": {k: v["bytes"] for k, v in result.artifacts.items()},
            }
        )
        print(f"  run {i + 1}: {total:.2f} s ({result.pdf_pages} PDF pages)")
    per_format = _per_format(payload, header)
    best = min(runs, key=lambda r: r["total_s"])
    return {
        "facilities": len(payload["facilities"]),
        "stores": stores,
        "months": 12,
        "storage_trend_points": sum(len(v) for v in payload["storage_trend"].values()),
        "sankey_links": len(payload["flows"]),
        "runs": runs,
        "best_total_s": best["total_s"],
        "per_format_s": per_format,
        "target_s": 10.0,
    }


def _per_format(payload: dict, header: dict) -> dict:
    from reports.render import tabular
    from reports.render.html import render_html, render_pdf

    out = {}
    t0 = time.perf_counter()
    html = render_html(payload, header)
    out["html_template"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    render_pdf(html)
    out["pdf_weasyprint"] = round(time.perf_counter() - t0, 3)
    for name, fn in (
        ("xlsx", tabular.render_xlsx),
        ("csv", tabular.render_csv),
        ("json", tabular.render_json),
        ("xml_with_xsd_check", tabular.render_xml),
    ):
        t0 = time.perf_counter()
        fn(payload, header)
        out[name] = round(time.perf_counter() - t0, 3)
    return out


def bench_home(home: Path, workers: int) -> dict:
    from reports.service import generate
    from siteledger.settings import Settings
    from siteledger.state import StateStore

    scratch = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    try:
        (scratch / "warehouse").mkdir()
        shutil.copy(home / "warehouse" / "siteledger.duckdb", scratch / "warehouse")
        settings = Settings(home=scratch)
        store = StateStore(settings.state_store_url)
        t0 = time.perf_counter()
        outcomes = generate(settings, store, generated_by="bench", workers=workers)
        elapsed = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = generate(settings, store, generated_by="bench", workers=workers)
        unchanged = time.perf_counter() - t0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    kinds: dict[str, int] = {}
    for o in outcomes:
        kinds[o.record.period_kind] = kinds.get(o.record.period_kind, 0) + 1
    print(
        f"  {len(outcomes)} reports in {elapsed:.1f} s with {workers} workers; "
        f"re-run with nothing changed {unchanged:.2f} s"
    )
    return {
        "reports": len(outcomes),
        "by_period": kinds,
        "workers": workers,
        "seconds": round(elapsed, 2),
        "rerun_unchanged_s": round(unchanged, 3),
        "all_unchanged_on_rerun": all(o.action == "unchanged" for o in again),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stores", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/reports.json")
    args = parser.parse_args()
    result: dict = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
    }
    with tempfile.TemporaryDirectory() as tmp:
        print(f"annual report, synthetic site with {args.stores} stores, 12 months:")
        result["annual_synthetic"] = bench_synthetic(args.stores, args.repeat, Path(tmp))
    if args.home:
        print(f"every report of the published warehouse in {args.home}:")
        result["published_home"] = bench_home(args.home, args.workers)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["annual_synthetic"]["per_format_s"], indent=2))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
