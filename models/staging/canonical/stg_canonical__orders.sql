{{ config(
    unique_key='order_id',
) }}
with

source as (

    select * from {{ source('lake', 'canonical_orders') }}
    {{ staging_new_lake_rows_filter() }}

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
        _ingested_at as ingested_at
    from latest
    where version_rank = 1

)

select * from renamed
{{ staging_keep_later_held_versions('renamed', 'order_id') }}
