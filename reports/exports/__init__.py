"""Exports: published marts, whole or a selection of them, as CSV, Excel, JSON, Parquet and XML
files delivered to folders, S3, e-mail and SFTP on a schedule, with retention and a history.

Definitions: :mod:`reports.exports.config` (``SITELEDGER_HOME/exports.yaml``); rows:
:mod:`~reports.exports.query`; files: :mod:`~reports.exports.formats`; delivery and retention:
:mod:`~reports.exports.destinations` and :mod:`~reports.exports.sftp`; the record of every run:
:mod:`~reports.exports.history`; one run end to end: :func:`~reports.exports.run.run_export`.
"""

from reports.exports.config import (
    ExportConfigError,
    ExportDefinition,
    exports_file,
    find_export,
    load_exports,
)
from reports.exports.destinations import Targets
from reports.exports.history import ExportHistory, ExportRun
from reports.exports.run import render, run_export

__all__ = [
    "ExportConfigError",
    "ExportDefinition",
    "ExportHistory",
    "ExportRun",
    "Targets",
    "exports_file",
    "find_export",
    "load_exports",
    "render",
    "run_export",
]
