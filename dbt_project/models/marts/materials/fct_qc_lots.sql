{#- Each tested lot's QC status against its specification version: the version of the lot's
    latest result, every test that version lists, and the latest result of each (a retest
    replaces the earlier result). fail = a latest result failed; incomplete = a listed test has
    no judged result yet; pass = every listed test passed. Manufacture date: the site-local day
    its batch finished (or its split, merge or rework); expiry: the receipt's expiry date, else
    that day plus the product's (or material's) shelf life. -#}
with

results as (
    select * from {{ ref('fct_qc_results') }}
),

spec_tests as (
    select * from {{ ref('stg_site_config__materials_spec_tests') }}
),

lots as (
    select * from {{ ref('dim_lots') }}
),

products as (
    select * from {{ ref('stg_site_config__materials_products') }}
),

materials as (
    select * from {{ ref('stg_site_config__materials') }}
),

sites as (
    select * from {{ ref('stg_site_config__sites') }}
),

-- the specification version a lot is judged against: that of its latest result
ranked as (
    select
        site_id,
        lot_id,
        spec_id,
        spec_version,
        row_number() over (
            partition by site_id, lot_id order by tested_at desc, result_id desc
        ) as recency
    from results
),

lot_specs as (
    select site_id, lot_id, spec_id, spec_version
    from ranked
    where recency = 1
),

required as (
    select
        lot_specs.site_id,
        lot_specs.lot_id,
        count(spec_tests.test_id) as tests_required
    from lot_specs
    left join spec_tests
        on lot_specs.site_id = spec_tests.site_id
        and lot_specs.spec_id = spec_tests.spec_id
        and lot_specs.spec_version = spec_tests.version
    group by lot_specs.site_id, lot_specs.lot_id
),

lot_results as (
    select
        results.site_id,
        results.lot_id,
        min(results.batch_id) as batch_id,
        min(results.product_id) as product_id,
        count(*) as results,
        {{ count_where('results.is_latest and results.in_spec and results.passed is not null') }}
            as tests_done,
        {{ count_where('results.is_latest and results.in_spec and not results.passed') }}
            as tests_failed,
        {{ count_where('not results.passed') }} as results_failed,
        max(results.tested_at) as tested_until,
        {{ value_at_max('results.approver', 'results.tested_at') }} as approver
    from results
    inner join lot_specs
        on results.site_id = lot_specs.site_id
        and results.lot_id = lot_specs.lot_id
        and results.spec_id = lot_specs.spec_id
        and results.spec_version = lot_specs.spec_version
    group by results.site_id, results.lot_id
),

lots_local as (
    select
        lots.*,
        cast({{ utc_to_local('lots.created_at', "coalesce(sites.timezone, 'UTC')") }} as date)
            as created_on
    from lots
    left join sites
        on lots.site_id = sites.site_id
),

dated as (
    select
        site_id,
        lot_id,
        kind,
        material_id,
        expiry_date,
        case when kind = 'product_lot' then created_on end as manufactured_on,
        created_on
    from lots_local
),

final as (
    select
        lot_results.site_id,
        lot_results.lot_id,
        dated.kind as lot_kind,
        lot_results.batch_id,
        lot_results.product_id,
        dated.material_id,
        lot_specs.spec_id,
        lot_specs.spec_version,
        cast(required.tests_required as bigint) as tests_required,
        lot_results.tests_done,
        lot_results.tests_failed,
        case
            when lot_results.tests_failed > 0 then 'fail'
            when lot_results.tests_done < required.tests_required then 'incomplete'
            else 'pass'
        end as status,
        cast(lot_results.results as bigint) as results,
        lot_results.results_failed,
        lot_results.tested_until,
        lot_results.approver,
        dated.manufactured_on,
        coalesce(
            dated.expiry_date,
            {{ add_days('dated.manufactured_on', 'products.shelf_life_days') }},
            {{ add_days('dated.created_on', 'materials.shelf_life_days') }}
        ) as expires_on
    from lot_results
    inner join lot_specs
        on lot_results.site_id = lot_specs.site_id
        and lot_results.lot_id = lot_specs.lot_id
    inner join required
        on lot_results.site_id = required.site_id
        and lot_results.lot_id = required.lot_id
    left join dated
        on lot_results.site_id = dated.site_id
        and lot_results.lot_id = dated.lot_id
    left join products
        on lot_results.site_id = products.site_id
        and lot_results.product_id = products.product_id
    left join materials
        on lot_results.site_id = materials.site_id
        and dated.material_id = materials.material_id
)

select * from final
