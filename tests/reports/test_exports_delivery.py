"""Exports end to end on the hand site, built and published (its names made hostile): a
selection of two facilities and three days equal to the balances computed by hand, in every
format; the same files byte-identical in a local folder, S3 (moto), an e-mail (aiosmtpd) and on
a real SFTP server (asyncssh); retention on each; formula injection neutralised; a destination
down recorded while the others are delivered; an unknown SFTP host key refused."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import shutil
import socket
import zipfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import openpyxl
import pyarrow.parquet as pq
import pytest
from lxml import etree

from reports.delivery import S3Target
from reports.exports import ExportDefinition, ExportHistory, Targets, render, run_export
from reports.exports.sftp import SftpTarget
from siteledger.state import StateStore
from tests.alerts.servers import SmtpReceiver
from tests.dbt.hand_expected import CLOSING_M3, FLOW_M3, OPENING_M3
from tests.dbt.hand_lake import D1, D2, D3
from tests.dbt.runner import shared_home
from tests.reports.exports_fixture import (
    HOSTILE_NAMES,
    HOSTILE_SITE_NAME,
    SFTP_PASSWORD,
    SftpServer,
    build_hostile_hand_home,
)
from tests.reports.test_delivery import AWS_ENV, _start_moto

pytestmark = pytest.mark.integration

BUCKET = "exports-bucket"
AS_OF = dt.date(2025, 8, 1)


@pytest.fixture(scope="session")
def published_hand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_home(tmp_path_factory, "exports_hostile_hand", build_hostile_hand_home)


@pytest.fixture
def home(published_hand: Path, tmp_path: Path) -> Path:
    """A fresh home on a copy of the published warehouse (its own state store and folders)."""
    target = tmp_path / "home"
    (target / "warehouse").mkdir(parents=True)
    shutil.copy(
        published_hand / "warehouse" / "siteledger.duckdb",
        target / "warehouse" / "siteledger.duckdb",
    )
    return target


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = _start_moto(port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def s3(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> S3Target:
    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3", endpoint_url=moto_url)
    if BUCKET not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
        client.create_bucket(Bucket=BUCKET)
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    return S3Target(bucket=BUCKET, prefix="org", endpoint_url=moto_url)


@pytest.fixture
def sftp_server(tmp_path: Path) -> Iterator[SftpServer]:
    with SftpServer(tmp_path / "sftp_root") as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as receiver:
        yield receiver


def definition(**fields: object) -> ExportDefinition:
    base: dict[str, object] = {
        "name": "dam_plant",
        "source": {
            "mart": "fct_node_balance_daily",
            "sites": ["hand_site"],
            "facilities": ["dam", "plant"],
            "columns": ["node_id", "day", "inflow_m3", "outflow_m3", "storage_change_m3"],
            "dates": {"from": D1.isoformat(), "to": D3.isoformat()},
        },
        "formats": ["csv", "xlsx", "json", "parquet", "xml"],
    }
    return ExportDefinition.model_validate(base | fields)


def history(home: Path) -> ExportHistory:
    return ExportHistory(StateStore(f"sqlite:///{home / 'state.db'}"))


def db(home: Path) -> Path:
    return home / "warehouse" / "siteledger.duckdb"


def hand_rows() -> list[tuple[str, dt.date, float, float, float]]:
    """The dam and the plant on D1..D3, from the flows computed by hand."""
    rows = []
    for day in (D1, D2, D3):
        dam_in = sum(FLOW_M3[(f, day)] for f in ("river_to_dam", "bores_to_dam", "rain_on_dam"))
        dam_out = sum(
            FLOW_M3[(f, day)]
            for f in ("dam_to_plant", "dam_to_creek", "dam_evaporation", "dam_seepage")
        )
        rows.append(("dam", day, dam_in, dam_out, CLOSING_M3[day] - OPENING_M3[day]))
    for day in (D1, D2, D3):
        rows.append(
            ("plant", day, FLOW_M3[("dam_to_plant", day)], FLOW_M3[("plant_to_tailings", day)], 0.0)
        )
    return rows


def assert_rows(got: list[tuple], expected: list[tuple]) -> None:
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g[:2] == e[:2]
        assert g[2:] == pytest.approx(e[2:], abs=1e-6), (g, e)


def test_a_selection_of_two_facilities_and_three_days_is_the_hand_computed_balance(home: Path):
    data, meta, files = render(definition(), AS_OF, db(home))
    expected = hand_rows()
    # the hand figures: dam D1 in 2 400 + 3 600, out 4 920 + 1 200 + 112 + 8.0645; plant D2
    # in 4 920, out 4 800
    assert expected[0][2:4] == pytest.approx((6_000.0, 6_240.0645), abs=1e-4)
    assert expected[4][2:4] == (4_920.0, 4_800.0)
    assert_rows(data.rows, expected)
    by_format = {f.format: f.data for f in files}

    lines = list(csv.reader(io.StringIO(by_format["csv"].decode())))
    assert lines[0] == ["node_id", "day", "inflow_m3", "outflow_m3", "storage_change_m3"]
    assert_rows(
        [(r[0], dt.date.fromisoformat(r[1]), *map(float, r[2:])) for r in lines[1:]], expected
    )

    doc = json.loads(by_format["json"])
    assert doc["export"]["row_count"] == 6 and doc["export"]["source_mart"] == data.mart
    assert doc["export"]["filters"]["facilities"] == ["dam", "plant"]
    assert_rows(
        [
            (
                r["node_id"],
                dt.date.fromisoformat(r["day"]),
                r["inflow_m3"],
                r["outflow_m3"],
                r["storage_change_m3"],
            )
            for r in doc["rows"]
        ],
        expected,
    )

    table = pq.read_table(io.BytesIO(by_format["parquet"]))
    assert_rows([tuple(r.values()) for r in table.to_pylist()], expected)
    info = table.schema.metadata
    assert info[b"siteledger.warehouse_version"].decode() == data.warehouse_version
    assert info[b"siteledger.row_count"] == b"6"

    book = openpyxl.load_workbook(io.BytesIO(by_format["xlsx"]))
    sheet_rows = list(book["Data"].iter_rows(min_row=2, values_only=True))
    assert_rows([(r[0], r[1].date(), *r[2:]) for r in sheet_rows], expected)
    facts = dict(book["Metadata"].iter_rows(min_row=2, values_only=True))
    assert facts["source_mart"] == "fct_node_balance_daily"
    assert facts["warehouse_version"] == data.warehouse_version
    assert facts["row_count"] == "6"
    assert json.loads(facts["filters"])["date_to"] == D3.isoformat()
    assert facts["generated_at"] == meta.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    docs = {r[0]: r[2] for r in book["Columns"].iter_rows(min_row=2, values_only=True)}
    assert docs["inflow_m3"].startswith("Sum of the day's volumes")  # from the dbt YAML

    root = etree.fromstring(by_format["xml"], etree.XMLParser(resolve_entities=False))
    ns = {"e": "urn:siteledger:export:1.0"}
    xml_rows = [{v.get("c"): v.text for v in row} for row in root.findall("e:rows/e:row", ns)]
    assert_rows(
        [
            (
                r["node_id"],
                dt.date.fromisoformat(r["day"]),
                float(r["inflow_m3"]),
                float(r["outflow_m3"]),
                float(r["storage_change_m3"]),
            )
            for r in xml_rows
        ],
        expected,
    )
    # the same warehouse version gives the same bytes, every format
    assert {f.format: f.data for f in render(definition(), AS_OF, db(home))[2]} == by_format


def _environment(
    monkeypatch: pytest.MonkeyPatch,
    home: Path,
    s3: S3Target,
    smtp: SmtpReceiver,
    server: SftpServer,
) -> Targets:
    """Every destination configured the way production is: from the environment."""
    values = {
        "SITELEDGER_EXPORT_DIR": str(home / "outbox"),
        "SITELEDGER_S3_BUCKET": s3.bucket,
        "SITELEDGER_S3_PREFIX": s3.prefix,
        "SITELEDGER_S3_ENDPOINT_URL": s3.endpoint_url or "",
        "SITELEDGER_SMTP_HOST": "127.0.0.1",
        "SITELEDGER_SMTP_PORT": str(smtp.port),
        "SITELEDGER_SMTP_FROM": "exports@siteledger.example",
        "SITELEDGER_SFTP_HOST": "127.0.0.1",
        "SITELEDGER_SFTP_PORT": str(server.port),
        "SITELEDGER_SFTP_USER": "exporter",
        "SITELEDGER_SFTP_PASSWORD": SFTP_PASSWORD,
        "SITELEDGER_SFTP_HOST_KEY": server.public_key,
        "SITELEDGER_SFTP_PATH": "inbound",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return Targets.from_env(home)


EVERYWHERE = [
    {"type": "folder", "path": "regulator/monthly"},
    {"type": "s3", "prefix": "exports/monthly"},
    {"type": "email", "to": ["officer@site.example", "analyst@site.example"]},
    {"type": "sftp", "path": "monthly"},
]


def test_one_run_lands_byte_identical_in_a_folder_s3_an_email_and_sftp(
    home: Path,
    s3: S3Target,
    smtp: SmtpReceiver,
    sftp_server: SftpServer,
    monkeypatch: pytest.MonkeyPatch,
):
    targets = _environment(monkeypatch, home, s3, smtp, sftp_server)
    assert targets.sftp is not None and targets.sftp.port == sftp_server.port
    run = run_export(
        definition(destinations=EVERYWHERE),
        db(home),
        history(home),
        targets,
        as_of=AS_OF,
        attempts=1,
    )
    assert run.status == "succeeded", run.destinations
    assert [d["status"] for d in run.destinations] == ["succeeded"] * 4
    names = [f["name"] for f in run.files]
    assert names == [
        f"dam_plant_2025-07-01_2025-07-03.{x}" for x in ("csv", "xlsx", "json", "parquet", "xml")
    ]
    sha = {f["name"]: f["sha256"] for f in run.files}

    folder = {n: (home / "outbox" / "regulator" / "monthly" / n).read_bytes() for n in names}
    client = boto3.client("s3", endpoint_url=s3.endpoint_url)
    in_s3 = {
        n: client.get_object(Bucket=BUCKET, Key=f"org/exports/monthly/{n}")["Body"].read()
        for n in names
    }
    (mail,) = smtp.messages
    assert sorted(mail.rcpt_tos) == ["analyst@site.example", "officer@site.example"]
    message = mail.message
    mailed = {
        part.get_filename(): part.get_payload(decode=True) for part in message.iter_attachments()
    }
    on_sftp = {n: (sftp_server.root / "inbound" / "monthly" / n).read_bytes() for n in names}
    for name in names:
        assert hashlib.sha256(folder[name]).hexdigest() == sha[name]
        assert folder[name] == in_s3[name] == mailed[name] == on_sftp[name], name
    # whole files only: no temporary name left behind
    assert sorted(p.name for p in (sftp_server.root / "inbound" / "monthly").iterdir()) == sorted(
        names
    )
    assert sorted(p.name for p in (home / "outbox" / "regulator" / "monthly").iterdir()) == sorted(
        names
    )

    (recorded,) = history(home).runs("dam_plant")
    assert recorded.run_id == run.run_id and recorded.rows == 6
    assert recorded.bytes_total == sum(len(b) for b in folder.values())
    assert recorded.duration_s is not None and recorded.duration_s > 0
    assert recorded.warehouse_version and recorded.finished_at is not None
    assert [d["type"] for d in recorded.destinations] == ["folder", "s3", "email", "sftp"]


def test_each_destination_keeps_only_the_newest_runs(
    home: Path,
    s3: S3Target,
    smtp: SmtpReceiver,
    sftp_server: SftpServer,
    monkeypatch: pytest.MonkeyPatch,
):
    targets = _environment(monkeypatch, home, s3, smtp, sftp_server)
    export = definition(
        source={"mart": "fct_store_levels_daily", "dates": "yesterday"},
        formats=["csv", "parquet"],
        destinations=[d for d in EVERYWHERE if d["type"] != "email"],
        retention={"keep_last": 2},
    )
    # an unrelated file and another export's file in the same folders stay
    (home / "outbox" / "regulator" / "monthly").mkdir(parents=True)
    (home / "outbox" / "regulator" / "monthly" / "readme.txt").write_text("keep me")
    (home / "outbox" / "regulator" / "monthly" / "dam_plant_x_2025-07-01.csv").write_text("x")
    runs = [
        run_export(export, db(home), history(home), targets, as_of=day, attempts=1)
        for day in (dt.date(2025, 7, 2), dt.date(2025, 7, 3), dt.date(2025, 7, 4))
    ]
    assert [r.status for r in runs] == ["succeeded"] * 3
    assert [r.rows for r in runs] == [1, 1, 1]  # the dam, one day each
    assert runs[0].destinations[0]["removed"] == []
    removed = {d["type"]: d["removed"] for d in runs[2].destinations}
    oldest = ["dam_plant_2025-07-01.csv", "dam_plant_2025-07-01.parquet"]
    assert removed == {"folder": oldest, "s3": oldest, "sftp": oldest}
    kept = [f"dam_plant_2025-07-0{d}.{x}" for d in (2, 3) for x in ("csv", "parquet")]
    folder = home / "outbox" / "regulator" / "monthly"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*kept, "readme.txt", "dam_plant_x_2025-07-01.csv"]
    )
    client = boto3.client("s3", endpoint_url=s3.endpoint_url)
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert sorted(keys) == [f"org/exports/monthly/{n}" for n in kept]
    assert sorted(p.name for p in (sftp_server.root / "inbound" / "monthly").iterdir()) == kept


def test_text_cells_never_run_as_formulas(home: Path):
    export = definition(
        source={
            "mart": "dim_nodes",
            "columns": ["site_name", "node_id", "node_name", "capacity_m3"],
            "facilities": sorted(HOSTILE_NAMES),
        },
        formats=["csv", "xlsx", "json"],
    )
    _, _, files = render(export, AS_OF, db(home))
    by_format = {f.format: f.data for f in files}
    escaped = {node: "'" + name for node, name in HOSTILE_NAMES.items()}

    rows = list(csv.reader(io.StringIO(by_format["csv"].decode(), newline="")))[1:]
    assert len(rows) == 6 and {r[1]: r[2] for r in rows} == escaped
    assert {r[0] for r in rows} == {"'" + HOSTILE_SITE_NAME}
    assert {r[1]: r[3] for r in rows}["dam"] == "100000.0"  # numbers untouched

    book = openpyxl.load_workbook(io.BytesIO(by_format["xlsx"]))
    sheet = book["Data"]
    cells = {r[1]: r[2] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert cells == escaped
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    with zipfile.ZipFile(io.BytesIO(by_format["xlsx"])) as z:
        assert all(b"<f>" not in z.read(n) for n in z.namelist() if n.endswith(".xml"))
    # JSON is data, not a spreadsheet: names as they are
    doc = json.loads(by_format["json"])
    names = {r["node_id"]: r["node_name"] for r in doc["rows"]}
    assert {k: names[k] for k in HOSTILE_NAMES} == HOSTILE_NAMES


def test_a_destination_down_is_recorded_and_the_others_still_get_the_files(
    home: Path, sftp_server: SftpServer
):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    targets = Targets(
        export_root=home / "outbox",
        s3=S3Target(
            bucket=BUCKET,
            endpoint_url=f"http://127.0.0.1:{closed}",
            access_key_id="k",
            secret_access_key="s3-secret-not-logged",
        ),
        smtp=None,
        sftp=sftp_server.target(),
    )
    waits: list[float] = []
    run = run_export(
        definition(destinations=EVERYWHERE),
        db(home),
        history(home),
        targets,
        as_of=AS_OF,
        attempts=2,
        backoff_s=0.01,
        sleep=waits.append,
    )
    assert run.status == "partial"
    status = {d["type"]: d for d in run.destinations}
    assert status["folder"]["status"] == status["sftp"]["status"] == "succeeded"
    assert status["s3"]["status"] == "failed" and status["s3"]["attempts"] == 2
    assert "Could not connect" in status["s3"]["error"]
    # not configured: refused at once, no retry
    assert status["email"]["status"] == "failed" and status["email"]["attempts"] == 1
    assert "SITELEDGER_SMTP_HOST is not set" in status["email"]["error"]
    assert waits == [0.01]
    assert "s3-secret-not-logged" not in json.dumps(run.as_dict(), default=str)
    assert len(list((sftp_server.root / "monthly").iterdir())) == 5
    assert history(home).get(run.run_id).status == "partial"  # type: ignore[union-attr]


def test_an_export_that_cannot_be_read_is_a_failed_run_not_a_crash(home: Path):
    (home / "warehouse" / "siteledger.duckdb").unlink()
    run = run_export(definition(), db(home), history(home), Targets(home / "outbox"), as_of=AS_OF)
    assert run.status == "failed" and "no published warehouse" in (run.error or "")
    assert run.finished_at is not None


def test_an_unknown_sftp_host_key_is_refused(home: Path, sftp_server: SftpServer, tmp_path: Path):
    import asyncssh

    stranger = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    export = definition(formats=["csv"], destinations=[{"type": "sftp", "path": "x"}])
    for target in (
        sftp_server.target(host_key=stranger),  # a changed key
        sftp_server.target(host_key=None, known_hosts=str(tmp_path / "none")),  # no known hosts
    ):
        run = run_export(
            export,
            db(home),
            history(home),
            Targets(home / "o", sftp=target),
            as_of=AS_OF,
            attempts=3,
            sleep=lambda s: None,
        )
        (outcome,) = run.destinations
        assert run.status == "failed" and outcome["status"] == "failed"
        assert outcome["attempts"] == 1, outcome  # permanent: no retry
        assert "cannot be verified" in outcome["error"] or "not trusted" in outcome["error"]
    assert not (sftp_server.root / "x").exists()
    # the same server, known from a known_hosts file: accepted
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{sftp_server.port} {sftp_server.public_key}\n")
    target = sftp_server.target(host_key=None, known_hosts=str(known))
    run = run_export(
        export, db(home), history(home), Targets(home / "o", sftp=target), as_of=AS_OF, attempts=1
    )
    assert run.status == "succeeded"
    assert (sftp_server.root / "x" / "dam_plant_2025-07-01_2025-07-03.csv").exists()


def test_a_wrong_sftp_password_is_a_permanent_failure(home: Path, sftp_server: SftpServer):
    target: SftpTarget = sftp_server.target(password="wrong-password-xyz")
    export = definition(formats=["csv"], destinations=[{"type": "sftp", "path": "x"}])
    run = run_export(
        export,
        db(home),
        history(home),
        Targets(home / "o", sftp=target),
        as_of=AS_OF,
        attempts=3,
        sleep=lambda s: None,
    )
    (outcome,) = run.destinations
    assert outcome["attempts"] == 1 and "login refused" in outcome["error"]
    assert "wrong-password-xyz" not in json.dumps(run.as_dict(), default=str)


def test_a_folder_destination_cannot_be_led_outside_by_a_symlink(home: Path, tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (home / "outbox").mkdir()
    (home / "outbox" / "link").symlink_to(outside)
    export = definition(formats=["csv"], destinations=[{"type": "folder", "path": "link/sub"}])
    run = run_export(
        export, db(home), history(home), Targets(home / "outbox"), as_of=AS_OF, attempts=1
    )
    assert run.status == "failed" and "outside the export folder" in run.destinations[0]["error"]
    assert list(outside.iterdir()) == []
