{#- Incremental on daily runs (window set): reads only the lake files ingested since the newest
    delivery it holds (staging_new_lake_rows_filter in macros/identity/incremental_window.sql). An
    order is taken whole from one delivery, so a new delivery replaces every line of the order
    (delete+insert on order_id) unless the delivery held is from a later landing day. A change of this
    SQL needs a full refresh. -#}
{#- The hooks and the lake rows read: an order missing from a re-delivered file is removed (or re-read
    from an older file) as in a rebuild (macros/staging/vanished_records.sql; the order and its lines
    are logged by both models, each deleting its own rows). -#}
{{ config(
    unique_key='order_id',
    pre_hook="{{ staging_log_vanished_records('shopify_orders', 'order_id', normalize_id('name')) }}",
    post_hook="{{ staging_delete_vanished_records('shopify_orders', 'order_id') }}",
) }}
-- depends_on: {{ ref('stg_lake__removed_records') }}
{%- set vanished = staging_vanished('shopify_orders', 'order_id', normalize_id('name')) %}

with

source as (

    {{ shopify_current_rows(staging_lake_rows_filter(vanished)) }}

),

orders as (

    select
        order_name,
        {{ timestamp_from_offset_text('created_at') }} as ordered_at,
        upper({{ normalize_id('currency') }}) as currency
    from source
    where line_number = 1

),

renamed as (

    select
        concat(source.order_name, '-', cast(source.line_number as {{ dbt.type_string() }})) as order_line_id,
        source.order_name as order_id,
        source.line_number,
        orders.ordered_at,
        {{ normalize_id('source.lineitem_sku') }} as sku,
        {{ normalize_id('source.lineitem_name') }} as product_name,
        {{ normalize_id('source.vendor') }} as vendor,
        {{ parse_quantity('source.lineitem_quantity') }} as quantity,
        {{ parse_money('source.lineitem_price') }} as unit_price,
        {{ parse_money('source.lineitem_compare_at_price') }} as compare_at_price,
        {{ parse_money('source.lineitem_discount') }} as line_discount,
        cast(
            {{ parse_quantity('source.lineitem_quantity') }} * {{ parse_money('source.lineitem_price') }}
            as decimal(18, 2)
        ) as line_amount,
        orders.currency,
        lower({{ normalize_id('source.lineitem_fulfillment_status') }}) as fulfillment_status,
        source._landing_date as landing_date,
        source._source_file as source_file,
        source._ingested_at as ingested_at
    from source
    inner join orders
        on source.order_name = orders.order_name

)

select * from renamed
{{ staging_keep_later_held_versions('renamed', 'order_id', held_where=staging_held_rows_of_live_files(vanished)) }}
