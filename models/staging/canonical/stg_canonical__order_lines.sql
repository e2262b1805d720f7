{#- Incremental on daily runs (window set): explodes only the orders stg_canonical__orders wrote since
    this table's newest ingested_at, and those whose record vanished from a re-delivered export
    (removed from stg_canonical__orders, or re-read there from an older file:
    macros/staging/vanished_records.sql) since this table's newest loaded_at (the last run that wrote
    it), not every order ever logged (delete+insert on order_id). The pre-hook first deletes those
    orders' lines held, so an order re-delivered without lines, or gone, keeps none either. A change of
    this SQL needs a full refresh. -#}
{{ config(
    unique_key='order_id',
    pre_hook="{{ staging_delete_rederived_records(ref('stg_canonical__orders'), 'canonical_orders', 'order_id') }}",
) }}
-- depends_on: {{ ref('stg_lake__removed_records') }}

with

orders as (

    select * from {{ ref('stg_canonical__orders') }}
    {{ staging_rederived_records_filter('canonical_orders', 'order_id') }}

),

exploded as (

    {{ explode_order_lines('orders') }}

),

renamed as (

    select
        concat(exploded.order_id, '-', cast(exploded.line_number as {{ dbt.type_string() }})) as order_line_id,
        exploded.order_id,
        exploded.line_number,
        orders.ordered_at,
        {{ normalize_id('exploded.sku') }} as sku,
        {{ normalize_id('exploded.product_name') }} as product_name,
        {{ normalize_id('exploded.category') }} as category,
        {{ parse_quantity('exploded.quantity_text') }} as quantity,
        {{ parse_money('exploded.price_text') }} as unit_price,
        cast(
            {{ parse_quantity('exploded.quantity_text') }} * {{ parse_money('exploded.price_text') }}
            as decimal(18, 2)
        ) as line_amount,
        orders.currency,
        orders.ingested_at,
        {{ identity_run_started_at() }} as loaded_at
    from exploded
    inner join orders
        on exploded.order_id = orders.order_id

)

select * from renamed
