with

orders as (

    select * from {{ ref('stg_canonical__orders') }}

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
        orders.currency
    from exploded
    inner join orders
        on exploded.order_id = orders.order_id

)

select * from renamed
