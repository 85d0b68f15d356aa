{#- Every QC test result with its specification's limits and whether it passed. A test with
    limits passes when its value lies within them (either limit may be open); a text test when
    its result text equals the expected text (case and surrounding spaces aside). A result that
    cannot be judged (no value for a limit test, no text for a text test, a test the
    specification version does not list) has passed = null. A lot tested again keeps every
    result; is_latest marks the one that counts. -#}
with

results as (
    select * from {{ ref('stg_materials__qc_results') }}
),

spec_tests as (
    select * from {{ ref('stg_site_config__materials_spec_tests') }}
),

specifications as (
    select * from {{ ref('stg_site_config__materials_specifications') }}
),

lots as (
    select * from {{ ref('dim_lots') }}
),

joined as (
    select
        results.site_id,
        results.result_id,
        results.lot_id,
        lots.batch_id,
        coalesce(lots.product_id, specifications.product_id) as product_id,
        results.spec_id,
        results.spec_version,
        results.test_id,
        spec_tests.test_name as name,
        spec_tests.method,
        spec_tests.unit,
        spec_tests.min_value,
        spec_tests.max_value,
        spec_tests.expected_text,
        results.value,
        results.result_text,
        spec_tests.test_id is not null as in_spec,
        results.tested_at,
        results.analyst,
        results.approver
    from results
    left join spec_tests
        on results.site_id = spec_tests.site_id
        and results.spec_id = spec_tests.spec_id
        and results.spec_version = spec_tests.version
        and results.test_id = spec_tests.test_id
    left join specifications
        on results.site_id = specifications.site_id
        and results.spec_id = specifications.spec_id
        and results.spec_version = specifications.version
    left join lots
        on results.site_id = lots.site_id
        and results.lot_id = lots.lot_id
),

judged as (
    select
        *,
        case
            when not in_spec then null
            when min_value is not null or max_value is not null
                then case
                    when value is null then null
                    else (min_value is null or value >= min_value)
                        and (max_value is null or value <= max_value)
                end
            when expected_text is not null
                then case
                    when result_text is null then null
                    else lower(trim(result_text)) = lower(trim(expected_text))
                end
            -- a test without limits or expected text is recorded, not judged against anything
            else value is not null or result_text is not null
        end as passed
    from joined
),

final as (
    select
        *,
        row_number() over (
            partition by site_id, lot_id, spec_id, spec_version, test_id
            order by tested_at desc, result_id desc
        ) = 1 as is_latest
    from judged
)

select * from final
