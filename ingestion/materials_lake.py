"""The materials records in the raw lake: one Parquet file per import batch, kind and site.

Layout (dbt's ``materials_lake`` source reads it exactly like this)::

    lake/materials/<kind>/site=<site_id>/source=<layout>/<batch_id>.parquet

``kind`` is one of :data:`siteledger.site.materials.RECORD_KINDS`; ``site`` and ``source`` are
hive keys in the path only. Every file of a kind has that kind's schema in
:data:`MATERIALS_SCHEMAS`: the record's own columns, then ``import_batch_id`` (the import batch
that wrote the row, also the file's name), ``source_file``, ``source_row`` and ``loaded_at``.
The import batch is not called ``batch_id`` here because, in this domain, ``batch_id`` is a
production batch (the key of a batch record, the batch a movement was issued to).

Quantities are in the material's base unit (``qty``, ``unit``), with the quantity as delivered
beside them (``qty_given``, ``unit_given``); money is in the site currency (``unit_cost``,
``unit_price``: per base unit), with the amount as delivered (``currency_given``,
``unit_cost_given`` per ``unit_given``). Timestamps are UTC instants.

As with readings, a file is only *committed* once its import job says so in the state store:
:func:`committed_records` reads the committed files only.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from ingestion.lake import MATERIALS_TABLE, temporary_path
from ingestion.record_lake import LOAD_COLUMNS, RecordLake
from ingestion.record_lake import TIMESTAMP as _TS
from ingestion.record_lake import column as _f
from ingestion.record_lake import record_schema as _schema
from ingestion.record_lake import text_column as _s
from siteledger.settings import Settings

_QTY_GIVEN = (_f("qty_given", pa.float64(), True), _s("unit_given", True))


MATERIALS_SCHEMAS: dict[str, pa.Schema] = {
    "receipts": _schema(
        _s("receipt_id", True),
        _s("lot_id", True),
        _s("material_id", True),
        _s("supplier_id", True),
        _s("po_id"),
        _f("received_at", _TS, True),
        _f("qty", pa.float64(), True),
        _s("unit", True),
        *_QTY_GIVEN,
        _f("unit_cost", pa.float64(), True),
        _s("currency_given", True),
        _f("unit_cost_given", pa.float64(), True),
        _f("expiry_date", pa.date32()),
        _s("supplier_lot"),
    ),
    "purchase_orders": _schema(
        _s("po_id", True),
        _s("supplier_id", True),
        _s("material_id", True),
        _f("ordered_at", _TS, True),
        _f("promised_date", pa.date32(), True),
        _f("qty", pa.float64(), True),
        _s("unit", True),
        _f("unit_price", pa.float64(), True),
    ),
    "movements": _schema(
        _s("movement_id", True),
        _f("moved_at", _TS, True),
        _s("material_id", True),
        _s("lot_id"),
        _s("kind", True),
        _f("qty", pa.float64(), True),
        _s("unit", True),
        *_QTY_GIVEN,
        _f("unit_cost", pa.float64()),
        _s("batch_id"),
        _s("job_id"),
        _s("reason"),
    ),
    "batches": _schema(
        _s("batch_id", True),
        _s("product_id", True),
        _s("recipe_id", True),
        _f("recipe_version", pa.int32(), True),
        _f("planned_qty", pa.float64(), True),
        _f("actual_qty", pa.float64(), True),
        _f("samples_qty", pa.float64(), True),
        _s("output_unit", True),
        _s("output_lot_id", True),
        _f("started_at", _TS, True),
        _f("finished_at", _TS, True),
        _s("equipment"),
        _f("containers", pa.int32()),
    ),
    "lot_edges": _schema(
        _s("edge_id", True),
        _s("parent_lot_id", True),
        _s("child_lot_id", True),
        _s("relation", True),
        _f("qty", pa.float64(), True),
        _s("unit", True),
        _f("moved_at", _TS, True),
    ),
    "qc_results": _schema(
        _s("result_id", True),
        _s("lot_id", True),
        _s("spec_id", True),
        _f("spec_version", pa.int32(), True),
        _s("test_id", True),
        _f("value", pa.float64()),
        _s("result_text"),
        _f("tested_at", _TS, True),
        _s("analyst"),
        _s("approver"),
    ),
    "sales": _schema(
        _s("sale_id", True),
        _f("sold_at", _TS, True),
        _s("customer_id", True),
        _s("product_id", True),
        _s("lot_id"),
        _f("qty", pa.float64(), True),
        _s("unit", True),
        _f("unit_price", pa.float64(), True),
        _s("currency_given", True),
        _f("unit_price_given", pa.float64(), True),
    ),
    "jobs": _schema(
        _s("job_id", True),
        _s("customer_id", True),
        _s("job_type_id", True),
        _f("parts", pa.int32(), True),
        _f("area_m2", pa.float64(), True),
        _s("colour", True),
        _s("powder_material_id", True),
        _f("film_um", pa.float64()),
        _f("labour_hours", pa.float64(), True),
        _f("oven_kwh", pa.float64(), True),
        _f("oven_cost", pa.float64()),
        _f("quoted_price", pa.float64(), True),
        _f("invoiced_price", pa.float64()),
        _f("received_at", _TS, True),
        _f("started_at", _TS),
        _f("completed_at", _TS),
        _f("invoiced_at", _TS),
        _s("status", True),
    ),
}


# what was delivered, to tell a re-delivery of a record from a changed one: every record column
# but the converted ones that sit beside the delivered value (the conversion may change with the
# site file, the delivery does not)
def _content_columns(schema: pa.Schema) -> tuple[str, ...]:
    names = set(schema.names)
    derived = set(LOAD_COLUMNS)
    if "qty_given" in names:
        derived |= {"qty", "unit"}
    if "currency_given" in names:
        derived |= {"unit_cost", "unit_price"}
    return tuple(name for name in schema.names if name not in derived)


CONTENT_COLUMNS: dict[str, tuple[str, ...]] = {
    kind: _content_columns(schema) for kind, schema in MATERIALS_SCHEMAS.items()
}


_LAKE = RecordLake(MATERIALS_TABLE, MATERIALS_SCHEMAS)
materials_root = _LAKE.root
materials_dir = _LAKE.kind_dir
materials_file = _LAKE.batch_file
write_records = _LAKE.write_records
committed_records = _LAKE.committed_records


def materials_batch_files(
    settings: Settings, site_id: str, source: str, batch_id: str
) -> list[Path]:
    """Every materials file of a batch on disk (any kind), finished or temporary."""
    names = (f"{batch_id}.parquet", temporary_path(Path(f"{batch_id}.parquet")).name)
    return sorted(
        path
        for kind in MATERIALS_SCHEMAS
        for name in names
        if (path := materials_dir(settings, kind, site_id, source) / name).exists()
    )
