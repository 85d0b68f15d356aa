{#- Non-revenue water (IWA balance) of each district and site-local day: system input = the
    day's volume through the district's bulk meters, from the water chain (totaliser deltas of
    int_totaliser_deltas, or the daily total of an interval-volume meter in
    int_meter_totals_daily); billed = the consumption of the district's customers (their
    district in force on the day, from the ledger); nrw = input - billed, nrw_pct = nrw / input
    in % (null without input). Days with either figure are listed. -#}
with

districts as (
    select * from {{ ref('stg_site_config__metering_districts') }}
),

bulk_volumes as (
    select
        site_id,
        meter_id,
        delta_day as day,
        delta_m3 as volume_m3
    from {{ ref('int_totaliser_deltas') }}
    union all
    select
        site_id,
        meter_id,
        day,
        total_value as volume_m3
    from {{ ref('int_meter_totals_daily') }}
    where measurand = 'volume'
),

system_input as (
    select
        districts.site_id,
        districts.district_id,
        bulk_volumes.day,
        sum(bulk_volumes.volume_m3) as system_input_m3
    from districts
    inner join bulk_volumes
        on districts.site_id = bulk_volumes.site_id
        and districts.bulk_meter_id = bulk_volumes.meter_id
    group by all
),

billed as (
    select
        site_id,
        district_id,
        day,
        sum(consumption_m3) as billed_m3
    from {{ ref('fct_customer_ledger_daily') }}
    where district_id is not null
    group by all
),

final as (
    select
        coalesce(system_input.site_id, billed.site_id) as site_id,
        coalesce(system_input.district_id, billed.district_id) as district_id,
        coalesce(system_input.day, billed.day) as day,
        system_input.system_input_m3,
        coalesce(billed.billed_m3, 0) as billed_m3,
        system_input.system_input_m3 - coalesce(billed.billed_m3, 0) as nrw_m3,
        100.0 * (system_input.system_input_m3 - coalesce(billed.billed_m3, 0))
        / nullif(system_input.system_input_m3, 0) as nrw_pct
    from system_input
    full outer join billed
        on system_input.site_id = billed.site_id
        and system_input.district_id = billed.district_id
        and system_input.day = billed.day
)

select * from final
