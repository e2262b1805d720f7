{#- Incremental on daily runs (window set): reads only the lake files ingested since the newest
    version it holds (staging_new_lake_rows_filter in macros/identity/incremental_window.sql). The hooks
    and the lake rows read: an item line missing from a re-delivered file is removed (or re-read from
    an older file) as in a rebuild, and its receipt logged (stg_square__transactions recomputes it;
    macros/staging/vanished_records.sql). A change of this SQL needs a full refresh. -#}
{{ config(
    unique_key='item_line_id',
    pre_hook="{{ staging_log_vanished_records('square_items', 'item_line_id', hash_key(['transaction_id', 'payment_id', 'sku', 'item', 'price_point_name', 'event_type']),
        square_receipt_id('held.')) }}",
    post_hook="{{ staging_delete_vanished_records('square_items', 'item_line_id') }}",
) }}
-- depends_on: {{ ref('stg_lake__removed_records') }}
{%- set vanished = staging_vanished('square_items', 'item_line_id', hash_key(['transaction_id', 'payment_id', 'sku', 'item', 'price_point_name', 'event_type']), square_receipt_id('held.')) %}

with

source as (

    {{ staging_lake_rows(vanished) }}

),

time_zones as (

    select * from {{ ref('square_time_zones') }}

),

latest as (

    select
        *,
        {{ latest_first(
            ['transaction_id', 'payment_id', 'sku', 'item', 'price_point_name', 'event_type']
        ) }} as version_rank
    from source

),

zoned as (

    select
        latest.*,
        -- Square writes Rails-style names; an IANA name passes through as is
        coalesce(
            time_zones.iana_time_zone,
            case when latest.time_zone like '%/%' then trim(latest.time_zone) end
        ) as iana_time_zone
    from latest
    left join time_zones
        on trim(latest.time_zone) = time_zones.square_time_zone
    where latest.version_rank = 1

),

renamed as (

    select
        {{ hash_key(
            ['transaction_id', 'payment_id', 'sku', 'item', 'price_point_name', 'event_type']
        ) }} as item_line_id,
        {{ normalize_id('transaction_id') }} as transaction_id,
        {{ normalize_id('payment_id') }} as payment_id,
        lower({{ normalize_id('event_type') }}) as event_type,
        {{ timestamp_from_local('date', 'time', 'iana_time_zone') }} as occurred_at,
        trim(time_zone) as square_time_zone,
        iana_time_zone,
        {{ normalize_id('category') }} as category,
        {{ normalize_id('item') }} as item_name,
        {{ normalize_id('sku') }} as sku,
        {{ normalize_id('price_point_name') }} as price_point_name,
        {{ parse_quantity('qty') }} as quantity,
        {{ parse_money('gross_sales') }} as gross_sales,
        {{ parse_money('discounts') }} as discounts,
        {{ parse_money('net_sales') }} as net_sales,
        {{ parse_money('tax') }} as tax,
        '{{ var("store_currency", "DKK") }}' as currency,
        {{ normalize_id('location') }} as location,
        {{ normalize_id('device_name') }} as device_name,
        {{ normalize_id('customer_id') }} as pos_customer_id,
        {{ normalize_id('customer_reference_id') }} as loyalty_id,
        {{ normalize_id('customer_name') }} as customer_name,
        {{ normalize_id('card_brand') }} as card_brand,
        {{ normalize_id('pan_suffix') }} as pan_suffix,
        -- weak identifier: the same card brand + last four digits at the same store
        case
            when {{ normalize_id('card_brand') }} is not null and {{ normalize_id('pan_suffix') }} is not null
                then lower(concat(trim(card_brand), ':', trim(pan_suffix), ':', coalesce(trim(location), '')))
        end as card_fingerprint,
        {{ normalize_id('channel') }} as sales_channel,
        _landing_date as landing_date,
        _source_file as source_file,
        _ingested_at as ingested_at
    from zoned

)

select * from renamed
{{ staging_keep_later_held_versions('renamed', 'item_line_id', held_where=staging_held_rows_of_live_files(vanished)) }}
