{#- The prepaid ledger of every customer and site-local day (docs/metering.md, "Marts and
    detection"). Block tariff on the month's consumption of all the customer's meters:
    charge(q) = sum_i rate_i * clip(q - from_i, 0, to_i - from_i) with the blocks of the tariff
    version in force on the day; the day's consumption charge is charge(month-to-date incl. the
    day) - charge(month-to-date before the day), so the month's charges add up to the charge of
    the month's total. Balance: closing(d) = closing(d-1) + credit purchased(d) (the credit
    bought, not the amount paid) - consumption charge(d) - fixed charge(d), a running window
    sum from the customer's first day (opening 0). Status: exhausted below -emergency_credit,
    emergency below 0, low at or below the threshold, else ok. Days of credit left: the
    positive balance / the mean daily (consumption + fixed) charge of the last
    credit_days_window days of the ledger (null when that mean is 0); the site's first three
    low_balance_days levels (largest first) beside it, which the credit-days alerts compare it
    with.
    A window run (start_day set) recomputes each site from its first rewritten day (as
    int_metering_customer_days) to its last day: the closing balance of the day before and the
    charges of the credit_days_window days before come from this model's own rows. -#}
{{ config(**partitioned_by_day_config('day')) }}
-- depends_on: {{ ref('int_metering_purchases') }}
-- depends_on: {{ ref('int_metering_customer_versions') }}

{%- set window_start = rewrite_window()[0] %}
{%- set carry = is_incremental() and window_start is not none %}

with

settings as (
    select * from {{ ref('int_metering_settings') }}
),

recompute_from as (
    {% if carry %}
        {{ metering_ledger_recompute_from(this, 'active', window_start) }}
    {% else %}
        select
            site_id,
            cast(null as date) as recompute_from
        from settings
    {% endif %}
),

days as (
    select customer_days.*
    from {{ ref('int_metering_customer_days') }} as customer_days
    inner join recompute_from
        on customer_days.site_id = recompute_from.site_id
    where recompute_from.recompute_from is null
        or customer_days.day >= recompute_from.recompute_from
),

-- the last credit_days_window days before the first recomputed day, from this model: their
-- charges feed the recent daily charge, the last one's closing balance opens the run
held as (
    {% if carry %}
        select
            this_model.site_id,
            this_model.customer_id,
            this_model.day,
            this_model.consumption_charge + this_model.fixed_charge as charge,
            this_model.closing_balance,
            settings.credit_days_window
        from {{ this }} as this_model
        inner join recompute_from
            on this_model.site_id = recompute_from.site_id
            and this_model.day < recompute_from.recompute_from
        inner join settings
            on this_model.site_id = settings.site_id
            and this_model.day
            >= {{ add_days('recompute_from.recompute_from', '-settings.credit_days_window') }}
    {% else %}
        select
            cast(null as varchar) as site_id,
            cast(null as varchar) as customer_id,
            cast(null as date) as day,
            cast(null as double precision) as charge,
            cast(null as double precision) as closing_balance,
            cast(null as integer) as credit_days_window
        where false
    {% endif %}
),

blocks as (
    select * from {{ ref('stg_site_config__metering_tariff_blocks') }}
),

-- the block charge of the month-to-date before and including the day, per tariff block
charges as (
    select
        days.site_id,
        days.customer_id,
        days.day,
        sum(
            blocks.rate * (
                least(
                    greatest(days.month_to_date_m3 - blocks.from_m3, 0),
                    coalesce(blocks.to_m3 - blocks.from_m3, cast('infinity' as double precision))
                )
                - least(
                    greatest(days.month_to_date_m3 - days.consumption_m3 - blocks.from_m3, 0),
                    coalesce(blocks.to_m3 - blocks.from_m3, cast('infinity' as double precision))
                )
            )
        ) as consumption_charge
    from days
    inner join blocks
        on days.site_id = blocks.site_id
        and days.segment = blocks.tariff_id
        and days.tariff_effective_from = blocks.effective_from
    where days.consumption_m3 != 0
    group by days.site_id, days.customer_id, days.day
),

charged as (
    select
        days.*,
        settings.emergency_credit,
        settings.credit_days_window,
        -- the site's low_balance_days, largest first; null past the levels it names
        settings.low_balance_day_levels[1] as credit_days_level_1,
        settings.low_balance_day_levels[2] as credit_days_level_2,
        settings.low_balance_day_levels[3] as credit_days_level_3,
        coalesce(charges.consumption_charge, 0) as consumption_charge,
        days.credit_purchased - coalesce(charges.consumption_charge, 0) - days.fixed_charge
            as balance_change
    from days
    inner join settings
        on days.site_id = settings.site_id
    left join charges
        on days.site_id = charges.site_id
        and days.customer_id = charges.customer_id
        and days.day = charges.day
),

-- the held days ahead of the recomputed ones: the running sums go over both
streamed as (
    select
        *,
        consumption_charge + fixed_charge as charge,
        cast(null as double precision) as held_closing_balance,
        false as is_held
    from charged
    union all by name
    select
        site_id,
        customer_id,
        day,
        charge,
        cast(0 as double precision) as balance_change,
        credit_days_window,
        closing_balance as held_closing_balance,
        true as is_held
    from held
),

balanced as (
    select
        *,
        coalesce(last_value(held_closing_balance ignore nulls) over customer_days, 0)
        + sum(balance_change) over customer_days as closing_balance,
        sum(charge) over customer_days as cumulative_charge,
        row_number() over customer_days as day_no
    from streamed
    window customer_days as (
        partition by site_id, customer_id
        order by day
        rows between unbounded preceding and current row
    )
),

windowed as (
    select
        *,
        -- the mean daily charge of the last credit_days_window ledger days (fewer at the start)
        (
            cumulative_charge
            - lag(cumulative_charge, credit_days_window, 0) over (
                partition by site_id, customer_id order by day
            )
        ) / least(day_no, credit_days_window) as recent_daily_charge
    from balanced
),

final as (
    select
        site_id,
        customer_id,
        segment,
        day,
        month,
        is_active as active,
        credit_purchased,
        paid,
        voucher_discount,
        consumption_m3,
        month_to_date_m3,
        consumption_charge,
        fixed_charge,
        closing_balance - balance_change as opening_balance,
        closing_balance,
        case
            when closing_balance < -emergency_credit then 'exhausted'
            when closing_balance < 0 then 'emergency'
            when closing_balance <= low_balance_threshold then 'low'
            else 'ok'
        end as balance_status,
        greatest(closing_balance, 0) / nullif(recent_daily_charge, 0) as days_of_credit_left,
        low_balance_threshold,
        credit_days_level_1,
        credit_days_level_2,
        credit_days_level_3,
        last_paid_at,
        household_size,
        district_id
    from windowed
    where not is_held
)

select * from final
