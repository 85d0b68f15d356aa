"""Turning a delimited text file's bytes into checked UTF-8, or rejecting the file with a reason."""

from __future__ import annotations

import codecs

from ingestion.files.errors import FileRejected
from ingestion.files.limits import ImportLimits, describe_bytes

_UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_WIDE_ENCODINGS = ("utf-16", "utf-32")
# 16 MiB chunks keep the validating decoder's throw-away text small for a 1 GiB file.
_CHUNK = 1 << 24


def _codec_name(encoding: str) -> str:
    return codecs.lookup(encoding).name


def _check_utf8(data: bytes) -> None:
    if data.isascii():  # ~6 GB/s, and most meter exports are plain ASCII
        return
    start = 0
    while start < len(data):
        end = min(len(data), start + _CHUNK)
        # end the chunk on a character boundary (a UTF-8 character has at most 3 trailing bytes)
        for _ in range(3):
            if end < len(data) and data[end] & 0xC0 == 0x80:
                end -= 1
        try:
            data[start:end].decode("utf-8")
        except UnicodeDecodeError as exc:
            offset = start + exc.start
            raise FileRejected(
                f"not valid UTF-8: byte 0x{data[offset]:02x} at offset {offset}"
            ) from exc
        start = end


def _transcode(data: bytes, encoding: str) -> bytes:
    try:
        return data.decode(encoding).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileRejected(
            f"cannot be decoded as {encoding}: byte 0x{data[exc.start]:02x} at offset {exc.start}"
        ) from exc


def _reject_nul(data: bytes) -> None:
    at = data.find(b"\x00")
    if at >= 0:
        raise FileRejected(f"binary file: NUL byte at offset {at}")


def utf8_text(data: bytes, encoding: str, limits: ImportLimits) -> bytes:
    """The file as UTF-8 without a byte order mark, checked to be usable delimited text."""
    if not data:
        raise FileRejected("empty file (0 bytes)")
    codec = _codec_name(encoding)
    if codec.startswith(_WIDE_ENCODINGS):
        text = _transcode(data, codec)
    else:
        if data.startswith(_UTF16_BOMS):
            raise FileRejected(
                f"file is UTF-16 (byte order mark) but the layout expects {encoding}"
            )
        _reject_nul(data)
        if codec == "utf-8" or codec == "utf-8-sig":
            text = data.removeprefix(_UTF8_BOM)
            _check_utf8(text)
        else:
            text = _transcode(data, codec)
    text = text.removeprefix(_UTF8_BOM)
    _reject_nul(text)
    if text.isspace():  # stops at the first other byte, unlike strip(), which copies
        raise FileRejected("no content (only whitespace)")
    end = text.find(b"\n")
    header_bytes = len(text) if end < 0 else end
    if header_bytes > limits.max_header_bytes:
        raise FileRejected(f"header line is longer than {describe_bytes(limits.max_header_bytes)}")
    return text
