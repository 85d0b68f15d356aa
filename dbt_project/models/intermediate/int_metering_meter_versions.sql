{#- The customer meter register as a history of versions: one row per meter action (create,
    update, deactivate) in the order they took effect, each attribute carried forward from the
    earlier actions where an action leaves it empty. `valid_from` / `valid_to` bound the
    readings the version owns: the first version reaches back to the first reading (a meter
    reads before its create record was imported) and the current one has no end. -#}
with

actions as (
    select * from {{ ref('stg_metering__meters') }}
    qualify row_number() over (
        partition by site_id, meter_id, effective_at, action
        order by loaded_at desc, source_row desc
    ) = 1
),

carried as (
    select
        site_id,
        meter_id,
        action,
        effective_at,
        last_value(customer_id ignore nulls) over meter_history as customer_id,
        last_value(meter_type ignore nulls) over meter_history as meter_type,
        last_value(q3_m3_per_h ignore nulls) over meter_history as q3_m3_per_h_given,
        last_value(install_date ignore nulls) over meter_history as install_date,
        last_value(location ignore nulls) over meter_history as location,
        last_value(latitude ignore nulls) over meter_history as latitude,
        last_value(longitude ignore nulls) over meter_history as longitude,
        last_value(communication ignore nulls) over meter_history as communication,
        last_value(reading_interval_minutes ignore nulls) over meter_history
            as reading_interval_minutes_given,
        row_number() over meter_history as version_no,
        lead(effective_at) over meter_history as valid_to
    from actions
    window meter_history as (
        partition by site_id, meter_id
        order by effective_at, loaded_at, source_row
        rows between unbounded preceding and current row
    )
),

final as (
    select
        site_id,
        meter_id,
        version_no,
        action,
        effective_at,
        case
            when version_no = 1 then cast('-infinity' as timestamp with time zone)
            else effective_at
        end as valid_from,
        coalesce(valid_to, cast('infinity' as timestamp with time zone)) as valid_to,
        action != 'deactivate' as is_active,
        customer_id,
        meter_type,
        q3_m3_per_h_given,
        install_date,
        location,
        latitude,
        longitude,
        communication,
        coalesce(reading_interval_minutes_given, 60) as reading_interval_minutes
    from carried
)

select * from final
