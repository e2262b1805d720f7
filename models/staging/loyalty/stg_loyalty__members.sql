{#- One row per change. Incremental on daily runs (window set): reads only the lake files ingested
    since the newest version it holds (staging_new_lake_rows_filter in
    macros/identity/incremental_window.sql); is_current depends on every version of the record, so
    each record with a new version is rewritten whole (delete+insert on loyalty_id, the held versions
    re-ranked with the new ones). A change of this SQL needs a full refresh. -#}
{#- The hooks and the lake rows read: a member version missing from a re-delivered file is removed (or re-read
    from an older file) as in a rebuild (macros/staging/vanished_records.sql). -#}
{{ config(
    unique_key='loyalty_id',
    pre_hook="{{ staging_log_vanished_records('loyalty_members', 'member_version_id', hash_key(['trim(member_id)', 'trim(updated_at)']), 'held.record_id') }}",
    post_hook="{{ staging_delete_vanished_records('loyalty_members', 'member_version_id') }}",
) }}
-- depends_on: {{ ref('stg_lake__removed_records') }}
{%- set vanished = staging_vanished('loyalty_members', 'member_version_id', hash_key(['trim(member_id)', 'trim(updated_at)']), 'held.record_id') %}

with

source as (

    select * from {{ source('lake', 'loyalty_members') }}
    {{ staging_lake_rows_filter(vanished) }}

),

latest as (

    -- one row per member change; re-delivered changes keep their latest copy
    select
        *,
        {{ latest_first(['trim(member_id)', 'trim(updated_at)']) }} as version_rank
    from source
    where {{ normalize_id('member_id') }} is not null

),

renamed as (

    select
        {{ hash_key(['trim(member_id)', 'trim(updated_at)']) }} as member_version_id,
        {{ normalize_id('member_id') }} as loyalty_id,
        -- the member as the activity chain and the public marts know it: the hash of its identifier,
        -- never the clear card number (customer_profiles.primary_loyalty_id_hash)
        {{ identifier_hash("'loyalty_id'", normalize_id('member_id')) }} as record_id,
        {{ timestamp_from_offset_text('updated_at') }} as updated_at,
        {{ timestamp_from_offset_text('joined_at') }} as joined_at,
        {{ normalize_email('email') }} as email,
        {{ normalize_phone_for_country('phone', 'country') }} as phone,
        {{ normalize_id('first_name') }} as first_name,
        {{ normalize_id('last_name') }} as last_name,
        {{ dbt.safe_cast('trim(birth_date)', 'date') }} as birth_date,
        {{ normalize_id('postcode') }} as postcode,
        {{ normalize_id('city') }} as city,
        upper({{ normalize_id('country') }}) as country,
        {{ normalize_id('home_store') }} as home_store,
        lower({{ normalize_id('tier') }}) as tier,
        {{ parse_bool('consent_email') }} as consent_email,
        {{ parse_bool('consent_sms') }} as consent_sms,
        {{ parse_bool('consent_push') }} as consent_push,
        {{ parse_bool('consent_profiling') }} as consent_profiling,
        _landing_date as landing_date,
        _source_file as source_file,
        _ingested_at as ingested_at
    from latest
    where version_rank = 1

),

new_versions as (

    select * from renamed
    {{ staging_keep_later_held_versions('renamed', 'member_version_id', held_where=staging_held_rows_of_live_files(vanished)) }}

),

versions as (

    -- with the held versions of the same records: is_current ranks them all (a member by its record_id,
    -- as the vanished-records log knows it)
    select * from new_versions
    {{ staging_held_versions_of_new_records('new_versions', 'record_id', 'member_version_id', ['is_current'], vanished) }}

),

final as (

    select
        *,
        row_number() over (
            partition by loyalty_id order by updated_at desc nulls last, landing_date desc
        ) = 1 as is_current
    from versions

)

select * from final
