"""Backups of a home: a round trip on a built and published home (marts row by row, report
artefacts by hash, then a rebuild), the state store moved SQLite -> PostgreSQL -> SQLite, hostile
archives refused with the home untouched, and configuration moved between homes."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import math
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa

from siteledger.backup import (
    BackupError,
    create_backup,
    export_config,
    import_config,
    restore_backup,
    verify_backup,
)
from siteledger.settings import Settings
from siteledger.state import StateStore
from siteledger.state.store import ImportJob

HAND_SITE_FILE = Path(__file__).parents[1] / "dbt" / "fixtures" / "hand_site.yaml"
PUBLISH_INFO = "_siteledger_publish"
MONTH = "2025-07"
DEFINITION = "monthly_water_return"


# -- helpers -----------------------------------------------------------------------------------
def published_marts(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of a published warehouse (but its version stamp), rows in a stable order."""
    with duckdb.connect(str(db), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'main' "
                "order by table_name"
            ).fetchall()
        ]
        return {
            name: con.execute(f'select * from "{name}" order by all').fetchall()
            for name in names
            if name != PUBLISH_INFO
        }


def assert_same_marts(
    rebuilt: dict[str, list[tuple[Any, ...]]], original: dict[str, list[tuple[Any, ...]]]
) -> None:
    """The same tables, rows and values; floating-point values to 1e-9 relative, since DuckDB's
    parallel sums add in no fixed order (two builds of one lake differ in the last bits)."""
    assert sorted(rebuilt) == sorted(original)
    for table, rows in original.items():
        assert len(rebuilt[table]) == len(rows), table
        for new, old in zip(rebuilt[table], rows, strict=True):
            for a, b in zip(new, old, strict=True):
                if isinstance(a, float) and isinstance(b, float):
                    assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (table, old, new)
                else:
                    assert a == b, (table, old, new)


def assert_same_figures(new: Any, old: Any, where: str = "figures") -> None:
    """Report figures equal, floating-point values to 1e-9 relative (see assert_same_marts)."""
    if isinstance(old, dict):
        assert isinstance(new, dict) and sorted(new) == sorted(old), where
        for key in old:
            assert_same_figures(new[key], old[key], f"{where}.{key}")
    elif isinstance(old, list):
        assert isinstance(new, list) and len(new) == len(old), where
        for i, (a, b) in enumerate(zip(new, old, strict=True)):
            assert_same_figures(a, b, f"{where}[{i}]")
    elif isinstance(old, float) and isinstance(new, float):
        assert math.isclose(new, old, rel_tol=1e-9, abs_tol=1e-9), (where, old, new)
    else:
        assert new == old, (where, old, new)


def state_rows(url: str, home: Path | None = None) -> dict[str, list[str]]:
    """Every row of every non-empty table of a state store, as sorted canonical JSON: times in
    UTC without an offset (SQLite keeps none), paths under ``home`` written ``<home>/...``."""
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine)

    def norm(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            return value.isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, str) and home is not None and value.startswith(str(home) + "/"):
            return "<home>" + value[len(str(home)) :]
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items()}
        if isinstance(value, list):
            return [norm(v) for v in value]
        return value

    out = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = sorted(
                json.dumps({k: norm(v) for k, v in row.items()}, sort_keys=True)
                for row in conn.execute(sa.select(table)).mappings()
            )
            # empty tables left out: opening a StateStore creates the tables of every package
            # this process has imported, which depends on the tests that ran before
            if rows:
                out[table.name] = rows
    engine.dispose()
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` and its hash (links by their target)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            out[rel] = "-> " + str(path.readlink())
        elif path.is_file():
            out[rel] = sha256(path)
    return out


def build_published_home(home: Path) -> None:
    """32 days of the demo's mine imported, built by dbt (models only), published, and July's
    monthly water return generated (~30 s); plus two delivery attempts of the report."""
    from demo import write_demo
    from ingestion.files import import_landing
    from ingestion.site_tables import write_site_tables
    from reports.registry import DeliveryAttempt, Registry
    from reports.service import generate
    from siteledger.settings import get_settings
    from siteledger.site import load_site
    from siteledger.warehouse import Warehouse
    from tests.dbt.runner import run_dbt

    out = write_demo(home, days=32, sites=("demo_mine",))
    settings = get_settings(home)
    settings.ensure_dirs()
    site = load_site(out.site_file)
    store = StateStore(settings.state_store_url)
    assert {r.status for r in import_landing(settings, site, store)} == {"committed"}
    write_site_tables(settings, site)
    run_dbt(home, "run")
    Warehouse(settings, store).publish(["marts"], note="tests/backup")
    [outcome] = generate(
        settings, store, definition_ids=[DEFINITION], period_keys=[MONTH], generated_by="tests"
    )
    assert outcome.action == "created"
    registry = Registry(store)
    for attempt in (1, 2):
        registry.record_attempt(
            DeliveryAttempt(
                report_id=outcome.record.report_id,
                channel="s3",
                target="bucket/key",
                attempt=attempt,
                status="failed" if attempt == 1 else "succeeded",
                details={"n": attempt},
            )
        )
    store.dispose()


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A built, published home with a report, what it holds, and its backup."""
    home = tmp_path_factory.mktemp("built") / "home"
    home.mkdir()
    build_published_home(home)
    settings = Settings(home=home)
    archive = home.parent / "home.tar.zst"
    summary = create_backup(settings, archive)
    return {
        "home": home,
        "archive": archive,
        "summary": summary,
        "marts": published_marts(settings.published_db),
        "state": state_rows(settings.state_store_url, home),
        "files": snapshot(home),
    }


@pytest.fixture
def small_home(tmp_path: Path) -> Settings:
    """A home with a site file, an organisation, a lake file, a quarantine file, an empty
    landing folder and one import job in its state store (no build)."""
    settings = Settings(home=tmp_path / "small")
    settings.ensure_dirs()
    shutil.copy(HAND_SITE_FILE, settings.sites_dir / "hand_site.yaml")
    day = settings.readings_lake / "site=hand_site" / "source=scada" / "day=2025-07-01"
    day.mkdir(parents=True)
    (day / "b1.parquet").write_bytes(b"PAR1 pretend parquet " * 50)
    (settings.quarantine / "files").mkdir(parents=True)
    (settings.quarantine / "files" / "bad.csv").write_text("bad,row\n")
    store = StateStore(settings.state_store_url)
    store.add_job(
        ImportJob(
            batch_id="b1",
            site_id="hand_site",
            source="scada",
            source_file=str(settings.landing / "x.csv"),
            content_sha256="0" * 64,
            status="committed",
            details={"archived": str(settings.archive / "b1.csv")},
        )
    )
    store.dispose()
    return settings


# -- the round trip ----------------------------------------------------------------------------
@pytest.mark.integration
@pytest.mark.slow
def test_backup_delete_restore_and_rebuild_gives_the_same_marts_and_reports(archived):
    from reports.registry import Registry
    from reports.service import generate
    from siteledger.warehouse import Warehouse
    from tests.dbt.runner import run_dbt

    home: Path = archived["home"]
    manifest = verify_backup(archived["archive"])
    names = {m["name"] for m in manifest["members"]}
    assert "home/sites/demo_mine.yaml" in names and "state/schema.json" in names
    assert "home/warehouse/build.duckdb" not in names  # rebuildable, said so in the manifest
    assert "warehouse/build.duckdb" in manifest["home"]["excluded"]
    assert manifest["reports"] == {"artefacts": 6, "outside_home": [], "missing": []}

    shutil.rmtree(home)
    settings = Settings(home=home)
    summary = restore_backup(archived["archive"], settings)
    assert summary.tables["reports"] == 1 and summary.tables["report_deliveries"] == 2
    assert summary.rewritten_paths == 0  # same home: no path moved

    # the published warehouse, every table row by row, and the version and rollback stamps
    assert published_marts(settings.published_db) == archived["marts"]
    assert settings.published_parquet.is_symlink()
    assert state_rows(settings.state_store_url, home) == archived["state"]
    restored = snapshot(home)
    for rel, digest in archived["files"].items():
        rebuildable = rel.startswith(("dbt/", "dbt_logs/", "warehouse/build.duckdb", "state.db"))
        if not rebuildable and not rel.endswith(".lock"):
            assert restored.get(rel) == digest, rel
    # every report artefact hashes as the registry recorded
    store = StateStore(settings.state_store_url)
    [record] = Registry(store).list()
    assert len(record.artifacts) == 6
    for artefact in record.artifacts.values():
        assert sha256(Path(artefact["path"])) == artefact["sha256"]

    # the report generated again from the restored warehouse: recognised as unchanged
    [again] = generate(
        settings, store, definition_ids=[DEFINITION], period_keys=[MONTH], generated_by="tests"
    )
    assert again.action == "unchanged"
    assert again.record.report_id == record.report_id
    assert again.record.content_hash == record.content_hash

    # rebuild from the restored raw lake (the main job's dbt build, then publish: `siteledger
    # run` drives the same through Dagster at several times the cost) and render the report
    # again from the rebuilt marts: the same rows and the same figures
    run_dbt(home, "run")
    Warehouse(settings, store).publish(["marts"], note="rebuilt after restore")
    assert_same_marts(published_marts(settings.published_db), archived["marts"])
    [rebuilt] = generate(
        settings, store, definition_ids=[DEFINITION], period_keys=[MONTH], generated_by="tests"
    )
    assert_same_figures(rebuilt.record.figures, record.figures)
    # the rebuild's last-bit float noise is no new version: the content hash rounds figures to
    # six decimal places (reports.data.HASH_DECIMALS)
    assert rebuilt.action == "unchanged"
    assert rebuilt.record.content_hash == record.content_hash
    store.dispose()


@pytest.mark.integration
@pytest.mark.slow
def test_the_main_job_after_a_restore_publishes_the_same_marts_and_no_new_report(tmp_path: Path):
    """As an operator would: `siteledger run` on the demo's mine, backup, delete the home,
    restore, `siteledger run` again: the same published marts, and every report of the
    registry recognised (no new version, the same content hashes)."""
    from click.testing import CliRunner

    from alerts.service import EVENTS_TABLE, HISTORY_TABLE
    from alerts.state import AlertStore
    from cli.main import cli
    from demo import write_demo
    from reports.registry import Registry

    ALERT_MARTS = (EVENTS_TABLE, HISTORY_TABLE)
    RUN_STAMPS = {  # a new model id, fit time and file for every training
        *("model_id", "trained_at", "next_retrain_at", "artefact", "fit_seconds"),
        *("validated_at", "scored_at"),
    }
    home = tmp_path / "home"
    write_demo(home, days=32, sites=("demo_mine",))

    def main_job() -> None:
        result = CliRunner().invoke(cli, ["--home", str(home), "run"])
        assert result.exit_code == 0, result.output

    def registered(settings: Settings) -> list[tuple[str, str, str, int, str]]:
        store = StateStore(settings.state_store_url)
        try:
            return sorted(
                (r.definition_id, r.site_id, r.period_key, r.version, r.content_hash)
                for r in Registry(store).list()
            )
        finally:
            store.dispose()

    def alerts(settings: Settings) -> list[tuple[str, str, str]]:
        store = StateStore(settings.state_store_url)
        try:
            return sorted((e.event_id, e.rule_id, e.state) for e in AlertStore(store).events())
        finally:
            store.dispose()

    def marts_of(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
        """The published tables but the columns each run stamps anew (the models retrained,
        the validations and scores run again); the alert marts are the state store's alerts as
        they stood before each publish (a second run publishes the first run's): compared
        through the state store instead."""
        with duckdb.connect(str(settings.published_db), read_only=True) as con:
            columns: dict[str, list[str]] = {}
            for table, column in con.execute(
                "select table_name, column_name from information_schema.columns "
                "where table_schema = 'main' order by table_name, ordinal_position"
            ).fetchall():
                if table not in (*ALERT_MARTS, PUBLISH_INFO) and column not in RUN_STAMPS:
                    columns.setdefault(table, []).append(f'"{column}"')
            return {
                table: con.execute(
                    f'select {", ".join(cols)} from "{table}" order by all'
                ).fetchall()
                for table, cols in columns.items()
            }

    main_job()
    settings = Settings(home=home)
    reports, raised = registered(settings), alerts(settings)
    assert any(r[:3] == (DEFINITION, "demo_mine", MONTH) for r in reports), reports
    assert raised
    marts = marts_of(settings)
    archive = tmp_path / "home.tar.zst"
    create_backup(settings, archive)

    shutil.rmtree(home)
    restore_backup(archive, Settings(home=home))
    main_job()
    assert_same_marts(marts_of(settings), marts)
    assert registered(settings) == reports
    # the restored watermarks: the run judges nothing twice, raises no alert again
    assert alerts(settings) == raised


@pytest.mark.integration
def test_state_store_moves_sqlite_to_postgresql_and_back(archived, tmp_path: Path):
    from reports.registry import DeliveryAttempt, Registry
    from tests.postgres import scratch_database

    with scratch_database() as pg_url:
        pg_url = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
        on_pg = Settings(home=tmp_path / "pg_home", state_url=pg_url)
        summary = restore_backup(archived["archive"], on_pg)
        assert not (on_pg.home / "state.db").exists()
        # every row equal; the paths the registry and warehouse versions hold now point here
        assert summary.rewritten_paths > 0
        assert state_rows(pg_url, on_pg.home) == archived["state"]
        store = StateStore(pg_url)
        registry = Registry(store)
        [record] = registry.list()
        for artefact in record.artifacts.values():
            path = Path(artefact["path"])
            assert path.is_relative_to(on_pg.home)
            assert sha256(path) == artefact["sha256"]
        # the serial id continues after the loaded rows
        added = registry.record_attempt(
            DeliveryAttempt(
                report_id=record.report_id,
                channel="email",
                target="ops@example.org",
                attempt=3,
                status="succeeded",
            )
        )
        assert added.attempt_id == 3
        with store.session() as session:
            session.delete(session.get(DeliveryAttempt, 3))
        store.dispose()
        # and back: a backup of the PostgreSQL home restored onto SQLite
        back = tmp_path / "from_pg.tar.gz"
        create_backup(on_pg, back)
        assert verify_backup(back)["state"]["dialect"] == "postgresql"
        on_sqlite = Settings(home=tmp_path / "sqlite_home")
        restore_backup(back, on_sqlite)
        assert state_rows(on_sqlite.state_store_url, on_sqlite.home) == archived["state"]
        assert published_marts(on_sqlite.published_db) == archived["marts"]
        # a second restore onto the same database is refused, then replaces with force
        with pytest.raises(BackupError, match="already holds rows in"):
            restore_backup(archived["archive"], Settings(home=tmp_path / "third", state_url=pg_url))
        assert not (tmp_path / "third").exists()
        restore_backup(
            archived["archive"], Settings(home=tmp_path / "third", state_url=pg_url), force=True
        )
        assert state_rows(pg_url, tmp_path / "third") == archived["state"]


# -- a restore's own rules ---------------------------------------------------------------------
def test_small_home_round_trip_in_every_compression(small_home: Settings, tmp_path: Path):
    before = snapshot(small_home.home)
    rows = state_rows(small_home.state_store_url, small_home.home)
    for name in ("b.tar", "b.tar.gz", "b.tgz", "b.tar.zst", "b.tzst"):
        archive = tmp_path / name
        create_backup(small_home, archive)
        target = Settings(home=tmp_path / f"restored_{name.replace('.', '_')}")
        summary = restore_backup(archive, target)
        assert summary.tables["import_jobs"] == 1
        restored = snapshot(target.home)
        assert {k: v for k, v in restored.items() if k != "state.db"} == {
            k: v for k, v in before.items() if not k.startswith("state.db")
        }
        assert (target.landing).is_dir()  # empty folders come back
        assert state_rows(target.state_store_url, target.home) == rows
        job = StateStore(target.state_store_url).get_job("b1")
        assert job is not None and job.details["archived"] == str(target.archive / "b1.csv")


def test_the_serving_and_rollback_versions_are_kept_and_roll_back_after_restore(
    small_home: Settings, tmp_path: Path
):
    import pandas as pd

    from siteledger.warehouse import Warehouse, write_build_tables

    store = StateStore(small_home.state_store_url)
    warehouse = Warehouse(small_home, store)
    published = []
    for n in (1, 2, 3):
        write_build_tables(small_home, {"fct_x": pd.DataFrame({"n": list(range(n))})})
        published.append(warehouse.publish(["marts"], note=f"v{n}").version_id)
    store.dispose()
    archive = tmp_path / "w.tar.zst"
    manifest = create_backup(small_home, archive).manifest
    assert manifest["warehouse"]["kept_versions"] == [published[2], published[1]]
    assert manifest["home"]["excluded"]["warehouse/versions"]["files"] > 0  # the first one
    names = {m["name"] for m in manifest["members"]}
    assert not any(published[0] in name for name in names)

    target = Settings(home=tmp_path / "restored")
    restore_backup(archive, target)
    assert published_marts(target.published_db) == {"fct_x": [(0,), (1,), (2,)]}
    restored = Warehouse(target, StateStore(target.state_store_url))
    assert restored.rollback().version_id == published[1]
    assert published_marts(target.published_db) == {"fct_x": [(0,), (1,)]}
    assert (target.published_parquet / "fct_x.parquet").exists()


def test_report_artefacts_outside_the_home_are_named(small_home: Settings, tmp_path: Path):
    from reports.registry import Registry
    from tests.cli.conftest import report_record

    outside = tmp_path / "elsewhere.pdf"
    outside.write_bytes(b"%PDF")
    inside = small_home.reports_dir / "hand_site" / "r.csv"
    inside.parent.mkdir(parents=True)
    inside.write_text("a,b\n")
    record = report_record(
        "monthly_water_return",
        "hand_site",
        "2025-07",
        dt.date(2025, 7, 1),
        dt.date(2025, 7, 31),
        dt.date(2025, 8, 31),
    )
    record.artifacts = {
        "pdf": {"path": str(outside), "sha256": sha256(outside)},
        "csv": {"path": str(inside), "sha256": sha256(inside)},
        "xml": {"path": str(inside.with_name("gone.xml")), "sha256": "0" * 64},
    }
    store = StateStore(small_home.state_store_url)
    Registry(store).add(record)
    store.dispose()
    manifest = create_backup(small_home, tmp_path / "r.tar").manifest
    assert manifest["reports"] == {
        "artefacts": 3,
        "outside_home": [str(outside)],
        "missing": [str(inside.with_name("gone.xml"))],
    }
    assert "home/reports/hand_site/r.csv" in {m["name"] for m in manifest["members"]}


def test_an_unknown_archive_ending_is_refused(small_home: Settings, tmp_path: Path):
    with pytest.raises(BackupError, match=r"ends in one of \.tar"):
        create_backup(small_home, tmp_path / "backup.zip")
    assert not list(tmp_path.glob("backup.zip*"))


def test_a_backup_inside_the_home_leaves_itself_out(small_home: Settings):
    archive = small_home.home / "backups" / "self.tar.gz"
    create_backup(small_home, archive)
    names = {m["name"] for m in verify_backup(archive)["members"]}
    assert not any("backups" in n for n in names)


def test_restore_refuses_a_home_that_is_not_empty_unless_forced(small_home: Settings, tmp_path):
    archive = tmp_path / "b.tar.zst"
    create_backup(small_home, archive)
    target = Settings(home=tmp_path / "busy")
    target.home.mkdir()
    (target.home / "keep.txt").write_text("mine")
    with pytest.raises(BackupError, match=r"is not empty; .* pass --force"):
        restore_backup(archive, target)
    assert snapshot(target.home) == {"keep.txt": sha256(target.home / "keep.txt")}
    restore_backup(archive, target, force=True)
    assert not (target.home / "keep.txt").exists()
    assert (target.sites_dir / "hand_site.yaml").read_bytes() == HAND_SITE_FILE.read_bytes()
    assert not [p for p in tmp_path.iterdir() if ".restore-" in p.name or ".replaced-" in p.name]


def test_a_restore_that_fails_late_leaves_the_home_as_it_was(
    small_home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import siteledger.backup as backup

    archive = tmp_path / "b.tar"
    create_backup(small_home, archive)
    target = Settings(home=tmp_path / "busy")
    target.home.mkdir()
    (target.home / "keep.txt").write_text("mine")

    def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(backup, "load_state", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        restore_backup(archive, target, force=True)
    assert snapshot(target.home) == {"keep.txt": sha256(target.home / "keep.txt")}
    assert not [p for p in tmp_path.iterdir() if ".restore-" in p.name]


def test_a_restore_that_would_not_fit_on_the_disk_is_refused(
    small_home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    archive = tmp_path / "b.tar.zst"
    create_backup(small_home, archive)
    real = shutil.disk_usage

    def nearly_full(path: Any) -> Any:
        return real(path)._replace(free=1000)

    monkeypatch.setattr(shutil, "disk_usage", nearly_full)
    with pytest.raises(BackupError, match=r"needs \d+ MB and .* has 0 MB free"):
        restore_backup(archive, Settings(home=tmp_path / "new"))
    assert not (tmp_path / "new").exists()


# -- hostile archives --------------------------------------------------------------------------
def _members(archive: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(archive) as tar:
        return [(m, tar.extractfile(m).read() if m.isreg() else b"") for m in tar]  # type: ignore[union-attr]


def _write(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _with_manifest(
    members: list[tuple[tarfile.TarInfo, bytes]], change: Callable[[dict[str, Any]], None]
) -> list[tuple[tarfile.TarInfo, bytes]]:
    info, data = members[0]
    manifest = json.loads(data)
    change(manifest)
    return [_file(info.name, json.dumps(manifest).encode()), *members[1:]]


def _symlink(name: str, target: str) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info, b""


def _device(name: str) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = tarfile.CHRTYPE
    info.devmajor, info.devminor = 1, 3
    return info, b""


def _hostile_cases(good: Path, tmp: Path) -> dict[str, tuple[Path, str]]:
    members = _members(good)
    raw = good.read_bytes()
    site = next(i for i, (m, _) in enumerate(members) if m.name == "home/sites/hand_site.yaml")
    flipped = bytearray(raw)
    at = raw.index(members[site][1][:64]) + 10
    flipped[at] ^= 0x01
    (tmp / "flipped.tar").write_bytes(bytes(flipped))
    (tmp / "truncated.tar").write_bytes(raw[: raw.index(members[site][1][:64]) + 100])
    gz = gzip.compress(raw)
    (tmp / "truncated.tar.gz").write_bytes(gz[: len(gz) // 2])
    outside = str(tmp / "outside.txt")
    listed = _with_manifest(
        members,
        lambda m: m["members"].append(
            {"name": "home/sites/ghost.yaml", "size": 3, "sha256": "0" * 64}
        ),
    )
    return {
        "flipped": (tmp / "flipped.tar", "'home/sites/hand_site.yaml' fails its checksum"),
        "truncated": (tmp / "truncated.tar", "truncated or damaged"),
        "truncated gzip": (tmp / "truncated.tar.gz", "truncated or damaged"),
        "traversal": (
            _write(tmp / "dotdot.tar", [members[0], _file("../../etc/x", b"x"), *members[1:]]),
            "member '../../etc/x' climbs out of the target folder",
        ),
        "absolute": (
            _write(tmp / "abs.tar", [members[0], _file(outside, b"x"), *members[1:]]),
            f"member '{outside.lstrip('/')}'|member '{outside}' is an absolute path",
        ),
        "symlink": (
            _write(tmp / "link.tar", [members[0], _symlink("home/sites/x", "/etc"), *members[1:]]),
            "member 'home/sites/x' is a symbolic link",
        ),
        "device": (
            _write(tmp / "dev.tar", [members[0], _device("home/null"), *members[1:]]),
            "member 'home/null' is a device",
        ),
        "duplicate": (
            _write(tmp / "twice.tar", [*members, members[site]]),
            "member 'home/sites/hand_site.yaml' appears twice",
        ),
        "unlisted": (
            _write(tmp / "extra.tar", [*members, _file("home/sites/extra.yaml", b"site: {}")]),
            "member 'home/sites/extra.yaml' is not listed in the manifest",
        ),
        "newer format": (
            _write(tmp / "v2.tar", _with_manifest(members, lambda m: m.update(format_version=2))),
            "backup format 2 .* is newer than the format 1",
        ),
        "newer major": (
            _write(
                tmp / "v99.tar",
                _with_manifest(members, lambda m: m.update(siteledger_version="99.1.0")),
            ),
            "written by siteledger 99.1.0, a newer major version",
        ),
        "no manifest": (_write(tmp / "nomanifest.tar", members[1:]), "no manifest.json"),
        "missing member": (
            _write(tmp / "ghost.tar", listed),
            "does not hold, first 'home/sites/ghost.yaml'",
        ),
        "manifest traversal": (
            _write(
                tmp / "mdotdot.tar",
                _with_manifest(
                    members,
                    lambda m: m["home"]["links"].append(
                        {"name": "home/evil", "target": "../../../etc"}
                    ),
                ),
            ),
            "manifest link 'home/evil' points at '../../../etc', outside the home",
        ),
        "not an archive": (tmp / "junk.tar", "truncated or damaged|no manifest"),
    }


def test_hostile_archives_are_refused_and_the_home_is_untouched(small_home: Settings, tmp_path):
    good = tmp_path / "good.tar"
    create_backup(small_home, good)
    (tmp_path / "junk.tar").write_bytes(b"\x00not a tar at all" * 100)
    target = Settings(home=tmp_path / "target")
    target.home.mkdir()
    (target.home / "keep.txt").write_text("mine")
    cases = _hostile_cases(good, tmp_path)
    for case, (archive, message) in cases.items():
        # over a home (forced) and into a new one: refused before anything is written
        with pytest.raises(BackupError, match=message) as raised:
            restore_backup(archive, target, force=True)
        assert str(archive) in str(raised.value), case
        assert "Nothing was written" in str(raised.value), case
        with pytest.raises(BackupError, match=message):
            restore_backup(archive, Settings(home=tmp_path / "new"))
        assert not (tmp_path / "new").exists(), case
        with pytest.raises(BackupError, match=message):
            verify_backup(archive)
        assert snapshot(target.home) == {"keep.txt": sha256(target.home / "keep.txt")}, case
        assert not (tmp_path / "outside.txt").exists()
        assert not [p for p in tmp_path.iterdir() if ".restore-" in p.name], case
    # the untouched original still restores
    restore_backup(good, target, force=True)
    assert (target.sites_dir / "hand_site.yaml").exists()


# -- configuration between homes ---------------------------------------------------------------
def test_configuration_moves_between_homes(small_home: Settings, tmp_path: Path):
    (small_home.home / "alerts").mkdir()
    (small_home.home / "alerts" / "channels.yaml").write_text("channels: []\n")
    exported = tmp_path / "config.tar.gz"
    summary = export_config(small_home, exported)
    names = sorted(m["name"] for m in summary.manifest["members"])
    assert names == ["home/alerts/channels.yaml", "home/sites/hand_site.yaml"]
    other = Settings(home=tmp_path / "other")
    result = import_config(exported, other)
    assert result.written == ["alerts/channels.yaml", "sites/hand_site.yaml"]
    assert sha256(other.sites_dir / "hand_site.yaml") == sha256(HAND_SITE_FILE)
    assert import_config(exported, other).unchanged == result.written
    # a differing file is replaced only with force
    (other.home / "alerts" / "channels.yaml").write_text("channels: [changed]\n")
    with pytest.raises(BackupError, match=r"other content: \['alerts/channels.yaml'\]"):
        import_config(exported, other)
    assert import_config(exported, other, force=True).written == ["alerts/channels.yaml"]
    # a configuration export is not a backup
    with pytest.raises(BackupError, match="configuration export: use `siteledger config import`"):
        restore_backup(exported, Settings(home=tmp_path / "nothing"))
    # and a full backup's configuration imports too
    full = tmp_path / "full.tar.zst"
    create_backup(small_home, full)
    assert import_config(full, Settings(home=tmp_path / "third")).written == [
        "alerts/channels.yaml",
        "sites/hand_site.yaml",
    ]


def test_an_invalid_site_file_is_refused_with_file_and_line(small_home: Settings, tmp_path):
    text = HAND_SITE_FILE.read_text()
    bad = text.replace("timezone: Australia/Perth", "timezone: Mars/Olympus_Mons", 1)
    assert bad != text
    (small_home.sites_dir / "hand_site.yaml").write_text(bad)
    exported = tmp_path / "config.tar"
    export_config(small_home, exported)
    other = Settings(home=tmp_path / "other")
    line = r"config\.tar:sites/hand_site\.yaml:9: site\.timezone: unknown time zone"
    with pytest.raises(BackupError, match=line) as raised:
        import_config(exported, other)
    assert "nothing was written" in str(raised.value)
    assert not other.home.exists()


def test_cli_backup_verify_restore_and_config(small_home: Settings, tmp_path: Path):
    from tests.cli.conftest import invoke

    archive = tmp_path / "cli.tar.zst"
    created = invoke(small_home.home, "backup", "create", str(archive))
    assert created.exit_code == 0, created.output
    assert "(1 rows)" in created.output  # the one import job
    verified = invoke(small_home.home, "backup", "verify", str(archive))
    assert verified.exit_code == 0 and "every sha256 checked" in verified.output
    assert "left out state.db" in verified.output
    target = tmp_path / "cli_home"
    restored = invoke(target, "backup", "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert (target / "sites" / "hand_site.yaml").exists()
    again = invoke(target, "backup", "restore", str(archive))
    assert again.exit_code == 1 and "is not empty" in again.output
    exported = invoke(small_home.home, "config", "export", str(tmp_path / "c.tar.gz"))
    assert exported.exit_code == 0 and "sites/hand_site.yaml" in exported.output
    imported = invoke(tmp_path / "fresh", "config", "import", str(tmp_path / "c.tar.gz"))
    assert imported.exit_code == 0 and "1 files written" in imported.output


def test_a_partial_index_condition_reflected_from_postgresql_reads_in_sqlite():
    """PostgreSQL reflects the alert events' open-fingerprint condition in its own dialect; the
    archive holds it in a form SQLite and PostgreSQL both parse."""
    import sqlalchemy as sa

    from siteledger.backup import _portable_where

    reflected = (
        "((state)::text = ANY ((ARRAY['pending'::character varying, "
        "'firing'::character varying])::text[]))"
    )
    portable = _portable_where(reflected)
    assert portable == "((state) IN ('pending', 'firing'))"
    assert _portable_where(portable) == portable  # SQLite's own text stays as it is
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(sa.text("create table t (fingerprint text, state text)"))
        conn.execute(sa.text(f"create unique index u on t (fingerprint) where {portable}"))
        conn.execute(sa.text("insert into t values ('a', 'firing'), ('a', 'resolved')"))
        with pytest.raises(sa.exc.IntegrityError):
            conn.execute(sa.text("insert into t values ('a', 'pending')"))
