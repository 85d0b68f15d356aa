"""Local or production: the one switch (``SITELEDGER_ENV``) that picks every resource and the
dbt target.

- ``local`` (default): the home under ``SITELEDGER_HOME`` (``./var``), dbt target ``local``
  (DuckDB under the home), delivery to whatever endpoints the environment names (a moto S3, an
  aiosmtpd relay) and off, with a message, when it names none; Modbus defaults.
- ``production``: every endpoint and credential from ``EnvVar`` (missing ones are named before
  anything runs), dbt target ``production`` (its path and settings read by ``profiles.yml``),
  e-mail over STARTTLS unless ``SITELEDGER_SMTP_SSL`` asks for implicit TLS.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from dagster import ConfigurableResource, EnvVar, ResourceDefinition

from orchestration.external import ModbusClientResource, S3DeliveryResource, SmtpDeliveryResource
from orchestration.resources import SiteledgerHome
from siteledger.dbt import DBT_EXECUTABLE, DBT_PROJECT_DIR

SWITCH = "SITELEDGER_ENV"
LOCAL, PRODUCTION = "local", "production"
ENVIRONMENTS = (LOCAL, PRODUCTION)
DBT_TARGETS = {LOCAL: "local", PRODUCTION: "production"}
_TRUE = ("1", "true", "yes", "on")

# production refuses to start without these (a regulator's report that silently is not sent is
# worse than a code location that does not load)
PRODUCTION_REQUIRED = (
    "SITELEDGER_HOME",
    "SITELEDGER_STATE_URL",
    "SITELEDGER_S3_BUCKET",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "SITELEDGER_SMTP_HOST",
    "SITELEDGER_SMTP_USER",
    "SITELEDGER_SMTP_PASSWORD",
    "SITELEDGER_SMTP_FROM",
)


class EnvironmentSettingError(RuntimeError):
    """The environment asked for cannot be set up from the variables present."""


def environment_name(environment: str | None = None, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    name = (environment or env.get(SWITCH) or LOCAL).strip().lower()
    if name not in ENVIRONMENTS:
        raise EnvironmentSettingError(
            f"{SWITCH}={name!r} is not an environment; use one of {', '.join(ENVIRONMENTS)}"
        )
    return name


def dbt_target(environment: str | None = None) -> str:
    """The ``profiles.yml`` output dbt builds with in this environment."""
    return DBT_TARGETS[environment_name(environment)]


def _optional(name: str, env: Mapping[str, str]) -> EnvVar | None:
    """The variable as an ``EnvVar`` when it is set (its value stays out of the config)."""
    return EnvVar(name) if env.get(name) else None


def _flag(name: str, env: Mapping[str, str], default: bool = False) -> bool:
    value = env.get(name)
    return default if not value else value.strip().lower() in _TRUE


def _port(env: Mapping[str, str], default: int) -> Any:
    """The SMTP port: ``EnvVar.int`` when set (checked here, to name it), else ``default``."""
    value = env.get("SITELEDGER_SMTP_PORT")
    if not value:
        return default
    if not value.isdigit():
        raise EnvironmentSettingError(f"SITELEDGER_SMTP_PORT={value!r} is not a port number")
    return EnvVar.int("SITELEDGER_SMTP_PORT")


def _local(env: Mapping[str, str]) -> dict[str, ConfigurableResource]:
    return {
        "siteledger": SiteledgerHome(
            home=_optional("SITELEDGER_HOME", env),
            state_url=_optional("SITELEDGER_STATE_URL", env),
        ),
        "s3": S3DeliveryResource(
            bucket=_optional("SITELEDGER_S3_BUCKET", env),
            prefix=env.get("SITELEDGER_S3_PREFIX") or "reports",
            endpoint_url=_optional("SITELEDGER_S3_ENDPOINT_URL", env),
            region=_optional("AWS_DEFAULT_REGION", env),
            access_key_id=_optional("AWS_ACCESS_KEY_ID", env),
            secret_access_key=_optional("AWS_SECRET_ACCESS_KEY", env),
        ),
        "smtp": SmtpDeliveryResource(
            host=_optional("SITELEDGER_SMTP_HOST", env),
            port=_port(env, 25),
            user=_optional("SITELEDGER_SMTP_USER", env),
            password=_optional("SITELEDGER_SMTP_PASSWORD", env),
            starttls=_flag("SITELEDGER_SMTP_STARTTLS", env),
            use_ssl=_flag("SITELEDGER_SMTP_SSL", env),
            sender=env.get("SITELEDGER_SMTP_FROM") or "siteledger@localhost",
            ca_file=_optional("SITELEDGER_SMTP_CA_FILE", env),
        ),
    }


def _production(env: Mapping[str, str]) -> dict[str, ConfigurableResource]:
    missing = [name for name in PRODUCTION_REQUIRED if not env.get(name)]
    if missing:
        raise EnvironmentSettingError(
            f"{SWITCH}=production needs {', '.join(missing)} (not set); set "
            f"{'it' if len(missing) == 1 else 'them'} or run with {SWITCH}=local"
        )
    use_ssl = _flag("SITELEDGER_SMTP_SSL", env)
    return {
        "siteledger": SiteledgerHome(
            home=EnvVar("SITELEDGER_HOME"), state_url=EnvVar("SITELEDGER_STATE_URL")
        ),
        "s3": S3DeliveryResource(
            bucket=EnvVar("SITELEDGER_S3_BUCKET"),
            prefix=env.get("SITELEDGER_S3_PREFIX") or "reports",
            endpoint_url=_optional("SITELEDGER_S3_ENDPOINT_URL", env),
            region=EnvVar("AWS_DEFAULT_REGION"),
            access_key_id=EnvVar("AWS_ACCESS_KEY_ID"),
            secret_access_key=EnvVar("AWS_SECRET_ACCESS_KEY"),
        ),
        "smtp": SmtpDeliveryResource(
            host=EnvVar("SITELEDGER_SMTP_HOST"),
            port=_port(env, 465 if use_ssl else 587),
            user=EnvVar("SITELEDGER_SMTP_USER"),
            password=EnvVar("SITELEDGER_SMTP_PASSWORD"),
            # a login is refused without TLS: STARTTLS unless implicit TLS is asked for
            starttls=not use_ssl,
            use_ssl=use_ssl,
            sender=EnvVar("SITELEDGER_SMTP_FROM"),
            ca_file=_optional("SITELEDGER_SMTP_CA_FILE", env),
        ),
    }


def resources_for(
    environment: str | None = None, home: str | None = None
) -> dict[str, ResourceDefinition]:
    """Every resource of the code location for ``environment`` (default: ``SITELEDGER_ENV``,
    else ``local``), keyed as the assets, ops and sensors ask for them: ``siteledger``, ``dbt``,
    ``s3``, ``smtp``, ``modbus``. Locally ``home`` names the runtime folder (the CLI's
    ``--home``); in production it is always ``SITELEDGER_HOME``."""
    from orchestration.water.dbt import SiteledgerDbtCli, dbt_project

    name = environment_name(environment)
    env = os.environ
    resources = _production(env) if name == PRODUCTION else _local(env)
    if home is not None and name != PRODUCTION:
        resources["siteledger"] = SiteledgerHome(
            home=home, state_url=_optional("SITELEDGER_STATE_URL", env)
        )
    resources["modbus"] = ModbusClientResource()
    resources["dbt"] = SiteledgerDbtCli(
        project_dir=str(dbt_project.project_dir),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=DBT_EXECUTABLE,
        target=DBT_TARGETS[name],
    )
    return {key: r.get_resource_definition() for key, r in resources.items()}
