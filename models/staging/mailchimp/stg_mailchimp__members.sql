{#- UNSUB_* / CLEAN_* columns exist only once an unsubscribed / cleaned file has landed. Incremental on
    daily runs (window set): reads only the lake files ingested since the newest version it holds and
    keeps the version a rebuild keeps (staging_new_lake_rows_filter in
    macros/identity/incremental_window.sql; a file's status is told by its own rows, all of them new
    together). A change of this SQL needs a full refresh. -#}
{#- The hooks and the lake rows read: a member missing from a re-delivered file is removed (or re-read
    from an older file) as in a rebuild (macros/staging/vanished_records.sql); a member whose new version
    has no opt-in and no confirmation time any more is logged, so the activity chain drops its subscribe
    activity (macros/staging/lost_activities.sql). -#}
{{ config(
    unique_key='email',
    pre_hook=[
        "{{ staging_log_vanished_records('mailchimp_audience', 'email', normalize_email('email_address'), 'held.record_id', order_columns=['landing_date', 'last_changed_at', 'ingested_at']) }}",
        "{{ mailchimp_log_lost_subscribes() }}",
    ],
    post_hook="{{ staging_delete_vanished_records('mailchimp_audience', 'email') }}",
) }}
-- depends_on: {{ ref('stg_lake__removed_records') }}
{%- set vanished = staging_vanished('mailchimp_audience', 'email', normalize_email('email_address'), 'held.record_id', order_columns=['landing_date', 'last_changed_at', 'ingested_at']) %}
{%- set columns = relation_column_names(source('lake', 'mailchimp_audience')) %}

with

source as (

    select
        *,
        {{ optional_column(columns, 'unsub_time') }} as optional_unsub_time,
        {{ optional_column(columns, 'unsub_campaign_id') }} as optional_unsub_campaign_id,
        {{ optional_column(columns, 'unsub_reason') }} as optional_unsub_reason,
        {{ optional_column(columns, 'clean_time') }} as optional_clean_time,
        {{ optional_column(columns, 'clean_campaign_id') }} as optional_clean_campaign_id
    from {{ source('lake', 'mailchimp_audience') }}
    -- an older file carrying a vanished member is read whole: its status is told by all its rows
    {{ staging_lake_rows_filter(vanished, whole_files=true) }}

),

flagged as (

    -- the audience export is three files (subscribed / unsubscribed / cleaned): a file's status is
    -- told by the columns it carries, or failing that by its name
    select
        *,
        max(
            case
                when trim(optional_clean_time) != '' or trim(optional_clean_campaign_id) != '' then 1
                else 0
            end
        ) over (partition by _file_sha256) as is_cleaned_file,
        max(
            case
                when trim(optional_unsub_time) != '' or trim(optional_unsub_campaign_id) != '' then 1
                else 0
            end
        ) over (partition by _file_sha256) as is_unsubscribed_file
    from source

),

latest as (

    select
        *,
        -- same landing day (subscribed and unsubscribed files together): the latest change wins
        {{ latest_first(
            ['lower(trim(email_address))'],
            extra_order_by='_landing_date desc, ' ~ timestamp_from_offset_text('last_changed') ~ ' desc nulls last'
        ) }} as version_rank
    from flagged
    where {{ normalize_email('email_address') }} is not null

),

renamed as (

    select
        {{ normalize_email('email_address') }} as email,
        -- the member as the activity chain and the public marts know it: never the clear address, the
        -- hash of its identifier (customer_profiles.primary_email_hash, identity_edges' hashes)
        {{ identifier_hash("'email'", normalize_email('email_address')) }} as record_id,
        case
            when is_cleaned_file = 1 or lower(_source_file) like '%cleaned%' then 'cleaned'
            when is_unsubscribed_file = 1 or lower(_source_file) like '%unsubscribed%' then 'unsubscribed'
            else 'subscribed'
        end as status,
        {{ normalize_id('first_name') }} as first_name,
        {{ normalize_id('last_name') }} as last_name,
        -- a national number is read with the member's country (CC), else the default country
        case
            when upper(trim(cc)) = 'SE' then {{ normalize_phone('phone_number', 'SE') }}
            else {{ normalize_phone('phone_number') }}
        end as phone,
        {{ dbt.safe_cast('member_rating', 'integer') }} as member_rating,
        {{ timestamp_from_offset_text('optin_time') }} as optin_at,
        {{ normalize_id('optin_ip') }} as optin_ip,
        {{ timestamp_from_offset_text('confirm_time') }} as confirm_at,
        {{ timestamp_from_offset_text('last_changed') }} as last_changed_at,
        {{ timestamp_from_offset_text('optional_unsub_time') }} as unsubscribed_at,
        {{ normalize_id('optional_unsub_reason') }} as unsubscribe_reason,
        {{ normalize_id('optional_unsub_campaign_id') }} as unsubscribe_campaign_id,
        {{ timestamp_from_offset_text('optional_clean_time') }} as cleaned_at,
        {{ normalize_id('leid') }} as leid,
        {{ normalize_id('euid') }} as esp_member_id,
        {{ normalize_id('timezone') }} as time_zone,
        upper({{ normalize_id('cc') }}) as country_code,
        {{ normalize_id('region') }} as region,
        {{ normalize_id('tags') }} as tags,
        _landing_date as landing_date,
        _source_file as source_file,
        _ingested_at as ingested_at
    from latest
    where version_rank = 1

)

select * from renamed
{# ingested_at last, as latest_first: an older file read whole for a vanished member (ingested before
   the held versions) may tie with a held version on the other columns #}
{{ staging_keep_later_held_versions('renamed', 'email', vanished.order_columns, held_where=staging_held_rows_of_live_files(vanished)) }}
