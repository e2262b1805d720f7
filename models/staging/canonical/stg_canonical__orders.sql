{#- The hooks and the lake rows read: an order missing from a re-delivered file is removed (or re-read
    from an older file) as in a rebuild (macros/staging/vanished_records.sql). -#}
{{ config(
    unique_key='order_id',
    pre_hook="{{ staging_log_vanished_records('canonical_orders', 'order_id', normalize_id('order_id')) }}",
    post_hook="{{ staging_delete_vanished_records('canonical_orders', 'order_id') }}",
) }}
-- depends_on: {{ ref('stg_lake__removed_records') }}
{%- set vanished = staging_vanished('canonical_orders', 'order_id', normalize_id('order_id')) %}
with

source as (

    select * from {{ source('lake', 'canonical_orders') }}
    {{ staging_lake_rows_filter(vanished) }}

),

latest as (

    select
        *,
        {{ latest_first(['trim(order_id)']) }} as version_rank
    from source
    where {{ normalize_id('order_id') }} is not null

),

renamed as (

    select
        {{ normalize_id('order_id') }} as order_id,
        {{ timestamp_from_offset_text('ordered_at') }} as ordered_at,
        lower({{ normalize_id('channel') }}) as channel,
        {{ parse_money('total') }} as total,
        upper({{ normalize_id('currency') }}) as currency,
        {{ normalize_id('customer_id') }} as customer_id,
        {{ normalize_email('email') }} as email,
        {{ normalize_phone('phone') }} as phone,
        {{ normalize_id('loyalty_id') }} as loyalty_id,
        {{ normalize_id('store_id') }} as store_id,
        lower({{ normalize_id('status') }}) as status,
        {{ normalize_id('lines') }} as lines_json,
        _landing_date as landing_date,
        _source_file as source_file,
        _ingested_at as ingested_at
    from latest
    where version_rank = 1

)

select * from renamed
{{ staging_keep_later_held_versions('renamed', 'order_id', held_where=staging_held_rows_of_live_files(vanished)) }}
