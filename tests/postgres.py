"""A throwaway database on the local PostgreSQL server for integration tests.

Tests that need PostgreSQL skip with the reason when no server answers on
``SITELEDGER_TEST_PG`` (default ``postgresql://postgres@127.0.0.1:5432/test``); ``.ci/run``
starts the machine's server when it is stopped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

ADMIN_URL = os.environ.get("SITELEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def scratch_database() -> Iterator[str]:
    """Create an empty database, yield its ``postgresql://`` URL, drop it afterwards."""
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server at {ADMIN_URL}: {exc}")
    name = f"siteledger_test_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f'create database "{name}"')
        try:
            yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        finally:
            admin.execute(f'drop database "{name}" with (force)')
