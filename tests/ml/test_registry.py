"""The model registry: append-only trainings, the current model per series, what is due."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ml.registry import ModelEntry, ModelRegistry
from siteledger.state.store import StateStore
from tests.postgres import scratch_database

T0 = dt.datetime(2026, 1, 1, 3, 0, tzinfo=dt.UTC)


def entry(series: str, at: dt.datetime, status: str = "ok", **extra: object) -> ModelEntry:
    values: dict[str, object] = {
        "series_id": series,
        "site_id": series.split("/")[0],
        "target": "store_volume",
        "model_type": "sarimax_ar1_fourier",
        "status": status,
        "reason": "" if status == "ok" else "the optimiser stopped at its iteration limit",
        "params": {"ar.L1": 0.93, "sigma2": 12.5},
        "spec": {"annual_harmonics": 2, "use_rain": True},
        "train_start": dt.date(2024, 1, 1),
        "train_end": dt.date(2025, 12, 31),
        "n_obs": 731,
        "converged": status == "ok",
        "backtest": {"mase": 0.42, "coverage_95": 0.95, "n_origins": 6},
        "trained_at": at,
        "next_retrain_at": at + dt.timedelta(days=30),
    }
    values.update(extra)
    return ModelEntry(**values)  # type: ignore[arg-type]


def exercise(url: str, folder: Path) -> None:
    registry = ModelRegistry(StateStore(url), folder)
    first = registry.record(entry("s1/node/rwd/closing_storage_m3", T0), artefact={"p": 1})
    registry.record(entry("s1/site/s1/demand_m3", T0))
    # a retrain a month later that did not converge: it becomes the current one, unusable
    later = T0 + dt.timedelta(days=31)
    failed = registry.record(entry("s1/node/rwd/closing_storage_m3", later, "not_converged"))

    current = registry.current()
    assert set(current) == {"s1/node/rwd/closing_storage_m3", "s1/site/s1/demand_m3"}
    assert current["s1/node/rwd/closing_storage_m3"].model_id == failed.model_id
    assert not current["s1/node/rwd/closing_storage_m3"].usable
    assert current["s1/site/s1/demand_m3"].usable
    # nothing was overwritten: both trainings of the store are kept
    assert [e.model_id for e in registry.history("s1/node/rwd/closing_storage_m3")] == [
        first.model_id,
        failed.model_id,
    ]
    # the artefact is the JSON given, named after the model
    assert first.artefact is not None
    assert json.loads(Path(first.artefact).read_text()) == {"p": 1}
    assert current["s1/site/s1/demand_m3"].trained_at == T0  # time zone survives the store

    ids = {
        "s1/node/rwd/closing_storage_m3": {},
        "s1/site/s1/demand_m3": {"annual_harmonics": 2},
        "s2/site/s2/demand_m3": {},
    }
    # just after the first training nothing is due but the series never trained
    assert registry.due(ids, T0 + dt.timedelta(days=1)) == ["s2/site/s2/demand_m3"]
    # 31 days on, the demand model's next retrain has passed
    assert registry.due(ids, T0 + dt.timedelta(days=31)) == [
        "s1/site/s1/demand_m3",
        "s2/site/s2/demand_m3",
    ]
    # a changed spec makes a model due at once
    assert registry.due(
        {**ids, "s1/site/s1/demand_m3": {"annual_harmonics": 3}}, T0 + dt.timedelta(days=1)
    ) == ["s1/site/s1/demand_m3", "s2/site/s2/demand_m3"]

    frame = registry.frame()
    assert len(frame) == 3
    assert frame["is_current"].sum() == 2
    row = frame[frame["model_id"] == first.model_id].iloc[0]
    assert row["backtest_mase"] == pytest.approx(0.42)
    assert row["backtest_coverage_95"] == pytest.approx(0.95)
    assert json.loads(row["params"]) == {"ar.L1": 0.93, "sigma2": 12.5}


def test_registry_on_sqlite(tmp_path: Path) -> None:
    exercise(f"sqlite:///{tmp_path / 'state.db'}", tmp_path / "models")


@pytest.mark.integration
def test_registry_on_postgres(tmp_path: Path) -> None:
    with scratch_database() as url:
        exercise(url.replace("postgresql://", "postgresql+psycopg://"), tmp_path / "models")
