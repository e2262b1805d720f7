{#- Which identifiers each source record carries: (relation, source, record id, time, [(type, column)]).
    Record ids match int_activities_unioned.record_id of the same source.

    Incremental (daily runs, var min_date set), keyed by source record (delete+insert on source,
    record_id): a record is re-read when its current version was ingested after the newest ingested_at
    this table holds for its source (a rewritten GA4 day, a re-delivered export), or when it happened
    since min_date - lookback_days; all its rows are replaced, so a record with several staging rows (a
    loyalty member's or CRM customer's versions) is re-read whole when one of them is. A Square
    receipt's ingested_at is its newest item line's.
    loaded_at is the run that wrote the row: downstream incremental models (int_identity_edge_pairs)
    re-read the records loaded after their own last run. A record a daily run re-reads without any
    identifier is written as one row with a null identifier_type and identifier_value: it replaces the
    record's old rows and tells those models the record was reloaded (they drop its pairs). A full
    refresh writes no such row (nothing downstream holds pairs of it yet). A record that vanished from a
    re-delivered export (logged in stg_lake__removed_records since this table's last run) is re-read
    too: from the older file staging took it from, or, gone from staging, as such a null row. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['source', 'record_id'],
    on_schema_change='append_new_columns',
) }}
-- depends_on: {{ ref('stg_lake__removed_records') }}
{%- set link_types = ['email', 'phone', 'customer_id', 'loyalty_id', 'ga_client_id', 'app_instance_id',
    'site_user_id', 'pos_customer_id', 'esp_member_id', 'service_requester_id'] -%}
{%- set link_pairs = [] -%}
{%- for identifier_type in link_types -%}
{%- do link_pairs.append((identifier_type, identifier_type)) -%}
{%- endfor -%}
{%- set records = [
    ('stg_ga4__events', 'ga4_events', 'event_id', 'occurred_at',
        [('ga_client_id', 'ga_client_id'), ('app_instance_id', 'app_instance_id'), ('site_user_id', 'site_user_id'),
         ('esp_member_id', 'esp_member_id'), ('order_ref', 'order_ref')]),
    ('stg_shopify__orders', 'shopify_orders', 'order_id', 'ordered_at',
        [('order_ref', 'order_ref'), ('email', 'email'), ('phone', 'phone'), ('phone', 'billing_phone'),
         ('phone', 'shipping_phone')]),
    ('stg_mailchimp__members', 'mailchimp_audience', 'record_id', 'coalesce(confirm_at, optin_at, last_changed_at)',
        [('email', 'email'), ('phone', 'phone'), ('esp_member_id', 'esp_member_id')]),
    ('stg_mailchimp__activity', 'mailchimp_activity', 'email_activity_id', 'occurred_at',
        [('email', 'email')]),
    ('stg_square__transactions', 'square_items', 'receipt_id', 'occurred_at',
        [('pos_customer_id', 'pos_customer_id'), ('loyalty_id', 'loyalty_id'), ('card_fingerprint', 'card_fingerprint')]),
    ('stg_loyalty__members', 'loyalty_members', 'record_id', 'coalesce(updated_at, joined_at)',
        [('loyalty_id', 'loyalty_id'), ('email', 'email'), ('phone', 'phone')]),
    ('stg_zendesk__tickets', 'zendesk_tickets', 'ticket_id', 'created_at',
        [('service_requester_id', 'service_requester_id'), ('email', 'email'), ('phone', 'phone'), ('loyalty_id', 'loyalty_id')]),
    ('stg_delighted__responses', 'delighted_responses', 'response_id', 'created_at',
        [('email', 'email'), ('phone', 'phone')]),
    ('stg_canonical__events', 'canonical_events', 'event_id', 'occurred_at',
        [('ga_client_id', "case when channel <> 'app' then anonymous_id end"),
         ('app_instance_id', "case when channel = 'app' then anonymous_id end"),
         ('site_user_id', 'user_id'), ('email', 'email'), ('phone', 'phone')]),
    ('stg_canonical__identifier_links', 'canonical_identifier_links', 'link_id', 'occurred_at', link_pairs),
    ('stg_canonical__orders', 'canonical_orders', 'order_id', 'ordered_at',
        [('customer_id', 'customer_id'), ('email', 'email'), ('phone', 'phone'), ('loyalty_id', 'loyalty_id')]),
    ('stg_canonical__customers', 'canonical_customers', 'customer_id', 'updated_at',
        [('customer_id', 'customer_id'), ('email', 'email'), ('phone', 'phone')]),
] -%}

{#- staging models with several rows (versions) per record: a record with one new version is re-read whole -#}
{%- set versioned = ['stg_loyalty__members', 'stg_canonical__customers'] -%}
{#- a previous state without loaded_at (written before this model was incremental) is re-read whole -#}
{%- set window = incremental_window_active() and relation_has_column(this, 'loaded_at') -%}
{%- set watermarks = held_ingestion_watermarks(this, window) %}
{#- sources with records removed from staging since this table's last run (usually none) -#}
{%- set removed_since = held_loaded_at_watermark() if window else none -%}
{%- set removed_sources = [] -%}
{%- if removed_since is not none -%}
    {%- set removed_since_sql = "cast('" ~ removed_since ~ "' as " ~ dbt.type_timestamp() ~ ")" -%}
    {%- set removed_sources = run_query('select distinct source from ' ~ removed_records_relation()
        ~ ' where removed_at > ' ~ removed_since_sql).columns[0].values() | list -%}
{%- endif %}

with

{% for model, source_name, record_id, observed_at, pairs in records -%}
{%- set reread -%}{%- if window %}
    cast({{ observed_at }} as {{ dbt.type_timestamp() }}) >= {{ incremental_window_start() }}
    {%- if source_name in watermarks %}
    or cast(ingested_at as {{ dbt.type_timestamp() }})
        > cast('{{ watermarks[source_name] }}' as {{ dbt.type_timestamp() }})
    {%- else %}
    or true
    {%- endif %}
    {%- if source_name in removed_sources %}
    or {{ removed_records_of(source_name, 'cast(' ~ record_id ~ ' as ' ~ dbt.type_string() ~ ')', removed_since_sql) }}
    {%- endif %}
{%- endif %}{%- endset -%}
{{ model }}_records as (

    select
        cast({{ record_id }} as {{ dbt.type_string() }}) as record_id,
        cast({{ observed_at }} as {{ dbt.type_timestamp() }}) as observed_at,
        cast(ingested_at as {{ dbt.type_timestamp() }}) as ingested_at
        {%- for identifier_type, column in pairs %},
        cast({{ column }} as {{ dbt.type_string() }}) as value_{{ loop.index }}
        {%- endfor %}
    from {{ ref(model) }}
    where {{ record_id }} is not null
    {%- if window and model in versioned %}
        and {{ record_id }} in (select {{ record_id }} from {{ ref(model) }} where {{ reread }})
    {%- elif window %}
        and ({{ reread }})
    {%- endif %}

),

{% endfor -%}

observations as (

    {% for model, source_name, record_id, observed_at, pairs in records -%}
    {%- for identifier_type, column in pairs %}
    select
        '{{ source_name }}' as source,
        record_id,
        '{{ identifier_type }}' as identifier_type,
        value_{{ loop.index }} as identifier_value,
        observed_at,
        ingested_at
    from {{ model }}_records
    where value_{{ loop.index }} is not null
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
    {%- if window %}
    union all
    -- a re-read record without any identifier (see the model's description)
    select
        '{{ source_name }}' as source,
        record_id,
        cast(null as {{ dbt.type_string() }}) as identifier_type,
        cast(null as {{ dbt.type_string() }}) as identifier_value,
        observed_at,
        ingested_at
    from {{ model }}_records
    where {% for _ in pairs %}value_{{ loop.index }} is null{{ ' and ' if not loop.last }}{% endfor %}
    {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
    {%- if removed_sources %}
    union all
    -- records gone from staging (vanished from a re-delivered export): the null row replaces theirs
    select
        held.source,
        held.record_id,
        cast(null as {{ dbt.type_string() }}) as identifier_type,
        cast(null as {{ dbt.type_string() }}) as identifier_value,
        min(held.observed_at) as observed_at,
        max(held.ingested_at) as ingested_at
    from {{ this }} held
    inner join {{ removed_records_relation() }} removed
        on held.source = removed.source and held.record_id = removed.record_id
    where removed.removed_at > {{ removed_since_sql }}
        {%- for model, source_name, record_id, observed_at, pairs in records if source_name in removed_sources %}
        and not (held.source = '{{ source_name }}' and held.record_id in (select record_id from {{ model }}_records))
        {%- endfor %}
    group by held.source, held.record_id
    {%- endif %}

),

deduplicated as (

    -- a record may repeat a value (Billing Phone = Phone; loyalty changes keep the e-mail): keep its
    -- earliest sighting
    select
        source,
        record_id,
        identifier_type,
        identifier_value,
        min(observed_at) as observed_at,
        max(ingested_at) as ingested_at
    from observations
    group by source, record_id, identifier_type, identifier_value

)

select
    source,
    record_id,
    identifier_type,
    identifier_value,
    observed_at,
    ingested_at,
    {{ identity_run_started_at() }} as loaded_at
from deduplicated
{%- if window %}
-- a record with several rows (versions) keeps the null row only when none of them has an identifier
where identifier_value is not null
    or not exists (
        select 1 from deduplicated d
        where d.source = deduplicated.source
            and d.record_id = deduplicated.record_id
            and d.identifier_value is not null
    )
{%- endif %}
