"""External systems as resources: the S3 bucket and the SMTP relay reports are delivered to, the
Modbus devices polled on demand, and the op job that polls them.

Each resource has typed fields (secrets set through ``dagster.EnvVar`` only, see
``orchestration/environment.py``) and builds the plain-Python object of its package:
:class:`reports.delivery.S3Target`, :class:`reports.delivery.SmtpTarget`,
:class:`ingestion.devices.collector.CollectorConfig`. A delivery resource without its endpoint
(no bucket, no host) is off and says so.
"""

from pathlib import Path

from dagster import (
    ConfigurableResource,
    Failure,
    MetadataValue,
    OpExecutionContext,
    Output,
    job,
    op,
)
from pydantic import Field

from ingestion.devices.collector import CollectorConfig
from ingestion.devices.service import poll_now
from orchestration.resources import SiteledgerHome
from reports.delivery import S3Target, SmtpTarget
from siteledger.settings import Settings
from siteledger.site import SiteConfig


class S3DeliveryResource(ConfigurableResource):
    """The S3 bucket (or S3-compatible endpoint) report artifacts are uploaded to."""

    bucket: str | None = Field(default=None, description="Bucket; None: S3 delivery is off.")
    prefix: str = Field(default="reports", description="Key prefix before site/definition/...")
    endpoint_url: str | None = Field(default=None, description="S3-compatible endpoint (MinIO).")
    region: str | None = None
    access_key_id: str | None = Field(
        default=None, description="None: boto3's own chain (AWS_* variables, profile, role)."
    )
    secret_access_key: str | None = None

    def target(self) -> S3Target | None:
        if not self.bucket:
            return None
        return S3Target(
            bucket=self.bucket,
            prefix=self.prefix,
            endpoint_url=self.endpoint_url,
            region=self.region,
            access_key_id=self.access_key_id,
            secret_access_key=self.secret_access_key,
        )

    def disabled_reason(self) -> str | None:
        return None if self.bucket else "S3 delivery is off: no bucket (SITELEDGER_S3_BUCKET)"


class SmtpDeliveryResource(ConfigurableResource):
    """The SMTP relay report e-mails are sent through."""

    host: str | None = Field(default=None, description="Relay host; None: e-mail delivery is off.")
    port: int = 25
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    use_ssl: bool = Field(default=False, description="Implicit TLS (port 465).")
    sender: str = "siteledger@localhost"
    ca_file: str | None = Field(
        default=None, description="A private CA to trust; the certificate is always verified."
    )
    timeout_s: float = 30.0

    def target(self) -> SmtpTarget | None:
        if not self.host:
            return None
        return SmtpTarget(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            starttls=self.starttls,
            use_ssl=self.use_ssl,
            sender=self.sender,
            timeout=self.timeout_s,
            ca_file=self.ca_file,
        )

    def disabled_reason(self) -> str | None:
        return None if self.host else "e-mail delivery is off: no SMTP host (SITELEDGER_SMTP_HOST)"


class ModbusClientResource(ConfigurableResource):
    """How the Modbus devices of the sites are read: request timeout, retries, cycle interval."""

    timeout_s: float = Field(default=1.0, gt=0, description="Wall seconds a request may take.")
    retries: int = Field(default=2, ge=0, description="Retries of a request that timed out.")
    interval_s: float = Field(
        default=60.0, gt=0, description="Cycle length: a poll is stamped with its cycle's start."
    )
    backoff_s: float = Field(default=0.05, ge=0, description="First retry delay, doubling.")

    def collector_config(self) -> CollectorConfig:
        return CollectorConfig(
            interval_s=self.interval_s,
            timeout_s=self.timeout_s,
            retries=self.retries,
            backoff_s=self.backoff_s,
        )

    def poll_once(self, settings: Settings, site: SiteConfig) -> Path | None:
        """One cycle of every device of ``site`` into its spool (None: spooled already)."""
        return poll_now(settings, site, self.collector_config())


@op(description="Poll every Modbus device of every site with Modbus meters once, into the spool.")
def poll_modbus_sites_once(
    context: OpExecutionContext, siteledger: SiteledgerHome, modbus: ModbusClientResource
) -> Output[list[str]]:
    settings = siteledger.settings()
    polled: list[str] = []
    segments: list[str] = []
    for site in siteledger.sites():
        if not any(meter.modbus for meter in site.meters):
            continue
        path = modbus.poll_once(settings, site)
        if path is None:
            polled.append(f"{site.site.id}: cycle spooled already")
        else:
            polled.append(f"{site.site.id}: {path.name}")
            segments.append(str(path))
    context.log.info("; ".join(polled) or "no site has Modbus meters")
    if not polled:
        raise Failure("no site file has a meter with a Modbus address; nothing to poll")
    return Output(
        segments,
        metadata={
            "sites_polled": MetadataValue.json(polled),
            "segments_written": len(segments),
            "timeout_s": modbus.timeout_s,
            "retries": modbus.retries,
        },
    )


@job(
    name="device_poll_now_job",
    description="Poll every Modbus device once now (sites without a running collector); the spool "
    "sensor then imports the segment and refreshes device health.",
)
def device_poll_now_job() -> None:
    poll_modbus_sites_once()
