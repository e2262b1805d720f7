{#- Every interaction of every source, one row per activity_id.

    Incremental (daily runs, var min_date set), delete+insert on activity_id. Every staging table is
    itself incremental and writes a record again only with a later ingestion, so each source is read
    from the staging rows ingested after the newest ingested_at this table holds for it: the rows
    staging wrote since this model's last run (a loyalty signup aggregates a member's versions: a member
    with a new version is read whole). The small sources' rows read are compared with the rows held and
    only new or changed activities are written (a re-delivered, unchanged record is not); the two large
    ones (GA4, Mailchimp activity) are written as read. loaded_at is the run that wrote the row,
    ingested_at the staging version's ingestion (a loyalty signup's: its newest version's). A record the
    staging tables logged as vanished from a re-delivered export (stg_lake__removed_records; a receipt
    or loyalty member whose item line or version vanished too; a Mailchimp member whose new version has
    no opt-in or confirmation time left) is read again from staging and written
    whatever it was; the post-hook deletes the logged activities this run did not write (gone, or
    re-read as a technical GA4 event): macros/journeys/removed_activities.sql. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='activity_id',
    on_schema_change='append_new_columns',
    post_hook="{{ delete_unwritten_removed_activities() }}",
) }}
-- depends_on: {{ ref('stg_lake__removed_records') }}
{%- set string = dbt.type_string() -%}
{%- set timestamp = dbt.type_timestamp() -%}
{#- a previous state without loaded_at (written before this model was incremental) is rebuilt whole -#}
{%- set window = incremental_window_active() and relation_has_column(this, 'loaded_at') -%}
{%- set watermarks = held_ingestion_watermarks(this, window) -%}
{#- the big sources' rows ingested after the newest version held (all of them on a first run) -#}
{%- set since = {} -%}
{#- each source's record column: the records staging logged as vanished (or changed by a vanished row:
    a receipt that lost an item line, a member that lost a version) are read again -#}
{%- set logged = {'ga4_events': 'event_id', 'mailchimp_activity': 'email_activity_id', 'shopify_orders': 'order_id',
    'mailchimp_audience': 'record_id', 'square_items': 'receipt_id', 'loyalty_members': 'record_id',
    'zendesk_tickets': 'ticket_id', 'delighted_responses': 'response_id', 'canonical_events': 'event_id',
    'canonical_orders': 'order_id'} -%}
{%- set removed_since = '(select max(loaded_at) from ' ~ this ~ ')' -%}
{#- the sources with records logged since this table's last run (usually none: the day's SQL is unchanged) -#}
{%- set removed_sources = run_query('select distinct source from ' ~ removed_records_relation()
    ~ ' where removed_at > ' ~ removed_since).columns[0].values() | list if window else [] -%}
{#- (a source without a watermark yet, e.g. held rows written before small sources carried
    ingested_at, is read whole) -#}
{%- for source_name in ['ga4_events', 'mailchimp_activity', 'shopify_orders', 'mailchimp_audience', 'square_items',
    'loyalty_members', 'zendesk_tickets', 'delighted_responses', 'canonical_events', 'canonical_orders'] -%}
    {%- if window and source_name in watermarks -%}
        {%- set newer = 'cast(ingested_at as ' ~ timestamp ~ ") > cast('"
            ~ watermarks[source_name] ~ "' as " ~ timestamp ~ ')' -%}
        {%- if source_name in removed_sources -%}
            {%- set newer = '(' ~ newer ~ ' or ' ~ removed_records_of(source_name, logged[source_name], removed_since) ~ ')' -%}
        {%- endif -%}
        {%- do since.update({source_name: 'and ' ~ newer}) -%}
    {%- endif -%}
{%- endfor -%}
{%- set compared = activity_content_columns() %}

with

ga4 as (

    select
        concat('ga4_events:', event_id) as activity_id,
        'ga4_events' as source,
        event_id as record_id,
        occurred_at,
        activity,
        channel,
        user_pseudo_id as device_id,
        -- ga_session_id is only unique per device
        case when ga_session_id is not null then concat(user_pseudo_id, ':', ga_session_id) end as session_id,
        cast(null as decimal(18, 2)) as revenue,
        currency,
        case when activity in ('product_view', 'add_to_cart') then first_item_id end as product_id,
        case when activity in ('product_view', 'add_to_cart') then first_item_category end as product_category,
        -- URLs without the member ids and e-mail addresses links may carry (macros/privacy.sql)
        {{ json_object_text({
            'event_name': 'event_name',
            'platform': 'platform',
            'page_location': redact_url('page_location'),
            'page_title': 'page_title',
            'page_referrer': redact_url('page_referrer'),
            'search_term': 'search_term',
            'item_ids': 'item_ids',
            'transaction_id': 'transaction_id',
            'first_touch_source': 'first_touch_source',
            'first_touch_medium': 'first_touch_medium',
        }) }} as properties,
        cast(ingested_at as {{ timestamp }}) as ingested_at
    from {{ ref('stg_ga4__events') }}
    -- technical events (session_start, user_engagement, scroll...) are not customer interactions
    where activity is not null
    {{ since.get('ga4_events', '') }}

),

shopify as (

    select
        concat('shopify_orders:', order_id) as activity_id,
        'shopify_orders' as source,
        order_id as record_id,
        ordered_at as occurred_at,
        'purchase' as activity,
        channel,
        cast(null as {{ string }}) as device_id,
        cast(null as {{ string }}) as session_id,
        total as revenue,
        currency,
        cast(null as {{ string }}) as product_id,
        cast(null as {{ string }}) as product_category,
        {{ json_object_text({
            'shopify_order_id': 'shopify_order_id',
            'financial_status': 'financial_status',
            'fulfillment_status': 'fulfillment_status',
            'line_count': 'line_count',
            'item_quantity': 'item_quantity',
            'discount_code': 'discount_code',
            'refunded_amount': 'refunded_amount',
            'source_name': 'source_name',
            'accepts_marketing': 'accepts_marketing',
        }) }} as properties,
        cast(ingested_at as {{ timestamp }}) as ingested_at
    from {{ ref('stg_shopify__orders') }}
    where true {{ since.get('shopify_orders', '') }}

),

mailchimp_subscribes as (

    select
        -- record_id: the hash of the member's e-mail, never the address (stg_mailchimp__members)
        concat('mailchimp_audience:', record_id) as activity_id,
        'mailchimp_audience' as source,
        record_id,
        {{ mailchimp_subscribed_at('confirm_at', 'optin_at') }} as occurred_at,
        'email_subscribe' as activity,
        'email' as channel,
        cast(null as {{ string }}) as device_id,
        cast(null as {{ string }}) as session_id,
        cast(null as decimal(18, 2)) as revenue,
        cast(null as {{ string }}) as currency,
        cast(null as {{ string }}) as product_id,
        cast(null as {{ string }}) as product_category,
        {{ json_object_text({'status': 'status', 'optin_at': 'optin_at', 'confirm_at': 'confirm_at'}) }} as properties,
        cast(ingested_at as {{ timestamp }}) as ingested_at
    from {{ ref('stg_mailchimp__members') }}
    where {{ mailchimp_subscribed_at('confirm_at', 'optin_at') }} is not null
    {{ since.get('mailchimp_audience', '') }}

),

mailchimp_activity as (

    select
        concat('mailchimp_activity:', email_activity_id) as activity_id,
        'mailchimp_activity' as source,
        email_activity_id as record_id,
        occurred_at,
        activity,
        'email' as channel,
        cast(null as {{ string }}) as device_id,
        cast(null as {{ string }}) as session_id,
        cast(null as decimal(18, 2)) as revenue,
        cast(null as {{ string }}) as currency,
        cast(null as {{ string }}) as product_id,
        cast(null as {{ string }}) as product_category,
        {{ json_object_text({
            'campaign_id': 'campaign_id',
            'campaign_title': 'campaign_title',
            'list_id': 'list_id',
            'url': redact_url('url'),
            'bounce_type': 'bounce_type',
        }) }} as properties,
        cast(ingested_at as {{ timestamp }}) as ingested_at
    from {{ ref('stg_mailchimp__activity') }}
    where activity is not null
    {{ since.get('mailchimp_activity', '') }}

),

square as (

    select
        concat('square_items:', receipt_id) as activity_id,
        'square_items' as source,
        receipt_id as record_id,
        occurred_at,
        case when is_refund then 'store_refund' else 'store_purchase' end as activity,
        'store' as channel,
        cast(null as {{ string }}) as device_id,
        cast(null as {{ string }}) as session_id,
        total_amount as revenue,
        currency,
        cast(null as {{ string }}) as product_id,
        cast(null as {{ string }}) as product_category,
        {{ json_object_text({
            'transaction_id': 'transaction_id',
            'location': 'location',
            'item_lines': 'item_lines',
            'quantity': 'quantity',
            'gross_sales': 'gross_sales',
            'discounts': 'discounts',
            'tax': 'tax',
        }) }} as properties,
        cast(ingested_at as {{ timestamp }}) as ingested_at
    from {{ ref('stg_square__transactions') }}
    where true {{ since.get('square_items', '') }}

),

loyalty as (

    -- one signup per member, at the join time of its earliest recorded state
    select
        -- record_id: the hash of the card number, never the number (stg_loyalty__members)
        concat('loyalty_members:', record_id) as activity_id,
        'loyalty_members' as source,
        record_id,
        min(coalesce(joined_at, updated_at)) as occurred_at,
        'loyalty_signup' as activity,
        'loyalty' as channel,
        cast(null as {{ string }}) as device_id,
        cast(null as {{ string }}) as session_id,
        cast(null as decimal(18, 2)) as revenue,
        cast(null as {{ string }}) as currency,
        cast(null as {{ string }}) as product_id,
        cast(null as {{ string }}) as product_category,
        {{ json_object_text({
            'home_store': 'max(home_store)',
            'tier': 'max(case when is_current then tier end)',
        }) }} as properties,
        max(cast(ingested_at as {{ timestamp }})) as ingested_at
    from {{ ref('stg_loyalty__members') }}
    {%- if 'loyalty_members' in since %}
    where loyalty_id in (select loyalty_id from {{ ref('stg_loyalty__members') }} where true {{ since['loyalty_members'] }})
    {%- endif %}
    group by loyalty_id, record_id

),

zendesk as (

    select
        concat('zendesk_tickets:', ticket_id) as activity_id,
        'zendesk_tickets' as source,
        ticket_id as record_id,
        created_at as occurred_at,
        'service_contact' as activity,
        'service' as channel,
        cast(null as {{ string }}) as device_id,
        cast(null as {{ string }}) as session_id,
        cast(null as decimal(18, 2)) as revenue,
        cast(null as {{ string }}) as currency,
        cast(null as {{ string }}) as product_id,
        cast(null as {{ string }}) as product_category,
        {{ json_object_text({
            'via': 'via',
            'status': 'status',
            'priority': 'priority',
            'ticket_type': 'ticket_type',
            'group_name': 'group_name',
            'satisfaction_score': 'satisfaction_score',
            'solved_at': 'solved_at',
        }) }} as properties,
        cast(ingested_at as {{ timestamp }}) as ingested_at
    from {{ ref('stg_zendesk__tickets') }}
    where true {{ since.get('zendesk_tickets', '') }}

),

delighted as (

    select
        concat('delighted_responses:', response_id) as activity_id,
        'delighted_responses' as source,
        response_id as record_id,
        created_at as occurred_at,
        'nps_response' as activity,
        'survey' as channel,
        cast(null as {{ string }}) as device_id,
        cast(null as {{ string }}) as session_id,
        cast(null as decimal(18, 2)) as revenue,
        cast(null as {{ string }}) as currency,
        cast(null as {{ string }}) as product_id,
        cast(null as {{ string }}) as product_category,
        {{ json_object_text({
            'score': 'score',
            'nps_category': 'nps_category',
            'comment': 'comment',
            'survey_type': 'survey_type',
        }) }} as properties,
        cast(ingested_at as {{ timestamp }}) as ingested_at
    from {{ ref('stg_delighted__responses') }}
    where true {{ since.get('delighted_responses', '') }}

),

canonical_events as (

    select
        concat('canonical_events:', event_id) as activity_id,
        'canonical_events' as source,
        event_id as record_id,
        occurred_at,
        activity,
        channel,
        case when channel in ('web', 'app') then anonymous_id end as device_id,
        session_id,
        revenue,
        currency,
        coalesce(
            {{ normalize_id(json_text('properties', '$.product_id')) }},
            {{ normalize_id(json_text('properties', '$.sku')) }}
        ) as product_id,
        {{ normalize_id(json_text('properties', '$.product_category')) }} as product_category,
        coalesce(properties, '{}') as properties,
        cast(ingested_at as {{ timestamp }}) as ingested_at
    from {{ ref('stg_canonical__events') }}
    where true {{ since.get('canonical_events', '') }}

),

canonical_orders as (

    select
        concat('canonical_orders:', order_id) as activity_id,
        'canonical_orders' as source,
        order_id as record_id,
        ordered_at as occurred_at,
        case
            when channel = 'store' and total < 0 then 'store_refund'
            when channel = 'store' then 'store_purchase'
            else 'purchase'
        end as activity,
        channel,
        cast(null as {{ string }}) as device_id,
        cast(null as {{ string }}) as session_id,
        total as revenue,
        currency,
        cast(null as {{ string }}) as product_id,
        cast(null as {{ string }}) as product_category,
        {{ json_object_text({'status': 'status', 'store_id': 'store_id'}) }} as properties,
        cast(ingested_at as {{ timestamp }}) as ingested_at
    from {{ ref('stg_canonical__orders') }}
    where true {{ since.get('canonical_orders', '') }}

),

small_sources as (

    select * from shopify
    union all
    select * from mailchimp_subscribes
    union all
    select * from square
    union all
    select * from loyalty
    union all
    select * from zendesk
    union all
    select * from delighted
    union all
    select * from canonical_events
    union all
    select * from canonical_orders

),

small_sources_written as (

    select s.*
    from small_sources s
    {%- if window %}
    left join {{ this }} t on s.activity_id = t.activity_id
    where t.activity_id is null
        or s.activity_id in ({{ removed_activity_ids(removed_since) }})
        {%- for column in compared %}
        or s.{{ column }} is distinct from t.{{ column }}
        {%- endfor %}
    {%- endif %}

),

unioned as (

    select * from ga4
    union all
    select * from mailchimp_activity
    union all
    select * from small_sources_written

)

select
    *,
    {{ identity_run_started_at() }} as loaded_at
from unioned
