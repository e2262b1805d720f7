{#- The hooks and the lake rows read: a response missing from a re-delivered file is removed (or re-read
    from an older file) as in a rebuild (macros/staging/vanished_records.sql). -#}
{{ config(
    unique_key='response_id',
    pre_hook="{{ staging_log_vanished_records('delighted_responses', 'response_id', normalize_id('id'), order_columns=['updated_at', 'landing_date']) }}",
    post_hook="{{ staging_delete_vanished_records('delighted_responses', 'response_id') }}",
) }}
-- depends_on: {{ ref('stg_lake__removed_records') }}
{%- set vanished = staging_vanished('delighted_responses', 'response_id', normalize_id('id'), order_columns=['updated_at', 'landing_date']) %}
with

source as (

    select * from {{ source('lake', 'delighted_responses') }}
    {{ staging_lake_rows_filter(vanished) }}

),

latest as (

    select
        *,
        {{ latest_first(
            ['trim(id)'], extra_order_by=dbt.safe_cast('updated_at', 'bigint') ~ ' desc nulls last'
        ) }} as version_rank
    from source
    where {{ normalize_id('id') }} is not null

),

renamed as (

    select
        {{ normalize_id('id') }} as response_id,
        {{ timestamp_from_unix_seconds('created_at') }} as created_at,
        {{ timestamp_from_unix_seconds('updated_at') }} as updated_at,
        {{ dbt.safe_cast('score', 'integer') }} as score,
        case
            when {{ dbt.safe_cast('score', 'integer') }} >= 9 then 'promoter'
            when {{ dbt.safe_cast('score', 'integer') }} >= 7 then 'passive'
            when {{ dbt.safe_cast('score', 'integer') }} >= 0 then 'detractor'
        end as nps_category,
        {{ normalize_id('comment') }} as comment,
        lower({{ normalize_id('survey_type') }}) as survey_type,
        {{ normalize_id(json_text('person', '$.id')) }} as delighted_person_id,
        {{ normalize_email(json_text('person', '$.email')) }} as email,
        {{ normalize_phone(json_text('person', '$.phone_number')) }} as phone,
        {{ normalize_id(json_text('person', '$.name')) }} as person_name,
        {{ normalize_id('permalink') }} as permalink,
        person_properties,
        _landing_date as landing_date,
        _source_file as source_file,
        _ingested_at as ingested_at
    from latest
    where version_rank = 1

)

select * from renamed
{{ staging_keep_later_held_versions('renamed', 'response_id', vanished.order_columns, held_where=staging_held_rows_of_live_files(vanished)) }}
