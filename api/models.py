"""The API's response bodies: one typed model per resource, so the OpenAPI schema says exactly
what a client gets. Field names are the published marts' column names (``docs/api.md``)."""

from __future__ import annotations

import datetime as dt
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: ``next_offset`` is the offset of the next page, null on the last."""

    items: list[T]
    limit: int
    offset: int
    next_offset: int | None


class Problem(BaseModel):
    """An error: what was wrong and, where it helps, what to do."""

    detail: str


class Health(BaseModel):
    status: Literal["ok", "no_warehouse"]
    warehouse_tables: int


class Site(BaseModel):
    site_id: str
    site_name: str | None
    organisation: str | None
    organisation_name: str | None
    region: str | None
    region_name: str | None
    timezone: str | None
    regulators: str | None
    is_water_stressed: bool | None
    closure_threshold_pct: float | None
    node_balance_threshold_pct: float | None


class Facility(BaseModel):
    site_id: str
    node_id: str
    node_name: str | None
    node_kind: str | None
    node_type: str | None
    capacity_m3: float | None
    surface_area_m2: float | None
    catchment_area_m2: float | None
    n_level_meters: int | None
    description: str | None


class _SiteFigures(BaseModel):
    inputs_m3: float | None
    input_surface_water_m3: float | None
    input_groundwater_m3: float | None
    input_sea_water_m3: float | None
    input_third_party_water_m3: float | None
    input_other_m3: float | None
    outputs_m3: float | None
    output_surface_water_m3: float | None
    output_groundwater_m3: float | None
    output_sea_water_m3: float | None
    output_third_party_water_m3: float | None
    output_evaporation_m3: float | None
    output_entrainment_m3: float | None
    output_other_m3: float | None
    diversions_m3: float | None
    opening_storage_m3: float | None
    closing_storage_m3: float | None
    storage_change_m3: float | None
    closure_error_m3: float | None
    closure_error_pct: float | None
    closure_threshold_pct: float | None
    closure_status: str | None
    reused_m3: float | None
    recycled_m3: float | None
    reuse_ratio: float | None
    recycling_ratio: float | None
    n_flows_missing: int | None


class SiteBalanceDay(_SiteFigures):
    """One row of ``fct_site_balance_daily``."""

    site_id: str
    day: dt.date
    month_start: dt.date | None
    is_day_closed: bool | None
    is_complete: bool | None


class SiteBalanceMonth(_SiteFigures):
    """One row of ``fct_site_balance_monthly``."""

    site_id: str
    month_start: dt.date
    first_day: dt.date | None
    last_day: dt.date | None
    n_days: int | None
    n_days_incomplete: int | None


class _NodeFigures(BaseModel):
    site_id: str
    node_id: str
    node_kind: str | None
    opening_storage_m3: float | None
    closing_storage_m3: float | None
    storage_change_m3: float | None
    inflow_m3: float | None
    outflow_m3: float | None
    rainfall_m3: float | None
    evaporation_m3: float | None
    seepage_m3: float | None
    balance_error_m3: float | None
    balance_error_pct: float | None
    balance_threshold_pct: float | None
    balance_status: str | None


class FacilityBalanceDay(_NodeFigures):
    """One row of ``fct_node_balance_daily``."""

    day: dt.date
    month_start: dt.date | None
    n_flows: int | None
    n_flows_missing: int | None
    is_day_closed: bool | None
    is_complete: bool | None


class FacilityBalanceMonth(_NodeFigures):
    """One row of ``fct_node_balance_monthly``."""

    month_start: dt.date
    first_day: dt.date | None
    last_day: dt.date | None
    n_days: int | None
    n_days_incomplete: int | None


class QualityScore(BaseModel):
    """One row of ``fct_quality_scores_daily`` (scope ``site``, ``node`` or ``meter``)."""

    site_id: str
    day: dt.date
    scope: str
    scope_id: str
    completeness_score: float | None
    validity_score: float | None
    timeliness_score: float | None
    consistency_score: float | None
    redundancy_score: float | None
    overall_score: float | None
    status: str | None
    failing_expectations: str | None
    is_closed: bool | None
    n_expected: int | None
    n_received: int | None
    n_invalid: int | None
    n_estimated: int | None


class Artifact(BaseModel):
    format: str
    sha256: str
    bytes: int
    download: str = Field(description="Path of this API that returns the file.")


class Report(BaseModel):
    """One version of one report in the registry (``siteledger reports list``)."""

    model_config = ConfigDict(from_attributes=True)

    report_id: str
    definition_id: str
    report_type: str
    regulator: str
    site_id: str
    period_kind: str
    period_key: str
    period_start: dt.date
    period_end: dt.date
    due_date: dt.date
    version: int
    status: str
    content_hash: str
    warehouse_version: str
    generated_at: dt.datetime
    submitted_at: dt.datetime | None
    validation_errors: list[str]
    artifacts: list[Artifact]


class Alert(BaseModel):
    """One alert event (``siteledger alerts list``)."""

    model_config = ConfigDict(from_attributes=True)

    event_id: str
    rule_id: str
    site: str | None
    category: str
    severity: str
    state: str
    summary: str
    value: float | None
    threshold: str | None
    unit: str | None
    first_observed_at: str
    last_observed_at: str
    opened_at: dt.datetime
    fired_at: dt.datetime | None
    resolved_at: dt.datetime | None
    acked_by: str | None
    acked_at: dt.datetime | None
    labels: dict[str, str]


class ImportOutcome(BaseModel):
    """What the importer made of an uploaded readings file (``siteledger ingest files``)."""

    landing_name: str = Field(description="The name the server gave the file in landing/.")
    batch_id: str | None
    layout_id: str | None
    status: str = Field(description="committed, duplicate, quarantined or failed.")
    total: int
    imported: int
    skipped: int
    failed: int
    error: str | None


class WebhookOutcome(BaseModel):
    message_id: str
    type: str
    status: Literal["processed", "duplicate"]
    alert_event_id: str | None = None
    import_outcome: ImportOutcome | None = None
