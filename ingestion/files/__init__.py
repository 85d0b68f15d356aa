"""File ingestion: files dropped in the landing folder become immutable raw lake batches.

Layouts (``csv_wide``, ``csv_long``, ``excel_long``; ``home_assistant_history`` and
``home_assistant_statistics``, :mod:`ingestion.files.home_assistant`; and ``lab_csv``,
``lab_excel`` for water quality results, :mod:`ingestion.files.lab`) come from the site
configuration; bad rows
and bad files go to the quarantine with a reason; every file is one import job in the state
store, idempotent on the file's bytes and reversible with :func:`rollback_batch`.
"""

from ingestion.files.importer import import_file, import_landing
from ingestion.files.jobs import ImportResult, match_layout
from ingestion.files.limits import ImportLimits
from ingestion.files.recovery import recover_interrupted, rollback_batch

__all__ = [
    "ImportLimits",
    "ImportResult",
    "import_file",
    "import_landing",
    "match_layout",
    "recover_interrupted",
    "rollback_batch",
]
