"""One warehouse for the hand-computed site and the demo mine, built once per test run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dbt.homes import build_two_sites
from tests.dbt.runner import shared_home


@pytest.fixture(scope="session")
def two_sites(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose lake holds both sites, after one full ``dbt build`` (~20 s)."""
    return shared_home(tmp_path_factory, "two_sites", build_two_sites)
