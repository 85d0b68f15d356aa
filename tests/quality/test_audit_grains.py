"""The grain audit reads every uniqueness claim dbt's manifest records, and fails what it cannot
check: an undeclared grain, a missing manifest."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import pytest

from quality.audit import audit_build, mart_specs
from siteledger.dbt import DBT_EXECUTABLE, manifest_path
from tests.quality.manifests import data_test, grain, model, unique, write_manifest

COLUMNS = ["site_id", "day", "reading_id", "volume_m3"]


def _declared(way: str) -> list[dict[str, Any]]:
    """fct_thing with its grain declared one way: (site_id, day), or reading_id alone."""
    match way:
        case "grain test":
            return [model("fct_thing", COLUMNS), grain("fct_thing", ["site_id", "day"])]
        case "unique test":
            return [model("fct_thing", COLUMNS), unique("fct_thing", "reading_id")]
        case "dbt_utils unique_combination_of_columns":
            test = data_test(
                "fct_thing",
                "unique_combination_of_columns",
                {"combination_of_columns": ["site_id", "day"]},
                namespace="dbt_utils",
            )
            return [model("fct_thing", COLUMNS), test]
        case "model primary_key constraint":
            pk = {"type": "primary_key", "columns": ["site_id", "day"]}
            return [model("fct_thing", COLUMNS, constraints=[pk])]
        case "model unique constraint":
            return [
                model("fct_thing", COLUMNS, constraints=[{"type": "unique", "columns": ["day"]}])
            ]
        case "column primary_key constraint":
            return [model("fct_thing", COLUMNS, column_constraints={"reading_id": ["primary_key"]})]
        case "column unique constraint":
            return [model("fct_thing", COLUMNS, column_constraints={"reading_id": ["unique"]})]
    raise AssertionError(way)


# the duplicated row each way must report (rows of _build's table below)
EXPECTED = {
    "grain test": "fct_thing: 2 rows for site_id=s, day=2025-07-02",
    "unique test": "fct_thing: 2 rows for reading_id=r2",
    "dbt_utils unique_combination_of_columns": "fct_thing: 2 rows for site_id=s, day=2025-07-02",
    "model primary_key constraint": "fct_thing: 2 rows for site_id=s, day=2025-07-02",
    "model unique constraint": "fct_thing: 2 rows for day=2025-07-02",
    "column primary_key constraint": "fct_thing: 2 rows for reading_id=r2",
    "column unique constraint": "fct_thing: 2 rows for reading_id=r2",
}


def _build(path: Path, rows: list[tuple]) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_thing "
            "(site_id varchar, day date, reading_id varchar, volume_m3 double)"
        )
        con.executemany("insert into marts.fct_thing values (?, ?, ?, ?)", rows)
    return path


GOOD_ROWS = [("s", "2025-07-01", "r1", 1.0), ("s", "2025-07-02", "r2", 2.0)]


def _grain_check(build_db: Path, manifest: Path):
    checks = {check.name: check for check in audit_build(build_db, manifest)}
    return checks["mart_grains_are_unique"]


@pytest.mark.parametrize("way", list(EXPECTED))
def test_a_grain_declared_any_way_dbt_records_is_enforced(tmp_path: Path, way: str):
    manifest = write_manifest(tmp_path / "manifest.json", *_declared(way))
    clean = _grain_check(_build(tmp_path / "clean.duckdb", GOOD_ROWS), manifest)
    assert clean.passed, clean.rows

    # one row repeats site_id, day and reading_id of the second: a duplicate for every way
    duplicated = [*GOOD_ROWS, ("s", "2025-07-02", "r2", 3.0)]
    check = _grain_check(_build(tmp_path / "dup.duckdb", duplicated), manifest)
    assert not check.passed
    assert check.rows == [EXPECTED[way]]
    assert check.detail == "duplicate grain rows in 1 mart(s)"


def test_every_uniqueness_claim_of_a_mart_is_enforced_not_only_its_grain(tmp_path: Path):
    manifest = write_manifest(
        tmp_path / "manifest.json",
        model("fct_thing", COLUMNS, column_constraints={"reading_id": ["unique"]}),
        grain("fct_thing", ["site_id", "day"]),
    )
    spec = mart_specs(manifest)["fct_thing"]
    assert spec.grain == ("site_id", "day")
    assert spec.unique_keys == (("site_id", "day"), ("reading_id",))

    # unique per site and day, but one reading id twice
    rows = [("s", "2025-07-01", "r1", 1.0), ("s", "2025-07-02", "r1", 2.0)]
    check = _grain_check(_build(tmp_path / "build.duckdb", rows), manifest)
    assert check.rows == ["fct_thing: 2 rows for reading_id=r1"]


def test_a_documented_mart_without_a_declared_grain_fails(tmp_path: Path):
    manifest = write_manifest(
        tmp_path / "manifest.json",
        model("fct_thing", COLUMNS),
        # neither claims a grain: not_null, and a unique test over some rows only
        data_test("fct_thing", "not_null", {"column_name": "day"}, column_name="day"),
        data_test(
            "fct_thing",
            "unique",
            {"column_name": "reading_id"},
            column_name="reading_id",
            where="volume_m3 > 0",
        ),
    )
    assert mart_specs(manifest)["fct_thing"].grain is None
    check = _grain_check(_build(tmp_path / "build.duckdb", GOOD_ROWS), manifest)
    assert not check.passed
    assert check.detail == "1 mart(s) with no declared grain"
    assert check.rows == [
        "fct_thing: no declared grain (add a grain test, a unique test or a primary_key "
        "constraint to its YAML)"
    ]


def test_only_the_projects_marts_are_audited(tmp_path: Path):
    manifest = write_manifest(
        tmp_path / "manifest.json",
        model("fct_thing", COLUMNS),
        grain("fct_thing", ["site_id", "day"]),
        model("stg_things", ["site_id"], folder="staging/lake"),
        model("int_things", ["site_id"], folder="marts/things", materialized="ephemeral"),
    )
    assert sorted(mart_specs(manifest)) == ["fct_quality_scores_daily", "fct_thing"]


def test_a_grain_on_columns_the_build_lacks_fails(tmp_path: Path):
    manifest = write_manifest(
        tmp_path / "manifest.json",
        model("fct_thing", COLUMNS),
        grain("fct_thing", ["site_id", "meter_id"]),  # meter_id is not documented either
    )
    check = _grain_check(_build(tmp_path / "build.duckdb", GOOD_ROWS), manifest)
    assert not check.passed
    assert check.rows == ["fct_thing: grain column(s) not built: meter_id"]


def test_a_missing_manifest_fails_the_audits_that_need_it(tmp_path: Path):
    build_db = _build(tmp_path / "build.duckdb", GOOD_ROWS)
    checks = audit_build(build_db, tmp_path / "target" / "manifest.json")
    schema, grains = checks[0], checks[1]
    assert (schema.name, schema.passed) == ("marts_match_their_schema", False)
    assert (grains.name, grains.passed) == ("mart_grains_are_unique", False)
    expected = f"no dbt manifest at {tmp_path / 'target' / 'manifest.json'}"
    assert grains.detail.startswith(expected)
    assert schema.detail == grains.detail


def test_the_default_manifest_is_where_dbt_writes_it_for_the_home(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("SITELEDGER_HOME", str(tmp_path / "elsewhere"))
    expected = tmp_path / "elsewhere" / "dbt" / "target" / "manifest.json"
    assert manifest_path() == expected
    checks = audit_build(_build(tmp_path / "build.duckdb", GOOD_ROWS))
    assert checks[1].detail.startswith(f"no dbt manifest at {expected}")


PROJECT_YML = """
name: siteledger
version: "0.1.0"
config-version: 2
profile: siteledger
models:
  siteledger:
    marts:
      +schema: marts
      +materialized: table
"""

PROFILES_YML = """
siteledger:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: {path}
"""

# the compound-uniqueness test as dbt_utils defines it (no dbt packages can be installed here)
COMBINATION_TEST = """
{% test unique_combination_of_columns(model, combination_of_columns) %}
select {{ combination_of_columns | join(', ') }}
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
"""

MODELS_YML = """
version: 2
models:
  - name: fct_by_constraint
    description: Grain declared by an enforced contract.
    config:
      contract: {enforced: true}
    constraints:
      - type: primary_key
        columns: [site_id, day]
    columns:
      - name: site_id
        data_type: varchar
      - name: day
        data_type: date
  - name: fct_by_combination
    description: Grain declared by a compound-uniqueness test.
    data_tests:
      - unique_combination_of_columns:
          arguments:
            combination_of_columns: [site_id, day]
    columns:
      - name: site_id
      - name: day
"""


def test_grains_yaml_declares_without_the_grain_test_reach_the_audit_through_dbt(
    tmp_path: Path,
):
    """A real ``dbt parse`` of YAML declaring grains two other ways, then the audit."""
    project = tmp_path / "project"
    (project / "models" / "marts").mkdir(parents=True)
    (project / "macros").mkdir()
    (project / "dbt_project.yml").write_text(PROJECT_YML, encoding="utf-8")
    profiles = PROFILES_YML.format(path=tmp_path / "dbt.duckdb")
    (project / "profiles.yml").write_text(profiles, encoding="utf-8")
    (project / "macros" / "unique_combination_of_columns.sql").write_text(COMBINATION_TEST)
    (project / "models" / "marts" / "_marts__models.yml").write_text(MODELS_YML)
    for name in ("fct_by_constraint", "fct_by_combination"):
        sql = "select 's' as site_id, date '2025-07-01' as day"
        (project / "models" / "marts" / f"{name}.sql").write_text(sql)
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    env.pop("DBT_TARGET_PATH", None)
    folders = ["--project-dir", str(project), "--profiles-dir", str(project)]
    subprocess.run(
        [DBT_EXECUTABLE, "parse", "--quiet", *folders],
        check=True,
        cwd=project,
        env=env,
    )
    manifest = project / "target" / "manifest.json"
    specs = mart_specs(manifest)
    assert specs["fct_by_constraint"].grain == ("site_id", "day")
    assert specs["fct_by_combination"].grain == ("site_id", "day")

    with duckdb.connect(str(tmp_path / "build.duckdb")) as con:
        con.execute("create schema marts")
        for name in ("fct_by_constraint", "fct_by_combination"):
            con.execute(
                f"create table marts.{name} as select * from (values "
                "('s', date '2025-07-01'), ('s', date '2025-07-01')) as t(site_id, day)"
            )
    check = _grain_check(tmp_path / "build.duckdb", manifest)
    assert sorted(check.rows) == [
        "fct_by_combination: 2 rows for site_id=s, day=2025-07-01",
        "fct_by_constraint: 2 rows for site_id=s, day=2025-07-01",
    ]
