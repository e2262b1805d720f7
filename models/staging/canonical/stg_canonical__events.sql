{{ config(
    unique_key='event_id',
) }}
with

source as (

    select * from {{ source('lake', 'canonical_events') }}
    {{ staging_new_lake_rows_filter() }}

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
        _ingested_at as ingested_at
    from latest
    where version_rank = 1

)

select * from renamed
{{ staging_keep_later_held_versions('renamed', 'event_id') }}
