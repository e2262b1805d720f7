{#- Campaign activity grows by the day: a table, incremental on daily runs (window set), reading only
    the files ingested since the newest version it holds (staging_new_lake_rows_filter in
    macros/identity/incremental_window.sql). A change of this SQL needs a full refresh. -#}
{#- The hooks and staging_lake_rows: a record missing from a re-delivered file is removed (or re-read
    from an older file) as in a rebuild (macros/staging/vanished_records.sql). -#}
{{ config(
    unique_key='email_activity_id',
    pre_hook="{{ staging_log_vanished_records('mailchimp_activity', 'email_activity_id', hash_key(['action', 'campaign_id', 'member_id', 'timestamp', 'url'])) }}",
    post_hook="{{ staging_delete_vanished_records('mailchimp_activity', 'email_activity_id') }}",
) }}
-- depends_on: {{ ref('stg_lake__removed_records') }}
{%- set vanished = staging_vanished('mailchimp_activity', 'email_activity_id', hash_key(['action', 'campaign_id', 'member_id', 'timestamp', 'url'])) %}

with

source as (

    {{ staging_lake_rows(vanished) }}

),

latest as (

    select
        *,
        {{ latest_first(['action', 'campaign_id', 'member_id', 'timestamp', 'url']) }} as version_rank
    from source

),

renamed as (

    select
        {{ hash_key(['action', 'campaign_id', 'member_id', 'timestamp', 'url']) }} as email_activity_id,
        lower(trim(action)) as action,
        case lower(trim(action))
            when 'sent' then 'email_sent'
            when 'open' then 'email_open'
            when 'click' then 'email_click'
            when 'bounce' then 'email_bounce'
            when 'unsub' then 'email_unsubscribe'
            when 'unsubscribe' then 'email_unsubscribe'
        end as activity,
        -- naive times are UTC in Mailchimp exports; API-shaped rows carry +00:00
        {{ timestamp_from_offset_text('timestamp') }} as occurred_at,
        {{ normalize_id('campaign_id') }} as campaign_id,
        {{ normalize_id('campaign_title') }} as campaign_title,
        {{ normalize_id('list_id') }} as list_id,
        -- md5 of the lower-cased address: not an identifier type of its own
        {{ normalize_id('member_id') }} as member_id,
        {{ normalize_email('email_address') }} as email,
        {{ normalize_id('url') }} as url,
        lower({{ normalize_id('bounce_type') }}) as bounce_type,
        {{ normalize_id('ip') }} as ip,
        _landing_date as landing_date,
        _source_file as source_file,
        _ingested_at as ingested_at
    from latest
    where version_rank = 1

)

select * from renamed
{{ staging_keep_later_held_versions('renamed', 'email_activity_id', held_where=staging_held_rows_of_live_files(vanished)) }}
