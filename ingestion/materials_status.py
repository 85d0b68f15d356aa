"""What the materials lake holds: committed records by kind and site, and a fingerprint of the
committed batches (it changes when a batch is imported or rolled back)."""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

from ingestion.materials_lake import MATERIALS_SCHEMAS, committed_records, materials_root
from siteledger.settings import Settings
from siteledger.state.store import StateStore


def records_summary(settings: Settings, store: StateStore) -> dict[str, Any]:
    """``rows`` by kind and site, ``batches`` (committed import batches holding records),
    ``fingerprint`` of the (kind, batch) pairs and the lake ``path``."""
    rows: dict[str, dict[str, int]] = {}
    pairs: set[tuple[str, str]] = set()
    for kind in MATERIALS_SCHEMAS:
        table = committed_records(settings, store, kind)
        if table.num_rows == 0:
            continue
        rows[kind] = dict(sorted(Counter(table.column("site").to_pylist()).items()))
        pairs |= {(kind, b) for b in table.column("import_batch_id").to_pylist()}
    digest = hashlib.sha256(repr(sorted(pairs)).encode()).hexdigest()[:20]
    return {
        "rows": rows,
        "batches": len({batch for _, batch in pairs}),
        "fingerprint": digest,
        "path": str(materials_root(settings)),
    }
