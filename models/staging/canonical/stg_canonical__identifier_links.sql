{{ config(
    unique_key='link_id',
) }}
{%- set identifier_columns = ['email', 'phone', 'customer_id', 'loyalty_id', 'ga_client_id', 'app_instance_id',
    'site_user_id', 'pos_customer_id', 'esp_member_id', 'service_requester_id'] -%}

with

source as (

    select * from {{ source('lake', 'canonical_identifier_links') }}
    {{ staging_new_lake_rows_filter() }}

),

renamed as (

    select
        {{ timestamp_from_offset_text('occurred_at') }} as occurred_at,
        lower({{ normalize_id('source') }}) as link_source,
        {{ normalize_email('email') }} as email,
        {{ normalize_phone('phone') }} as phone,
        {%- for column in identifier_columns if column not in ('email', 'phone') %}
        {{ normalize_id(column) }} as {{ column }},
        {%- endfor %}
        _landing_date as landing_date,
        _ingested_at as ingested_at,
        _row_number as row_number_in_file
    from source

),

keyed as (

    -- no natural key: a link is its content, so a re-delivered identical row is the same link
    select
        *,
        {{ hash_key(['occurred_at', 'link_source'] + identifier_columns) }} as link_id
    from renamed

),

latest as (

    select
        *,
        row_number() over (
            partition by link_id order by landing_date desc, ingested_at desc, row_number_in_file desc
        ) as version_rank
    from keyed

),

final as (

    select
        link_id,
        occurred_at,
        link_source,
        {{ identifier_columns | join(',\n        ') }},
        landing_date,
        ingested_at
    from latest
    where version_rank = 1

)

select * from final
{{ staging_keep_later_held_versions('final', 'link_id') }}
