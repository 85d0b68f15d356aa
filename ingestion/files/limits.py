"""Size limits that keep one hostile file from exhausting the importer's memory or time."""

from __future__ import annotations

import os
from dataclasses import dataclass

MAX_BYTES_ENV = "SITELEDGER_IMPORT_MAX_BYTES"
MIB = 1 << 20


@dataclass(frozen=True)
class ImportLimits:
    """Per-file limits; a file over any of them is quarantined whole.

    ``max_file_bytes`` defaults to 1 GiB: a file is held in memory once while it is parsed,
    and a 1 GiB long CSV (~30 M readings) peaks near 4 GiB. ``SITELEDGER_IMPORT_MAX_BYTES``
    overrides it.
    """

    max_file_bytes: int = 1 << 30
    max_header_bytes: int = MIB
    max_line_bytes: int = MIB
    max_xlsx_uncompressed_bytes: int = 200_000_000
    max_xlsx_cells: int = 1_000_000

    @classmethod
    def from_env(cls) -> ImportLimits:
        raw = os.environ.get(MAX_BYTES_ENV, "").strip()
        if not raw:
            return cls()
        try:
            value = int(raw)
        except ValueError as exc:
            raise ValueError(f"{MAX_BYTES_ENV}={raw!r} is not a whole number of bytes") from exc
        if value <= 0:
            raise ValueError(f"{MAX_BYTES_ENV} must be positive, got {value}")
        return cls(max_file_bytes=value)


def describe_bytes(size: int) -> str:
    """``1 MiB``, ``200 MB``-style text for limits in messages."""
    if size % MIB == 0:
        return f"{size // MIB} MiB"
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000} MB"
    return f"{size} bytes"
