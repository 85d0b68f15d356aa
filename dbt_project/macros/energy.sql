{#- Energy arithmetic shared by the energy models (docs/energy-marts.md). -#}

{#- The change of an energy register (cumulative kWh) between consecutive readings, one row per
    pair, stamped with the earlier reading (its site-local day and instant): a fall is a rollover
    when the meter has one and the previous value sat in the top part of the register (delta =
    rollover - previous + current), any other fall a reset or a replaced meter (delta = the new
    reading); a fall smaller than `energy_jitter_kwh` is float noise (delta 0). `readings` and
    `meters` name relations (CTEs) with site_id, meter_id, measurand, ts_utc, reading_day,
    value_canonical and site_id, meter_id, rollover_canonical. Columns: site_id, meter_id, day,
    ts_utc, next_ts_utc, delta_kind, start_kwh, end_kwh, delta_kwh. -#}
{% macro energy_register_deltas(readings, meters) -%}
    select
        pairs.site_id,
        pairs.meter_id,
        pairs.day,
        pairs.ts_utc,
        pairs.next_ts_utc,
        pairs.delta_kind,
        pairs.start_kwh,
        pairs.end_kwh,
        case pairs.delta_kind
            when 'normal' then greatest(pairs.end_kwh - pairs.start_kwh, 0)
            when 'rollover' then pairs.rollover_canonical - pairs.start_kwh + pairs.end_kwh
            else pairs.end_kwh
        end as delta_kwh
    from (
        select
            register_pairs.site_id,
            register_pairs.meter_id,
            register_pairs.day,
            register_pairs.ts_utc,
            register_pairs.next_ts_utc,
            case
                when register_pairs.end_kwh
                    >= register_pairs.start_kwh - {{ var('energy_jitter_kwh') }} then 'normal'
                when register_meters.rollover_canonical is not null
                    and register_pairs.start_kwh
                    >= {{ var('rollover_top_fraction') }} * register_meters.rollover_canonical
                    then 'rollover'
                else 'reset'
            end as delta_kind,
            register_pairs.start_kwh,
            register_pairs.end_kwh,
            register_meters.rollover_canonical
        from (
            select
                site_id,
                meter_id,
                reading_day as day,
                ts_utc,
                value_canonical as start_kwh,
                lead(value_canonical) over meter_series as end_kwh,
                lead(ts_utc) over meter_series as next_ts_utc
            from {{ readings }}
            where measurand = 'energy'
            window meter_series as (partition by site_id, meter_id order by ts_utc)
        ) as register_pairs
        inner join {{ meters }} as register_meters
            on register_pairs.site_id = register_meters.site_id
            and register_pairs.meter_id = register_meters.meter_id
        where register_pairs.end_kwh is not null
    ) as pairs
{%- endmacro %}

{#- HOMER's linear fuel curve: litres burned over `hours` at output `kw` by a set rated `rated_kw`
    (F0 L/h per rated kW, F1 L/h per output kW); nothing while stopped (kw <= 0). -#}
{% macro fuel_curve_l(f0, f1, rated_kw, kw, hours) -%}
    case
        when {{ kw }} > 0
            then ({{ f0 }} * {{ rated_kw }} + {{ f1 }} * {{ kw }}) * {{ hours }}
        else 0
    end
{%- endmacro %}

{#- Cell temperature (degC), pvlib temperature.faiman with its defaults u0 = 25, u1 = 6.84:
    T_air + POA / (u0 + u1 * wind). -#}
{% macro faiman_cell_temp(poa, temp_air, wind) -%}
    ({{ temp_air }} + {{ poa }} / (25.0 + 6.84 * {{ wind }}))
{%- endmacro %}

{#- DC power (kW) after system losses: pvlib pvsystem.pvwatts_dc (POA / 1000 * pdc0 *
    (1 + gamma * (T_cell - 25))) times (1 - losses_pct / 100). -#}
{% macro pvwatts_dc_kw(poa, cell_temp, kwp, gamma, losses_pct) -%}
    ({{ poa }} / 1000.0 * {{ kwp }} * (1 + {{ gamma }} * ({{ cell_temp }} - 25.0))
        * (1 - {{ losses_pct }} / 100.0))
{%- endmacro %}

{#- AC power (kW), pvlib inverter.pvwatts with pdc0 = inverter_kw / eta_inv_nom (so its AC limit
    pac0 = eta_inv_nom * pdc0 = inverter_kw) and eta_inv_ref = 0.9637:
    eta = eta_nom / eta_ref * (-0.0162 zeta - 0.0059 / zeta + 0.9858), zeta = pdc / pdc0;
    AC = eta * pdc clipped to [0, inverter_kw]; 0 when pdc = 0. -#}
{% macro pvwatts_ac_kw(pdc, inverter_kw, eta_nom) -%}
    case
        when {{ pdc }} = 0 then 0.0
        else greatest(
            0.0,
            least(
                {{ inverter_kw }},
                {{ eta_nom }} / 0.9637 * (
                    -0.0162 * ({{ pdc }}) / ({{ inverter_kw }} / {{ eta_nom }})
                    - 0.0059 / (({{ pdc }}) / ({{ inverter_kw }} / {{ eta_nom }}))
                    + 0.9858
                ) * ({{ pdc }})
            )
        )
    end
{%- endmacro %}

{#- Expected AC power (kW) of an array from plane-of-array irradiance (W/m2), air temperature
    (degC) and wind speed (m/s): faiman -> pvwatts_dc -> losses -> pvwatts inverter. -#}
{% macro pv_expected_ac_kw(poa, temp_air, wind, kwp, gamma, losses_pct, inverter_kw, eta_nom) -%}
    {%- set cell = faiman_cell_temp(poa, temp_air, wind) -%}
    {%- set pdc = pvwatts_dc_kw(poa, cell, kwp, gamma, losses_pct) -%}
    {{ pvwatts_ac_kw(pdc, inverter_kw, eta_nom) }}
{%- endmacro %}

{#- Minutes after local midnight of a local timestamp, and its ISO day of week (1 = Monday). -#}
{% macro minute_of_day(local_ts) -%}
    cast(extract(hour from {{ local_ts }}) * 60 + extract(minute from {{ local_ts }}) as integer)
{%- endmacro %}

{% macro iso_dow(local_ts) -%}
    cast(extract(isodow from {{ local_ts }}) as integer)
{%- endmacro %}

{#- Percentage change from `previous` to `current`; null without a previous value or from 0. -#}
{% macro pct_change(current, previous) -%}
    (100.0 * (({{ current }}) - ({{ previous }})) / nullif({{ previous }}, 0))
{%- endmacro %}
