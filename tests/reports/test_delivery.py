"""Delivery against a real local S3 endpoint (moto server) and a real SMTP server (aiosmtpd):
the exact bytes arrive; a failure is retried, recorded, and succeeds once the server is up."""

from __future__ import annotations

import email
import email.policy
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from aiosmtpd.controller import Controller

from reports.delivery import (
    S3Target,
    SmtpTarget,
    deliver,
    send_email,
    upload_s3,
    with_retries,
)
from reports.registry import Registry, ReportRecord
from siteledger.state import StateStore
from siteledger.state.store import utcnow

pytestmark = pytest.mark.integration

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "super-secret-aws-key",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_moto(port: int) -> subprocess.Popen:
    moto = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("moto_server did not start")


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch):
    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def record(tmp_path: Path) -> tuple[Registry, ReportRecord]:
    """A registered report with three artifacts on disk (binary bytes included)."""
    registry = Registry(StateStore(f"sqlite:///{tmp_path / 'state.db'}"))
    folder = tmp_path / "reports"
    folder.mkdir()
    artifacts = {}
    import hashlib

    for fmt, data in {
        "pdf": b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n",
        "csv": "report_id,value\nx,1.5\nü,−2\n".encode(),
        "xml": b'<?xml version="1.0" encoding="UTF-8"?>\n<report/>\n',
    }.items():
        path = folder / f"monthly_return_demo_2025-07_v1.{fmt}"
        path.write_bytes(data)
        artifacts[fmt] = {
            "path": str(path),
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
        }
    import datetime as dt

    rec = ReportRecord(
        report_id="monthly_water_return.demo_mine.2025-07.v1-abc123",
        definition_id="monthly_water_return",
        report_type="monthly_water_return",
        regulator="WA DWER",
        site_id="demo_mine",
        period_kind="monthly",
        period_key="2025-07",
        period_start=dt.date(2025, 7, 1),
        period_end=dt.date(2025, 7, 31),
        due_date=dt.date(2025, 8, 14),
        version=1,
        status="validated",
        content_hash="0" * 64,
        definition_hash="1" * 64,
        warehouse_version="wv1",
        artifacts=artifacts,
        generated_at=utcnow(),
        generated_by="tests",
    )
    registry.add(rec)
    return registry, rec


def test_s3_upload_receives_the_exact_bytes(aws_env, record):
    _, rec = record
    port = _free_port()
    proc = _start_moto(port)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        s3 = boto3.client("s3", endpoint_url=endpoint)
        s3.create_bucket(Bucket="reports-bucket")
        target = S3Target.from_env(
            {
                "SITELEDGER_S3_BUCKET": "reports-bucket",
                "SITELEDGER_S3_PREFIX": "/regulatory/",
                "SITELEDGER_S3_ENDPOINT_URL": endpoint,
            }
        )
        result = upload_s3(rec, target)
        assert set(result["keys"]) == {"pdf", "csv", "xml"}
        for fmt, art in rec.artifacts.items():
            key = result["keys"][fmt]
            assert (
                key
                == f"regulatory/demo_mine/monthly_water_return/2025-07/v1/{Path(art['path']).name}"
            )
            obj = s3.get_object(Bucket="reports-bucket", Key=key)
            assert obj["Body"].read() == Path(art["path"]).read_bytes()
            assert obj["Metadata"]["sha256"] == art["sha256"]
    finally:
        proc.terminate()
        proc.wait(10)


def test_s3_failure_is_retried_recorded_then_succeeds_when_the_server_is_up(aws_env, record):
    registry, rec = record
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    target = S3Target(bucket="late-bucket", prefix="r", endpoint_url=endpoint)
    started: list[subprocess.Popen] = []
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:  # the endpoint comes up after the second failure
            started.append(_start_moto(port))
            boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="late-bucket")

    os.environ["AWS_MAX_ATTEMPTS"] = "1"  # botocore's own retries would hide our attempts
    try:
        outcomes = deliver(
            registry, rec, [], s3=target, smtp=None, attempts=4, backoff_s=0.5, sleep=sleep
        )
        assert [(o.channel, o.ok, o.attempts) for o in outcomes] == [("s3", True, 3)]
        assert sleeps == [0.5, 1.0]
        attempts = registry.attempts(rec.report_id)
        assert [(a.channel, a.attempt, a.status) for a in attempts] == [
            ("s3", 1, "failed"),
            ("s3", 2, "failed"),
            ("s3", 3, "succeeded"),
        ]
        assert "Could not connect" in attempts[0].error or "Connect" in attempts[0].error
        body = (
            boto3.client("s3", endpoint_url=endpoint)
            .get_object(Bucket="late-bucket", Key=attempts[2].details["keys"]["pdf"])["Body"]
            .read()
        )
        assert body == Path(rec.artifacts["pdf"]["path"]).read_bytes()
        # secrets never reach the registry
        for a in attempts:
            assert "super-secret-aws-key" not in f"{a.error} {a.details} {a.target}"
    finally:
        os.environ.pop("AWS_MAX_ATTEMPTS", None)
        for proc in started:
            proc.terminate()
            proc.wait(10)


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _smtp(port: int, inbox: _Inbox) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def test_email_delivers_every_attachment_byte_for_byte(record):
    _, rec = record
    inbox, port = _Inbox(), _free_port()
    controller = _smtp(port, inbox)
    try:
        target = SmtpTarget.from_env(
            {
                "SITELEDGER_SMTP_HOST": "127.0.0.1",
                "SITELEDGER_SMTP_PORT": str(port),
                "SITELEDGER_SMTP_FROM": "reports@mine.example",
            }
        )
        result = send_email(rec, target, ["officer@regulator.example", "copy@mine.example"])
    finally:
        controller.stop()
    assert result["recipients"] == ["officer@regulator.example", "copy@mine.example"]
    ((mail_from, rcpts, content),) = inbox.messages
    assert mail_from == "reports@mine.example"
    assert rcpts == ["officer@regulator.example", "copy@mine.example"]
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert message["X-Siteledger-Report-Id"] == rec.report_id
    attachments = {p.get_filename(): p.get_payload(decode=True) for p in message.iter_attachments()}
    assert set(attachments) == {Path(a["path"]).name for a in rec.artifacts.values()}
    for art in rec.artifacts.values():
        assert attachments[Path(art["path"]).name] == Path(art["path"]).read_bytes()
    assert rec.artifacts["pdf"]["sha256"] in message.get_body(("plain",)).get_content()


def test_email_failure_is_retried_and_recorded_without_the_password(record):
    registry, rec = record
    inbox, port = _Inbox(), _free_port()
    target = SmtpTarget(host="127.0.0.1", port=port, timeout=2.0)
    controllers: list[Controller] = []

    def sleep(seconds: float) -> None:
        if not controllers:
            controllers.append(_smtp(port, inbox))

    try:
        outcome = with_retries(
            registry,
            rec,
            "email",
            "officer@regulator.example",
            lambda: send_email(rec, target, ["officer@regulator.example"]),
            secrets=["hunter2-password"],
            attempts=3,
            backoff_s=0.01,
            sleep=sleep,
        )
    finally:
        for c in controllers:
            c.stop()
    assert outcome.ok and outcome.attempts == 2
    assert len(inbox.messages) == 1
    attempts = registry.attempts(rec.report_id)
    assert [(a.attempt, a.status) for a in attempts] == [(1, "failed"), (2, "succeeded")]
    assert "ConnectionRefusedError" in attempts[0].error


def test_all_attempts_failing_keeps_the_report_and_its_files(record):
    registry, rec = record
    port = _free_port()  # nothing listens here
    target = SmtpTarget(
        host="127.0.0.1", port=port, user="officer", password="hunter2-password", timeout=1.0
    )

    def failing() -> dict:
        raise OSError("login refused for officer/hunter2-password")

    outcome = with_retries(
        registry,
        rec,
        "email",
        "x@y.z",
        failing,
        secrets=[target.password],
        attempts=3,
        backoff_s=0,
        sleep=lambda s: None,
    )
    assert not outcome.ok and outcome.attempts == 3
    attempts = registry.attempts(rec.report_id)
    assert [a.status for a in attempts] == ["failed"] * 3
    assert all("hunter2" not in (a.error or "") for a in attempts)
    assert "***" in attempts[0].error
    assert "hunter2" not in repr(target)
    assert registry.get(rec.report_id).status == "validated"
    assert all(Path(a["path"]).exists() for a in rec.artifacts.values())


def test_a_changed_artifact_is_not_delivered(record):
    from reports.delivery import DeliveryError

    _, rec = record
    Path(rec.artifacts["csv"]["path"]).write_bytes(b"tampered")
    with pytest.raises(DeliveryError, match="changed since it was generated"):
        upload_s3(rec, S3Target(bucket="b"), client=object())


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (its own CA)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


def test_email_over_starttls_with_login(record, tls_files):
    import ssl

    from aiosmtpd.smtp import AuthResult

    registry, rec = record
    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret-pass")

    inbox, port = _Inbox(), _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    controller.start()
    try:
        env = {
            "SITELEDGER_SMTP_HOST": "127.0.0.1",
            "SITELEDGER_SMTP_PORT": str(port),
            "SITELEDGER_SMTP_USER": "reports",
            "SITELEDGER_SMTP_PASSWORD": "s3cret-pass",
            "SITELEDGER_SMTP_STARTTLS": "true",
            "SITELEDGER_SMTP_CA_FILE": cert,
        }
        outcomes = deliver(
            registry,
            rec,
            ["officer@regulator.example"],
            s3=None,
            smtp=SmtpTarget.from_env(env),
            attempts=1,
        )
        assert [o.ok for o in outcomes] == [True], outcomes
        assert logins == [(b"reports", b"s3cret-pass")]
        assert len(inbox.messages) == 1
        # without the CA the certificate is refused: nothing is sent, the failure is recorded
        unverified = SmtpTarget.from_env({**env, "SITELEDGER_SMTP_CA_FILE": ""})
        (failed,) = deliver(
            registry, rec, ["officer@regulator.example"], s3=None, smtp=unverified, attempts=1
        )
        assert not failed.ok and "CERTIFICATE_VERIFY_FAILED" in failed.error
        # a login without TLS is refused before the password leaves the process
        clear = SmtpTarget.from_env({**env, "SITELEDGER_SMTP_STARTTLS": "false"})
        (refused,) = deliver(
            registry, rec, ["officer@regulator.example"], s3=None, smtp=clear, attempts=1
        )
        assert not refused.ok and "refusing to send it in clear" in refused.error
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    for attempt in registry.attempts(rec.report_id):
        assert "s3cret-pass" not in f"{attempt.error} {attempt.details} {attempt.target}"
