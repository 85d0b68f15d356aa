{#- One row per prepaid customer and site-local day, from the customer's first activity (its
    create action, first purchase or first consumption, whichever is first) to the site's last
    day of metering data, with what the ledger needs: the customer version in force at the day's
    end (segment, threshold, active = created and not deactivated), credit purchased, paid and
    voucher discount of the purchases paid that day, consumption of all the customer's meters,
    month-to-date consumption (window over the month) and the tariff version in force on the
    day with its fixed charge accrued daily (fixed_charge_per_month / days in the month, on
    active days).
    A window run (start_day set) recomputes each site from its first rewritten day
    (metering_ledger_recompute_from: the window's first day, or an earlier day with a late
    purchase or customer change) to the site's last day, carrying the month-to-date of the day
    before from this model's own rows; the days before stay as they are. -#}
{{ config(**partitioned_by_day_config('day')) }}

{%- set window_start = rewrite_window()[0] %}
{%- set carry = is_incremental() and window_start is not none %}

with

settings as (
    select * from {{ ref('int_metering_settings') }}
),

versions as (
    select * from {{ ref('int_metering_customer_versions') }}
),

-- the version in force at each day's end: of several actions on one day, the last
day_versions as (
    select
        *,
        coalesce(
            lead(effective_day) over (
                partition by site_id, customer_id order by effective_at, version_no
            ),
            cast('9999-12-31' as date)
        ) as next_effective_day
    from versions
),

recompute_from as (
    {% if carry %}
        {{ metering_ledger_recompute_from(this, 'is_active', window_start) }}
    {% else %}
        select
            site_id,
            cast(null as date) as recompute_from
        from settings
    {% endif %}
),

purchases as (
    select
        site_id,
        customer_id,
        day,
        sum(amount) as credit_purchased,
        sum(final_amount) as paid,
        sum(amount - final_amount) as voucher_discount,
        max(paid_at) as last_paid_at
    from {{ ref('int_metering_purchases') }}
    group by site_id, customer_id, day
),

-- the days a window run recomputes: the rest of the daily tables is never read
recent_meter_days as (
    select meter_days.*
    from {{ ref('fct_meter_consumption_daily') }} as meter_days
    {% if carry %}
        inner join recompute_from
            on meter_days.site_id = recompute_from.site_id
            and meter_days.day >= recompute_from.recompute_from
    {% endif %}
),

consumption as (
    select
        site_id,
        customer_id,
        day,
        sum(volume_m3) as consumption_m3
    from recent_meter_days
    where customer_id is not null
    group by site_id, customer_id, day
),

site_last_days as (
    select
        site_id,
        max(day) as last_day
    from (
        select site_id, day from consumption
        union all
        select site_id, day from purchases
        union all
        select site_id, effective_day as day from versions
    ) as activity
    group by site_id
),

first_days as (
    select
        activity.site_id,
        activity.customer_id,
        min(activity.day) as first_day
    from (
        -- a meter's first reading closes no volume: a day without use is no activity
        select site_id, customer_id, day from consumption
        where consumption_m3 > 0
        union all
        select site_id, customer_id, day from purchases
        union all
        select site_id, customer_id, effective_day as day from versions
        {% if carry %}
            union all
            -- a customer already in the ledger the day before continues from the first
            -- recomputed day
            select
                held.site_id,
                held.customer_id,
                recompute_from.recompute_from as day
            from {{ this }} as held
            inner join recompute_from
                on held.site_id = recompute_from.site_id
                and held.day = {{ add_days('recompute_from.recompute_from', -1) }}
        {% endif %}
    ) as activity
    inner join recompute_from
        on activity.site_id = recompute_from.site_id
    -- a window run starts every customer at its first recomputed day at the earliest
    where recompute_from.recompute_from is null
        or activity.day >= recompute_from.recompute_from
    group by activity.site_id, activity.customer_id
),

-- the month-to-date of the day before the first recomputed day, carried into its month
carried as (
    {% if carry %}
        select
            held.site_id,
            held.customer_id,
            held.month,
            held.month_to_date_m3
        from {{ this }} as held
        inner join recompute_from
            on held.site_id = recompute_from.site_id
            and held.day = {{ add_days('recompute_from.recompute_from', -1) }}
    {% else %}
        select
            cast(null as varchar) as site_id,
            cast(null as varchar) as customer_id,
            cast(null as date) as month,
            cast(null as double precision) as month_to_date_m3
        where false
    {% endif %}
),

spine as (
    select
        first_days.site_id,
        first_days.customer_id,
        {{ unnest_days('first_days.first_day', 'site_last_days.last_day') }} as day
    from first_days
    inner join site_last_days
        on first_days.site_id = site_last_days.site_id
),

days as (
    select
        spine.site_id,
        spine.customer_id,
        spine.day,
        {{ month_start('spine.day') }} as month,
        {{ days_in_month('spine.day') }} as days_in_month,
        day_versions.segment,
        coalesce(day_versions.low_balance_threshold_given, settings.low_balance_threshold)
            as low_balance_threshold,
        coalesce(day_versions.is_active, false) as is_active,
        day_versions.household_size,
        day_versions.district_id,
        coalesce(purchases.credit_purchased, 0) as credit_purchased,
        coalesce(purchases.paid, 0) as paid,
        coalesce(purchases.voucher_discount, 0) as voucher_discount,
        purchases.last_paid_at,
        coalesce(consumption.consumption_m3, 0) as consumption_m3
    from spine
    inner join settings
        on spine.site_id = settings.site_id
    left join day_versions
        on spine.site_id = day_versions.site_id
        and spine.customer_id = day_versions.customer_id
        and spine.day >= day_versions.effective_day
        and spine.day < day_versions.next_effective_day
    left join purchases
        on spine.site_id = purchases.site_id
        and spine.customer_id = purchases.customer_id
        and spine.day = purchases.day
    left join consumption
        on spine.site_id = consumption.site_id
        and spine.customer_id = consumption.customer_id
        and spine.day = consumption.day
),

tariffs as (
    select * from {{ ref('stg_site_config__metering_tariffs') }}
),

final as (
    select
        days.*,
        sum(days.consumption_m3) over (
            partition by days.site_id, days.customer_id, days.month
            order by days.day
            rows between unbounded preceding and current row
        ) + coalesce(carried.month_to_date_m3, 0) as month_to_date_m3,
        tariffs.effective_from as tariff_effective_from,
        case
            when days.is_active
                then coalesce(tariffs.fixed_charge_per_month, 0) / days.days_in_month
            else 0
        end as fixed_charge
    from days
    left join carried
        on days.site_id = carried.site_id
        and days.customer_id = carried.customer_id
        and days.month = carried.month
    left join tariffs
        on days.site_id = tariffs.site_id
        and days.segment = tariffs.tariff_id
        and days.day >= tariffs.effective_from
        and (tariffs.effective_to is null or days.day <= tariffs.effective_to)
)

select * from final
