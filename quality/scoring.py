"""Score a window of days in the build warehouse and write the quality marts.

Reads what dbt built (``int_quality_counts_daily``, the balance marts, the site score bands, the
meter-days of ``fct_meter_quality_daily``), computes the scores (:mod:`quality.scores`),
validates the meter-days per meter class and the node and site scores with Great Expectations
(:mod:`quality.expectations`) and writes ``marts.fct_quality_scores_daily`` and
``marts.fct_quality_expectation_results`` into the build database, replacing the window's days.
The caller holds the DuckDB writer role (the CLI runs steps in sequence; Dagster runs this in the
``duckdb_writer`` pool).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from quality.expectations import METER_DAY_COLUMNS, Bands, ExpectationOutcome, ScoreValidator
from quality.scores import SCORE_COLUMNS, compute_scores
from siteledger.settings import Settings

SCORES_TABLE = "fct_quality_scores_daily"
RESULTS_TABLE = "fct_quality_expectation_results"
MARTS = "marts"

MART_COLUMNS = [
    *SCORE_COLUMNS[: SCORE_COLUMNS.index("status") + 1],
    "failing_expectations",
    *SCORE_COLUMNS[SCORE_COLUMNS.index("status") + 1 :],
    "scored_at",
]


_TEXT = {"site_id", "scope", "scope_id", "status", "failing_expectations"}
_TYPES = {"day": "date", "is_closed": "boolean", "scored_at": "timestamp with time zone"}


def _column_type(column: str) -> str:
    if column in _TEXT:
        return "varchar"
    if column.startswith("n_"):
        return "bigint"
    return _TYPES.get(column, "double")


SCORES_DDL = ", ".join(f"{column} {_column_type(column)}" for column in MART_COLUMNS)
RESULTS_DDL = (
    "site_id varchar, suite varchar, batch_start date, batch_end date, expectation varchar, "
    "column_name varchar, success boolean, element_count bigint, unexpected_count bigint, "
    "unexpected_percent double, exception varchar, validated_at timestamp with time zone"
)


@dataclass(frozen=True)
class ScoringResult:
    n_rows: int
    n_days: int
    window: tuple[dt.date | None, dt.date | None]
    by_status: dict[str, int]
    n_failed_expectations: int
    data_docs: Path | None
    seconds: float


def data_docs_dir(settings: Settings) -> Path:
    """Where the Data Docs of the latest scoring run are (open ``index.html``)."""
    return settings.home / "quality" / "data_docs"


def scoring_window(
    start_day: str | None, end_day: str | None, lookback_days: int, lookahead_days: int = 0
) -> tuple[dt.date | None, dt.date | None]:
    """The days a dbt window run rewrote: [start_day - lookback, end_day + lookahead];
    None = unbounded."""
    start = None
    if start_day:
        start = dt.date.fromisoformat(start_day) - dt.timedelta(days=lookback_days)
    end = None
    if end_day:
        end = dt.date.fromisoformat(end_day) + dt.timedelta(days=lookahead_days)
    return start, end


def _where(window: tuple[dt.date | None, dt.date | None], column: str = "day") -> tuple[str, list]:
    clauses, params = [], []
    if window[0] is not None:
        clauses.append(f"{column} >= ?")
        params.append(window[0])
    if window[1] is not None:
        clauses.append(f"{column} <= ?")
        params.append(window[1])
    return (" where " + " and ".join(clauses)) if clauses else "", params


def _read(con: duckdb.DuckDBPyConnection, table: str, columns: str, window) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    where, params = _where(window)
    return con.execute(f"select {columns} from {table}{where}", params).df()  # noqa: S608


def _read_meter_days(con: duckdb.DuckDBPyConnection, window) -> pd.DataFrame | None:  # type: ignore[no-untyped-def]
    """The window's meter-days of ``fct_meter_quality_daily`` (what each meter's readings showed),
    or None when the build predates its freshness columns (the score suite then validates the
    meter rows)."""
    present = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'fct_meter_quality_daily'"
        ).fetchall()
    }
    if not set(METER_DAY_COLUMNS) <= present:
        return None
    return _read(con, "marts.fct_meter_quality_daily", ", ".join(METER_DAY_COLUMNS), window)


def score_build(
    settings: Settings,
    start_day: str | None = None,
    end_day: str | None = None,
    data_docs: bool = True,
) -> ScoringResult:
    """Score the window's days in the build database and write the quality marts."""
    started = time.perf_counter()
    window = scoring_window(start_day, end_day, settings.lookback_days, settings.lookahead_days)
    build_db = settings.build_db
    with duckdb.connect(str(build_db)) as con:
        counts = _read(con, "intermediate.int_quality_counts_daily", "*", window)
        sites = _read(
            con,
            "marts.fct_site_balance_daily",
            "site_id, day, closure_error_pct, closure_threshold_pct",
            window,
        )
        nodes = _read(
            con,
            "marts.fct_node_balance_daily",
            "site_id, node_id, day, balance_error_pct, balance_threshold_pct",
            window,
        )
        bands = con.execute(
            "select site_id, excellent_min, good_min, fair_min "
            "from staging.stg_site_config__quality_settings"
        ).df()
        meter_days = _read_meter_days(con, window)
    # a day is scored once it is closed (readings reach its closing midnight): before that its
    # last readings are still to come and its completeness would read low for no fault
    counts = counts[counts["is_closed"].astype(bool)]
    scores = compute_scores(counts, sites, nodes, bands)
    validator = ScoreValidator()
    site_bands = {
        row.site_id: Bands(row.excellent_min, row.good_min, row.fair_min)
        for row in bands.itertuples()
    }
    run = validator.validate(scores, site_bands, meter_days)
    keys = zip(
        scores["site_id"],
        pd.to_datetime(scores["day"]).dt.date,
        scores["scope"],
        scores["scope_id"],
        strict=True,
    )
    scores["failing_expectations"] = ["; ".join(run.failing.get(key, [])) for key in keys]
    scores["scored_at"] = pd.Timestamp.now(tz="UTC")
    scores = scores[MART_COLUMNS]
    _write(build_db, scores, run.outcomes, window)
    docs = validator.build_data_docs(data_docs_dir(settings)) if data_docs else None
    return ScoringResult(
        n_rows=len(scores),
        n_days=int(scores["day"].nunique()) if len(scores) else 0,
        window=window,
        by_status={str(k): int(v) for k, v in scores["status"].value_counts().items()},
        n_failed_expectations=sum(1 for o in run.outcomes if not o.success),
        data_docs=docs,
        seconds=time.perf_counter() - started,
    )


def _outcome_frame(outcomes: list[ExpectationOutcome]) -> pd.DataFrame:
    frame = pd.DataFrame(
        [vars(o) for o in outcomes],
        columns=[
            "site_id",
            "suite",
            "batch_start",
            "batch_end",
            "expectation",
            "column",
            "success",
            "element_count",
            "unexpected_count",
            "unexpected_percent",
            "exception",
        ],
    )
    frame = frame.rename(columns={"column": "column_name"})
    frame["unexpected_percent"] = frame["unexpected_percent"].astype("float64")
    frame["validated_at"] = pd.Timestamp.now(tz="UTC")
    return frame


def _write(
    build_db: Path,
    scores: pd.DataFrame,
    outcomes: list[ExpectationOutcome],
    window: tuple[dt.date | None, dt.date | None],
) -> None:
    """Replace the window's days of the score mart (all of it when unbounded) in one
    transaction, and the expectation results of the batches validated."""
    results = _outcome_frame(outcomes)
    with duckdb.connect(str(build_db)) as con:
        con.execute(f"create schema if not exists {MARTS}")
        con.register("new_scores", scores)
        con.register("new_results", results)
        con.execute("begin")
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [MARTS, SCORES_TABLE],
        ).fetchone()
        if exists and exists[0]:
            # results written before the meter-class suites have no suite column
            con.execute(
                f"alter table {MARTS}.{RESULTS_TABLE} add column if not exists suite varchar"
            )
        # declared types: a first run with no closed day must not leave text columns behind
        if window == (None, None) or not exists or not exists[0]:
            con.execute(f"create or replace table {MARTS}.{SCORES_TABLE} ({SCORES_DDL})")
            con.execute(f"create or replace table {MARTS}.{RESULTS_TABLE} ({RESULTS_DDL})")
            con.execute(
                f"insert into {MARTS}.{SCORES_TABLE} by name "  # noqa: S608
                "select * replace (cast(day as date) as day) from new_scores"
            )
            con.execute(f"insert into {MARTS}.{RESULTS_TABLE} by name select * from new_results")  # noqa: S608
        else:
            where, params = _where(window)
            con.execute(f"delete from {MARTS}.{SCORES_TABLE}{where}", params)  # noqa: S608
            con.execute(
                f"insert into {MARTS}.{SCORES_TABLE} by name "  # noqa: S608
                "select * replace (cast(day as date) as day) from new_scores"
            )
            con.execute(
                f"delete from {MARTS}.{RESULTS_TABLE} "  # noqa: S608
                "where (site_id, coalesce(suite, ''), batch_start, batch_end) in "
                "(select distinct site_id, suite, batch_start, batch_end from new_results)"
            )
            con.execute(f"insert into {MARTS}.{RESULTS_TABLE} by name select * from new_results")  # noqa: S608
        con.execute("commit")


def site_day_scores(settings: Settings, limit_days: int = 366) -> list[dict[str, object]]:
    """The latest closed site-day scores of the build (oldest first), for check metadata."""
    build_db = settings.build_db
    with duckdb.connect(str(build_db), read_only=True) as con:
        rows = con.execute(
            "select site_id, cast(day as varchar), overall_score, status, failing_expectations "  # noqa: S608
            f"from {MARTS}.{SCORES_TABLE} where scope = 'site' and is_closed "
            "order by day desc, site_id limit ?",
            [limit_days],
        ).fetchall()
    keys = ("site_id", "day", "overall_score", "status", "failing_expectations")
    return [dict(zip(keys, row, strict=True)) for row in reversed(rows)]
