"""Safe file names for files that arrive with names chosen by someone else."""

from __future__ import annotations

import re
import unicodedata

# Bytes, not characters: most file systems cap a name at 255 bytes, and archive names add a
# 25-character batch id and '__' in front.
MAX_NAME_BYTES = 180
_FORBIDDEN = re.compile(r'[<>:"/\\|?*]')
_SURROGATES = re.compile("[\ud800-\udfff]")
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)


def _printable(char: str) -> str:
    if unicodedata.category(char).startswith("C") or _FORBIDDEN.match(char):
        return "_"
    return char


def _truncate(name: str, limit: int) -> str:
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext.encode("utf-8")) > 16:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    budget = limit - len(suffix.encode("utf-8"))
    while len(stem.encode("utf-8")) > budget:
        stem = stem[:-1]
    return stem + suffix


def sanitise_name(name: str) -> str:
    """A harmless base name: no folders, separators, control characters or leading dots.

    Undecodable bytes (surrogate escapes), control characters and ``<>:"/\\|?*`` become ``_``;
    the extension survives truncation to :data:`MAX_NAME_BYTES` bytes of UTF-8.
    """
    parts = [p for p in re.split(r"[/\\]", name) if p not in ("", ".", "..")]
    base = parts[-1] if parts else ""
    # Lone surrogates stand for bytes that were not UTF-8 in the name on disk.
    base = unicodedata.normalize("NFC", _SURROGATES.sub("_", base))
    base = "".join(_printable(c) for c in base)
    base = base.lstrip(". ").rstrip(". ")
    if _WINDOWS_RESERVED.match(base):
        base = f"_{base}"
    return _truncate(base, MAX_NAME_BYTES) or "unnamed"
