"""Write-audit-publish on a small warehouse: a failed audit publishes nothing and is recorded."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from cli.main import cli
from quality.audit import audit_build, mart_specs
from quality.scoring import MART_COLUMNS
from siteledger.settings import Settings
from siteledger.state import StateStore
from siteledger.warehouse import Warehouse
from tests.quality.manifests import data_test, grain, model, unique, write_manifest


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    """dbt's manifest of two documented marts: one with a grain test, one with a unique key."""
    return write_manifest(
        tmp_path / "target" / "manifest.json",
        model("fct_thing", ["site_id", "day", "volume_m3"]),
        grain("fct_thing", ["site_id", "day"]),
        model("dim_site", ["site_id"]),
        unique("dim_site", "site_id"),
        data_test("dim_site", "not_null", {"column_name": "site_id"}, column_name="site_id"),
    )


def _score_row(day: dt.date, overall: float, closed: bool = True) -> tuple:
    values = {column: None for column in MART_COLUMNS}
    values.update(
        site_id="s",
        day=day,
        scope="site",
        scope_id="s",
        overall_score=overall,
        status="excellent",
        failing_expectations="",
        is_closed=closed,
    )
    return tuple(values[c] for c in MART_COLUMNS)


def _column_type(column: str) -> str:
    text = ("site_id", "scope", "scope_id", "status", "failing_expectations")
    types = {"day": "date", "is_closed": "boolean", "scored_at": "timestamptz"}
    return "varchar" if column in text else types.get(column, "double")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A build warehouse with two good days, as dbt and the quality stage would leave it."""
    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse_dir / "build.duckdb")) as con:
        con.execute("create schema marts; create schema staging")
        con.execute(
            "create table marts.fct_thing as select * from (values "
            "('s', date '2025-07-01', 10.0), ('s', date '2025-07-02', 12.0)) "
            "as t(site_id, day, volume_m3)"
        )
        con.execute("create table marts.dim_site as select 's' as site_id")
        con.execute(
            "create table marts.fct_site_balance_daily as select * from (values "
            "('s', date '2025-07-01', 0.5::double, 5.0::double, 'within_threshold', true), "
            "('s', date '2025-07-02', 6.0, 5.0, 'exceeds_threshold', true)) "
            "as t(site_id, day, closure_error_pct, closure_threshold_pct, closure_status, "
            "is_complete)"
        )
        columns = ", ".join(f"{c} {_column_type(c)}" for c in MART_COLUMNS)
        con.execute(f"create table marts.fct_quality_scores_daily ({columns})")
        marks = ", ".join("?" for _ in MART_COLUMNS)
        for row in (
            _score_row(dt.date(2025, 7, 1), 99.0),
            _score_row(dt.date(2025, 7, 2), 97.0),
            _score_row(dt.date(2025, 7, 3), 1.0, closed=False),  # provisional: not audited
        ):
            con.execute(f"insert into marts.fct_quality_scores_daily values ({marks})", row)
        con.execute(
            "create table staging.stg_site_config__quality_settings as select 's' as site_id, "
            "95.0::double as excellent_min, 85.0::double as good_min, 70.0::double as fair_min, "
            "50.0::double as publish_floor, "
            "false as block_on_closure_exceeded"
        )
    return settings.home


def _build(home: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home / "warehouse" / "build.duckdb"))


def _audit(manifest: Path):
    return lambda build_db: audit_build(build_db, manifest)


def test_a_clean_build_passes_every_audit(home: Path, manifest: Path):
    checks = audit_build(home / "warehouse" / "build.duckdb", manifest)
    assert [(c.name, c.passed) for c in checks] == [
        ("marts_match_their_schema", True),
        ("mart_grains_are_unique", True),
        ("site_scores_are_above_the_floor", True),
        ("closure_statuses_are_known", True),
    ]
    assert checks[1].detail == "3 marts have one row per grain"


def test_a_duplicate_grain_is_not_published_and_the_prior_version_keeps_serving(
    home: Path, manifest: Path
):
    settings = Settings(home=home)
    store = StateStore(settings.state_store_url)
    warehouse = Warehouse(settings, store)
    first = warehouse.publish_audited(["marts"], _audit(manifest), note="good build")
    assert first.published is not None and not first.rejected

    with _build(home) as con:
        con.execute("insert into marts.fct_thing values ('s', date '2025-07-02', 99.0)")
        con.execute("update marts.fct_thing set volume_m3 = 11.0 where volume_m3 = 10.0")
    second = warehouse.publish_audited(["marts"], _audit(manifest), note="broken build")

    assert second.rejected
    assert second.serving_version_id == first.published.version_id
    assert warehouse.current().version_id == first.published.version_id
    assert [v.version_id for v in store.warehouse_versions()] == [first.published.version_id]
    # readers still get the prior version's rows
    with duckdb.connect(str(warehouse.published_db), read_only=True) as con:
        rows = con.execute("select day, volume_m3 from fct_thing order by day").fetchall()
    assert rows == [(dt.date(2025, 7, 1), 10.0), (dt.date(2025, 7, 2), 12.0)]
    # the rejection is recorded with its reason and the offending key
    audits = store.publish_audits()
    assert [a.outcome for a in audits] == ["rejected", "passed"]
    assert audits[1].version_id == first.published.version_id
    assert audits[1].serving_version_id is None  # nothing was published before the first
    assert audits[0].version_id is None
    (failure,) = audits[0].failures
    assert failure["name"] == "mart_grains_are_unique"
    assert failure["rows"] == ["fct_thing: 2 rows for site_id=s, day=2025-07-02"]

    shown = CliRunner().invoke(cli, ["--home", str(home), "quality", "audits"])
    assert shown.exit_code == 0, shown.output
    assert "REJECTED" in shown.output and "mart_grains_are_unique" in shown.output


def test_a_missing_mart_or_documented_column_fails_the_schema_audit(home: Path, manifest: Path):
    with _build(home) as con:
        con.execute("alter table marts.fct_thing drop column volume_m3")
        con.execute("drop table marts.dim_site")
    schema = audit_build(home / "warehouse" / "build.duckdb", manifest)[0]
    assert not schema.passed
    assert schema.rows == [
        "fct_thing: documented columns missing: volume_m3",
        "dim_site: table missing from the build",
    ]


def test_a_closed_site_day_below_the_floor_blocks_publishing(home: Path, manifest: Path):
    with _build(home) as con:
        con.execute(
            "update marts.fct_quality_scores_daily set overall_score = 42.5 "
            "where day = date '2025-07-02'"
        )
    floor = audit_build(home / "warehouse" / "build.duckdb", manifest)[2]
    assert not floor.passed
    assert floor.rows == ["s 2025-07-02: overall score 42.5 below the floor 50"]


def test_closure_audit_rejects_unknown_statuses_and_optionally_exceeded_days(
    home: Path, manifest: Path
):
    with _build(home) as con:
        con.execute(
            "update marts.fct_site_balance_daily set closure_status = 'closed' "
            "where day = date '2025-07-01'"
        )
    closure = audit_build(home / "warehouse" / "build.duckdb", manifest)[3]
    assert closure.rows == ["s 2025-07-01: closure status 'closed'"]
    with _build(home) as con:
        con.execute(
            "update marts.fct_site_balance_daily set closure_status = 'within_threshold' "
            "where day = date '2025-07-01'"
        )
        con.execute(
            "update staging.stg_site_config__quality_settings set block_on_closure_exceeded = true"
        )
    closure = audit_build(home / "warehouse" / "build.duckdb", manifest)[3]
    assert not closure.passed
    assert closure.rows == [
        "s 2025-07-02: closure error 6.00 % exceeds 5 % (blocking for this site)"
    ]


def test_a_build_without_scores_is_not_published(home: Path, manifest: Path):
    with _build(home) as con:
        con.execute("drop table marts.fct_quality_scores_daily")
    checks = {c.name: c for c in audit_build(home / "warehouse" / "build.duckdb", manifest)}
    assert not checks["site_scores_are_above_the_floor"].passed
    assert "was not built" in checks["site_scores_are_above_the_floor"].detail


def test_the_project_declares_the_grain_of_every_mart():
    from orchestration.water.dbt import ensure_manifest

    specs = mart_specs(ensure_manifest())
    assert specs["fct_site_balance_daily"].grain == ("site_id", "day")
    assert specs["fct_reading_flags"].grain == ("site_id", "meter_id", "ts_utc", "flag")
    assert specs["fct_quality_scores_daily"].grain == ("site_id", "day", "scope", "scope_id")
    assert "readings_estimated_pct" in specs["fct_site_balance_daily"].columns
    assert specs["dim_sites"].grain == ("site_id",)
    assert all(spec.grain for name, spec in specs.items() if name.startswith("fct_site"))
    assert [name for name, spec in specs.items() if spec.grain is None] == []


def test_scoring_a_build_without_closed_days_keeps_the_mart_typed(tmp_path: Path):
    from quality.scoring import score_build

    settings = Settings(home=tmp_path / "fresh")
    settings.ensure_dirs()
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse_dir / "build.duckdb")) as con:
        con.execute("create schema intermediate; create schema marts; create schema staging")
        con.execute(
            "create table intermediate.int_quality_counts_daily as select 's' as site_id, "
            "date '2025-07-01' as day, 'site' as scope, 's' as scope_id, false as is_closed, "
            "1 as n_meters, 96 as n_expected, 3 as n_received, 0 as n_invalid, 0 as n_late, "
            "0 as n_redundant, 0 as n_disagreeing, 0 as n_gap, 0 as n_duplicate, "
            "0 as n_estimated, 0 as n_prolonged"
        )
        con.execute(
            "create table marts.fct_site_balance_daily as select 's' as site_id, "
            "date '2025-07-01' as day, null::double as closure_error_pct, "
            "5.0::double as closure_threshold_pct"
        )
        con.execute(
            "create table marts.fct_node_balance_daily as select 's' as site_id, 'n' as node_id, "
            "date '2025-07-01' as day, null::double as balance_error_pct, "
            "10.0::double as balance_threshold_pct"
        )
        con.execute(
            "create table staging.stg_site_config__quality_settings as select 's' as site_id, "
            "95.0::double as excellent_min, 85.0::double as good_min, 70.0::double as fair_min"
        )
    result = score_build(settings, data_docs=False)
    assert result.n_rows == 0  # the only day is provisional
    with duckdb.connect(str(settings.warehouse_dir / "build.duckdb"), read_only=True) as con:
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_name = 'fct_quality_scores_daily'"
            ).fetchall()
        )
    assert types["day"] == "DATE"
    assert types["overall_score"] == "DOUBLE"
    assert types["n_received"] == "BIGINT"
    assert types["is_closed"] == "BOOLEAN"
