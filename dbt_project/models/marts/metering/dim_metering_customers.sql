{#- The current state of every prepaid customer: the latest version of its action log
    (int_metering_customer_versions), active unless the latest action deactivated it, with the
    effective low-balance threshold (its own, else the site's). -#}
with

versions as (
    select * from {{ ref('int_metering_customer_versions') }}
),

settings as (
    select * from {{ ref('int_metering_settings') }}
),

history as (
    select
        site_id,
        customer_id,
        min(effective_at) filter (where action = 'create') as created_at,
        min(effective_at) as first_action_at,
        max(effective_at) as updated_at
    from versions
    group by site_id, customer_id
),

latest as (
    select * from versions
    where valid_to is null
),

final as (
    select
        latest.site_id,
        latest.customer_id,
        latest.name,
        latest.segment,
        latest.household_size,
        latest.district_id,
        coalesce(latest.low_balance_threshold_given, settings.low_balance_threshold)
            as low_balance_threshold,
        latest.address,
        latest.is_active as active,
        coalesce(history.created_at, history.first_action_at) as created_at,
        history.updated_at,
        case when not latest.is_active then latest.effective_at end as deactivated_at
    from latest
    inner join history
        on latest.site_id = history.site_id
        and latest.customer_id = history.customer_id
    left join settings
        on latest.site_id = settings.site_id
)

select * from final
