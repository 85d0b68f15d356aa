{#- Site-local time for the metering models, cheap on hundreds of millions of readings: a zone
    without daylight saving (int_metering_settings.has_dst false) is a fixed offset, added as
    microseconds; a zone with daylight saving goes through the time-zone database per value.
    `settings` is the alias of a relation with timezone, has_dst and utc_offset_us. -#}

{% macro metering_to_local(ts_utc, settings) -%}
    case
        when {{ settings }}.has_dst then timezone({{ settings }}.timezone, {{ ts_utc }})
        else make_timestamp(epoch_us({{ ts_utc }}) + {{ settings }}.utc_offset_us)
    end
{%- endmacro %}

{% macro metering_to_utc(ts_local, settings) -%}
    case
        when {{ settings }}.has_dst then timezone({{ settings }}.timezone, {{ ts_local }})
        else make_timestamptz(epoch_us({{ ts_local }}) - {{ settings }}.utc_offset_us)
    end
{%- endmacro %}

{#- The first day a window run of the customer ledger models (int_metering_customer_days,
    fct_customer_ledger_daily) recomputes, per site, as a select of (site_id, recompute_from):
    the rewrite window's first day, or an earlier day whose purchases (credit, paid, voucher
    discount, last payment) or customer version at the day's end (segment, threshold, active,
    household size, district) differ from what `previous` (the model itself) holds for that day:
    a late purchase or a back-dated customer change; and no later than the day after the last
    day the model holds. Every day from there to the site's last
    day is recomputed, because the running balance and month-to-date carry forward.
    `active_column` is the model's name of the active flag. -#}
{% macro metering_ledger_recompute_from(previous, active_column, window_start) -%}
    select
        settings.site_id,
        least(
            {{ _day_literal(window_start) }},
            coalesce(purchase_changes.first_day, {{ _day_literal(window_start) }}),
            coalesce(version_changes.first_day, {{ _day_literal(window_start) }}),
            -- no gap after what the model holds; a site it holds nothing of: every day
            coalesce(
                {{ add_days('held_days.last_day', 1) }}, cast('0001-01-01' as date)
            )
        ) as recompute_from
    from {{ ref('int_metering_settings') }} as settings
    left join (
        select
            site_id,
            max(day) as last_day
        from {{ previous }}
        group by site_id
    ) as held_days
        on settings.site_id = held_days.site_id
    left join (
        select
            coalesce(given.site_id, held.site_id) as site_id,
            min(coalesce(given.day, held.day)) as first_day
        from (
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
        ) as given
        full outer join (
            select
                site_id,
                customer_id,
                day,
                credit_purchased,
                paid,
                voucher_discount,
                last_paid_at
            from {{ previous }}
            where last_paid_at is not null
        ) as held
            on given.site_id = held.site_id
            and given.customer_id = held.customer_id
            and given.day = held.day
        where given.credit_purchased is distinct from held.credit_purchased
            or given.paid is distinct from held.paid
            or given.voucher_discount is distinct from held.voucher_discount
            or given.last_paid_at is distinct from held.last_paid_at
        group by 1
    ) as purchase_changes
        on settings.site_id = purchase_changes.site_id
    left join (
        select
            versions.site_id,
            min(versions.effective_day) as first_day
        from (
            select
                *,
                lead(effective_day) over (
                    partition by site_id, customer_id order by effective_at, version_no
                ) as next_effective_day
            from {{ ref('int_metering_customer_versions') }}
        ) as versions
        inner join {{ ref('int_metering_settings') }} as version_settings
            on versions.site_id = version_settings.site_id
        left join {{ previous }} as held
            on versions.site_id = held.site_id
            and versions.customer_id = held.customer_id
            and versions.effective_day = held.day
        -- the version in force at the day's end (the last action of its day)
        where (versions.next_effective_day is null
            or versions.next_effective_day > versions.effective_day)
            and (
                held.day is null
                or versions.segment is distinct from held.segment
                or coalesce(
                    versions.low_balance_threshold_given, version_settings.low_balance_threshold
                ) is distinct from held.low_balance_threshold
                or coalesce(versions.is_active, false) is distinct from held.{{ active_column }}
                or versions.household_size is distinct from held.household_size
                or versions.district_id is distinct from held.district_id
            )
        group by versions.site_id
    ) as version_changes
        on settings.site_id = version_changes.site_id
    where {{ in_site_window('settings.site_id') }}
{%- endmacro %}
