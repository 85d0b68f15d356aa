"""Great Expectations suites over the readings per meter class and over the quality scores.

GE 1.24 validates pandas frames here: its SQL datasource against DuckDB fails silently (every
expectation ``success=False``, the error only in ``exception_info``; STACK_NOTES), so the rows
are read from DuckDB and handed over as dataframes.

Two kinds of suite, per site (the thresholds are the site's score bands):

* ``readings.<class>.<site>`` — one per meter class (measurand), over the meter-days of the
  window (one batch: 504 meters x 365 days is 184 k rows, a fraction of a second): completeness
  against the expected interval, validity, timeliness and redundancy as scored, every reading
  inside the meter's valid range, the register never falling (cumulative classes) and the last
  reading of the day within two intervals of its end (freshness). Each expectation holds when
  95 % of the meter-days meet it (``mostly``); the meter-days that do not are listed anyway.
* ``quality_scores.<site>`` — the node and site rows (and meter rows when no readings detail is
  given), per calendar month: each component >= ``good_min``, overall >= ``fair_min``, status
  known, one row per day, scope and scope id.

Each expectation's unexpected rows (by day, scope and scope id) become that row's
``failing_expectations``, and :meth:`ScoreValidator.build_data_docs` renders every validation
as static HTML (:mod:`quality.data_docs`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from quality.scores import COMPONENTS, STATUSES

INDEX_COLUMNS = ["day", "scope", "scope_id"]
_REMOTE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)
# a class's expectation holds when this share of its meter-days meets it
MOSTLY = 0.95
# the day's last reading may come this many intervals before the day's end (as for levels:
# dbt var level_fresh_intervals)
FRESH_INTERVALS = 2.0
# the columns a meter-day needs beside its scores (marts.fct_meter_quality_daily)
METER_DAY_COLUMNS = [
    "site_id",
    "day",
    "meter_id",
    "measurand",
    "is_cumulative",
    "interval_hours",
    "n_received",
    "n_out_of_range",
    "n_negative_delta",
    "hours_since_last_reading",
]


@dataclass(frozen=True)
class Bands:
    excellent_min: float = 95.0
    good_min: float = 85.0
    fair_min: float = 70.0


@dataclass(frozen=True)
class Failure:
    """One row an expectation found unexpected, and what it read there."""

    day: dt.date
    scope: str
    scope_id: str
    detail: str
    meter_class: str = ""


@dataclass
class ExpectationOutcome:
    """One expectation of one batch: what GE found."""

    site_id: str
    batch_start: dt.date
    batch_end: dt.date
    expectation: str
    column: str | None
    success: bool
    element_count: int
    unexpected_count: int
    unexpected_percent: float | None
    exception: str | None = None
    suite: str = ""
    mostly: float | None = None
    feeds: str = ""
    failures: list[Failure] = field(default_factory=list)


@dataclass
class Validation:
    """One suite run on one batch: what the Data Docs show."""

    suite: str
    site_id: str
    batch_start: dt.date
    batch_end: dt.date
    n_rows: int
    validated_at: dt.datetime
    outcomes: list[ExpectationOutcome]

    @property
    def success(self) -> bool:
        return all(o.success for o in self.outcomes)

    @property
    def name(self) -> str:
        return f"{self.suite}.{self.batch_start}_{self.batch_end}"


@dataclass
class ValidationRun:
    """Failing expectations per score row, every expectation outcome and every validation."""

    failing: dict[tuple[Any, ...], list[str]] = field(default_factory=lambda: defaultdict(list))
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    validations: list[Validation] = field(default_factory=list)


def claim(column: str, bound: float) -> str:
    """How a failed score expectation reads in ``failing_expectations``."""
    return f"{column} >= {bound:g}"


@dataclass(frozen=True)
class _Check:
    """An expectation on meter-days: ``column`` between the bounds; ``detail`` formats what a
    failing meter-day read (a str.format template over its row); ``feeds`` names the score
    component the failure shows up in."""

    column: str
    claim: str
    detail: str
    feeds: str
    min_value: float | None = None
    max_value: float | None = None
    cumulative_only: bool = False


def meter_checks(bands: Bands) -> list[_Check]:
    """The expectations of a meter class's suite, in the order failures are listed."""
    good, fair = bands.good_min, bands.fair_min
    checks = [
        _Check(c, claim(c, good), f"{{{c}:g}}", c.removesuffix("_score"), good, 100)
        for c in COMPONENTS
        if c != "consistency_score"  # a meter has no balance closure
    ]
    return [
        *checks,
        _Check(
            "overall_score", claim("overall_score", fair), "{overall_score:g}", "overall", fair, 100
        ),
        _Check(
            "in_range_pct",
            "every reading inside the valid range",
            "{n_out_of_range:.0f} of {n_received:.0f} outside",
            "validity",
            min_value=100,
        ),
        _Check(
            "n_negative_delta",
            "the register never falls (rollovers aside)",
            "falls: {n_negative_delta:.0f}",
            "validity",
            max_value=0,
            cumulative_only=True,
        ),
        _Check(
            "last_reading_intervals",
            f"last reading within {FRESH_INTERVALS:g} intervals of the day's end",
            "{hours_since_last_reading:.2f} h before",
            "freshness (reported, not scored)",
            max_value=FRESH_INTERVALS,
        ),
    ]


def meter_day_frame(scores: pd.DataFrame, meter_days: pd.DataFrame) -> pd.DataFrame:
    """The meter rows of ``scores`` with what their readings showed (``METER_DAY_COLUMNS`` of
    ``fct_meter_quality_daily``): the rows the meter-class suites validate."""
    meters = scores[scores["scope"] == "meter"].copy()
    meters["day"] = pd.to_datetime(meters["day"]).dt.date
    detail = meter_days[METER_DAY_COLUMNS].rename(columns={"meter_id": "scope_id"})
    detail["day"] = pd.to_datetime(detail["day"]).dt.date
    keys = ["site_id", "day", "scope_id"]
    detail = detail.drop(columns=[c for c in detail.columns if c in meters and c not in keys])
    frame = meters.merge(detail, on=["site_id", "day", "scope_id"], how="inner")
    received = frame["n_received"].astype("float64")
    frame["in_range_pct"] = (
        100.0
        * (received - frame["n_out_of_range"].astype("float64"))
        / received.where(received > 0)
    )
    frame["last_reading_intervals"] = frame["hours_since_last_reading"].astype("float64") / frame[
        "interval_hours"
    ].astype("float64").where(frame["interval_hours"] > 0)
    frame["n_negative_delta"] = frame["n_negative_delta"].astype("float64")
    frame["measurand"] = frame["measurand"].fillna("unknown")
    frame["is_cumulative"] = frame["is_cumulative"].fillna(False).astype(bool)
    return frame.reset_index(drop=True)


class ScoreValidator:
    """An ephemeral GE context with the suites per site and meter class; results kept for the
    Data Docs."""

    def __init__(self) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        self._gx = gx
        # no default docs site: GE's ephemeral default makes a temporary folder per context
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
        )
        self.context = gx.get_context(mode="ephemeral", project_config=config)
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = self.context.data_sources.add_pandas("quality")
        self._batches = {
            name: source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("batch")
            for name in ("fct_quality_scores_daily", "fct_meter_quality_daily")
        }
        self._checkpoints: dict[str, Any] = {}
        self._checks: dict[str, dict[str, _Check]] = {}
        self.validations: list[Validation] = []

    def _add_checkpoint(self, suite: Any, asset: str) -> Any:
        gx = self._gx
        definition = self.context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.name, data=self._batches[asset], suite=suite)
        )
        checkpoint = self.context.checkpoints.add(
            gx.Checkpoint(
                name=suite.name,
                validation_definitions=[definition],
                result_format={
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": INDEX_COLUMNS,
                },
            )
        )
        self._checkpoints[suite.name] = checkpoint
        return checkpoint

    def _score_checkpoint(self, site_id: str, bands: Bands) -> Any:
        name = f"quality_scores.{site_id}"
        if name in self._checkpoints:
            return self._checkpoints[name]
        gx = self._gx
        suite = self.context.suites.add(gx.ExpectationSuite(name=name))
        for column in COMPONENTS:
            suite.add_expectation(
                gx.expectations.ExpectColumnValuesToBeBetween(
                    column=column,
                    min_value=bands.good_min,
                    max_value=100,
                    meta={"claim": claim(column, bands.good_min)},
                )
            )
        suite.add_expectation(
            gx.expectations.ExpectColumnValuesToBeBetween(
                column="overall_score",
                min_value=bands.fair_min,
                max_value=100,
                meta={"claim": claim("overall_score", bands.fair_min)},
            )
        )
        suite.add_expectation(
            gx.expectations.ExpectColumnValuesToNotBeNull(
                column="overall_score", meta={"claim": "overall_score is not null"}
            )
        )
        suite.add_expectation(
            gx.expectations.ExpectColumnValuesToBeInSet(
                column="status", value_set=list(STATUSES), meta={"claim": "status is known"}
            )
        )
        suite.add_expectation(
            gx.expectations.ExpectCompoundColumnsToBeUnique(
                column_list=INDEX_COLUMNS, meta={"claim": "one row per day, scope and scope id"}
            )
        )
        return self._add_checkpoint(suite, "fct_quality_scores_daily")

    def _meter_checkpoint(self, site_id: str, bands: Bands) -> Any:
        name = f"readings.{site_id}"
        if name in self._checkpoints:
            return self._checkpoints[name]
        gx = self._gx
        from great_expectations.expectations.row_conditions import Column

        suite = self.context.suites.add(gx.ExpectationSuite(name=name))
        checks = meter_checks(bands)
        for check in checks:
            # class-specific expectations apply to the rows of their classes only
            condition = (
                {"row_condition": Column("is_cumulative") == True}  # noqa: E712
                if check.cumulative_only
                else {}
            )
            suite.add_expectation(
                gx.expectations.ExpectColumnValuesToBeBetween(
                    column=check.column,
                    min_value=check.min_value,
                    max_value=check.max_value,
                    mostly=MOSTLY,
                    meta={"claim": check.claim, "feeds": check.feeds},
                    **condition,
                )
            )
        self._checks[name] = {c.claim: c for c in checks}
        return self._add_checkpoint(suite, "fct_meter_quality_daily")

    def validate(
        self,
        scores: pd.DataFrame,
        bands: dict[str, Bands],
        meter_days: pd.DataFrame | None = None,
    ) -> ValidationRun:
        """Run the suites on ``scores``; rows are keyed by (site_id, day, scope, scope_id).

        With ``meter_days`` (rows of ``fct_meter_quality_daily``), the meter rows are validated
        by their class's readings suite over the whole window; without, by the score suite."""
        run = ValidationRun()
        if scores.empty:
            return run
        frame = scores.copy()
        frame["day"] = pd.to_datetime(frame["day"]).dt.date
        if meter_days is not None:
            meters = meter_day_frame(frame, meter_days)
            # a meter row without its meter-day (none expected) stays with the score suite
            covered = pd.MultiIndex.from_frame(meters[["site_id", "day", "scope_id"]])
            keys = pd.MultiIndex.from_frame(frame[["site_id", "day", "scope_id"]])
            frame = frame[(frame["scope"] != "meter") | ~keys.isin(covered)]
            for site_id, part in meters.groupby("site_id"):
                checkpoint = self._meter_checkpoint(str(site_id), bands.get(str(site_id), Bands()))
                self._run(run, checkpoint, str(site_id), part.reset_index(drop=True))
        for (site_id, _month), part in frame.groupby(["site_id", _batch_keys(frame["day"])]):
            checkpoint = self._score_checkpoint(site_id, bands.get(site_id, Bands()))
            self._run(run, checkpoint, site_id, part.reset_index(drop=True))
        return run

    def _run(self, run: ValidationRun, checkpoint: Any, site_id: str, part: pd.DataFrame) -> None:
        batch = (min(part["day"]), max(part["day"]))
        result = checkpoint.run(
            batch_parameters={"dataframe": part},
            run_id=self._run_id(f"{checkpoint.name}_{batch[0]}_{batch[1]}"),
        )
        rows = {key: i for i, key in enumerate(zip(part["day"], part["scope_id"], strict=True))}
        for validation in result.run_results.values():
            outcomes = self._collect(run, checkpoint.name, site_id, batch, validation, part, rows)
            record = Validation(
                suite=checkpoint.name,
                site_id=site_id,
                batch_start=batch[0],
                batch_end=batch[1],
                n_rows=len(part),
                validated_at=dt.datetime.now(dt.UTC),
                outcomes=outcomes,
            )
            run.validations.append(record)
            self.validations.append(record)

    def _run_id(self, name: str) -> Any:
        from great_expectations.core.run_identifier import RunIdentifier

        return RunIdentifier(run_name=name, run_time=dt.datetime.now(dt.UTC))

    def _collect(
        self,
        run: ValidationRun,
        suite: str,
        site_id: str,
        batch: tuple[dt.date, dt.date],
        validation: Any,
        part: pd.DataFrame,
        rows: dict[tuple[Any, Any], int],
    ) -> list[ExpectationOutcome]:
        checks = self._checks.get(suite, {})
        numbers = _numeric_columns(part) if checks else {}
        classes = part["measurand"].to_numpy() if "measurand" in part else None
        outcomes = []
        for item in validation.results:
            config = item.expectation_config
            meta = config.meta or {}
            name = str(meta.get("claim", config.type))
            result = item.result or {}
            exception = (item.exception_info or {}).get("exception_message")
            if exception:
                raise RuntimeError(
                    f"expectation {name!r} of {suite} on {batch[0]}..{batch[1]} "
                    f"errored: {exception}"
                )
            column = config.kwargs.get("column")
            outcome = ExpectationOutcome(
                site_id=site_id,
                batch_start=batch[0],
                batch_end=batch[1],
                expectation=name,
                column=column,
                success=bool(item.success),
                element_count=int(result.get("element_count") or 0),
                unexpected_count=int(result.get("unexpected_count") or 0),
                unexpected_percent=result.get("unexpected_percent"),
                exception=exception,
                suite=suite,
                mostly=config.kwargs.get("mostly"),
                feeds=str(meta.get("feeds", "")),
            )
            check = checks.get(name)
            for row in result.get("unexpected_index_list") or []:
                day, scope, scope_id = row["day"], row["scope"], row["scope_id"]
                meter_class = ""
                if check is not None:
                    position = rows[(day, scope_id)]
                    detail = check.detail.format(**{c: v[position] for c, v in numbers.items()})
                    meter_class = "" if classes is None else str(classes[position])
                else:
                    value = row.get(column) if column else None
                    detail = "" if value is None else f"{float(value):g}"
                outcome.failures.append(Failure(day, scope, scope_id, detail, meter_class))
                run.failing[(site_id, day, scope, scope_id)].append(
                    f"{name} ({detail})" if detail else name
                )
            outcomes.append(outcome)
            run.outcomes.append(outcome)
        return outcomes

    def build_data_docs(self, folder: Path) -> Path:
        """Data Docs of every validation this validator ran, as static pages under ``folder``
        (nothing loaded from the network); returns the index page."""
        from quality.data_docs import write_data_docs

        return write_data_docs(self.validations, folder)


def _numeric_columns(part: pd.DataFrame) -> dict[str, Any]:
    """The numeric columns of ``part`` as float arrays (nan where null), for the failure
    details' str.format templates."""
    return {
        str(column): values.to_numpy(dtype="float64", na_value=float("nan"))
        for column, values in part.items()
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    }


def _batch_keys(days: pd.Series) -> pd.Series:
    """Calendar month of each day ('2025-07'): the validation batch it belongs to."""
    return pd.to_datetime(days).dt.strftime("%Y-%m")


_CSS_IMPORT_REMOTE = re.compile(r"""@import\s+(?:url\()?["']?(?:https?:)?//[^;]*;""")
_CSS_URL_REMOTE = re.compile(r"""url\(\s*["']?(?:https?:)?//[^)]*\)""")


def remote_references(folder: Path) -> list[str]:
    """Every place a page or stylesheet under ``folder`` would fetch from the network."""
    found = []
    for path in [*folder.rglob("*.html"), *folder.rglob("*.css")]:
        text = path.read_text(encoding="utf-8", errors="replace")
        for pattern in (_REMOTE, _CSS_IMPORT_REMOTE, _CSS_URL_REMOTE):
            found += [f"{path.relative_to(folder)}: {m.group(0)}" for m in pattern.finditer(text)]
    return found
