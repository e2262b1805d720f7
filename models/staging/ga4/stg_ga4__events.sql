{#- The largest source, and the costliest to parse (JSON parameters and items): a table, incremental on
    daily runs (window set), so the day's run parses only the GA4 files ingested since the newest
    version it holds, and every consumer and test reads parsed rows instead of re-parsing the lake
    (staging_new_lake_rows_filter in macros/identity/incremental_window.sql: why the version kept is a
    rebuild's). Like every staging model, a change of this SQL needs a full refresh (on_schema_change
    fails the daily run on a changed column list). -#}
{#- The hooks and staging_lake_rows: a record missing from a re-delivered file is removed (or re-read
    from an older file) as in a rebuild (macros/staging/vanished_records.sql). -#}
{{ config(
    unique_key='event_id',
    pre_hook="{{ staging_log_vanished_records('ga4_events', 'event_id', hash_key(['user_pseudo_id', 'event_timestamp', 'event_name', 'event_bundle_sequence_id'])) }}",
    post_hook="{{ staging_delete_vanished_records('ga4_events', 'event_id') }}",
) }}
-- depends_on: {{ ref('stg_lake__removed_records') }}
{%- set vanished = staging_vanished('ga4_events', 'event_id', hash_key(['user_pseudo_id', 'event_timestamp', 'event_name', 'event_bundle_sequence_id'])) %}
{%- set page_location = ga4_param('params', 'page_location') %}

with

source as (

    {{ staging_lake_rows(vanished) }}

),

latest as (

    -- events_YYYYMMDD is rewritten for 3 days: keep each event's latest delivery
    select
        *,
        {{ latest_first(
            ['user_pseudo_id', 'event_timestamp', 'event_name', 'event_bundle_sequence_id']
        ) }} as version_rank
    from source

),

parsed as (

    select
        *,
        {{ ga4_parse_params('event_params') }} as params,
        {{ ga4_parse_items('items') }} as item_list
    from latest
    where version_rank = 1

),

renamed as (

    select
        {{ hash_key(['user_pseudo_id', 'event_timestamp', 'event_name', 'event_bundle_sequence_id']) }} as event_id,
        event_name,
        case event_name
            when 'page_view' then 'page_view'
            when 'screen_view' then 'page_view'
            when 'view_item' then 'product_view'
            when 'search' then 'search'
            when 'view_search_results' then 'search'
            when 'add_to_cart' then 'add_to_cart'
            when 'begin_checkout' then 'begin_checkout'
            when 'purchase' then 'checkout_complete'
            when 'login' then 'login'
            when 'app_open' then 'app_open'
            when 'first_open' then 'app_open'
        end as activity,
        {{ timestamp_from_micros('event_timestamp') }} as occurred_at,
        {{ date_from_yyyymmdd('event_date') }} as event_date,
        upper(trim(platform)) as platform,
        case when upper(trim(platform)) = 'WEB' then 'web' else 'app' end as channel,
        {{ normalize_id('user_pseudo_id') }} as user_pseudo_id,
        case when upper(trim(platform)) = 'WEB' then {{ normalize_id('user_pseudo_id') }} end as ga_client_id,
        case when upper(trim(platform)) != 'WEB' then {{ normalize_id('user_pseudo_id') }} end as app_instance_id,
        {{ normalize_id('user_id') }} as site_user_id,
        {{ normalize_id(ga4_param('params', 'ga_session_id')) }} as ga_session_id,
        {{ dbt.safe_cast(ga4_param('params', 'ga_session_number'), 'integer') }} as ga_session_number,
        {{ ga4_param('params', 'page_location') }} as page_location,
        -- Mailchimp appends mc_cid (campaign) and mc_eid (the member's EUID) to the links it tracks
        -- (regexp_extract(text, pattern, group) has one signature on DuckDB and Spark)
        {{ normalize_id("regexp_extract(" ~ page_location ~ ", '[?&]mc_cid=([^&#]*)', 1)") }} as email_campaign_id,
        {{ normalize_id("regexp_extract(" ~ page_location ~ ", '[?&]mc_eid=([^&#]*)', 1)") }} as esp_member_id,
        {{ ga4_param('params', 'page_title') }} as page_title,
        {{ ga4_param('params', 'page_referrer') }} as page_referrer,
        {{ ga4_param('params', 'search_term') }} as search_term,
        {{ normalize_id(ga4_param('params', 'method')) }} as login_method,
        coalesce(
            {{ normalize_id(json_text('ecommerce', '$.transaction_id')) }},
            {{ normalize_id(ga4_param('params', 'transaction_id')) }}
        ) as transaction_id,
        {{ dbt.safe_cast(json_text('ecommerce', '$.purchase_revenue'), 'decimal(18, 2)') }} as purchase_revenue,
        upper({{ normalize_id(ga4_param('params', 'currency')) }}) as currency,
        {{ ga4_item_ids('item_list') }} as item_ids,
        {{ normalize_id(ga4_first_item('item_list', 'item_id')) }} as first_item_id,
        {{ normalize_id(ga4_first_item('item_list', 'item_category')) }} as first_item_category,
        {{ json_text('traffic_source', '$.source') }} as first_touch_source,
        {{ json_text('traffic_source', '$.medium') }} as first_touch_medium,
        {{ json_text('traffic_source', '$.name') }} as first_touch_campaign,
        {{ json_text('device', '$.category') }} as device_category,
        {{ json_text('geo', '$.country') }} as geo_country,
        stream_id,
        _landing_date as landing_date,
        _source_file as source_file,
        _ingested_at as ingested_at
    from parsed

),

final as (

    select
        *,
        -- the order the purchase event reports: identifier type `order_ref`, the Shopify order name
        -- without its '#' (the shop sends `#1001` or `1001` depending on the tagging)
        case
            when event_name = 'purchase' then {{ normalize_id("ltrim(transaction_id, '#')") }}
        end as order_ref
    from renamed

)

select * from final
{{ staging_keep_later_held_versions('final', 'event_id', held_where=staging_held_rows_of_live_files(vanished)) }}
