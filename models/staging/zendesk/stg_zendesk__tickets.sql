{#- The hooks and the lake rows read: a ticket missing from a re-delivered file is removed (or re-read
    from an older file) as in a rebuild (macros/staging/vanished_records.sql). -#}
{{ config(
    unique_key='ticket_id',
    pre_hook="{{ staging_log_vanished_records('zendesk_tickets', 'ticket_id', normalize_id('id'), order_columns=['updated_at', 'landing_date']) }}",
    post_hook="{{ staging_delete_vanished_records('zendesk_tickets', 'ticket_id') }}",
) }}
-- depends_on: {{ ref('stg_lake__removed_records') }}
{%- set vanished = staging_vanished('zendesk_tickets', 'ticket_id', normalize_id('id'), order_columns=['updated_at', 'landing_date']) %}
with

source as (

    select * from {{ source('lake', 'zendesk_tickets') }}
    {{ staging_lake_rows_filter(vanished) }}

),

latest as (

    -- every export repeats open tickets: keep each ticket's latest update
    select
        *,
        {{ latest_first(
            ['trim(id)'], extra_order_by=timestamp_from_offset_text('updated_at') ~ ' desc nulls last'
        ) }} as version_rank
    from source
    where {{ normalize_id('id') }} is not null

),

renamed as (

    select
        {{ normalize_id('id') }} as ticket_id,
        {{ timestamp_from_offset_text('created_at') }} as created_at,
        {{ timestamp_from_offset_text('updated_at') }} as updated_at,
        {{ timestamp_from_offset_text('solved_at') }} as solved_at,
        {{ normalize_id('requester_id') }} as service_requester_id,
        {{ normalize_id('requester') }} as requester_name,
        {{ normalize_email('requester_email') }} as email,
        -- no requester country in the export
        {{ normalize_phone_any_market('requester_phone') }} as phone,
        -- the help desk stores the loyalty member id as the requester's external id
        {{ normalize_id('requester_external_id') }} as loyalty_id,
        {{ normalize_id(adapter.quote('group')) }} as group_name,
        {{ normalize_id('subject') }} as subject,
        {{ normalize_id('tags') }} as tags,
        lower({{ normalize_id('status') }}) as status,
        lower({{ normalize_id('priority') }}) as priority,
        lower({{ normalize_id('via') }}) as via,
        lower({{ normalize_id('ticket_type') }}) as ticket_type,
        lower({{ normalize_id('satisfaction_score') }}) as satisfaction_score,
        _landing_date as landing_date,
        _source_file as source_file,
        _ingested_at as ingested_at
    from latest
    where version_rank = 1

)

select * from renamed
{{ staging_keep_later_held_versions('renamed', 'ticket_id', vanished.order_columns, held_where=staging_held_rows_of_live_files(vanished)) }}
