{#- Tonnes of ore entering each site per site-local day: the denominator of water intensity. -#}
with

totals as (
    select * from {{ ref('int_meter_totals_daily') }}
),

meters as (
    select * from {{ ref('int_meters_enriched') }}
    where is_ore_feed
),

final as (
    select
        totals.site_id,
        totals.day,
        sum(totals.total_value) as ore_feed_t,
        {{ dbt.listagg('totals.meter_id', "','", 'order by totals.meter_id') }} as ore_meter_ids
    from totals
    inner join meters
        on totals.site_id = meters.site_id
        and totals.meter_id = meters.meter_id
    group by totals.site_id, totals.day
)

select * from final
