{#- The customer register as a history of versions: one row per customer action (create,
    update, deactivate) in the order they took effect, each attribute carried forward from the
    earlier actions where an action leaves it empty, valid from its `effective_at` to the next
    action's (`valid_to`, null for the current version). A record delivered twice (same
    customer, instant and action) counts once, the last loaded copy. `effective_day` is the
    site-local day the version takes effect. -#}
with

actions as (
    select * from {{ ref('stg_metering__customers') }}
    qualify row_number() over (
        partition by site_id, customer_id, effective_at, action
        order by loaded_at desc, source_row desc
    ) = 1
),

settings as (
    select
        site_id,
        timezone
    from {{ ref('int_metering_settings') }}
),

carried as (
    select
        site_id,
        customer_id,
        action,
        effective_at,
        loaded_at,
        source_row,
        last_value(name ignore nulls) over customer_history as name,
        last_value(segment ignore nulls) over customer_history as segment,
        last_value(household_size ignore nulls) over customer_history as household_size,
        last_value(district_id ignore nulls) over customer_history as district_id,
        last_value(low_balance_threshold ignore nulls) over customer_history
            as low_balance_threshold_given,
        last_value(address ignore nulls) over customer_history as address,
        row_number() over customer_history as version_no,
        lead(effective_at) over customer_history as valid_to
    from actions
    window customer_history as (
        partition by site_id, customer_id
        order by effective_at, loaded_at, source_row
        rows between unbounded preceding and current row
    )
),

final as (
    select
        carried.site_id,
        carried.customer_id,
        carried.version_no,
        carried.action,
        carried.effective_at,
        cast({{ utc_to_local('carried.effective_at', 'settings.timezone') }} as date)
            as effective_day,
        carried.valid_to,
        carried.action != 'deactivate' as is_active,
        carried.name,
        carried.segment,
        carried.household_size,
        carried.district_id,
        carried.low_balance_threshold_given,
        carried.address
    from carried
    left join settings
        on carried.site_id = settings.site_id
)

select * from final
