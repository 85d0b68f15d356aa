"""``report_delivery_job`` in-process against a real moto S3 and a real aiosmtpd relay: a submitted
report's exact bytes land in the bucket and in the mail, every attempt is in the registry, a
failed channel is tried again on the next run and a delivered one is not."""

from __future__ import annotations

import email
import email.policy
import hashlib
import shutil
from pathlib import Path

import boto3
import pytest
from dagster import DagsterInstance
from sqlalchemy import select

from demo.report_data import synthetic_site
from orchestration.external import S3DeliveryResource, SmtpDeliveryResource
from orchestration.reports.delivery import report_delivery_job
from orchestration.resources import SiteledgerHome
from reports.definitions import load_definitions
from reports.registry import Registry, ReportRecord
from reports.service import _prepare, _render_and_register
from siteledger.settings import Settings
from siteledger.state import StateStore
from tests.reports.test_delivery import AWS_ENV, _free_port, _Inbox, _smtp, _start_moto

pytestmark = pytest.mark.integration
DEFINITION = "monthly_water_return"


def _submitted_report(home: Path) -> ReportRecord:
    """One monthly report of the synthetic site, generated (all five formats and the Sankey
    page) and submitted; and a validated one of the same site that must not be delivered."""
    settings = Settings(home=home)
    settings.ensure_dirs()
    store = StateStore(settings.state_store_url)
    registry = Registry(store)
    definition = next(d for d in load_definitions() if d.id == DEFINITION)
    data = synthetic_site(n_stores=1, n_months=1)
    [period] = data.periods(definition)
    # generate()'s own two steps, fed the synthetic site instead of the published warehouse
    prepared = _prepare(settings, registry, data, definition, period, [], "tests")
    assert isinstance(prepared, tuple)
    [outcome] = _render_and_register(registry, [prepared], workers=1)
    assert outcome.record.status == "validated", outcome.record.validation_errors
    record = registry.set_status(outcome.record.report_id, "submitted", "tests")
    unsubmitted = ReportRecord(
        **{
            **outcome.record.as_dict(),
            "report_id": "monthly_water_return.synthetic.2025-08.v1-000000",
            "period_key": "2025-08",
            "status": "validated",
            "submitted_at": None,
            "submitted_by": None,
        }
    )
    registry.add(unsubmitted)
    store.dispose()
    return record


@pytest.fixture(scope="module")
def report_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the rendered report, copied per test (rendering costs ~4 s)."""
    home = tmp_path_factory.mktemp("delivery_home")
    _submitted_report(home)
    return home


@pytest.fixture
def home(report_files: Path, tmp_path: Path) -> Path:
    """A copy of that home: each test has its own registry and files."""
    target = tmp_path / "home"
    shutil.copytree(report_files, target)
    # the registry holds absolute artifact paths: point them at this copy
    store = StateStore(Settings(home=target).state_store_url)
    with store.session() as s:
        for record in s.scalars(select(ReportRecord)):
            record.artifacts = {
                fmt: {**art, "path": art["path"].replace(str(report_files), str(target))}
                for fmt, art in record.artifacts.items()
            }
    store.dispose()
    return target


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch):
    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # botocore's retries would hide ours
    port = _free_port()
    proc = _start_moto(port)
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="regulator-drop")
    yield endpoint
    proc.terminate()
    proc.wait(10)


def _registry(home: Path) -> tuple[Registry, StateStore]:
    store = StateStore(Settings(home=home).state_store_url)
    return Registry(store), store


def _resources(home: Path, endpoint: str, smtp_port: int) -> dict:
    return {
        "siteledger": SiteledgerHome(home=str(home)),
        # credentials given to the resource, as production does (not boto3's environment chain)
        "s3": S3DeliveryResource(
            bucket="regulator-drop",
            prefix="compliance",
            endpoint_url=endpoint,
            region="us-east-1",
            access_key_id="testing",
            secret_access_key="super-secret-aws-key",
        ),
        "smtp": SmtpDeliveryResource(
            host="127.0.0.1", port=smtp_port, sender="reports@mine.example", timeout_s=5.0
        ),
    }


def _run(resources: dict, attempts: int = 1):  # type: ignore[no-untyped-def]
    return report_delivery_job.execute_in_process(
        resources=resources,
        run_config={"ops": {"deliver_submitted_reports": {"config": {"attempts": attempts}}}},
        raise_on_error=False,
    )


def test_job_delivers_a_submitted_report_to_s3_and_by_mail_once(home: Path, moto: str):
    registry, store = _registry(home)
    [record] = registry.list(status="submitted")
    recipients = next(d.recipients for d in load_definitions() if d.id == DEFINITION)
    inbox, port = _Inbox(), _free_port()
    controller = _smtp(port, inbox)
    try:
        result = _run(_resources(home, moto, port))
        assert result.success
        assert result.output_for_node("deliver_submitted_reports") == {
            record.report_id: ["s3", "email"]
        }
        # a second run finds nothing owed: no upload, no mail, no attempt
        again = _run(_resources(home, moto, port))
        assert again.success and again.output_for_node("deliver_submitted_reports") == {}
    finally:
        controller.stop()

    s3 = boto3.client("s3", endpoint_url=moto)
    listed = s3.list_objects_v2(Bucket="regulator-drop")["Contents"]
    prefix = f"compliance/synthetic/{DEFINITION}/2025-07/v1/"
    assert sorted(o["Key"] for o in listed) == sorted(
        prefix + Path(a["path"]).name for a in record.artifacts.values()
    )
    assert len(record.artifacts) == 6  # the five formats and the interactive Sankey page
    for art in record.artifacts.values():
        body = s3.get_object(Bucket="regulator-drop", Key=prefix + Path(art["path"]).name)
        assert hashlib.sha256(body["Body"].read()).hexdigest() == art["sha256"]

    ((mail_from, rcpts, content),) = inbox.messages
    assert mail_from == "reports@mine.example"
    assert rcpts == recipients
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert message["X-Siteledger-Report-Id"] == record.report_id
    attachments = {p.get_filename(): p.get_payload(decode=True) for p in message.iter_attachments()}
    assert {name: hashlib.sha256(data).hexdigest() for name, data in attachments.items()} == {
        Path(a["path"]).name: a["sha256"] for a in record.artifacts.values()
    }

    attempts = registry.attempts(record.report_id)
    assert [(a.channel, a.attempt, a.status) for a in attempts] == [
        ("s3", 1, "succeeded"),
        ("email", 1, "succeeded"),
    ]
    assert attempts[0].target == f"s3://regulator-drop/{prefix.rstrip('/')}"
    assert attempts[1].target == f"{', '.join(recipients)} via 127.0.0.1:{port}"
    # the report that was only validated is not sent anywhere
    [validated] = registry.list(status="validated")
    assert registry.attempts(validated.report_id) == []
    assert registry.get(record.report_id).status == "submitted"
    store.dispose()


def test_a_failed_channel_is_retried_by_the_next_run_and_only_that_one(home: Path, moto: str):
    registry, store = _registry(home)
    [record] = registry.list(status="submitted")
    port = _free_port()  # the relay is down for the first run
    first = _run(_resources(home, moto, port), attempts=2)
    assert not first.success
    failure = first.failure_data_for_node("deliver_submitted_reports")
    assert failure is not None and "1 delivery(ies) failed" in str(failure.error)
    assert [(a.channel, a.attempt, a.status) for a in registry.attempts(record.report_id)] == [
        ("s3", 1, "succeeded"),
        ("email", 1, "failed"),
        ("email", 2, "failed"),
    ]
    inbox = _Inbox()
    controller = _smtp(port, inbox)
    try:
        second = _run(_resources(home, moto, port))
    finally:
        controller.stop()
    assert second.success
    assert second.output_for_node("deliver_submitted_reports") == {record.report_id: ["email"]}
    assert len(inbox.messages) == 1
    attempts = registry.attempts(record.report_id)
    assert [(a.channel, a.status) for a in attempts][3:] == [("email", "succeeded")]
    assert [a.channel for a in attempts].count("s3") == 1  # uploaded once, not again
    for a in attempts:
        assert "super-secret-aws-key" not in f"{a.error} {a.details} {a.target}"
    store.dispose()


def test_without_endpoints_delivery_is_off_and_nothing_is_recorded(home: Path):
    instance = DagsterInstance.ephemeral()
    result = report_delivery_job.execute_in_process(
        resources={
            "siteledger": SiteledgerHome(home=str(home)),
            "s3": S3DeliveryResource(),
            "smtp": SmtpDeliveryResource(),
        },
        instance=instance,
    )
    assert result.success
    assert result.output_for_node("deliver_submitted_reports") == {}
    logged = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert "S3 delivery is off: no bucket (SITELEDGER_S3_BUCKET)" in logged
    assert "e-mail delivery is off: no SMTP host (SITELEDGER_SMTP_HOST)" in logged
    registry, store = _registry(home)
    [record] = registry.list(status="submitted")
    assert registry.attempts(record.report_id) == []
    store.dispose()


def test_cli_deliver_still_reads_the_channels_from_the_environment(
    home: Path, moto: str, monkeypatch: pytest.MonkeyPatch
):
    from click.testing import CliRunner

    from cli.main import cli

    registry, store = _registry(home)
    [record] = registry.list(status="submitted")
    inbox, port = _Inbox(), _free_port()
    for name, value in {
        "SITELEDGER_S3_BUCKET": "regulator-drop",
        "SITELEDGER_S3_PREFIX": "/by-cli/",
        "SITELEDGER_S3_ENDPOINT_URL": moto,
        "SITELEDGER_SMTP_HOST": "127.0.0.1",
        "SITELEDGER_SMTP_PORT": str(port),
        "SITELEDGER_SMTP_FROM": "cli@mine.example",
    }.items():
        monkeypatch.setenv(name, value)
    controller = _smtp(port, inbox)
    try:
        result = CliRunner().invoke(
            cli,
            ["--home", str(home), "reports", "deliver", record.report_id, "--attempts", "1"],
            catch_exceptions=False,
        )
    finally:
        controller.stop()
    assert result.exit_code == 0, result.output
    assert "delivery s3: ok after 1 attempt(s)" in result.output
    assert "delivery email: ok after 1 attempt(s)" in result.output
    s3 = boto3.client("s3", endpoint_url=moto)
    pdf = Path(record.artifacts["pdf"]["path"])
    key = f"by-cli/synthetic/{DEFINITION}/2025-07/v1/{pdf.name}"
    assert s3.get_object(Bucket="regulator-drop", Key=key)["Body"].read() == pdf.read_bytes()
    [(mail_from, _, _)] = inbox.messages
    assert mail_from == "cli@mine.example"
    assert [a.status for a in registry.attempts(record.report_id)] == ["succeeded"] * 2
    store.dispose()
