{{ config(**partitioned_by_day_config('reading_day')) }}

{#- VEE estimation: a value for every missing or invalid reading, beside the raw one (which is
    never overwritten), with the method that made it:
    - redundant_partner: the mean of the valid readings of the meter's redundancy group at the
      same instant;
    - profile_average: for rates and interval quantities (flow_rate, power, ore_mass), the mean
      of the meter's valid readings at the same time of day on up to profile_days days either
      side (a pump schedule repeats daily; straight lines across a 6 h gap do not);
    - linear_interpolation: between the valid readings around it, for levels, registers and
      everything else (levels and registers move smoothly between samples);
    - none: rain and pan evaporation (a missing tip cannot be inferred), or nothing to go on.
    A slot more than estimation_cap_hours into a run of consecutive estimates is a prolonged
    estimation. -#}
with

flags as (
    select * from {{ ref('int_reading_flags') }}
    where {{ in_day_window('reading_day', before=1, after=1) }}
        and {{ in_site_window('site_id') }}
),

slots as (
    select
        site_id,
        meter_id,
        measurand,
        ts_utc,
        reading_day,
        string_agg(flag, ',' order by flag) as reasons
    from flags
    where severity in ('invalid', 'missing')
        and {{ in_day_window('reading_day') }}
    group by site_id, meter_id, measurand, ts_utc, reading_day
),

invalid as (
    select distinct site_id, meter_id, ts_utc
    from flags
    where severity = 'invalid'
),

meters as (
    select
        meters.site_id,
        meters.meter_id,
        meters.interval_seconds,
        meters.redundancy_group,
        vee.estimation_cap_hours,
        vee.profile_days
    from {{ ref('stg_site_config__meters') }} as meters
    inner join {{ ref('stg_site_config__meter_vee_settings') }} as vee
        on meters.site_id = vee.site_id
        and meters.meter_id = vee.meter_id
),

-- meters whose readings can stand in: the slot's own meter and its redundancy partners
source_meters as (
    select distinct meters.site_id, meters.meter_id
    from meters
    inner join (select distinct site_id, meter_id from slots) as slot_meters
        on meters.site_id = slot_meters.site_id
    inner join meters as slot_meter
        on slot_meters.site_id = slot_meter.site_id
        and slot_meters.meter_id = slot_meter.meter_id
    where meters.meter_id = slot_meter.meter_id
        or meters.redundancy_group = slot_meter.redundancy_group
),

valid_readings as (
    select
        readings.site_id,
        readings.meter_id,
        readings.ts_utc,
        readings.reading_day,
        readings.value_canonical
    from {{ ref('int_readings_deduplicated') }} as readings
    inner join source_meters
        on readings.site_id = source_meters.site_id
        and readings.meter_id = source_meters.meter_id
    where {{ in_day_window('readings.reading_day', before=14, after=1) }}
        and readings.value_canonical is not null
        and not exists (
            select 1
            from invalid
            where invalid.site_id = readings.site_id
                and invalid.meter_id = readings.meter_id
                and invalid.ts_utc = readings.ts_utc
        )
),

-- linear interpolation: the valid readings either side of each slot
series as (
    select site_id, meter_id, ts_utc, value_canonical, false as is_slot
    from valid_readings
    where exists (
        select 1 from slots
        where slots.site_id = valid_readings.site_id and slots.meter_id = valid_readings.meter_id
    )
    union all
    select site_id, meter_id, ts_utc, cast(null as double precision), true
    from slots
),

-- each slot's run: the valid readings counted up to it (from the start and from the end); the
-- slots between two valid readings share both counts with the reading before / after them
-- (the same as `last_value(... ignore nulls)`, which not every engine has)
valid_runs as (
    select
        *,
        count(value_canonical) over (
            partition by site_id, meter_id order by ts_utc
            rows between unbounded preceding and current row
        ) as run_from_start,
        count(value_canonical) over (
            partition by site_id, meter_id order by ts_utc desc
            rows between unbounded preceding and current row
        ) as run_from_end
    from series
),

bracketed as (
    select
        site_id,
        meter_id,
        ts_utc,
        is_slot,
        max(case when not is_slot then ts_utc end) over before_me as prev_ts_utc,
        max(value_canonical) over before_me as prev_value,
        max(case when not is_slot then ts_utc end) over after_me as next_ts_utc,
        max(value_canonical) over after_me as next_value
    from valid_runs
    window
        before_me as (partition by site_id, meter_id, run_from_start),
        after_me as (partition by site_id, meter_id, run_from_end)
),

interpolated as (
    select
        site_id,
        meter_id,
        ts_utc,
        prev_value + (next_value - prev_value)
            * ({{ epoch_seconds('ts_utc') }} - {{ epoch_seconds('prev_ts_utc') }})
            / ({{ epoch_seconds('next_ts_utc') }} - {{ epoch_seconds('prev_ts_utc') }})
            as linear_value
    from bracketed
    where is_slot
),

partners as (
    select
        slots.site_id,
        slots.meter_id,
        slots.ts_utc,
        avg(valid_readings.value_canonical) as partner_value
    from slots
    inner join meters as mine
        on slots.site_id = mine.site_id
        and slots.meter_id = mine.meter_id
    inner join meters as partner
        on mine.site_id = partner.site_id
        and mine.redundancy_group = partner.redundancy_group
        and mine.meter_id <> partner.meter_id
    inner join valid_readings
        on partner.site_id = valid_readings.site_id
        and partner.meter_id = valid_readings.meter_id
        and slots.ts_utc = valid_readings.ts_utc
    group by slots.site_id, slots.meter_id, slots.ts_utc
),

profiles as (
    select
        slots.site_id,
        slots.meter_id,
        slots.ts_utc,
        avg(valid_readings.value_canonical) as profile_value,
        count(*) as n_profile_days
    from slots
    inner join meters
        on slots.site_id = meters.site_id
        and slots.meter_id = meters.meter_id
    inner join valid_readings
        on slots.site_id = valid_readings.site_id
        and slots.meter_id = valid_readings.meter_id
        -- the same time of day: a whole number of days apart
        and ({{ epoch_seconds('valid_readings.ts_utc') }} - {{ epoch_seconds('slots.ts_utc') }})
            % 86400 = 0
        and abs({{ epoch_seconds('valid_readings.ts_utc') }} - {{ epoch_seconds('slots.ts_utc') }})
            <= meters.profile_days * 86400
    where slots.measurand in ('flow_rate', 'power', 'ore_mass')
    group by slots.site_id, slots.meter_id, slots.ts_utc
),

estimated as (
    select
        slots.site_id,
        slots.meter_id,
        slots.measurand,
        slots.ts_utc,
        slots.reading_day,
        slots.reasons,
        case
            when slots.measurand in ('rainfall', 'evaporation_pan') then 'none'
            when partners.partner_value is not null then 'redundant_partner'
            when profiles.profile_value is not null then 'profile_average'
            when interpolated.linear_value is not null then 'linear_interpolation'
            else 'none'
        end as estimation_method,
        partners.partner_value,
        profiles.profile_value,
        profiles.n_profile_days,
        interpolated.linear_value,
        meters.interval_seconds,
        meters.estimation_cap_hours
    from slots
    inner join meters
        on slots.site_id = meters.site_id
        and slots.meter_id = meters.meter_id
    left join partners
        on slots.site_id = partners.site_id
        and slots.meter_id = partners.meter_id
        and slots.ts_utc = partners.ts_utc
    left join profiles
        on slots.site_id = profiles.site_id
        and slots.meter_id = profiles.meter_id
        and slots.ts_utc = profiles.ts_utc
    left join interpolated
        on slots.site_id = interpolated.site_id
        and slots.meter_id = interpolated.meter_id
        and slots.ts_utc = interpolated.ts_utc
),

-- runs of consecutive estimates: a slot more than one interval after the previous one starts
-- a new run
runs as (
    select
        *,
        sum(starts_run) over (
            partition by site_id, meter_id order by ts_utc
        ) as run_id
    from (
        select
            *,
            case
                when {{ epoch_seconds('ts_utc') }}
                    - {{ epoch_seconds(
                        'lag(ts_utc) over (partition by site_id, meter_id order by ts_utc)'
                    ) }}
                    <= 1.5 * interval_seconds
                    then 0
                else 1
            end as starts_run
        from estimated
    ) as marked
),

final as (
    select
        site_id,
        meter_id,
        measurand,
        ts_utc,
        reading_day,
        reasons,
        estimation_method,
        case estimation_method
            when 'redundant_partner' then partner_value
            when 'profile_average' then profile_value
            when 'linear_interpolation' then linear_value
        end as estimated_value,
        cast(
            row_number() over (partition by site_id, meter_id, run_id order by ts_utc)
            * interval_seconds as double precision
        ) / 3600.0 as hours_into_estimation,
        estimation_method <> 'none'
            and cast(
                row_number() over (partition by site_id, meter_id, run_id order by ts_utc)
                * interval_seconds as double precision
            ) / 3600.0 > estimation_cap_hours as is_prolonged
    from runs
)

select * from final
