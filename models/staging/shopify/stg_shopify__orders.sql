{#- Incremental on daily runs (window set): reads only the lake files ingested since the newest
    delivery it holds (staging_new_lake_rows_filter in macros/identity/incremental_window.sql). An
    order is taken whole from one delivery, so a new delivery replaces every field and line count of the order
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

line_counts as (

    select
        order_name,
        count(*) as line_count,
        sum({{ parse_quantity('lineitem_quantity') }}) as item_quantity
    from source
    group by order_name

),

first_rows as (

    -- continuation rows leave order fields blank: the first row of each Name carries them
    select * from source
    where line_number = 1

),

renamed as (

    select
        first_rows.order_name as order_id,
        {{ normalize_id('first_rows.id') }} as shopify_order_id,
        -- identifier type `order_ref`: the order name without '#', as GA4's ecommerce.transaction_id
        -- reports it for orders placed on the web store or in the app
        {{ normalize_id("ltrim(trim(first_rows.order_name), '#')") }} as order_ref,
        {{ normalize_email('first_rows.email') }} as email,
        -- a national number is read with the order's country (Sweden: SE, else the default country)
        {%- for column, country in [('phone', 'coalesce(first_rows.billing_country, first_rows.shipping_country)'),
                                    ('billing_phone', 'first_rows.billing_country'),
                                    ('shipping_phone', 'first_rows.shipping_country')] %}
        case
            when upper(trim({{ country }})) = 'SE' then {{ normalize_phone('first_rows.' ~ column, 'SE') }}
            else {{ normalize_phone('first_rows.' ~ column) }}
        end as {{ column }},
        {%- endfor %}
        {{ parse_bool('first_rows.accepts_marketing') }} as accepts_marketing,
        lower({{ normalize_id('first_rows.financial_status') }}) as financial_status,
        lower({{ normalize_id('first_rows.fulfillment_status') }}) as fulfillment_status,
        upper({{ normalize_id('first_rows.currency') }}) as currency,
        {{ parse_money('first_rows.subtotal') }} as subtotal,
        {{ parse_money('first_rows.shipping') }} as shipping,
        {{ parse_money('first_rows.taxes') }} as taxes,
        {{ parse_money('first_rows.total') }} as total,
        {{ normalize_id('first_rows.discount_code') }} as discount_code,
        {{ parse_money('first_rows.discount_amount') }} as discount_amount,
        {{ parse_money('first_rows.refunded_amount') }} as refunded_amount,
        {{ timestamp_from_offset_text('first_rows.created_at') }} as ordered_at,
        {{ timestamp_from_offset_text('first_rows.paid_at') }} as paid_at,
        {{ timestamp_from_offset_text('first_rows.fulfilled_at') }} as fulfilled_at,
        {{ timestamp_from_offset_text('first_rows.cancelled_at') }} as cancelled_at,
        {{ normalize_id('first_rows.source') }} as source_name,
        -- Shopify's own mobile channels report the platform, an app built on a sales channel reports its
        -- API client id: var shopify_app_sources lists both; everything else is the web store
        case
            when lower(trim(first_rows.source)) in (
                {%- for value in var('shopify_app_sources') %}
                '{{ value | string | trim | lower | replace("'", "''") }}'{{ ',' if not loop.last }}
                {%- endfor %}
            ) then 'app'
            else 'web'
        end as channel,
        {{ normalize_id('first_rows.payment_method') }} as payment_method,
        {{ normalize_id('first_rows.billing_name') }} as billing_name,
        {{ normalize_id('first_rows.billing_city') }} as billing_city,
        -- spreadsheets keep leading zeros with an apostrophe ('4001)
        {{ normalize_id("ltrim(first_rows.billing_zip, '''')") }} as billing_zip,
        upper({{ normalize_id('first_rows.billing_country') }}) as billing_country,
        upper({{ normalize_id('first_rows.shipping_country') }}) as shipping_country,
        {{ normalize_id('first_rows.location') }} as location,
        {{ normalize_id('first_rows.tags') }} as tags,
        line_counts.line_count,
        line_counts.item_quantity,
        first_rows._landing_date as landing_date,
        first_rows._source_file as source_file,
        first_rows._ingested_at as ingested_at
    from first_rows
    inner join line_counts
        on first_rows.order_name = line_counts.order_name

)

select * from renamed
{{ staging_keep_later_held_versions('renamed', 'order_id', held_where=staging_held_rows_of_live_files(vanished)) }}
