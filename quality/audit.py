"""Blocking audits of the build warehouse: the "audit" of write-audit-publish.

dbt writes the build database, these audits read it, and only a build that passes every one is
published (:meth:`siteledger.warehouse.Warehouse.publish_audited`); a failed audit leaves the
previous published version serving and is recorded with its reasons. The audits:

- ``marts_match_their_schema``: every mart a model YAML under ``models/marts`` declares exists
  and has every column the YAML documents (what BI users were promised), and the quality score
  mart has its contract columns;
- ``mart_grains_are_unique``: no mart has two rows for one value of its declared grain (the
  ``grain`` test's columns, or a column with a ``unique`` test);
- ``site_scores_are_above_the_floor``: no closed site-day scores below the site's
  ``quality.publish_floor``;
- ``closure_statuses_are_known``: every site-day has a known closure status, and when the site
  sets ``quality.block_on_closure_exceeded`` no complete day exceeds its threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from quality.scoring import MART_COLUMNS, SCORES_TABLE

MARTS = "marts"
SCORE_GRAIN = ["site_id", "day", "scope", "scope_id"]
CLOSURE_STATUSES = ("within_threshold", "exceeds_threshold", "undetermined")
MAX_ROWS_SHOWN = 20


AUDIT_DESCRIPTIONS = {
    "marts_match_their_schema": "Every documented mart and column exists in the build.",
    "mart_grains_are_unique": "No mart has two rows for one value of its declared grain.",
    "site_scores_are_above_the_floor": "No closed site-day scores below the publish floor.",
    "closure_statuses_are_known": "Every site-day has a known closure status.",
}


@dataclass
class AuditCheck:
    """The result of one audit: a claim about the build, whether it holds, and why not."""

    name: str
    passed: bool
    detail: str
    rows: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail, "rows": self.rows}


@dataclass(frozen=True)
class MartSpec:
    """What the dbt YAML declares about one mart: its documented columns and its grain."""

    name: str
    columns: tuple[str, ...]
    grain: tuple[str, ...] | None


def _test_name(test: Any) -> str | None:
    if isinstance(test, str):
        return test
    if isinstance(test, dict) and test:
        return str(next(iter(test)))
    return None


def _grain_columns(test: Any) -> list[str] | None:
    if not isinstance(test, dict) or "grain" not in test:
        return None
    body: dict[str, Any] = test["grain"] or {}
    arguments = body.get("arguments", body)
    columns = arguments.get("columns")
    return [str(c) for c in columns] if columns else None


def mart_specs(project_dir: Path) -> dict[str, MartSpec]:
    """Every model the YAML files under ``models/marts`` describe."""
    specs: dict[str, MartSpec] = {}
    for path in sorted((project_dir / "models" / "marts").rglob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in document.get("models") or []:
            columns = [str(c["name"]) for c in model.get("columns") or [] if "name" in c]
            grain = None
            for test in model.get("data_tests") or model.get("tests") or []:
                grain = _grain_columns(test) or grain
            if grain is None:
                for column in model.get("columns") or []:
                    tests = column.get("data_tests") or column.get("tests") or []
                    if "unique" in {_test_name(t) for t in tests}:
                        grain = [str(column["name"])]
            specs[str(model["name"])] = MartSpec(
                str(model["name"]), tuple(columns), tuple(grain) if grain else None
            )
    specs[SCORES_TABLE] = MartSpec(SCORES_TABLE, tuple(MART_COLUMNS), tuple(SCORE_GRAIN))
    return specs


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _built_columns(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    rows = con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = ?",
        [MARTS],
    ).fetchall()
    built: dict[str, set[str]] = {}
    for table, column in rows:
        built.setdefault(str(table), set()).add(str(column))
    return built


def audit_schema(con: duckdb.DuckDBPyConnection, specs: dict[str, MartSpec]) -> AuditCheck:
    built = _built_columns(con)
    problems = []
    for spec in specs.values():
        if spec.name not in built:
            problems.append(f"{spec.name}: table missing from the build")
            continue
        missing = [c for c in spec.columns if c not in built[spec.name]]
        if missing:
            problems.append(f"{spec.name}: documented columns missing: {', '.join(missing)}")
    detail = (
        f"{len(specs)} marts have every documented column"
        if not problems
        else f"{len(problems)} mart(s) do not match their schema"
    )
    return AuditCheck("marts_match_their_schema", not problems, detail, problems)


def audit_grains(con: duckdb.DuckDBPyConnection, specs: dict[str, MartSpec]) -> AuditCheck:
    built = _built_columns(con)
    problems = []
    checked = 0
    for spec in specs.values():
        if spec.grain is None or spec.name not in built:
            continue
        if any(c not in built[spec.name] for c in spec.grain):
            continue  # reported by the schema audit
        checked += 1
        columns = ", ".join(_quote(c) for c in spec.grain)
        rows = con.execute(
            f"select {columns}, count(*) as n from {MARTS}.{_quote(spec.name)} "  # noqa: S608
            f"group by all having count(*) > 1 limit {MAX_ROWS_SHOWN}"
        ).fetchall()
        for row in rows:
            key = ", ".join(f"{c}={v}" for c, v in zip(spec.grain, row[:-1], strict=True))
            problems.append(f"{spec.name}: {row[-1]} rows for {key}")
    detail = (
        f"{checked} marts have one row per grain"
        if not problems
        else f"duplicate grain rows in {len({p.split(':')[0] for p in problems})} mart(s)"
    )
    return AuditCheck("mart_grains_are_unique", not problems, detail, problems)


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])


def audit_score_floor(con: duckdb.DuckDBPyConnection) -> AuditCheck:
    name = "site_scores_are_above_the_floor"
    if not _table_exists(con, MARTS, SCORES_TABLE):
        return AuditCheck(name, False, f"{SCORES_TABLE} was not built: run the quality scoring")
    rows = con.execute(
        f"select scores.site_id, scores.day, scores.overall_score, settings.publish_floor "  # noqa: S608
        f"from {MARTS}.{SCORES_TABLE} as scores "
        "inner join staging.stg_site_config__quality_settings as settings "
        "on scores.site_id = settings.site_id "
        "where scores.scope = 'site' and scores.is_closed "
        "and (scores.overall_score < settings.publish_floor or scores.overall_score is null) "
        "order by scores.site_id, scores.day"
    ).fetchall()
    problems = [
        f"{site} {day}: overall score {score} below the floor {floor:g}"
        for site, day, score, floor in rows
    ]
    n_days = con.execute(
        f"select count(*) from {MARTS}.{SCORES_TABLE} where scope = 'site' and is_closed"  # noqa: S608
    ).fetchone()
    detail = (
        f"{n_days[0] if n_days else 0} closed site-days at or above their floor"
        if not problems
        else f"{len(problems)} closed site-day(s) below the publish floor"
    )
    return AuditCheck(name, not problems, detail, problems[:MAX_ROWS_SHOWN])


def audit_closure(con: duckdb.DuckDBPyConnection) -> AuditCheck:
    name = "closure_statuses_are_known"
    if not _table_exists(con, MARTS, "fct_site_balance_daily"):
        return AuditCheck(name, False, "fct_site_balance_daily was not built")
    known = ", ".join(f"'{s}'" for s in CLOSURE_STATUSES)
    unknown = con.execute(
        "select site_id, day, closure_status from marts.fct_site_balance_daily "  # noqa: S608
        f"where closure_status is null or closure_status not in ({known}) "
        f"order by site_id, day limit {MAX_ROWS_SHOWN}"
    ).fetchall()
    problems = [f"{site} {day}: closure status {status!r}" for site, day, status in unknown]
    exceeded = con.execute(
        "select balance.site_id, balance.day, balance.closure_error_pct, "  # noqa: S608
        "balance.closure_threshold_pct from marts.fct_site_balance_daily as balance "
        "inner join staging.stg_site_config__quality_settings as settings "
        "on balance.site_id = settings.site_id "
        "where settings.block_on_closure_exceeded and balance.is_complete "
        "and balance.closure_status = 'exceeds_threshold' "
        f"order by balance.site_id, balance.day limit {MAX_ROWS_SHOWN}"
    ).fetchall()
    problems += [
        f"{site} {day}: closure error {pct:.2f} % exceeds {threshold:g} % (blocking for this site)"
        for site, day, pct, threshold in exceeded
    ]
    detail = (
        "every site-day has a known closure status"
        if not problems
        else f"{len(problems)} site-day(s) fail the closure audit"
    )
    return AuditCheck(name, not problems, detail, problems)


def audit_build(build_db: Path, project_dir: Path | None = None) -> list[AuditCheck]:
    """Run every audit on the build database (read-only)."""
    if project_dir is None:
        from siteledger.dbt import DBT_PROJECT_DIR

        project_dir = DBT_PROJECT_DIR
    specs = mart_specs(project_dir)
    with duckdb.connect(str(build_db), read_only=True) as con:
        return [
            audit_schema(con, specs),
            audit_grains(con, specs),
            audit_score_floor(con),
            audit_closure(con),
        ]
