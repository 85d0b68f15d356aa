"""Blocking audits of the build warehouse: the "audit" of write-audit-publish.

dbt writes the build database, these audits read it, and only a build that passes every one is
published (:meth:`siteledger.warehouse.Warehouse.publish_audited`); a failed audit leaves the
previous published version serving and is recorded with its reasons. What the marts promise is
read from dbt's manifest (``target/manifest.json``, written by ``dbt parse`` and ``dbt build``),
so the audits see every test and constraint exactly as dbt does. The audits:

- ``marts_match_their_schema``: every model under ``models/marts`` exists and has every column
  its YAML documents (what BI users were promised), and the quality score mart has its contract
  columns;
- ``mart_grains_are_unique``: every mart declares a grain, and no mart has two rows for one
  value of any uniqueness claim dbt records for it (see :func:`uniqueness_claims`);
- ``site_scores_are_above_the_floor``: no closed site-day scores below the site's
  ``quality.publish_floor``;
- ``closure_statuses_are_known``: every site-day has a known closure status, and when the site
  sets ``quality.block_on_closure_exceeded`` no complete day exceeds its threshold.

A missing or unreadable manifest fails the first two audits: without it nothing says what to
check, and an audit that checks nothing must not pass.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from quality.scoring import MART_COLUMNS, SCORES_TABLE
from siteledger.dbt import manifest_path

MARTS = "marts"
SCORE_GRAIN = ["site_id", "day", "scope", "scope_id"]
CLOSURE_STATUSES = ("within_threshold", "exceeds_threshold", "undetermined")
MAX_ROWS_SHOWN = 20

# Generic tests that claim uniqueness, by name (any namespace), with the argument naming their
# columns: the project's own ``grain`` (tests/generic/grain.sql), dbt_utils' compound test (or a
# local macro of the same signature) and dbt's ``unique``.
UNIQUENESS_TESTS = {
    "grain": "columns",
    "unique_combination_of_columns": "combination_of_columns",
    "unique": "column_name",
}
UNIQUE_CONSTRAINTS = ("primary_key", "unique")
# which claim names "the" grain of a mart when it makes several
_CLAIM_RANK = {
    "grain": 0,
    "primary_key": 1,
    "unique_combination_of_columns": 2,
    "unique": 3,
}


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
    """What dbt declares about one mart: its documented columns, its grain (None: undeclared)
    and any further sets of columns it claims unique."""

    name: str
    columns: tuple[str, ...]
    grain: tuple[str, ...] | None
    also_unique: tuple[tuple[str, ...], ...] = ()

    @property
    def unique_keys(self) -> tuple[tuple[str, ...], ...]:
        return (self.grain, *self.also_unique) if self.grain else ()


class ManifestUnavailable(RuntimeError):
    """dbt's manifest is missing, unreadable or lists no marts: nothing says what to audit."""


def load_manifest(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ManifestUnavailable(
            f"no dbt manifest at {path}: run 'dbt parse' or 'dbt build' so the audits know "
            "the marts' columns and grains"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ManifestUnavailable(f"dbt manifest at {path} is unreadable: {error}") from error
    if not isinstance(manifest, dict) or not isinstance(manifest.get("nodes"), dict):
        raise ManifestUnavailable(f"dbt manifest at {path} has no nodes")
    return manifest


def _is_mart(node: Mapping[str, Any], project: str | None) -> bool:
    fqn = node.get("fqn") or []
    return (
        node.get("resource_type") == "model"
        and len(fqn) > 2
        and fqn[1] == MARTS
        and (project is None or node.get("package_name") == project)
        and (node.get("config") or {}).get("materialized") != "ephemeral"
    )


def _as_columns(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return ()


def uniqueness_claims(
    model: Mapping[str, Any], tests: list[Mapping[str, Any]]
) -> list[tuple[str, tuple[str, ...]]]:
    """Every (kind, columns) a model claims unique: a ``grain``, ``unique`` or
    ``unique_combination_of_columns`` test attached to it, and ``primary_key`` or ``unique``
    constraints on the model or on a column (enforced contracts).

    A test with a ``where`` filter claims uniqueness of some rows only: it declares no grain.
    """
    claims: list[tuple[str, tuple[str, ...]]] = []
    for test in tests:
        metadata = test.get("test_metadata") or {}
        kind = metadata.get("name")
        if kind not in UNIQUENESS_TESTS or (test.get("config") or {}).get("where"):
            continue
        kwargs = metadata.get("kwargs") or {}
        columns = _as_columns(kwargs.get(UNIQUENESS_TESTS[kind]) or test.get("column_name"))
        if columns:
            claims.append((kind, columns))
    for constraint in model.get("constraints") or []:
        if constraint.get("type") in UNIQUE_CONSTRAINTS:
            columns = _as_columns(constraint.get("columns"))
            if columns:
                claims.append((constraint["type"], columns))
    for name, column in (model.get("columns") or {}).items():
        for constraint in column.get("constraints") or []:
            if constraint.get("type") in UNIQUE_CONSTRAINTS:
                claims.append((constraint["type"], (str(column.get("name") or name),)))
    return claims


def _spec(model: Mapping[str, Any], tests: list[Mapping[str, Any]]) -> MartSpec:
    name = str(model.get("alias") or model["name"])
    columns = tuple(str(c.get("name") or key) for key, c in (model.get("columns") or {}).items())
    keys: dict[frozenset[str], tuple[int, tuple[str, ...]]] = {}
    for kind, key in uniqueness_claims(model, tests):
        rank = _CLAIM_RANK[kind]
        known = keys.get(frozenset(key))
        if known is None or rank < known[0]:
            keys[frozenset(key)] = (rank, key)
    ordered = [key for _, key in sorted(keys.values())]
    if not ordered:
        return MartSpec(name, columns, None)
    return MartSpec(name, columns, ordered[0], tuple(ordered[1:]))


def mart_specs(manifest: Mapping[str, Any] | Path | None = None) -> dict[str, MartSpec]:
    """Every mart dbt's manifest (a loaded one, a path, or the project's) knows under
    ``models/marts``, and the quality score mart the quality stage writes beside them."""
    if not isinstance(manifest, Mapping):
        manifest = load_manifest(manifest if manifest is not None else manifest_path())
    nodes: Mapping[str, Any] = manifest.get("nodes") or {}
    project = (manifest.get("metadata") or {}).get("project_name")
    tests: dict[str, list[Mapping[str, Any]]] = {}
    for node in nodes.values():
        if node.get("resource_type") == "test" and node.get("attached_node"):
            tests.setdefault(str(node["attached_node"]), []).append(node)
    specs: dict[str, MartSpec] = {}
    for unique_id, node in nodes.items():
        if _is_mart(node, project):
            spec = _spec(node, tests.get(unique_id, []))
            specs[spec.name] = spec
    if not specs:
        raise ManifestUnavailable("the dbt manifest lists no models under models/marts")
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


def _duplicates(
    con: duckdb.DuckDBPyConnection, table: str, key: tuple[str, ...]
) -> list[tuple[Any, ...]]:
    """Keys with more than one row, in two passes: a group by one 64-bit hash of the key (cheap
    on a hundred-million-row mart), then the columns themselves for the keys whose hash repeats
    (so a hash collision is never reported)."""
    columns = ", ".join(_quote(c) for c in key)
    relation = f"{MARTS}.{_quote(table)}"
    return con.execute(
        f"with repeated as (select hash({columns}) as h from {relation} "  # noqa: S608
        "group by 1 having count(*) > 1) "
        f"select {columns}, count(*) as n from {relation} "
        f"where hash({columns}) in (select h from repeated) "
        f"group by all having count(*) > 1 limit {MAX_ROWS_SHOWN}"
    ).fetchall()


def audit_grains(con: duckdb.DuckDBPyConnection, specs: dict[str, MartSpec]) -> AuditCheck:
    built = _built_columns(con)
    undeclared: list[str] = []
    unchecked: list[str] = []
    duplicated: list[str] = []
    checked = 0
    for spec in specs.values():
        if spec.name not in built:
            continue  # reported by the schema audit
        if not spec.unique_keys:
            undeclared.append(
                f"{spec.name}: no declared grain (add a grain test, a unique test or a "
                "primary_key constraint to its YAML)"
            )
            continue
        problems_before = len(unchecked) + len(duplicated)
        for key in spec.unique_keys:
            missing = [c for c in key if c not in built[spec.name]]
            if missing:
                unchecked.append(f"{spec.name}: grain column(s) not built: {', '.join(missing)}")
                continue
            try:
                rows = _duplicates(con, spec.name, key)
            except duckdb.Error as error:  # e.g. a unique test on an expression
                unchecked.append(f"{spec.name}: grain ({', '.join(key)}) not checkable: {error}")
                continue
            for row in rows:
                shown = ", ".join(f"{c}={v}" for c, v in zip(key, row[:-1], strict=True))
                duplicated.append(f"{spec.name}: {row[-1]} rows for {shown}")
        if len(unchecked) + len(duplicated) == problems_before:
            checked += 1
    problems = undeclared + unchecked + duplicated
    if not problems:
        return AuditCheck("mart_grains_are_unique", True, f"{checked} marts have one row per grain")
    parts = []
    if undeclared:
        parts.append(f"{len(undeclared)} mart(s) with no declared grain")
    if unchecked:
        parts.append(f"{len(unchecked)} grain(s) that could not be checked")
    if duplicated:
        parts.append(
            f"duplicate grain rows in {len({p.split(':')[0] for p in duplicated})} mart(s)"
        )
    return AuditCheck("mart_grains_are_unique", False, "; ".join(parts), problems)


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


def audit_build(build_db: Path, manifest: Path | None = None) -> list[AuditCheck]:
    """Run every audit on the build database (read-only), against dbt's manifest (default:
    the project's, :func:`siteledger.dbt.manifest_path`)."""
    try:
        specs: dict[str, MartSpec] | None = mart_specs(manifest or manifest_path())
        unavailable = ""
    except ManifestUnavailable as error:
        specs, unavailable = None, str(error)
    with duckdb.connect(str(build_db), read_only=True) as con:
        if specs is None:
            dbt_checks = [
                AuditCheck("marts_match_their_schema", False, unavailable),
                AuditCheck("mart_grains_are_unique", False, unavailable),
            ]
        else:
            dbt_checks = [audit_schema(con, specs), audit_grains(con, specs)]
        return [*dbt_checks, audit_score_floor(con), audit_closure(con)]
