{#- The hooks and the lake rows read: a link missing from a re-delivered file is removed (or re-read
    from an older file) as in a rebuild (macros/staging/vanished_records.sql). -#}
{{ config(
    unique_key='link_id',
    pre_hook="{{ staging_log_vanished_records('canonical_identifier_links', 'link_id', canonical_link_id()) }}",
    post_hook="{{ staging_delete_vanished_records('canonical_identifier_links', 'link_id') }}",
) }}
-- depends_on: {{ ref('stg_lake__removed_records') }}
{%- set vanished = staging_vanished('canonical_identifier_links', 'link_id', canonical_link_id()) %}
{%- set identifier_columns = ['email', 'phone', 'customer_id', 'loyalty_id', 'ga_client_id', 'app_instance_id',
    'site_user_id', 'pos_customer_id', 'esp_member_id', 'service_requester_id'] %}

with

source as (

    select * from {{ source('lake', 'canonical_identifier_links') }}
    {{ staging_lake_rows_filter(vanished) }}

),

renamed as (

    -- no natural key: a link is its content, so a re-delivered identical row is the same link
    select
        {{ canonical_link_id() }} as link_id,
        {%- for column, expression in canonical_link_columns() %}
        {{ expression }} as {{ column }},
        {%- endfor %}
        _landing_date as landing_date,
        _source_file as source_file,
        _ingested_at as ingested_at,
        _row_number as row_number_in_file
    from source

),

latest as (

    select
        *,
        row_number() over (
            partition by link_id order by landing_date desc, ingested_at desc, row_number_in_file desc
        ) as version_rank
    from renamed

),

final as (

    select
        link_id,
        occurred_at,
        link_source,
        {{ identifier_columns | join(',\n        ') }},
        landing_date,
        source_file,
        ingested_at
    from latest
    where version_rank = 1

)

select * from final
{{ staging_keep_later_held_versions('final', 'link_id', held_where=staging_held_rows_of_live_files(vanished)) }}
