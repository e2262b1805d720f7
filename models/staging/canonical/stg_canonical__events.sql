{#- The hooks and staging_lake_rows: a record missing from a re-delivered file is removed (or re-read
    from an older file) as in a rebuild (macros/staging/vanished_records.sql). -#}
{{ config(
    unique_key='event_id',
    pre_hook="{{ staging_log_vanished_records('canonical_events', 'event_id', normalize_id('event_id')) }}",
    post_hook="{{ staging_delete_vanished_records('canonical_events', 'event_id') }}",
) }}
-- depends_on: {{ ref('stg_lake__removed_records') }}
{%- set vanished = staging_vanished('canonical_events', 'event_id', normalize_id('event_id')) %}
with

source as (

    {{ staging_lake_rows(vanished) }}

),

latest as (

    select
        *,
        {{ latest_first(['trim(event_id)']) }} as version_rank
    from source
    where {{ normalize_id('event_id') }} is not null

),

renamed as (

    select
        {{ normalize_id('event_id') }} as event_id,
        {{ timestamp_from_offset_text('occurred_at') }} as occurred_at,
        lower({{ normalize_id('activity') }}) as activity,
        lower({{ normalize_id('channel') }}) as channel,
        {{ normalize_id('anonymous_id') }} as anonymous_id,
        {{ normalize_id('user_id') }} as user_id,
        {{ normalize_email('email') }} as email,
        {{ normalize_phone('phone') }} as phone,
        {{ normalize_id('session_id') }} as session_id,
        {{ parse_money('revenue') }} as revenue,
        upper({{ normalize_id('currency') }}) as currency,
        {{ normalize_id('properties') }} as properties,
        _landing_date as landing_date,
        _source_file as source_file,
        _ingested_at as ingested_at
    from latest
    where version_rank = 1

)

select * from renamed
{{ staging_keep_later_held_versions('renamed', 'event_id', held_where=staging_held_rows_of_live_files(vanished)) }}
