"""The environmental incidents register: spills, overflows, breaches and discharges recorded by
people (the CLI or a drop file), kept in the state store and exported to the lake for dbt.

An incident's id is given or derived from what it is (site, type, node or flow, start), so
recording the same incident twice - a drop file imported again - changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Boolean, Date, DateTime, Float, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from siteledger.durable import fsync_path
from siteledger.settings import Settings
from siteledger.site.models import SiteConfig
from siteledger.state.store import Base, StateStore, utcnow

IncidentType = Literal["spill", "overflow", "breach", "discharge"]
Severity = Literal["low", "medium", "high", "critical"]
Status = Literal["active", "contained", "resolved"]
INCIDENT_FIELDS = (
    "incident_id",
    "site_id",
    "incident_type",
    "node_id",
    "flow_id",
    "started_at",
    "ended_at",
    "volume_m3",
    "severity",
    "status",
    "reported_to_authority",
    "reported_on",
    "authority_reference",
    "description",
)
_INCIDENT_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$"


class IncidentRow(Base):
    """One recorded environmental incident."""

    __tablename__ = "environmental_incidents"

    incident_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    incident_type: Mapped[str] = mapped_column(String(16))
    node_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    flow_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    volume_m3: Mapped[float | None] = mapped_column(Float, nullable=True)
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    reported_to_authority: Mapped[bool] = mapped_column(Boolean, default=False)
    reported_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    authority_reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    recorded_via: Mapped[str] = mapped_column(String(300), default="cli")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes for timezone-aware columns; they were written in UTC
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


class Incident(BaseModel):
    """An incident as recorded; times without an offset are the site's local time."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    incident_id: str | None = Field(None, pattern=_INCIDENT_ID)
    site_id: str = Field(..., min_length=1, max_length=64)
    incident_type: IncidentType = Field(..., alias="type")
    node_id: str | None = Field(None, alias="node")
    flow_id: str | None = Field(None, alias="flow")
    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    volume_m3: float | None = Field(None, ge=0)
    severity: Severity = "medium"
    status: Status = "active"
    reported_to_authority: bool = False
    reported_on: dt.date | None = None
    authority_reference: str | None = Field(None, max_length=200)
    description: str = Field("", max_length=4000)

    @field_validator("node_id", "flow_id", "authority_reference", "incident_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _consistent(self) -> Incident:
        if self.node_id is None and self.flow_id is None:
            raise ValueError("an incident names the node or the flow where it happened")
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError(f"ended_at {self.ended_at} is before started_at {self.started_at}")
        if self.status == "resolved" and self.ended_at is None:
            raise ValueError("a resolved incident needs ended_at")
        if self.reported_to_authority and self.reported_on is None:
            raise ValueError("reported_to_authority needs reported_on (the date it was reported)")
        if self.reported_on is not None and not self.reported_to_authority:
            raise ValueError("reported_on is given but reported_to_authority is false")
        return self

    def localised(self, site: SiteConfig) -> Incident:
        """This incident with naive times read in the site's time zone, as UTC."""
        import zoneinfo

        zone = zoneinfo.ZoneInfo(site.site.timezone)

        def utc(moment: dt.datetime | None) -> dt.datetime | None:
            if moment is None:
                return None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
            return moment.astimezone(dt.UTC)

        return self.model_copy(
            update={"started_at": utc(self.started_at), "ended_at": utc(self.ended_at)}
        )

    def derived_id(self) -> str:
        """``INC-<site>-<YYYYMMDD>-<hash>`` of site, type, node, flow and start."""
        key = "|".join(
            [
                self.site_id,
                self.incident_type,
                self.node_id or "",
                self.flow_id or "",
                self.started_at.astimezone(dt.UTC).isoformat(),
            ]
        )
        digest = hashlib.sha256(key.encode()).hexdigest()[:8]
        return f"INC-{self.started_at.strftime('%Y%m%d')}-{digest}"


def site_problems(incident: Incident, sites: dict[str, SiteConfig]) -> list[str]:
    """Why ``incident`` does not fit the sites (unknown site, node or flow)."""
    site = sites.get(incident.site_id)
    if site is None:
        return [f"unknown site {incident.site_id!r} (sites: {sorted(sites)})"]
    problems = []
    if incident.node_id is not None and incident.node_id not in {n.id for n in site.nodes}:
        problems.append(f"unknown node {incident.node_id!r} of site {incident.site_id!r}")
    if incident.flow_id is not None and incident.flow_id not in {f.id for f in site.flows}:
        problems.append(f"unknown flow {incident.flow_id!r} of site {incident.site_id!r}")
    return problems


def _row_values(incident: Incident) -> dict[str, Any]:
    values = incident.model_dump(by_alias=False)
    values["incident_id"] = incident.incident_id or incident.derived_id()
    return values


def as_dict(row: IncidentRow) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in (*INCIDENT_FIELDS, "recorded_via")}
    for name in ("started_at", "ended_at"):
        values[name] = _utc(values[name])
    values["created_at"] = _utc(row.created_at)
    values["updated_at"] = _utc(row.updated_at)
    return values


def record_incident(
    store: StateStore, incident: Incident, recorded_via: str, replace: bool = True
) -> tuple[str, str]:
    """Add or update an incident; returns (incident id, ``added`` | ``updated`` | ``unchanged``).

    With ``replace`` false an incident that exists already is an error (the CLI's ``add``).
    """
    values = _row_values(incident)
    incident_id = values["incident_id"]
    with store.session() as s:
        row = s.get(IncidentRow, incident_id)
        if row is None:
            s.add(IncidentRow(**values, recorded_via=recorded_via))
            return incident_id, "added"
        if not replace:
            raise ValueError(f"incident {incident_id} is already recorded; use update")
        current = as_dict(row)
        if all(current[k] == values[k] for k in INCIDENT_FIELDS):
            return incident_id, "unchanged"
        for key, value in values.items():
            setattr(row, key, value)
        row.recorded_via = recorded_via
        row.updated_at = utcnow()
        return incident_id, "updated"


def update_incident(store: StateStore, incident_id: str, **changes: Any) -> dict[str, Any]:
    """Change fields of a recorded incident (validated as a whole); returns it as a dict."""
    with store.session() as s:
        row = s.get(IncidentRow, incident_id)
        if row is None:
            raise KeyError(f"no incident {incident_id!r}")
        values = {k: v for k, v in as_dict(row).items() if k in INCIDENT_FIELDS}
        values.update({k: v for k, v in changes.items() if v is not None})
        checked = Incident.model_validate(values)
        for key, value in _row_values(checked).items():
            if key != "incident_id":
                setattr(row, key, value)
        row.updated_at = utcnow()
        s.flush()
        return as_dict(row)


def get_incident(store: StateStore, incident_id: str) -> dict[str, Any] | None:
    with store.session() as s:
        row = s.get(IncidentRow, incident_id)
        return as_dict(row) if row is not None else None


def list_incidents(
    store: StateStore, site_id: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """Recorded incidents, oldest start first."""
    with store.session() as s:
        query = select(IncidentRow).order_by(IncidentRow.started_at, IncidentRow.incident_id)
        if site_id:
            query = query.where(IncidentRow.site_id == site_id)
        if status:
            query = query.where(IncidentRow.status == status)
        return [as_dict(row) for row in s.scalars(query)]


INCIDENTS_SCHEMA = pa.schema(
    [
        ("incident_id", pa.string()),
        ("site_id", pa.string()),
        ("incident_type", pa.string()),
        ("node_id", pa.string()),
        ("flow_id", pa.string()),
        ("started_at", pa.timestamp("us", tz="UTC")),
        ("ended_at", pa.timestamp("us", tz="UTC")),
        ("volume_m3", pa.float64()),
        ("severity", pa.string()),
        ("status", pa.string()),
        ("reported_to_authority", pa.bool_()),
        ("reported_on", pa.date32()),
        ("authority_reference", pa.string()),
        ("description", pa.string()),
        ("recorded_via", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("updated_at", pa.timestamp("us", tz="UTC")),
    ]
)


def incidents_file(settings: Settings) -> Path:
    """Where the register is exported for dbt (source ``lake.incidents``)."""
    return settings.lake / "incidents" / "recorded.parquet"


def export_incidents(settings: Settings, store: StateStore) -> Path:
    """Write the whole register to :func:`incidents_file`, replacing it atomically."""
    table = pa.Table.from_pylist(list_incidents(store), schema=INCIDENTS_SCHEMA)
    path = incidents_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    fsync_path(tmp)
    os.replace(tmp, path)
    return path
