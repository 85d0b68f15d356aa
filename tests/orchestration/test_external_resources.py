"""External systems as resources: the package objects they build (from config and from
``EnvVar``), the environment switch, and the poll job against the real Modbus simulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import Definitions, EnvVar, build_resources

from demo.devices.simulator import Fault
from ingestion.devices.clock import SimClock
from ingestion.devices.collector import CollectorConfig
from ingestion.devices.spool import read_segment
from orchestration.environment import (
    PRODUCTION_REQUIRED,
    EnvironmentSettingError,
    dbt_target,
    resources_for,
)
from orchestration.external import (
    ModbusClientResource,
    S3DeliveryResource,
    SmtpDeliveryResource,
    device_poll_now_job,
)
from orchestration.reports.delivery import report_delivery_job
from orchestration.resources import SiteledgerHome
from reports.delivery import S3Target, SmtpTarget
from siteledger.dbt import DBT_PROJECT_DIR
from siteledger.settings import Settings
from siteledger.site import dump_site
from tests.ingestion.devices.helpers import FixedValues, ThreadedSimulator, free_ports
from tests.ingestion.devices.test_spool import _site

# every variable either environment reads: cleared first so the machine's own never leak in
ALL_VARIABLES = (
    *PRODUCTION_REQUIRED,
    "SITELEDGER_ENV",
    "SITELEDGER_S3_PREFIX",
    "SITELEDGER_S3_ENDPOINT_URL",
    "SITELEDGER_SMTP_PORT",
    "SITELEDGER_SMTP_STARTTLS",
    "SITELEDGER_SMTP_SSL",
    "SITELEDGER_SMTP_CA_FILE",
)
PRODUCTION_ENV = {
    "SITELEDGER_HOME": "/srv/siteledger",
    "SITELEDGER_STATE_URL": "postgresql+psycopg://ledger:pg-secret@db.internal/ledger",
    "SITELEDGER_S3_BUCKET": "regulatory-reports",
    "AWS_ACCESS_KEY_ID": "AKIAPRODUCTION",
    "AWS_SECRET_ACCESS_KEY": "aws-prod-secret",
    "AWS_DEFAULT_REGION": "ap-southeast-2",
    "SITELEDGER_SMTP_HOST": "smtp.mine.example",
    "SITELEDGER_SMTP_USER": "reports",
    "SITELEDGER_SMTP_PASSWORD": "smtp-prod-secret",
    "SITELEDGER_SMTP_FROM": "water.reports@mine.example",
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ALL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_delivery_resources_build_the_package_targets_from_config():
    s3 = S3DeliveryResource(
        bucket="reports-bucket",
        prefix="/regulatory/",
        endpoint_url="http://127.0.0.1:9000",
        region="ap-southeast-2",
        access_key_id="AKIATEST",
        secret_access_key="s3-secret",
    )
    assert s3.target() == S3Target(
        bucket="reports-bucket",
        prefix="regulatory",
        endpoint_url="http://127.0.0.1:9000",
        region="ap-southeast-2",
        access_key_id="AKIATEST",
        secret_access_key="s3-secret",
    )
    assert "s3-secret" not in repr(s3.target())
    smtp = SmtpDeliveryResource(
        host="smtp.example",
        port=587,
        user="reports",
        password="smtp-secret",
        starttls=True,
        sender="reports@mine.example",
        ca_file="/etc/ssl/private-ca.pem",
        timeout_s=12.5,
    )
    assert smtp.target() == SmtpTarget(
        host="smtp.example",
        port=587,
        user="reports",
        password="smtp-secret",
        starttls=True,
        use_ssl=False,
        sender="reports@mine.example",
        timeout=12.5,
        ca_file="/etc/ssl/private-ca.pem",
    )
    # without an endpoint the channel is off, and says which variable turns it on
    assert S3DeliveryResource().target() is None
    assert "SITELEDGER_S3_BUCKET" in (S3DeliveryResource().disabled_reason() or "")
    assert SmtpDeliveryResource().target() is None
    assert "SITELEDGER_SMTP_HOST" in (SmtpDeliveryResource().disabled_reason() or "")
    assert s3.disabled_reason() is None and smtp.disabled_reason() is None


def test_delivery_resources_read_env_vars_when_initialised(clean_env: pytest.MonkeyPatch):
    clean_env.setenv("TEST_BUCKET", "from-env-bucket")
    clean_env.setenv("TEST_AWS_SECRET", "env-aws-secret")
    clean_env.setenv("TEST_SMTP_PORT", "2525")
    clean_env.setenv("TEST_SMTP_PASSWORD", "env-smtp-secret")
    s3 = S3DeliveryResource(
        bucket=EnvVar("TEST_BUCKET"),
        access_key_id="AKIATEST",
        secret_access_key=EnvVar("TEST_AWS_SECRET"),
    ).process_config_and_initialize()
    assert s3.target() == S3Target(
        bucket="from-env-bucket", access_key_id="AKIATEST", secret_access_key="env-aws-secret"
    )
    smtp = SmtpDeliveryResource(
        host="127.0.0.1",
        port=EnvVar.int("TEST_SMTP_PORT"),
        user="reports",
        password=EnvVar("TEST_SMTP_PASSWORD"),
        use_ssl=True,
    ).process_config_and_initialize()
    target = smtp.target()
    assert target is not None
    assert (target.port, target.password, target.use_ssl) == (2525, "env-smtp-secret", True)


def test_modbus_resource_builds_the_collector_config():
    modbus = ModbusClientResource(timeout_s=0.25, retries=5, interval_s=900.0, backoff_s=0.1)
    assert modbus.collector_config() == CollectorConfig(
        interval_s=900.0, timeout_s=0.25, retries=5, backoff_s=0.1
    )
    assert ModbusClientResource().collector_config() == CollectorConfig()


def _initialised(environment: str) -> dict:
    with build_resources(resources_for(environment)) as built:
        return {
            "s3": built.s3.target(),
            "smtp": built.smtp.target(),
            "modbus": built.modbus.collector_config(),
            "dbt_target": built.dbt.target,
            "home": built.siteledger.home,
            "state_url": built.siteledger.state_url,
        }


def test_local_without_endpoints_turns_delivery_off(clean_env: pytest.MonkeyPatch):
    clean_env.setenv("SITELEDGER_HOME", "/tmp/a-local-home")
    got = _initialised("local")
    assert got["s3"] is None and got["smtp"] is None
    assert got["dbt_target"] == "local" == dbt_target()
    assert (got["home"], got["state_url"]) == ("/tmp/a-local-home", None)
    assert got["modbus"] == CollectorConfig()


def test_local_uses_the_endpoints_the_environment_names(clean_env: pytest.MonkeyPatch):
    local = {
        "SITELEDGER_S3_BUCKET": "moto-bucket",
        "SITELEDGER_S3_ENDPOINT_URL": "http://127.0.0.1:5999",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "moto-secret",
        "SITELEDGER_SMTP_HOST": "127.0.0.1",
        "SITELEDGER_SMTP_PORT": "8025",
        "SITELEDGER_SMTP_PASSWORD": "local-smtp-secret",
        "SITELEDGER_SMTP_FROM": "dev@localhost",
    }
    for name, value in local.items():
        clean_env.setenv(name, value)
    got = _initialised("local")
    assert got["s3"] == S3Target(
        bucket="moto-bucket",
        endpoint_url="http://127.0.0.1:5999",
        access_key_id="testing",
        secret_access_key="moto-secret",
    )
    assert got["smtp"] == SmtpTarget(
        host="127.0.0.1", port=8025, password="local-smtp-secret", sender="dev@localhost"
    )
    # the secrets sit in the resources' configuration as variable names, never as values
    config = {key: r.config_schema.default_value for key, r in resources_for("local").items()}
    assert config["s3"]["secret_access_key"] == {"env": "AWS_SECRET_ACCESS_KEY"}
    assert config["smtp"]["password"] == {"env": "SITELEDGER_SMTP_PASSWORD"}
    assert "moto-secret" not in repr(config) and "local-smtp-secret" not in repr(config)


def test_production_takes_every_endpoint_and_secret_from_env_vars(clean_env: pytest.MonkeyPatch):
    for name, value in PRODUCTION_ENV.items():
        clean_env.setenv(name, value)
    clean_env.setenv("SITELEDGER_ENV", "production")
    got = _initialised("production")
    assert got["s3"] == S3Target(
        bucket="regulatory-reports",
        region="ap-southeast-2",
        access_key_id="AKIAPRODUCTION",
        secret_access_key="aws-prod-secret",
    )
    assert got["smtp"] == SmtpTarget(
        host="smtp.mine.example",
        port=587,
        user="reports",
        password="smtp-prod-secret",
        starttls=True,
        sender="water.reports@mine.example",
    )
    assert got["dbt_target"] == "production" == dbt_target()
    assert got["home"] == "/srv/siteledger"
    assert got["state_url"] == PRODUCTION_ENV["SITELEDGER_STATE_URL"]
    config = repr({key: r.config_schema.default_value for key, r in resources_for().items()})
    for secret in ("pg-secret", "aws-prod-secret", "smtp-prod-secret"):
        assert secret not in config
    # implicit TLS on its own port when asked for
    clean_env.setenv("SITELEDGER_SMTP_SSL", "true")
    smtp = _initialised("production")["smtp"]
    assert (smtp.port, smtp.use_ssl, smtp.starttls) == (465, True, False)


def test_production_without_a_required_variable_names_it(clean_env: pytest.MonkeyPatch):
    for name, value in PRODUCTION_ENV.items():
        if name != "SITELEDGER_SMTP_PASSWORD":
            clean_env.setenv(name, value)
    with pytest.raises(EnvironmentSettingError) as raised:
        resources_for("production")
    message = str(raised.value)
    assert "SITELEDGER_SMTP_PASSWORD" in message
    # only the missing one is named
    assert not any(name in message for name in PRODUCTION_ENV if name != "SITELEDGER_SMTP_PASSWORD")
    clean_env.delenv("AWS_DEFAULT_REGION")
    clean_env.setenv("SITELEDGER_ENV", "production")
    with pytest.raises(EnvironmentSettingError, match="AWS_DEFAULT_REGION, SITELEDGER_SMTP_PASS"):
        resources_for()


def test_an_unknown_environment_is_refused(clean_env: pytest.MonkeyPatch):
    clean_env.setenv("SITELEDGER_ENV", "staging")
    with pytest.raises(EnvironmentSettingError, match=r"'staging'.*local, production"):
        resources_for()


@pytest.mark.parametrize("environment", ["local", "production"])
def test_the_jobs_resolve_on_the_resources_of_either_environment(
    clean_env: pytest.MonkeyPatch, environment: str
):
    for name, value in PRODUCTION_ENV.items():
        clean_env.setenv(name, value)
    defs = Definitions(
        jobs=[report_delivery_job, device_poll_now_job], resources=resources_for(environment)
    )
    for name in ("report_delivery_job", "device_poll_now_job"):
        job = defs.resolve_job_def(name)
        # every resource an op asks for is one the environment provides
        assert job.required_resource_keys - {"io_manager"} <= set(resources_for(environment))
    assert report_delivery_job.required_resource_keys >= {"siteledger", "s3", "smtp"}
    assert device_poll_now_job.required_resource_keys >= {"siteledger", "modbus"}


@pytest.mark.integration
def test_poll_job_spools_one_cycle_with_the_simulators_values(tmp_path: Path):
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    [port] = free_ports(1)
    site = _site(port)
    (settings.sites_dir / "spool_site.yaml").write_text(dump_site(site), encoding="utf-8")
    # a site without Modbus meters is left alone
    (settings.sites_dir / "manual_site.yaml").write_text(
        dump_site(site.model_copy(update={"meters": []}, deep=True)).replace(
            "spool_site", "manual_site"
        ),
        encoding="utf-8",
    )
    values = {"FT-1": 12.5, "FQ-1": 4321.0}
    resources = {
        "siteledger": SiteledgerHome(home=str(tmp_path)),
        "modbus": ModbusClientResource(timeout_s=0.5, retries=1, interval_s=3600.0),
    }
    with ThreadedSimulator(site, FixedValues(values), SimClock.wall()):
        result = device_poll_now_job.execute_in_process(resources=resources)
    assert result.success
    [path] = result.output_for_node("poll_modbus_sites_once")
    segment = read_segment(Path(path))
    assert segment.site_id == "spool_site"
    assert dict(zip(segment.meter_ids, segment.values, strict=True)) == values
    assert segment.interval_s == 3600.0
    assert segment.cycle_us % 3_600_000_000 == 0  # stamped with the hour's cycle
    [poll] = segment.polls
    assert (poll["status"], poll["attempts"]) == ("ok", 1)
    assert list((settings.spool).iterdir()) == [settings.spool / "spool_site"]


@pytest.mark.integration
@pytest.mark.parametrize("retries", [0, 2])
def test_poll_job_retries_a_silent_device_as_the_resource_says(tmp_path: Path, retries: int):
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    [port] = free_ports(1)
    site = _site(port)
    (settings.sites_dir / "spool_site.yaml").write_text(dump_site(site), encoding="utf-8")
    resources = {
        "siteledger": SiteledgerHome(home=str(tmp_path)),
        "modbus": ModbusClientResource(timeout_s=0.2, retries=retries, interval_s=3600.0),
    }
    with ThreadedSimulator(site, FixedValues({"FT-1": 1.0, "FQ-1": 2.0}), SimClock.wall()) as sim:
        sim.inject(Fault("timeout", port=port, unit_id=1))
        result = device_poll_now_job.execute_in_process(resources=resources)
    [path] = result.output_for_node("poll_modbus_sites_once")
    segment = read_segment(Path(path))
    assert segment.values == []
    [poll] = segment.polls
    assert (poll["status"], poll["error_kind"]) == ("error", "timeout")
    assert poll["attempts"] == retries + 1


def _dbt_debug(tmp_path: Path, env: dict[str, str]) -> str:
    """``dbt debug`` on the project's profiles with exactly these siteledger variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SITELEDGER_")}
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "debug",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--log-path",
            str(tmp_path / "dbt_logs"),
            "--no-use-colors",
        ],
        env={**clean, "DBT_SEND_ANONYMOUS_USAGE_STATS": "False", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout + done.stderr


@pytest.mark.integration
@pytest.mark.slow
def test_the_switch_picks_the_dbt_profile_output(tmp_path: Path):
    production = {
        "SITELEDGER_ENV": "production",
        "SITELEDGER_BUILD_DB": str(tmp_path / "prod" / "build.duckdb"),
        "SITELEDGER_DUCKDB_MEMORY_LIMIT": "1GB",
    }
    (tmp_path / "prod").mkdir()
    out = _dbt_debug(tmp_path, production)
    assert f"path: {tmp_path / 'prod' / 'build.duckdb'}" in out, out
    assert "settings: {'TimeZone': 'UTC', 'memory_limit': '1GB'}" in out
    assert "Connection test: [OK connection ok]" in out
    # production has no defaults: a missing variable is named before anything is built
    del production["SITELEDGER_DUCKDB_MEMORY_LIMIT"]
    out = _dbt_debug(tmp_path, production)
    assert "Env var required but not provided: 'SITELEDGER_DUCKDB_MEMORY_LIMIT'" in out, out
    # local (and no switch at all): DuckDB under the home, no memory cap in the profile
    (tmp_path / "home" / "warehouse").mkdir(parents=True)
    for switch in ({"SITELEDGER_ENV": "local"}, {}):
        out = _dbt_debug(tmp_path, {**switch, "SITELEDGER_HOME": str(tmp_path / "home")})
        assert f"path: {tmp_path / 'home' / 'warehouse' / 'build.duckdb'}" in out, out
        assert "settings: {'TimeZone': 'UTC'}" in out
