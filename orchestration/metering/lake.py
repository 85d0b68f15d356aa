"""What the metering lake holds, read from the Parquet footers only (no rows are read: a year of
hourly readings of 20 000 meters is 175 M rows): committed records by kind and site, readings of
a window of site-local days, and a fingerprint of the committed batches.

Plain Python (no Dagster): the ``raw/metering`` asset reports it. The layout is the lake's
(docs/metering.md, "Record files"): ``lake/metering/<kind>/site=<site>/source=<layout>/
<batch>.parquet``, readings one file per site-local day under ``day=<YYYY-MM-DD>/``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from ingestion.lake import committed_batch_ids
from siteledger.settings import Settings
from siteledger.state.store import StateStore

METERING_TABLE = "metering"
KINDS = ("customers", "meters", "vouchers", "purchases", "readings", "meter_events", "maintenance")


def _part(path: Path, key: str) -> str:
    for part in path.parts:
        if part.startswith(f"{key}="):
            return part[len(key) + 1 :]
    return ""


def lake_summary(
    settings: Settings,
    store: StateStore,
    first_day: str | None = None,
    last_day: str | None = None,
) -> dict[str, Any]:
    """``rows`` by kind and site (committed batches), ``window_readings`` by site for the
    site-local days ``first_day`` to ``last_day`` (every day when None), ``batches``,
    ``fingerprint`` of the (kind, batch) pairs and the lake ``path``."""
    root = settings.lake / METERING_TABLE
    committed = committed_batch_ids(store)
    rows: dict[str, Counter[str]] = {}
    window: Counter[str] = Counter()
    days: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for kind in KINDS:
        pattern = (
            "site=*/source=*/day=*/*.parquet" if kind == "readings" else "site=*/source=*/*.parquet"
        )
        for path in sorted((root / kind).glob(pattern)):
            if path.stem not in committed:
                continue
            n = pq.ParquetFile(path).metadata.num_rows
            site = _part(path, "site")
            rows.setdefault(kind, Counter())[site] += n
            pairs.add((kind, path.stem))
            if kind == "readings":
                day = _part(path, "day")
                if (first_day is None or day >= first_day) and (
                    last_day is None or day <= last_day
                ):
                    window[site] += n
                    days.add(day)
    digest = hashlib.sha256(repr(sorted(pairs)).encode()).hexdigest()[:20]
    return {
        "rows": {kind: dict(sorted(counts.items())) for kind, counts in rows.items()},
        "window_readings": dict(sorted(window.items())),
        "window_days": len(days),
        "batches": len({batch for _, batch in pairs}),
        "fingerprint": digest,
        "path": str(root),
    }
