"""The model registry, kept in the state store: every training of every forecast model.

One row per training (append-only; a retrain adds a row, it never edits one): the series it
forecasts, the model type and fitted parameters, the training window, the rolling-origin
backtest's figures, when it was trained and when it is due again, its status and the path of
its artefact (the fitted model as JSON under ``$SITELEDGER_HOME/ml/models``). The current model
of a series is its latest training. A forecast uses it only when its status is ``ok``: a model
that failed to converge is recorded with its reason and the series gets no forecast (and says
why) until a training succeeds — never a silent forecast from a bad fit.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pandas as pd
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    String,
    Table,
    Text,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from siteledger.state.store import Base, StateStore, utcnow


class ModelRow(Base):
    __tablename__ = "ml_models"

    model_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    series_id: Mapped[str] = mapped_column(String(255), index=True)
    site_id: Mapped[str] = mapped_column(String(128), index=True)
    target: Mapped[str] = mapped_column(String(64))
    model_type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    train_start: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    train_end: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    n_obs: Mapped[int] = mapped_column(Integer, default=0)
    converged: Mapped[bool] = mapped_column(Boolean, default=False)
    backtest: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    trained_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    next_retrain_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    artefact: Mapped[str | None] = mapped_column(Text, nullable=True)
    fit_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)


@dataclass(frozen=True)
class ModelEntry:
    """One training of one series' model, as the registry holds it."""

    series_id: str
    site_id: str
    target: str
    model_type: str
    status: str
    reason: str
    params: dict[str, Any]
    spec: dict[str, Any]
    train_start: dt.date | None
    train_end: dt.date | None
    n_obs: int
    converged: bool
    backtest: dict[str, Any]
    trained_at: dt.datetime
    next_retrain_at: dt.datetime
    artefact: str | None = None
    fit_seconds: float | None = None
    model_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def usable(self) -> bool:
        """A forecast may use this model: it converged and its status is ok."""
        return self.status == "ok" and self.converged

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in COLUMNS}


COLUMNS = (
    "model_id",
    "series_id",
    "site_id",
    "target",
    "model_type",
    "status",
    "reason",
    "params",
    "spec",
    "train_start",
    "train_end",
    "n_obs",
    "converged",
    "backtest",
    "trained_at",
    "next_retrain_at",
    "artefact",
    "fit_seconds",
)


def _entry(row: ModelRow) -> ModelEntry:
    values = {name: getattr(row, name) for name in COLUMNS}
    for stamp in ("trained_at", "next_retrain_at"):
        if values[stamp] is not None and values[stamp].tzinfo is None:  # SQLite drops the zone
            values[stamp] = values[stamp].replace(tzinfo=dt.UTC)
    return ModelEntry(**values)


class ModelRegistry:
    """Trainings of forecast models in the state store; artefacts as JSON under ``folder``."""

    def __init__(self, store: StateStore, folder: Path | None = None):
        self.store = store
        self.folder = folder
        Base.metadata.create_all(store.engine, tables=[cast(Table, ModelRow.__table__)])

    def record(self, entry: ModelEntry, artefact: Mapping[str, Any] | None = None) -> ModelEntry:
        """Add a training; with ``artefact`` (and a folder), write it as the model's JSON file."""
        if artefact is not None and self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{entry.model_id}.json"
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(artefact, default=str), encoding="utf-8")
            tmp.replace(path)
            entry = _replace(entry, artefact=str(path))
        with self.store.session() as session:
            session.add(ModelRow(**entry.as_dict()))
        return entry

    def current(self, series_ids: Iterable[str] | None = None) -> dict[str, ModelEntry]:
        """The latest training of each series (of ``series_ids``, or of every series)."""
        latest = (
            select(ModelRow.series_id, func.max(ModelRow.trained_at).label("at"))
            .group_by(ModelRow.series_id)
            .subquery()
        )
        query = select(ModelRow).join(
            latest,
            (ModelRow.series_id == latest.c.series_id) & (ModelRow.trained_at == latest.c.at),
        )
        if series_ids is not None:
            query = query.where(ModelRow.series_id.in_(sorted(set(series_ids))))
        with self.store.session() as session:
            rows = [_entry(row) for row in session.scalars(query)]
        # two trainings stamped the same instant: the later row id wins deterministically
        out: dict[str, ModelEntry] = {}
        for entry in sorted(rows, key=lambda e: (e.trained_at, e.model_id)):
            out[entry.series_id] = entry
        return out

    def history(self, series_id: str | None = None) -> list[ModelEntry]:
        query = select(ModelRow).order_by(ModelRow.trained_at, ModelRow.model_id)
        if series_id is not None:
            query = query.where(ModelRow.series_id == series_id)
        with self.store.session() as session:
            return [_entry(row) for row in session.scalars(query)]

    def due(self, specs: Mapping[str, Mapping[str, Any]], now: dt.datetime) -> list[str]:
        """Of ``specs`` (series id -> the specification its model should have), the series whose
        model is missing, past its retrain date, or trained with another specification (compared
        key by key on the keys given): a changed setting retrains at once, not a month later."""
        current = self.current(specs)
        out = []
        for series_id, spec in specs.items():
            entry = current.get(series_id)
            stale = entry is None or entry.next_retrain_at <= now
            changed = entry is not None and any(entry.spec.get(k) != v for k, v in spec.items())
            if stale or changed:
                out.append(series_id)
        return out

    def frame(self) -> pd.DataFrame:
        """Every training as a table (``fct_model_registry``): parameters and backtest figures
        as JSON text, the main backtest figures as columns, ``is_current`` on the latest."""
        entries = self.history()
        current = {e.model_id for e in self.current().values()}
        rows = []
        for e in entries:
            row = e.as_dict()
            for key in ("mase", "mape", "within_10pct_share", "coverage_80", "coverage_95"):
                value = e.backtest.get(key)
                row[f"backtest_{key}"] = float(value) if value is not None else None
            row["backtest_origins"] = e.backtest.get("n_origins")
            row["params"] = json.dumps(e.params, sort_keys=True, default=str)
            row["spec"] = json.dumps(e.spec, sort_keys=True, default=str)
            row["backtest"] = json.dumps(e.backtest, sort_keys=True, default=str)
            row["is_current"] = e.model_id in current
            rows.append(row)
        columns = [
            *COLUMNS,
            "backtest_mase",
            "backtest_mape",
            "backtest_within_10pct_share",
            "backtest_coverage_80",
            "backtest_coverage_95",
            "backtest_origins",
            "is_current",
        ]
        return pd.DataFrame(rows, columns=columns)


def _replace(entry: ModelEntry, **changes: Any) -> ModelEntry:
    values = entry.as_dict()
    values.update(changes)
    return ModelEntry(**values)
