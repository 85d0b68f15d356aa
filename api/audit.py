"""Writing the audit log without holding up the answer.

Each request's entry goes on a queue; one thread writes what has gathered in one transaction
every half second (or at 500 entries), so a request costs a queue put, not a state-store
commit. :meth:`AuditWriter.close` writes what is left when the server stops. A store that
fails a write is logged and the entries kept for the next try, up to a bound.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from api.keys import KeyStore

log = logging.getLogger(__name__)
FLUSH_EVERY_S = 0.5
BATCH = 500
# entries kept while the store refuses writes (a few minutes of heavy traffic)
MAX_PENDING = 100_000


class AuditWriter:
    """A background writer of audit entries."""

    def __init__(self, keys: KeyStore, interval_s: float = FLUSH_EVERY_S):
        self.keys = keys
        self.interval_s = interval_s
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="api-audit", daemon=True)
            self._thread.start()

    def put(self, entry: dict[str, Any]) -> None:
        self._queue.put(entry)

    def flush(self) -> None:
        """Write every entry queued so far (tests and shutdown call it)."""
        with self._lock:
            while True:
                try:
                    self._pending.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            while self._pending:
                batch = self._pending[:BATCH]
                try:
                    self.keys.write_audit(batch)
                except Exception:
                    log.exception("could not write %d API audit entries; will retry", len(batch))
                    del self._pending[: max(0, len(self._pending) - MAX_PENDING)]
                    return
                del self._pending[: len(batch)]

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.flush()
