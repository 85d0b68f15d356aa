"""The validated site configuration as Parquet tables, so the SQL reads the same facts as Python.

Each site-specific table is one file, ``lake/config/<table>/site=<site_id>.parquet``, replaced
atomically (written to a temporary file in the same folder, then renamed) so a dbt run reading the
folder never sees half a file. The unit and measurand catalogues are not site-specific: they come
from :mod:`siteledger.units` and are written once to ``lake/config/<table>/catalogue.parquet``.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from siteledger.settings import Settings
from siteledger.site.carbon import carbon_meters
from siteledger.site.models import (
    ESTIMATION_PARAMS,
    FLAT_LINE_EXEMPT,
    SiteConfig,
    is_text_param,
)
from siteledger.site.organisation import Organisation, load_organisation
from siteledger.site.sustainability import SUSTAINABILITY_METRICS
from siteledger.units import MEASURANDS, UNITS, convert_amount

Row = dict[str, Any]

ESTIMATION_PARAM_COLUMNS: tuple[str, ...] = tuple(
    sorted(
        {name for required, optional in ESTIMATION_PARAMS.values() for name in required | optional}
    )
)

SCHEMAS: dict[str, pa.Schema] = {
    "sites": pa.schema(
        [
            ("site_id", pa.string()),
            ("name", pa.string()),
            ("organisation", pa.string()),
            ("organisation_name", pa.string()),
            ("region", pa.string()),
            ("region_name", pa.string()),
            ("financial_year_start_month", pa.int32()),
            ("data_start", pa.date32()),
            ("timezone", pa.string()),
            ("regulators", pa.string()),
            ("water_stressed", pa.bool_()),
            ("quality_high", pa.string()),
        ]
    ),
    "waf_categories": pa.schema(
        [
            ("site_id", pa.string()),
            ("direction", pa.string()),
            ("category", pa.string()),
            ("position", pa.int32()),
        ]
    ),
    "nodes": pa.schema(
        [
            ("site_id", pa.string()),
            ("node_id", pa.string()),
            ("name", pa.string()),
            ("kind", pa.string()),
            ("type", pa.string()),
            ("capacity_m3", pa.float64()),
            ("surface_area_m2", pa.float64()),
            ("catchment_area_m2", pa.float64()),
            ("description", pa.string()),
        ]
    ),
    "stage_storage": pa.schema(
        [
            ("site_id", pa.string()),
            ("node_id", pa.string()),
            ("point_index", pa.int32()),
            ("level_m", pa.float64()),
            ("volume_m3", pa.float64()),
        ]
    ),
    "flows": pa.schema(
        [
            ("site_id", pa.string()),
            ("flow_id", pa.string()),
            ("name", pa.string()),
            ("from_node_id", pa.string()),
            ("to_node_id", pa.string()),
            ("waf_input_source", pa.string()),
            ("waf_output_destination", pa.string()),
            ("quality", pa.int32()),
            ("method", pa.string()),
            ("water_state", pa.string()),
            ("description", pa.string()),
        ]
    ),
    "meters": pa.schema(
        [
            ("site_id", pa.string()),
            ("meter_id", pa.string()),
            ("name", pa.string()),
            ("measurand", pa.string()),
            ("unit", pa.string()),
            ("interval", pa.string()),
            ("interval_seconds", pa.int64()),
            ("node_id", pa.string()),
            ("flow_id", pa.string()),
            ("valid_min", pa.float64()),
            ("valid_max", pa.float64()),
            ("redundancy_group", pa.string()),
            ("rollover", pa.float64()),
            ("tag", pa.string()),
            ("manual", pa.bool_()),
            ("description", pa.string()),
        ]
    ),
    "estimation_rules": pa.schema(
        [
            ("site_id", pa.string()),
            ("flow_id", pa.string()),
            ("method", pa.string()),
            ("classification", pa.string()),
            ("description", pa.string()),
            *[
                (name, pa.string() if is_text_param(name) else pa.float64())
                for name in ESTIMATION_PARAM_COLUMNS
            ],
            # the optional parameters the rule left out, as written in with their defaults
            ("defaulted_params", pa.string()),
        ]
    ),
    "thresholds": pa.schema(
        [
            ("site_id", pa.string()),
            ("closure_error_pct", pa.float64()),
            ("node_balance_error_pct", pa.float64()),
            ("store_high_pct", pa.float64()),
            ("store_low_pct", pa.float64()),
        ]
    ),
    "meter_vee_settings": pa.schema(
        [
            ("site_id", pa.string()),
            ("meter_id", pa.string()),
            ("spike_ratio", pa.float64()),
            ("spike_step", pa.float64()),
            ("flat_line_hours", pa.float64()),
            ("late_arrival_hours", pa.float64()),
            ("redundancy_tolerance_pct", pa.float64()),
            ("redundancy_floor_pct", pa.float64()),
            ("estimation_cap_hours", pa.float64()),
            ("profile_days", pa.int32()),
            ("disabled_flags", pa.string()),
        ]
    ),
    "quality_settings": pa.schema(
        [
            ("site_id", pa.string()),
            ("excellent_min", pa.float64()),
            ("good_min", pa.float64()),
            ("fair_min", pa.float64()),
            ("publish_floor", pa.float64()),
            ("block_on_closure_exceeded", pa.bool_()),
        ]
    ),
    "sustainability_settings": pa.schema(
        [
            ("site_id", pa.string()),
            ("at_risk_margin_pct", pa.float64()),
        ]
    ),
    "sustainability_components": pa.schema(
        [
            ("site_id", pa.string()),
            ("metric", pa.string()),
            ("weight", pa.float64()),
            ("best", pa.float64()),
            ("worst", pa.float64()),
        ]
    ),
    "sustainability_goals": pa.schema(
        [
            ("site_id", pa.string()),
            ("goal_id", pa.string()),
            ("metric", pa.string()),
            ("target", pa.float64()),
            ("start_day", pa.date32()),
            ("due_day", pa.date32()),
            ("owner", pa.string()),
            ("baseline", pa.float64()),
            ("description", pa.string()),
        ]
    ),
    "sustainability_metrics": pa.schema(
        [
            ("metric", pa.string()),
            ("unit", pa.string()),
            ("lower_is_better", pa.bool_()),
            ("description", pa.string()),
        ]
    ),
    "units": pa.schema(
        [("symbol", pa.string()), ("dimension", pa.string()), ("factor", pa.float64())]
    ),
    "measurands": pa.schema(
        [
            ("name", pa.string()),
            ("dimension", pa.string()),
            ("canonical_unit", pa.string()),
            ("cumulative", pa.bool_()),
            ("description", pa.string()),
        ]
    ),
}

CATALOGUE_TABLES = ("units", "measurands")

# -- carbon (docs/sustainability-water-and-carbon.md) ------------------------------------------
SCHEMAS["carbon_settings"] = pa.schema(
    [
        ("site_id", pa.string()),
        ("grid_region", pa.string()),
        ("grid_edition", pa.string()),
        ("scope2_basis", pa.string()),
        ("fuel_region", pa.string()),
        ("fuel_edition", pa.string()),
        ("diesel_factor_kg_per_l", pa.float64()),
    ]
)
SCHEMAS["carbon_meters"] = pa.schema(
    [
        ("site_id", pa.string()),
        ("meter_id", pa.string()),
        ("activity", pa.string()),
        ("scope", pa.int32()),
    ]
)


def _carbon_settings_rows(site: SiteConfig) -> list[Row]:
    carbon = site.carbon
    return [
        {
            "site_id": site.site.id,
            "grid_region": carbon.grid_region,
            "grid_edition": carbon.grid_edition,
            "scope2_basis": carbon.scope2_basis,
            "fuel_region": carbon.fuel_region,
            "fuel_edition": carbon.fuel_edition,
            "diesel_factor_kg_per_l": carbon.diesel_factor_kg_per_l,
        }
    ]


def _carbon_meter_rows(site: SiteConfig) -> list[Row]:
    return [
        {"site_id": site.site.id, "meter_id": meter_id, "activity": activity, "scope": scope}
        for meter_id, activity, scope in carbon_meters(site)
    ]


def _site_rows(site: SiteConfig, org: Organisation) -> list[Row]:
    info = site.site
    organisation = info.organisation or org.organisation.id
    return [
        {
            "site_id": info.id,
            "name": info.name,
            "organisation": organisation,
            # a site file naming an organisation other than the file's names it itself
            "organisation_name": (
                org.organisation.name if organisation == org.organisation.id else organisation
            ),
            "region": info.region,
            "region_name": org.region_name(info.region) if info.region else "",
            "financial_year_start_month": org.organisation.financial_year_start_month,
            # the site's first day of data, else the organisation's (null: neither says)
            "data_start": info.data_start or org.organisation.data_start,
            "timezone": info.timezone,
            "regulators": ",".join(info.regulators),
            "water_stressed": info.water_stressed,
            "quality_high": ",".join(str(q) for q in site.waf.quality_high),
        }
    ]


def _waf_category_rows(site: SiteConfig) -> list[Row]:
    rows = []
    for direction, categories in (
        ("input", site.waf.input_sources),
        ("output", site.waf.output_destinations),
    ):
        for position, category in enumerate(categories):
            rows.append(
                {
                    "site_id": site.site.id,
                    "direction": direction,
                    "category": category,
                    "position": position,
                }
            )
    return rows


def _node_rows(site: SiteConfig) -> list[Row]:
    return [
        {
            "site_id": site.site.id,
            "node_id": node.id,
            "name": node.name or node.id,
            "kind": node.kind,
            "type": node.type,
            "capacity_m3": node.capacity_m3,
            "surface_area_m2": node.surface_area_m2,
            "catchment_area_m2": node.catchment_area_m2,
            "description": node.description,
        }
        for node in site.nodes
    ]


def _stage_storage_rows(site: SiteConfig) -> list[Row]:
    return [
        {
            "site_id": site.site.id,
            "node_id": node.id,
            "point_index": index,
            "level_m": level,
            "volume_m3": volume,
        }
        for node in site.nodes
        for index, (level, volume) in enumerate(node.stage_storage or [])
    ]


def _flow_rows(site: SiteConfig) -> list[Row]:
    return [
        {
            "site_id": site.site.id,
            "flow_id": flow.id,
            "name": flow.name or flow.id,
            "from_node_id": flow.from_node,
            "to_node_id": flow.to_node,
            "waf_input_source": flow.waf_input_source,
            "waf_output_destination": flow.waf_output_destination,
            "quality": flow.quality,
            "method": flow.method,
            "water_state": flow.water_state,
            "description": flow.description,
        }
        for flow in site.flows
    ]


def _meter_rows(site: SiteConfig) -> list[Row]:
    return [
        {
            "site_id": site.site.id,
            "meter_id": meter.id,
            "name": meter.name or meter.id,
            "measurand": meter.measurand,
            "unit": meter.unit,
            "interval": meter.interval,
            "interval_seconds": meter.interval_seconds,
            "node_id": meter.node,
            "flow_id": meter.flow,
            "valid_min": meter.valid_range[0] if meter.valid_range else None,
            "valid_max": meter.valid_range[1] if meter.valid_range else None,
            "redundancy_group": meter.redundancy_group,
            "rollover": meter.rollover,
            "tag": meter.tag,
            "manual": meter.manual,
            "description": meter.description,
        }
        for meter in site.meters
    ]


def _estimation_rule_rows(site: SiteConfig) -> list[Row]:
    rows = []
    for rule in site.estimations:
        row: Row = {
            "site_id": site.site.id,
            "flow_id": rule.flow,
            "method": rule.method,
            "classification": rule.classification,
            "description": rule.description,
        }
        defaulted = rule.defaulted_params()
        params = {**defaulted, **rule.params}
        for name in ESTIMATION_PARAM_COLUMNS:
            value = params.get(name)
            if value is not None:
                value = str(value) if is_text_param(name) else float(value)
            row[name] = value
        row["defaulted_params"] = (
            ", ".join(f"{name} = {value:g} (default)" for name, value in sorted(defaulted.items()))
            or None
        )
        rows.append(row)
    return rows


def _threshold_rows(site: SiteConfig) -> list[Row]:
    thresholds = site.thresholds
    return [
        {
            "site_id": site.site.id,
            "closure_error_pct": thresholds.closure_error_pct,
            "node_balance_error_pct": thresholds.node_balance_error_pct,
            "store_high_pct": thresholds.store_high_pct,
            "store_low_pct": thresholds.store_low_pct,
        }
    ]


def _meter_vee_rows(site: SiteConfig) -> list[Row]:
    """Every meter's VEE thresholds with the site defaults filled in (docs/quality.md).

    ``flat_line_hours`` is null (rule off) for measurands in ``FLAT_LINE_EXEMPT`` unless the
    meter sets it itself; ``disabled_flags`` is a comma-separated list.
    """
    rows = []
    for meter in site.meters:
        vee = site.quality.vee.for_meter(meter)
        own_flat_line = meter.vee is not None and meter.vee.flat_line_hours is not None
        flat_line: float | None = vee.flat_line_hours
        if meter.measurand in FLAT_LINE_EXEMPT and not own_flat_line:
            flat_line = None
        rows.append(
            {
                "site_id": site.site.id,
                "meter_id": meter.id,
                "spike_ratio": vee.spike_ratio,
                "spike_step": vee.spike_step,
                "flat_line_hours": flat_line,
                "late_arrival_hours": vee.late_arrival_hours,
                "redundancy_tolerance_pct": vee.redundancy_tolerance_pct,
                "redundancy_floor_pct": vee.redundancy_floor_pct,
                "estimation_cap_hours": vee.estimation_cap_hours,
                "profile_days": vee.profile_days,
                "disabled_flags": ",".join(sorted(set(vee.disabled_flags))),
            }
        )
    return rows


def _quality_rows(site: SiteConfig) -> list[Row]:
    quality = site.quality
    return [
        {
            "site_id": site.site.id,
            "excellent_min": quality.excellent_min,
            "good_min": quality.good_min,
            "fair_min": quality.fair_min,
            "publish_floor": quality.publish_floor,
            "block_on_closure_exceeded": quality.block_on_closure_exceeded,
        }
    ]


def _sustainability_settings_rows(site: SiteConfig) -> list[Row]:
    settings = site.sustainability
    return [
        {
            "site_id": site.site.id,
            "at_risk_margin_pct": settings.at_risk_margin_pct,
        }
    ]


def _sustainability_component_rows(site: SiteConfig) -> list[Row]:
    return [
        {
            "site_id": site.site.id,
            "metric": component.metric,
            "weight": component.weight,
            "best": component.best,
            "worst": component.worst,
        }
        for component in site.sustainability.components
    ]


def _sustainability_goal_rows(site: SiteConfig) -> list[Row]:
    return [
        {
            "site_id": site.site.id,
            "goal_id": goal.id,
            "metric": goal.metric,
            "target": goal.target,
            "start_day": goal.start,
            "due_day": goal.due,
            "owner": goal.owner,
            "baseline": goal.baseline,
            "description": goal.description,
        }
        for goal in site.sustainability.goals
    ]


def _sustainability_metric_rows() -> list[Row]:
    return [
        {
            "metric": metric.name,
            "unit": metric.unit,
            "lower_is_better": metric.lower_is_better,
            "description": metric.description,
        }
        for metric in SUSTAINABILITY_METRICS.values()
    ]


def _unit_rows() -> list[Row]:
    return [
        {"symbol": unit.symbol, "dimension": unit.dimension, "factor": unit.factor}
        for unit in UNITS.values()
    ]


def _measurand_rows() -> list[Row]:
    return [
        {
            "name": measurand.name,
            "dimension": measurand.dimension,
            "canonical_unit": measurand.canonical_unit,
            "cumulative": measurand.cumulative,
            "description": measurand.description,
        }
        for measurand in MEASURANDS.values()
    ]


SITE_TABLES: dict[str, Callable[[SiteConfig], list[Row]]] = {
    "waf_categories": _waf_category_rows,
    "nodes": _node_rows,
    "stage_storage": _stage_storage_rows,
    "flows": _flow_rows,
    "meters": _meter_rows,
    "estimation_rules": _estimation_rule_rows,
    "thresholds": _threshold_rows,
    "meter_vee_settings": _meter_vee_rows,
    "quality_settings": _quality_rows,
    "carbon_settings": _carbon_settings_rows,
    "carbon_meters": _carbon_meter_rows,
    "sustainability_settings": _sustainability_settings_rows,
    "sustainability_components": _sustainability_component_rows,
    "sustainability_goals": _sustainability_goal_rows,
}


# -- water quality (``water_quality:`` of the site file) ---------------------------------------
WATER_QUALITY_SCHEMAS: dict[str, pa.Schema] = {
    "wq_sample_points": pa.schema(
        [
            ("site_id", pa.string()),
            ("sample_point_id", pa.string()),
            ("name", pa.string()),
            ("node_id", pa.string()),
            ("flow_id", pa.string()),
            ("role", pa.string()),
        ]
    ),
    "wq_parameters": pa.schema(
        [
            ("site_id", pa.string()),
            ("parameter_id", pa.string()),
            ("name", pa.string()),
            ("unit", pa.string()),
        ]
    ),
    "wq_limits": pa.schema(
        [
            ("site_id", pa.string()),
            ("limit_id", pa.string()),
            ("sample_point_id", pa.string()),
            ("parameter_id", pa.string()),
            ("min_value", pa.float64()),
            ("max_value", pa.float64()),
            ("unit", pa.string()),
            ("basis", pa.string()),
            ("reference", pa.string()),
        ]
    ),
    "wq_treatments": pa.schema(
        [
            ("site_id", pa.string()),
            ("treatment_id", pa.string()),
            ("name", pa.string()),
            ("inlet_point_id", pa.string()),
            ("outlet_point_id", pa.string()),
        ]
    ),
    "wq_settings": pa.schema(
        [
            ("site_id", pa.string()),
            ("category3_tds_mg_l", pa.float64()),
            ("category3_ph_low", pa.float64()),
            ("category3_ph_high", pa.float64()),
            ("ec_to_tds_factor", pa.float64()),
        ]
    ),
}


def _wq_sample_point_rows(site: SiteConfig) -> list[Row]:
    return [
        {
            "site_id": site.site.id,
            "sample_point_id": p.id,
            "name": p.name or p.id,
            "node_id": p.node,
            "flow_id": p.flow,
            "role": p.role,
        }
        for p in site.water_quality.sample_points
    ]


def _wq_parameter_rows(site: SiteConfig) -> list[Row]:
    return [
        {"site_id": site.site.id, "parameter_id": p.id, "name": p.name or p.id, "unit": p.unit}
        for p in site.water_quality.parameters
    ]


def _wq_limit_rows(site: SiteConfig) -> list[Row]:
    units = {p.id: p.unit for p in site.water_quality.parameters}
    return [
        {
            "site_id": site.site.id,
            "limit_id": lim.id,
            "sample_point_id": lim.sample_point,
            "parameter_id": lim.parameter,
            "min_value": lim.min,
            "max_value": lim.max,
            "unit": lim.unit or units.get(lim.parameter),
            "basis": lim.basis,
            "reference": lim.reference,
        }
        for lim in site.water_quality.limits
    ]


def _wq_treatment_rows(site: SiteConfig) -> list[Row]:
    return [
        {
            "site_id": site.site.id,
            "treatment_id": t.id,
            "name": t.name or t.id,
            "inlet_point_id": t.inlet,
            "outlet_point_id": t.outlet,
        }
        for t in site.water_quality.treatments
    ]


def _wq_settings_rows(site: SiteConfig) -> list[Row]:
    wq = site.water_quality
    return [
        {
            "site_id": site.site.id,
            "category3_tds_mg_l": wq.category3_tds_mg_l,
            "category3_ph_low": wq.category3_ph_low,
            "category3_ph_high": wq.category3_ph_high,
            "ec_to_tds_factor": wq.ec_to_tds_factor,
        }
    ]


SCHEMAS.update(WATER_QUALITY_SCHEMAS)
SITE_TABLES.update(
    {
        "wq_sample_points": _wq_sample_point_rows,
        "wq_parameters": _wq_parameter_rows,
        "wq_limits": _wq_limit_rows,
        "wq_treatments": _wq_treatment_rows,
        "wq_settings": _wq_settings_rows,
    }
)


# -- air quality (siteledger.site.air_quality; docs/air-quality.md) --------------------------
SCHEMAS["air_quality_meters"] = pa.schema(
    [
        ("site_id", pa.string()),
        ("meter_id", pa.string()),
        ("role", pa.string()),
        ("monitor_id", pa.string()),
        ("monitor_name", pa.string()),
    ]
)
SCHEMAS["air_quality_settings"] = pa.schema(
    [
        ("site_id", pa.string()),
        ("aqi_edition", pa.string()),
        ("trigger_pm10_ug_m3", pa.float64()),
        ("min_completeness_pct", pa.float64()),
        ("dust_suppression_flows", pa.string()),
    ]
)


def _air_quality_meter_rows(site: SiteConfig) -> list[Row]:
    """One row per meter the air quality settings name, with its role (pm10, pm25, wind_speed,
    wind_direction, humidity) and, for particulates, its monitoring location."""
    names = {m.id: m.name or m.id for m in site.air_quality.monitors}
    return [
        {
            "site_id": site.site.id,
            "meter_id": meter_id,
            "role": role,
            "monitor_id": monitor,
            "monitor_name": names.get(monitor or ""),
        }
        for meter_id, role, monitor in site.air_quality.meter_roles()
    ]


def _air_quality_settings_rows(site: SiteConfig) -> list[Row]:
    settings = site.air_quality
    return [
        {
            "site_id": site.site.id,
            "aqi_edition": settings.aqi_edition,
            "trigger_pm10_ug_m3": settings.trigger_pm10_ug_m3,
            "min_completeness_pct": settings.min_completeness_pct,
            "dust_suppression_flows": ",".join(settings.dust_suppression_flows),
        }
    ]


SITE_TABLES["air_quality_meters"] = _air_quality_meter_rows
SITE_TABLES["air_quality_settings"] = _air_quality_settings_rows


# -- energy (siteledger.site.energy; docs/energy.md) -------------------------------------------
ENERGY_SCHEMAS: dict[str, pa.Schema] = {
    "energy_settings": pa.schema(
        [
            ("site_id", pa.string()),
            ("currency", pa.string()),
            ("latitude", pa.float64()),
            ("longitude", pa.float64()),
            ("altitude_m", pa.float64()),
            ("unaccounted_alert_l_per_day", pa.float64()),
            ("solar_cost_per_kwh", pa.float64()),
            ("daily_cost_alert", pa.float64()),
        ]
    ),
    "energy_fuel_prices": pa.schema(
        [("site_id", pa.string()), ("valid_from", pa.date32()), ("price_per_l", pa.float64())]
    ),
    "energy_tanks": pa.schema(
        [
            ("site_id", pa.string()),
            ("tank_id", pa.string()),
            ("tank_name", pa.string()),
            ("capacity_l", pa.float64()),
            ("level_meter_id", pa.string()),
            ("delivery_meter_id", pa.string()),
        ]
    ),
    "energy_generators": pa.schema(
        [
            ("site_id", pa.string()),
            ("generator_id", pa.string()),
            ("generator_name", pa.string()),
            ("rated_kw", pa.float64()),
            ("f0_l_per_h_per_kw_rated", pa.float64()),
            ("f1_l_per_h_per_kw", pa.float64()),
            ("f0_defaulted", pa.bool_()),
            ("power_meter_id", pa.string()),
            ("energy_meter_id", pa.string()),
            ("fuel_meter_id", pa.string()),
            ("tank_id", pa.string()),
            ("cost_centre_id", pa.string()),
            ("low_load_fraction", pa.float64()),
            ("low_load_alert_hours", pa.float64()),
            ("efficiency_alert_ratio", pa.float64()),
        ]
    ),
    "energy_pv_arrays": pa.schema(
        [
            ("site_id", pa.string()),
            ("array_id", pa.string()),
            ("array_name", pa.string()),
            ("kwp", pa.float64()),
            ("tilt_deg", pa.float64()),
            ("azimuth_deg", pa.float64()),
            ("inverter_kw", pa.float64()),
            ("gamma_pdc_per_c", pa.float64()),
            ("losses_pct", pa.float64()),
            ("inverter_efficiency", pa.float64()),
            ("power_meter_id", pa.string()),
            ("energy_meter_id", pa.string()),
            ("irradiance_meter_id", pa.string()),
            ("temperature_meter_id", pa.string()),
            ("wind_meter_id", pa.string()),
            ("pi_alert_threshold", pa.float64()),
            ("pi_alert_days", pa.int32()),
            ("zero_production_irradiance_w_m2", pa.float64()),
        ]
    ),
    "energy_grid": pa.schema(
        [
            ("site_id", pa.string()),
            ("grid_id", pa.string()),
            ("grid_name", pa.string()),
            ("import_meter_id", pa.string()),
            ("export_meter_id", pa.string()),
            ("energy_rate_per_kwh", pa.float64()),
            ("demand_charge_per_kw_month", pa.float64()),
            ("demand_interval_minutes", pa.int32()),
            ("daily_charge", pa.float64()),
        ]
    ),
    "energy_tariff_periods": pa.schema(
        [
            ("site_id", pa.string()),
            ("grid_id", pa.string()),
            ("period_name", pa.string()),
            ("rate_per_kwh", pa.float64()),
            ("iso_dow", pa.int32()),
            ("start_minute", pa.int32()),
            ("end_minute", pa.int32()),
        ]
    ),
    "energy_loads": pa.schema(
        [
            ("site_id", pa.string()),
            ("load_id", pa.string()),
            ("load_name", pa.string()),
            ("meter_id", pa.string()),
            ("cost_centre_id", pa.string()),
            ("anomaly_kwh_per_day", pa.float64()),
        ]
    ),
    "energy_load_hours": pa.schema(
        [
            ("site_id", pa.string()),
            ("load_id", pa.string()),
            ("iso_dow", pa.int32()),
            ("start_minute", pa.int32()),
            ("end_minute", pa.int32()),
        ]
    ),
    "energy_cost_centres": pa.schema(
        [
            ("site_id", pa.string()),
            ("cost_centre_id", pa.string()),
            ("cost_centre_name", pa.string()),
        ]
    ),
}


def _energy_settings_rows(site: SiteConfig) -> list[Row]:
    """One row per site, energy section or not (the defaults then)."""
    energy = site.energy
    location = energy.location
    return [
        {
            "site_id": site.site.id,
            "currency": energy.currency,
            "latitude": location.latitude if location else None,
            "longitude": location.longitude if location else None,
            "altitude_m": location.altitude_m if location else None,
            "unaccounted_alert_l_per_day": energy.fuel.unaccounted_alert_l_per_day,
            "solar_cost_per_kwh": energy.solar_cost_per_kwh,
            "daily_cost_alert": energy.daily_cost_alert,
        }
    ]


def _energy_fuel_price_rows(site: SiteConfig) -> list[Row]:
    return [
        {"site_id": site.site.id, "valid_from": valid_from, "price_per_l": price}
        for valid_from, price in site.energy.fuel.price_rows()
    ]


def _energy_tank_rows(site: SiteConfig) -> list[Row]:
    return [
        {
            "site_id": site.site.id,
            "tank_id": tank.id,
            "tank_name": tank.name or tank.id,
            "capacity_l": tank.capacity_l,
            "level_meter_id": tank.level_meter,
            "delivery_meter_id": tank.delivery_meter,
        }
        for tank in site.energy.fuel.tanks
    ]


def _energy_generator_rows(site: SiteConfig) -> list[Row]:
    return [
        {
            "site_id": site.site.id,
            "generator_id": gen.id,
            "generator_name": gen.name or gen.id,
            "rated_kw": gen.rated_kw,
            "f0_l_per_h_per_kw_rated": gen.f0,
            "f1_l_per_h_per_kw": gen.f1_l_per_h_per_kw,
            "f0_defaulted": gen.f0_defaulted,
            "power_meter_id": gen.power_meter,
            "energy_meter_id": gen.energy_meter,
            "fuel_meter_id": gen.fuel_meter,
            "tank_id": gen.tank,
            "cost_centre_id": gen.cost_centre,
            "low_load_fraction": gen.low_load_fraction,
            "low_load_alert_hours": gen.low_load_alert_hours,
            "efficiency_alert_ratio": gen.efficiency_alert_ratio,
        }
        for gen in site.energy.generators
    ]


def _energy_pv_array_rows(site: SiteConfig) -> list[Row]:
    return [
        {
            "site_id": site.site.id,
            "array_id": array.id,
            "array_name": array.name or array.id,
            "kwp": array.kwp,
            "tilt_deg": array.tilt_deg,
            "azimuth_deg": array.azimuth_deg,
            "inverter_kw": array.inverter_kw,
            "gamma_pdc_per_c": array.gamma_pdc_per_c,
            "losses_pct": array.losses_pct,
            "inverter_efficiency": array.inverter_efficiency,
            "power_meter_id": array.power_meter,
            "energy_meter_id": array.energy_meter,
            "irradiance_meter_id": array.irradiance_meter,
            "temperature_meter_id": array.temperature_meter,
            "wind_meter_id": array.wind_meter,
            "pi_alert_threshold": array.pi_alert_threshold,
            "pi_alert_days": array.pi_alert_days,
            "zero_production_irradiance_w_m2": array.zero_production_irradiance_w_m2,
        }
        for array in site.energy.pv_arrays
    ]


def _energy_grid_rows(site: SiteConfig) -> list[Row]:
    grid = site.energy.grid
    if grid is None:
        return []
    return [
        {
            "site_id": site.site.id,
            "grid_id": grid.id,
            "grid_name": grid.name or grid.id,
            "import_meter_id": grid.import_meter,
            "export_meter_id": grid.export_meter,
            "energy_rate_per_kwh": grid.tariff.energy_rate_per_kwh,
            "demand_charge_per_kw_month": grid.tariff.demand_charge_per_kw_month,
            "demand_interval_minutes": grid.tariff.demand_interval_minutes,
            "daily_charge": grid.tariff.daily_charge,
        }
    ]


def _energy_tariff_period_rows(site: SiteConfig) -> list[Row]:
    """One row per period and ISO day of week (1 = Monday); a period past midnight gives a row
    to midnight (1440) on its day and one from 0 on the next."""
    grid = site.energy.grid
    if grid is None:
        return []
    return [
        {
            "site_id": site.site.id,
            "grid_id": grid.id,
            "period_name": period.name,
            "rate_per_kwh": period.rate_per_kwh,
            "iso_dow": day,
            "start_minute": start,
            "end_minute": end,
        }
        for period in grid.tariff.periods
        for day, start, end in period.day_rows()
    ]


def _energy_load_rows(site: SiteConfig) -> list[Row]:
    return [
        {
            "site_id": site.site.id,
            "load_id": load.id,
            "load_name": load.name or load.id,
            "meter_id": load.meter,
            "cost_centre_id": load.cost_centre,
            "anomaly_kwh_per_day": load.anomaly_kwh_per_day,
        }
        for load in site.energy.loads
    ]


def _energy_load_hour_rows(site: SiteConfig) -> list[Row]:
    """A load's operating hours, one row per window and ISO day, split at midnight."""
    return [
        {
            "site_id": site.site.id,
            "load_id": load.id,
            "iso_dow": day,
            "start_minute": start,
            "end_minute": end,
        }
        for load in site.energy.loads
        for window in load.operating_hours
        for day, start, end in window.day_rows()
    ]


def _energy_cost_centre_rows(site: SiteConfig) -> list[Row]:
    return [
        {
            "site_id": site.site.id,
            "cost_centre_id": centre.id,
            "cost_centre_name": centre.name or centre.id,
        }
        for centre in site.energy.cost_centres
    ]


SCHEMAS.update(ENERGY_SCHEMAS)
SITE_TABLES.update(
    {
        "energy_settings": _energy_settings_rows,
        "energy_fuel_prices": _energy_fuel_price_rows,
        "energy_tanks": _energy_tank_rows,
        "energy_generators": _energy_generator_rows,
        "energy_pv_arrays": _energy_pv_array_rows,
        "energy_grid": _energy_grid_rows,
        "energy_tariff_periods": _energy_tariff_period_rows,
        "energy_loads": _energy_load_rows,
        "energy_load_hours": _energy_load_hour_rows,
        "energy_cost_centres": _energy_cost_centre_rows,
    }
)


# -- materials (siteledger.site.materials; docs/materials.md) ---------------------------------
MATERIALS_SITE_SCHEMAS: dict[str, pa.Schema] = {
    "materials_settings": pa.schema(
        [
            ("site_id", pa.string()),
            ("currency", pa.string()),
            ("expiry_alert_days", pa.int32()),
            ("margin_floor_pct", pa.float64()),
            ("margin_fall_pct_points", pa.float64()),
            ("price_rise_alert_pct", pa.float64()),
            ("yield_alert_pct", pa.float64()),
            ("service_level", pa.float64()),
            ("holding_cost_rate", pa.float64()),
            ("order_cost", pa.float64()),
            ("otif_tolerance_pct", pa.float64()),
            ("labour_rate_per_hour", pa.float64()),
            ("overhead_rate_per_m2", pa.float64()),
            ("overhead_pct", pa.float64()),
            ("consumables_per_m2", pa.float64()),
            ("default_film_um", pa.float64()),
            ("oven_energy_price_per_kwh", pa.float64()),
        ]
    ),
    "materials_exchange_rates": pa.schema(
        [
            ("site_id", pa.string()),
            ("currency", pa.string()),
            ("valid_from", pa.date32()),
            ("rate", pa.float64()),
        ]
    ),
    "materials": pa.schema(
        [
            ("site_id", pa.string()),
            ("material_id", pa.string()),
            ("name", pa.string()),
            ("unit", pa.string()),
            ("dimension", pa.string()),
            ("category", pa.string()),
            ("density_g_per_ml", pa.float64()),
            ("shelf_life_days", pa.int32()),
            ("lead_time_days", pa.float64()),
            ("lead_time_sd_days", pa.float64()),
            ("service_level", pa.float64()),
            ("reorder_point", pa.float64()),
            ("specific_gravity", pa.float64()),
            ("transfer_efficiency", pa.float64()),
            ("reclaim_fraction", pa.float64()),
        ]
    ),
    "materials_suppliers": pa.schema(
        [
            ("site_id", pa.string()),
            ("supplier_id", pa.string()),
            ("name", pa.string()),
            ("lead_time_days", pa.float64()),
        ]
    ),
    "materials_customers": pa.schema(
        [
            ("site_id", pa.string()),
            ("customer_id", pa.string()),
            ("name", pa.string()),
            ("segment", pa.string()),
        ]
    ),
    "materials_products": pa.schema(
        [
            ("site_id", pa.string()),
            ("product_id", pa.string()),
            ("name", pa.string()),
            ("unit", pa.string()),
            ("price", pa.float64()),
            ("shelf_life_days", pa.int32()),
            ("spec_id", pa.string()),
        ]
    ),
    "materials_recipes": pa.schema(
        [
            ("site_id", pa.string()),
            ("recipe_id", pa.string()),
            ("version", pa.int32()),
            ("product_id", pa.string()),
            ("valid_from", pa.date32()),
            ("yield_qty", pa.float64()),
            ("yield_unit", pa.string()),
        ]
    ),
    "materials_recipe_inputs": pa.schema(
        [
            ("site_id", pa.string()),
            ("recipe_id", pa.string()),
            ("version", pa.int32()),
            ("material_id", pa.string()),
            ("qty_base", pa.float64()),
            ("unit_given", pa.string()),
            ("qty_given", pa.float64()),
        ]
    ),
    "materials_specifications": pa.schema(
        [
            ("site_id", pa.string()),
            ("spec_id", pa.string()),
            ("version", pa.int32()),
            ("product_id", pa.string()),
        ]
    ),
    "materials_spec_tests": pa.schema(
        [
            ("site_id", pa.string()),
            ("spec_id", pa.string()),
            ("version", pa.int32()),
            ("test_id", pa.string()),
            ("name", pa.string()),
            ("method", pa.string()),
            ("unit", pa.string()),
            ("min_value", pa.float64()),
            ("max_value", pa.float64()),
            ("expected_text", pa.string()),
        ]
    ),
    "materials_job_types": pa.schema(
        [
            ("site_id", pa.string()),
            ("job_type_id", pa.string()),
            ("name", pa.string()),
            ("m2_per_man_hour", pa.float64()),
            ("film_um", pa.float64()),
        ]
    ),
}


def _materials_settings_rows(site: SiteConfig) -> list[Row]:
    """One row per site, materials section or not (the defaults then)."""
    settings = site.materials
    shop = settings.shop
    return [
        {
            "site_id": site.site.id,
            "currency": settings.currency,
            "expiry_alert_days": settings.expiry_alert_days,
            "margin_floor_pct": settings.margin_floor_pct,
            "margin_fall_pct_points": settings.margin_fall_pct_points,
            "price_rise_alert_pct": settings.price_rise_alert_pct,
            "yield_alert_pct": settings.yield_alert_pct,
            "service_level": settings.service_level,
            "holding_cost_rate": settings.holding_cost_rate,
            "order_cost": settings.order_cost,
            "otif_tolerance_pct": settings.otif_tolerance_pct,
            "labour_rate_per_hour": shop.labour_rate_per_hour,
            "overhead_rate_per_m2": shop.overhead_rate_per_m2,
            "overhead_pct": shop.overhead_pct,
            "consumables_per_m2": shop.consumables_per_m2,
            "default_film_um": shop.default_film_um,
            "oven_energy_price_per_kwh": shop.oven_energy_price_per_kwh,
        }
    ]


def _materials_exchange_rate_rows(site: SiteConfig) -> list[Row]:
    return [
        {"site_id": site.site.id, "currency": currency, "valid_from": day, "rate": rate}
        for currency, day, rate in site.materials.rate_rows()
    ]


def _materials_rows(site: SiteConfig) -> list[Row]:
    return [
        {
            "site_id": site.site.id,
            "material_id": m.id,
            "name": m.name or m.id,
            "unit": m.unit,
            "dimension": m.dimension,
            "category": m.category,
            "density_g_per_ml": m.density_g_per_ml,
            "shelf_life_days": m.shelf_life_days,
            "lead_time_days": m.lead_time_days,
            "lead_time_sd_days": m.lead_time_sd_days,
            # the material's own service level, else the site's (what the reorder point uses)
            "service_level": (
                m.service_level if m.service_level is not None else site.materials.service_level
            ),
            "reorder_point": m.reorder_point,
            "specific_gravity": m.specific_gravity,
            "transfer_efficiency": m.transfer_efficiency,
            "reclaim_fraction": m.reclaim_fraction,
        }
        for m in site.materials.materials
    ]


def _materials_supplier_rows(site: SiteConfig) -> list[Row]:
    return [
        {
            "site_id": site.site.id,
            "supplier_id": s.id,
            "name": s.name or s.id,
            "lead_time_days": s.lead_time_days,
        }
        for s in site.materials.suppliers
    ]


def _materials_customer_rows(site: SiteConfig) -> list[Row]:
    return [
        {"site_id": site.site.id, "customer_id": c.id, "name": c.name or c.id, "segment": c.segment}
        for c in site.materials.customers
    ]


def _materials_product_rows(site: SiteConfig) -> list[Row]:
    return [
        {
            "site_id": site.site.id,
            "product_id": p.id,
            "name": p.name or p.id,
            "unit": p.unit,
            "price": p.price,
            "shelf_life_days": p.shelf_life_days,
            "spec_id": p.spec,
        }
        for p in site.materials.products
    ]


def _materials_recipe_rows(site: SiteConfig) -> list[Row]:
    """One row per recipe version; the yield in the product's unit (``yield_unit`` says so)."""
    rows = []
    for recipe in site.materials.recipes:
        product = site.materials.product(recipe.product)
        unit = product.unit if product is not None else recipe.yield_unit
        given = recipe.yield_unit or unit
        yield_qty = recipe.yield_qty
        if unit is not None and given is not None and given != unit:
            yield_qty = convert_amount(recipe.yield_qty, given, unit)
        rows.append(
            {
                "site_id": site.site.id,
                "recipe_id": recipe.id,
                "version": recipe.version,
                "product_id": recipe.product,
                "valid_from": recipe.valid_from,
                "yield_qty": yield_qty,
                "yield_unit": unit,
            }
        )
    return rows


def _materials_recipe_input_rows(site: SiteConfig) -> list[Row]:
    """Each input of each recipe version, its quantity converted to the material's base unit
    (through the material's density where the recipe gives a volume of a mass, or back)."""
    rows = []
    for recipe in site.materials.recipes:
        for item in recipe.inputs:
            material = site.materials.material(item.material)
            assert material is not None  # a validated site names known materials
            rows.append(
                {
                    "site_id": site.site.id,
                    "recipe_id": recipe.id,
                    "version": recipe.version,
                    "material_id": item.material,
                    "qty_base": convert_amount(
                        item.qty, item.unit, material.unit, material.density_g_per_ml
                    ),
                    "unit_given": item.unit,
                    "qty_given": item.qty,
                }
            )
    return rows


def _materials_specification_rows(site: SiteConfig) -> list[Row]:
    return [
        {"site_id": site.site.id, "spec_id": s.id, "version": s.version, "product_id": s.product}
        for s in site.materials.specifications
    ]


def _materials_spec_test_rows(site: SiteConfig) -> list[Row]:
    return [
        {
            "site_id": site.site.id,
            "spec_id": spec.id,
            "version": spec.version,
            "test_id": test.id,
            "name": test.name or test.id,
            "method": test.method,
            "unit": test.unit,
            "min_value": test.min,
            "max_value": test.max,
            "expected_text": test.expected,
        }
        for spec in site.materials.specifications
        for test in spec.tests
    ]


def _materials_job_type_rows(site: SiteConfig) -> list[Row]:
    """Job types with the film thickness they are coated at (their own, else the shop's)."""
    return [
        {
            "site_id": site.site.id,
            "job_type_id": j.id,
            "name": j.name or j.id,
            "m2_per_man_hour": j.m2_per_man_hour,
            "film_um": site.materials.film_um(j),
        }
        for j in site.materials.job_types
    ]


SCHEMAS.update(MATERIALS_SITE_SCHEMAS)
SITE_TABLES.update(
    {
        "materials_settings": _materials_settings_rows,
        "materials_exchange_rates": _materials_exchange_rate_rows,
        "materials": _materials_rows,
        "materials_suppliers": _materials_supplier_rows,
        "materials_customers": _materials_customer_rows,
        "materials_products": _materials_product_rows,
        "materials_recipes": _materials_recipe_rows,
        "materials_recipe_inputs": _materials_recipe_input_rows,
        "materials_specifications": _materials_specification_rows,
        "materials_spec_tests": _materials_spec_test_rows,
        "materials_job_types": _materials_job_type_rows,
    }
)


# -- metering (siteledger.site.metering; docs/metering.md) -----------------------------------
METERING_SITE_SCHEMAS: dict[str, pa.Schema] = {
    "metering_settings": pa.schema(
        [
            ("site_id", pa.string()),
            ("currency", pa.string()),
            ("emergency_credit", pa.float64()),
            ("low_balance_threshold", pa.float64()),
            ("low_balance_days", pa.string()),
            ("credit_days_window", pa.int32()),
            ("night_start_hour", pa.int32()),
            ("night_end_hour", pa.int32()),
            ("night_flow_l_per_h", pa.float64()),
            ("zero_flow_l_per_h", pa.float64()),
            ("intermittent_min_hours", pa.int32()),
            ("burst_q3_fraction", pa.float64()),
            ("default_q3_m3_per_h", pa.float64()),
            ("reverse_flow_l", pa.float64()),
            ("offline_after_intervals", pa.int32()),
            ("low_battery_pct", pa.float64()),
            ("weak_signal_dbm", pa.float64()),
            ("per_capita_benchmark_l", pa.float64()),
            ("peak_hours", pa.string()),
            ("revenue_drop_pct", pa.float64()),
            ("maintenance_due_days", pa.int32()),
        ]
    ),
    "metering_tariffs": pa.schema(
        [
            ("site_id", pa.string()),
            ("tariff_id", pa.string()),
            ("name", pa.string()),
            ("effective_from", pa.date32()),
            ("effective_to", pa.date32()),
            ("fixed_charge_per_month", pa.float64()),
        ]
    ),
    "metering_tariff_blocks": pa.schema(
        [
            ("site_id", pa.string()),
            ("tariff_id", pa.string()),
            ("effective_from", pa.date32()),
            ("block_no", pa.int32()),
            ("from_m3", pa.float64()),
            ("to_m3", pa.float64()),
            ("rate", pa.float64()),
        ]
    ),
    "metering_districts": pa.schema(
        [
            ("site_id", pa.string()),
            ("district_id", pa.string()),
            ("name", pa.string()),
            ("bulk_meter_id", pa.string()),
        ]
    ),
}


def _metering_settings_rows(site: SiteConfig) -> list[Row]:
    """One row per site, metering section or not (the defaults then)."""
    m = site.metering
    return [
        {
            "site_id": site.site.id,
            "currency": m.currency,
            "emergency_credit": m.emergency_credit,
            "low_balance_threshold": m.low_balance_threshold,
            "low_balance_days": ",".join(str(d) for d in m.low_balance_days),
            "credit_days_window": m.credit_days_window,
            "night_start_hour": m.leak.night_start_hour,
            "night_end_hour": m.leak.night_end_hour,
            "night_flow_l_per_h": m.leak.night_flow_l_per_h,
            "zero_flow_l_per_h": m.leak.zero_flow_l_per_h,
            "intermittent_min_hours": m.leak.intermittent_min_hours,
            "burst_q3_fraction": m.burst_q3_fraction,
            "default_q3_m3_per_h": m.default_q3_m3_per_h,
            "reverse_flow_l": m.reverse_flow_l,
            "offline_after_intervals": m.offline_after_intervals,
            "low_battery_pct": m.low_battery_pct,
            "weak_signal_dbm": m.weak_signal_dbm,
            "per_capita_benchmark_l": m.per_capita_benchmark_l,
            "peak_hours": ",".join(str(h) for h in m.peak_hour_starts),
            "revenue_drop_pct": m.revenue_drop_pct,
            "maintenance_due_days": m.maintenance_due_days,
        }
    ]


def _metering_tariff_rows(site: SiteConfig) -> list[Row]:
    """One row per tariff version; a version ends the day before the next one starts."""
    rows = []
    for tariff in site.metering.tariffs:
        versions = sorted(tariff.versions, key=lambda v: v.effective_from)
        for i, version in enumerate(versions):
            following = versions[i + 1].effective_from if i + 1 < len(versions) else None
            rows.append(
                {
                    "site_id": site.site.id,
                    "tariff_id": tariff.id,
                    "name": tariff.name or tariff.id,
                    "effective_from": version.effective_from,
                    "effective_to": following - dt.timedelta(days=1) if following else None,
                    "fixed_charge_per_month": version.fixed_charge_per_month,
                }
            )
    return rows


def _metering_tariff_block_rows(site: SiteConfig) -> list[Row]:
    rows = []
    for tariff in site.metering.tariffs:
        for version in sorted(tariff.versions, key=lambda v: v.effective_from):
            start = 0.0
            for number, block in enumerate(version.blocks, start=1):
                rows.append(
                    {
                        "site_id": site.site.id,
                        "tariff_id": tariff.id,
                        "effective_from": version.effective_from,
                        "block_no": number,
                        "from_m3": start,
                        "to_m3": block.up_to_m3,
                        "rate": block.rate,
                    }
                )
                start = block.up_to_m3 if block.up_to_m3 is not None else start
    return rows


def _metering_district_rows(site: SiteConfig) -> list[Row]:
    return [
        {
            "site_id": site.site.id,
            "district_id": d.id,
            "name": d.name or d.id,
            "bulk_meter_id": meter_id,
        }
        for d in site.metering.districts
        for meter_id in d.bulk_meters
    ]


SCHEMAS.update(METERING_SITE_SCHEMAS)
SITE_TABLES.update(
    {
        "metering_settings": _metering_settings_rows,
        "metering_tariffs": _metering_tariff_rows,
        "metering_tariff_blocks": _metering_tariff_block_rows,
        "metering_districts": _metering_district_rows,
    }
)


def site_tables(site: SiteConfig, org: Organisation | None = None) -> dict[str, pa.Table]:
    """Every site-specific configuration table of one site, typed by :data:`SCHEMAS`; the
    organisation (default: the default one) supplies names and the financial year."""
    org = org or Organisation()
    tables = {
        name: pa.Table.from_pylist(rows(site), schema=SCHEMAS[name])
        for name, rows in SITE_TABLES.items()
    }
    tables["sites"] = pa.Table.from_pylist(_site_rows(site, org), schema=SCHEMAS["sites"])
    return tables


def catalogue_tables() -> dict[str, pa.Table]:
    """The unit and measurand catalogues (the same for every site)."""
    return {
        "units": pa.Table.from_pylist(_unit_rows(), schema=SCHEMAS["units"]),
        "measurands": pa.Table.from_pylist(_measurand_rows(), schema=SCHEMAS["measurands"]),
        "sustainability_metrics": pa.Table.from_pylist(
            _sustainability_metric_rows(), schema=SCHEMAS["sustainability_metrics"]
        ),
    }


def config_root(settings: Settings) -> Path:
    """Folder holding one sub-folder per configuration table."""
    return settings.lake / "config"


def _write_atomically(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        pq.write_table(table, temp_name)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def write_site_tables(settings: Settings, site: SiteConfig) -> dict[str, Path]:
    """Export one validated site (and the unit catalogues) to Parquet; returns table -> file."""
    root = config_root(settings)
    written: dict[str, Path] = {}
    org = load_organisation(settings.organisation_file)
    for name, table in site_tables(site, org).items():
        path = root / name / f"site={site.site.id}.parquet"
        _write_atomically(table, path)
        written[name] = path
    for name, table in catalogue_tables().items():
        path = root / name / "catalogue.parquet"
        _write_atomically(table, path)
        written[name] = path
    return written
