{{ config(**partitioned_by_day_config('reading_day')) }}
{#- VEE validation: one row per reading (or missing reading) and flag it raised. Raw values are
    never changed; a reading without a flag is valid. Thresholds come per meter from
    stg_site_config__meter_vee_settings (site defaults, meter overrides; docs/quality.md).
    Neighbours are read a day beyond the window on each side, so a spike at 23:45 sees the
    reading at 00:00 and a flat line that crosses midnight is measured whole (up to the edges
    of the wider window).

    Cost: a year of a 500-meter site is 17.5 M readings. Only one pass sorts them all (the
    neighbours of each reading, on four narrow columns: carrying the whole row through the sort
    took 15 GiB); every rule then keeps the few rows it flags, and file, line and batch are
    joined back onto those rows only. -#}
with

readings as (
    select
        site_id,
        meter_id,
        ts_utc,
        reading_day,
        value_canonical
    from {{ ref('int_readings_deduplicated') }}
    where {{ in_day_window('reading_day', before=1, after=1) }}
        and {{ in_site_window('site_id') }}
),

meters as (
    select
        meters.site_id,
        meters.meter_id,
        meters.measurand,
        meters.flow_id,
        meters.unit as meter_unit,
        meters.is_cumulative,
        meters.interval_seconds,
        meters.valid_min_canonical,
        meters.valid_max_canonical,
        meters.redundancy_group,
        meters.rollover_canonical,
        vee.spike_ratio,
        vee.spike_step,
        vee.flat_line_hours,
        vee.late_arrival_hours,
        vee.redundancy_tolerance_pct,
        vee.redundancy_floor_pct,
        vee.disabled_flags
    from {{ ref('stg_site_config__meters') }} as meters
    inner join {{ ref('stg_site_config__meter_vee_settings') }} as vee
        on meters.site_id = vee.site_id
        and meters.meter_id = vee.meter_id
),

sites as (
    select site_id, timezone from {{ ref('int_sites_enriched') }}
),

-- the one full sort: each reading with its neighbours
neighbours as (
    select
        site_id,
        meter_id,
        ts_utc,
        reading_day,
        value_canonical,
        lag(ts_utc) over meter_series as prev_ts_utc,
        lead(ts_utc) over meter_series as next_ts_utc,
        lag(value_canonical) over meter_series as prev_value,
        lead(value_canonical) over meter_series as next_value
    from readings
    window meter_series as (partition by site_id, meter_id order by ts_utc)
),

checked as (
    select
        neighbours.*,
        meters.measurand,
        meters.is_cumulative,
        meters.interval_seconds,
        meters.valid_min_canonical,
        meters.valid_max_canonical,
        meters.flat_line_hours,
        meters.redundancy_group,
        meters.flow_id,
        value_canonical is null as is_unit_mismatch,
        coalesce(
            value_canonical < valid_min_canonical or value_canonical > valid_max_canonical, false
        ) as is_out_of_range,
        -- a register that falls: a wrap when it fell from the top of a register that has one,
        -- else a reset, a replaced meter or a bad read
        coalesce(
            is_cumulative
            and value_canonical < prev_value - {{ var('totaliser_jitter_m3') }}
            and not coalesce(
                prev_value >= {{ var('rollover_top_fraction') }} * rollover_canonical, false
            ),
            false
        ) as is_negative_delta,
        coalesce(
            is_cumulative
            and value_canonical < prev_value - {{ var('totaliser_jitter_m3') }}
            and prev_value >= {{ var('rollover_top_fraction') }} * rollover_canonical,
            false
        ) as is_rollover,
        -- neighbours count only when they are at most two intervals away
        coalesce(
            {{ epoch_seconds('ts_utc') }} - {{ epoch_seconds('prev_ts_utc') }}
                <= 2 * interval_seconds
            and {{ epoch_seconds('next_ts_utc') }} - {{ epoch_seconds('ts_utc') }}
                <= 2 * interval_seconds,
            false
        ) as has_close_neighbours,
        spike_ratio,
        spike_step
    from neighbours
    inner join meters
        on neighbours.site_id = meters.site_id
        and neighbours.meter_id = meters.meter_id
),

checked_spikes as (
    select
        *,
        has_close_neighbours
            and not is_cumulative
            and coalesce(
                -- rates: far above both neighbours while the process ran (a pump starting or
                -- stopping has a 0 beside it and is no spike); rain comes in bursts; a wind
                -- vane swinging through north reads 355 beside 3 and 5
                (
                    measurand not in ('level', 'rainfall', 'evaporation_pan', 'wind_direction')
                    and prev_value > 0
                    and next_value > 0
                    and value_canonical > spike_ratio * greatest(prev_value, next_value)
                )
                -- levels: away from both neighbours by more than spike_step, in one direction
                -- (a level outside its range is a sensor error code, which the range rule owns)
                or (
                    measurand = 'level'
                    and not is_out_of_range
                    and abs(value_canonical - prev_value) > spike_step
                    and abs(value_canonical - next_value) > spike_step
                    and sign(value_canonical - prev_value) = sign(value_canonical - next_value)
                    and prev_value between valid_min_canonical and valid_max_canonical
                    and next_value between valid_min_canonical and valid_max_canonical
                ),
                false
            ) as is_spike_candidate
    from checked
),

-- the few rows any rule below needs: flagged values, repeats (flat-line candidates), readings
-- followed by a gap, and readings of redundant meters; the only reader of the full stream.
-- Materialised: read by five rules, an inlined copy would sort all readings five times (6.4 GiB
-- on the 500-meter year instead of 1.4)
interesting_rows as materialized (
    select
        site_id,
        meter_id,
        ts_utc,
        prev_ts_utc,
        next_ts_utc,
        value_canonical,
        prev_value,
        next_value,
        interval_seconds,
        valid_min_canonical,
        valid_max_canonical,
        flat_line_hours,
        redundancy_group,
        is_unit_mismatch,
        is_out_of_range,
        is_negative_delta,
        is_rollover,
        is_spike_candidate,
        flow_id,
        coalesce(
            flat_line_hours is not null
            and value_canonical = prev_value
            and value_canonical <> 0
            and value_canonical > coalesce(valid_min_canonical, '-infinity')
            and value_canonical < coalesce(valid_max_canonical, 'infinity')
            and {{ epoch_seconds('ts_utc') }} - {{ epoch_seconds('prev_ts_utc') }}
                <= 1.5 * interval_seconds,
            false
        ) as is_repeat,
        coalesce(
            {{ epoch_seconds('next_ts_utc') }} - {{ epoch_seconds('ts_utc') }}
                > 1.5 * interval_seconds,
            false
        ) as is_before_gap
    from checked_spikes
    where is_unit_mismatch
        or is_out_of_range
        or is_negative_delta
        or is_rollover
        or is_spike_candidate
        or redundancy_group is not null
        or next_ts_utc is null
        or {{ epoch_seconds('next_ts_utc') }} - {{ epoch_seconds('ts_utc') }}
            > 1.5 * interval_seconds
        or (
            flat_line_hours is not null
            and value_canonical = prev_value
            and value_canonical <> 0
        )
),

-- a rate far above its neighbours is only a spike when the flow's totaliser did not count the
-- volume: the demo's variable-speed transfer legitimately reads 0.6, 123, 1.1 m3/h (its
-- totaliser counts the 31 m3), while a x10 reading of the plant feed is not in its totaliser
spike_checks as (
    select
        candidates.site_id,
        candidates.meter_id,
        candidates.ts_utc,
        bool_or(
            deltas.delta_m3 >= 0.5 * candidates.value_canonical * candidates.interval_seconds
                / 3600.0
        ) as is_confirmed
    from (select * from interesting_rows where is_spike_candidate and flow_id is not null)
        as candidates
    inner join {{ ref('int_totaliser_deltas') }} as deltas
        on candidates.site_id = deltas.site_id
        and candidates.flow_id = deltas.flow_id
        and deltas.start_ts_utc >= candidates.ts_utc
        and deltas.start_ts_utc
            < candidates.ts_utc + {{ seconds_interval('candidates.interval_seconds') }}
    where {{ in_day_window('deltas.delta_day', before=1, after=1) }}
    group by candidates.site_id, candidates.meter_id, candidates.ts_utc
),

interesting as materialized (
    select
        interesting_rows.*,
        interesting_rows.is_spike_candidate
            and not coalesce(spike_checks.is_confirmed, false) as is_spike
    from interesting_rows
    left join spike_checks
        on interesting_rows.site_id = spike_checks.site_id
        and interesting_rows.meter_id = spike_checks.meter_id
        and interesting_rows.ts_utc = spike_checks.ts_utc
),

-- flat lines: a reading that repeats its predecessor (one interval before) with a non-zero value
-- inside the valid range; consecutive repeats form a run, which with its first reading is a
-- flat line when it lasts flat_line_hours. Noisy sensors seldom repeat, so this set is small.
repeats as (
    select
        site_id,
        meter_id,
        ts_utc,
        prev_ts_utc,
        value_canonical,
        interval_seconds,
        flat_line_hours
    from interesting
    where is_repeat
),

repeat_runs as (
    select
        *,
        sum(starts_run) over (partition by site_id, meter_id order by ts_utc) as run_id
    from (
        select
            *,
            case
                when lag(ts_utc) over (partition by site_id, meter_id order by ts_utc)
                    = prev_ts_utc
                    and lag(value_canonical) over (partition by site_id, meter_id order by ts_utc)
                        = value_canonical
                    then 0
                else 1
            end as starts_run
        from repeats
    ) as marked
),

flat_runs as (
    select
        site_id,
        meter_id,
        run_id,
        min(prev_ts_utc) as first_ts_utc,
        max(ts_utc) as last_ts_utc,
        -- the repeats and the reading they repeat
        cast((count(*) + 1) * max(interval_seconds) as double precision) / 3600.0 as run_hours,
        max(flat_line_hours) as flat_line_hours
    from repeat_runs
    group by site_id, meter_id, run_id
),

flat_lines as (
    select
        repeat_runs.site_id,
        repeat_runs.meter_id,
        repeat_runs.ts_utc,
        flat_runs.run_hours
    from repeat_runs
    inner join flat_runs
        on repeat_runs.site_id = flat_runs.site_id
        and repeat_runs.meter_id = flat_runs.meter_id
        and repeat_runs.run_id = flat_runs.run_id
    where flat_runs.run_hours >= flat_runs.flat_line_hours
    union all
    select site_id, meter_id, first_ts_utc, run_hours
    from flat_runs
    where run_hours >= flat_line_hours
),

-- redundant meters: each valid reading against the mean of its partners at the same instant
group_readings as (
    select
        interesting.site_id,
        interesting.meter_id,
        meters.redundancy_group,
        meters.redundancy_tolerance_pct,
        meters.redundancy_floor_pct * (meters.valid_max_canonical - meters.valid_min_canonical)
            / 100.0 as floor_value,
        interesting.ts_utc,
        interesting.value_canonical
    from interesting
    inner join meters
        on interesting.site_id = meters.site_id
        and interesting.meter_id = meters.meter_id
    where meters.redundancy_group is not null
        and interesting.value_canonical is not null
        and not interesting.is_out_of_range
        and not interesting.is_spike
),

partner_means as (
    select
        mine.site_id,
        mine.meter_id,
        mine.ts_utc,
        mine.value_canonical,
        mine.redundancy_tolerance_pct,
        mine.floor_value,
        avg(partner.value_canonical) as partner_value
    from group_readings as mine
    inner join group_readings as partner
        on mine.site_id = partner.site_id
        and mine.redundancy_group = partner.redundancy_group
        and mine.ts_utc = partner.ts_utc
        and mine.meter_id <> partner.meter_id
    group by
        mine.site_id,
        mine.meter_id,
        mine.ts_utc,
        mine.value_canonical,
        mine.redundancy_tolerance_pct,
        mine.floor_value
),

-- late arrival: a reading is late when, before its batch was loaded, the same meter had
-- already delivered readings more than late_arrival_hours newer. A backfill loaded in time
-- order is never late; a day re-sent a week later is. (Per meter, not per site: a site's
-- logger and SCADA files of the same days are imported one after the other.)
batches as (
    select
        site_id,
        meter_id,
        batch_id,
        min(loaded_at) as loaded_at,
        min(ts_utc) as oldest_ts_utc,
        max(ts_utc) as newest_ts_utc
    from {{ ref('int_readings_deduplicated') }}
    where {{ in_day_window('reading_day', before=1, after=1) }}
        and {{ in_site_window('site_id') }}
    group by site_id, meter_id, batch_id
),

batch_frontiers as (
    select
        site_id,
        meter_id,
        batch_id,
        oldest_ts_utc,
        max(newest_ts_utc) over (
            partition by site_id, meter_id
            order by loaded_at, batch_id
            rows between unbounded preceding and 1 preceding
        ) as frontier_ts_utc
    from batches
),

-- duplicated readings, and readings of batches that may hold late ones
provenance as (
    select
        readings.site_id,
        readings.meter_id,
        readings.ts_utc,
        readings.n_copies,
        readings.has_conflicting_copies,
        frontiers.frontier_ts_utc
    from {{ ref('int_readings_deduplicated') }} as readings
    left join (
        select * from batch_frontiers
        where frontier_ts_utc is not null
            and frontier_ts_utc > oldest_ts_utc
    ) as frontiers
        on readings.site_id = frontiers.site_id
        and readings.meter_id = frontiers.meter_id
        and readings.batch_id = frontiers.batch_id
    where {{ in_day_window('readings.reading_day', before=1, after=1) }}
        and {{ in_site_window('readings.site_id') }}
        and (readings.n_copies > 1 or frontiers.frontier_ts_utc is not null)
),

row_flags as (
    select
        provenance.site_id,
        provenance.meter_id,
        provenance.ts_utc,
        provenance.n_copies > 1 as is_duplicate,
        provenance.n_copies || ' copies'
            || case when provenance.has_conflicting_copies
                then ' that disagree; the latest kept' else ', identical' end
            as duplicate_detail,
        coalesce(
            {{ epoch_seconds('provenance.frontier_ts_utc') }}
            - {{ epoch_seconds('provenance.ts_utc') }} > meters.late_arrival_hours * 3600,
            false
        ) as is_late,
        'the meter had delivered up to ' || provenance.frontier_ts_utc || ' before it'
            as late_detail
    from provenance
    inner join meters
        on provenance.site_id = meters.site_id
        and provenance.meter_id = meters.meter_id
),

-- readings delivered (in some copy) in another unit than the meter's, converted on the way in
unit_changes as (
    select distinct
        delivered.site_id,
        delivered.meter_id,
        delivered.ts_utc,
        'unit_converted' as flag,
        'delivered in ' || coalesce(delivered.unit, '?') || ', converted to '
            || meters.meter_unit as detail
    from {{ ref('stg_lake__readings') }} as delivered
    inner join meters
        on delivered.site_id = meters.site_id
        and delivered.meter_id = meters.meter_id
    where {{ in_day_window('delivered.partition_day', before=1, after=1) }}
        and {{ in_site_window('delivered.site_id') }}
        and delivered.unit is distinct from meters.meter_unit
        and delivered.value_canonical is not null
),

-- one row per flag a reading raised: a reading with several is repeated once per flag kind
value_flags as (
    select
        interesting.site_id,
        interesting.meter_id,
        interesting.ts_utc,
        case kinds.kind
            when 1 then case when interesting.is_unit_mismatch then 'unit_mismatch' end
            when 2 then case when interesting.is_out_of_range then 'out_of_range' end
            when 3 then case when interesting.is_negative_delta then 'negative_delta' end
            when 4 then case when interesting.is_spike then 'spike' end
            when 5 then case when interesting.is_rollover then 'rollover' end
        end as flag,
        case kinds.kind
            when 1 then 'the delivered unit cannot be converted to the meter''s'
            when 2 then 'outside ' || {{ number_text('interesting.valid_min_canonical') }} || ' .. '
                || {{ number_text('interesting.valid_max_canonical') }}
            when 3 then 'register fell from ' || {{ number_text('interesting.prev_value') }}
                || ' (not a rollover)'
            when 4 then 'neighbours ' || {{ number_text('interesting.prev_value') }} || ' and '
                || {{ number_text('interesting.next_value') }}
            when 5 then 'register wrapped from ' || {{ number_text('interesting.prev_value') }}
        end as detail
    from interesting
    cross join (values (1), (2), (3), (4), (5)) as kinds (kind)
    where interesting.is_unit_mismatch
        or interesting.is_out_of_range
        or interesting.is_negative_delta
        or interesting.is_spike
        or interesting.is_rollover
),

flagged as materialized (
    select site_id, meter_id, ts_utc, flag, detail from value_flags
    where flag is not null
    union all
    select site_id, meter_id, ts_utc, 'duplicate' as flag, duplicate_detail as detail
    from row_flags
    where is_duplicate
    union all
    select site_id, meter_id, ts_utc, 'late_arrival' as flag, late_detail as detail
    from row_flags
    where is_late
    union all
    select site_id, meter_id, ts_utc, flag, detail from unit_changes
    union all
    select
        site_id,
        meter_id,
        ts_utc,
        'flat_line' as flag,
        'same value for ' || {{ number_text('round(run_hours, 2)') }} || ' h' as detail
    from flat_lines
    union all
    select
        site_id,
        meter_id,
        ts_utc,
        'redundancy_disagreement' as flag,
        'partners read ' || {{ number_text('round(partner_value, 3)') }} as detail
    from partner_means
    where greatest(abs(value_canonical), abs(partner_value)) >= floor_value
        and abs(value_canonical - partner_value)
            > redundancy_tolerance_pct / 100.0 * (abs(value_canonical) + abs(partner_value)) / 2
),

-- file, line and batch of the flagged readings only: a semi-join keeps the hash table on the
-- few flagged rows (a plain join built it on all 17.5 M readings: +1 GiB, +7 s)
flagged_readings as (
    select site_id, meter_id, ts_utc, reading_day, value_canonical, batch_id, source_row
    from {{ ref('int_readings_deduplicated') }}
    where {{ in_day_window('reading_day', before=1, after=1) }}
        and (site_id, meter_id, ts_utc) in (select site_id, meter_id, ts_utc from flagged)
),

reading_rows as (
    select
        flagged.site_id,
        flagged.meter_id,
        flagged.ts_utc,
        flagged_readings.reading_day,
        flagged_readings.value_canonical,
        flagged_readings.batch_id,
        flagged_readings.source_row,
        flagged.flag,
        flagged.detail
    from flagged
    inner join flagged_readings
        on flagged.site_id = flagged_readings.site_id
        and flagged.meter_id = flagged_readings.meter_id
        and flagged.ts_utc = flagged_readings.ts_utc
),

-- missing readings: the instants a meter's interval promised between two readings it sent
gap_rows as (
    select
        interesting.site_id,
        interesting.meter_id,
        slot.ts_utc,
        cast({{ utc_to_local('slot.ts_utc', 'sites.timezone') }} as date) as reading_day,
        cast(null as double precision) as value_canonical,
        cast(null as varchar) as batch_id,
        cast(null as bigint) as source_row,
        'gap' as flag,
        'no reading between ' || interesting.ts_utc || ' and ' || interesting.next_ts_utc
            as detail
    from interesting
    inner join sites
        on interesting.site_id = sites.site_id
    -- only the slots of the run's window (a day either side for time zones): the days outside
    -- it are dropped below anyway, and a gap of years must not become millions of rows first
    cross join {{ instant_series(
        not_before_window(
            'interesting.ts_utc + ' ~ seconds_interval('interesting.interval_seconds')
        ),
        not_after_window(
            'interesting.next_ts_utc - ' ~ seconds_interval('interesting.interval_seconds')
        ),
        seconds_interval('interesting.interval_seconds'),
        'slot',
        'ts_utc'
    ) }}
    where interesting.is_before_gap
),

all_flags as (
    select * from reading_rows
    union all
    select * from gap_rows
),

final as (
    select
        all_flags.site_id,
        all_flags.meter_id,
        meters.measurand,
        all_flags.ts_utc,
        all_flags.reading_day,
        all_flags.flag,
        case
            when all_flags.flag in (
                'out_of_range', 'unit_mismatch', 'negative_delta', 'spike', 'flat_line'
            ) then 'invalid'
            when all_flags.flag = 'gap' then 'missing'
            when all_flags.flag in ('rollover', 'unit_converted') then 'info'
            else 'warning'
        end as severity,
        all_flags.value_canonical,
        all_flags.detail,
        all_flags.batch_id,
        all_flags.source_row
    from all_flags
    inner join meters
        on all_flags.site_id = meters.site_id
        and all_flags.meter_id = meters.meter_id
    where {{ in_day_window('all_flags.reading_day') }}
        and meters.disabled_flags not like '%,' || all_flags.flag || ',%'
)

select * from final
