"""Why a whole file is not imported."""

from __future__ import annotations


class FileRejected(Exception):
    """The file as a whole cannot be imported; it goes to the quarantine with ``reason``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class FileVanished(Exception):
    """The file was listed in the landing folder but was gone when it was opened."""
