{#- Records whose new version no longer yields their activity: a Mailchimp member re-exported without an
    opt-in and a confirmation time (int_activities_unioned writes an `email_subscribe` only for a member
    with one of them). The staging table's key delete+insert replaces the member's row, but the activity
    written from its older version would stay in the activity chain, which a rebuild does not have.

    So a daily run's pre-hook logs in stg_lake__removed_records every held record that yields the
    activity and whose key a lake row ingested since the table's newest version carries without it
    (without a source_file: the staging row is not removed, the model replaces it as usual). The
    activity chain then treats it as any logged record (macros/journeys/removed_activities.sql):
    int_activities_unioned re-reads it from staging and writes nothing, its post-hook and the
    consumers' delete the activity and int_activities_sessionized re-cuts the sessions around it;
    int_identifier_observations re-reads the record (it does anyway: its version is new). A new row that
    does not become the kept version (a held one ranks before it) only makes the chain write the same
    activity again. The reverse move (a later version with a time again) needs nothing: the record is
    read as new and its activity written. Nothing runs outside a daily run, and the usual day logs
    nothing (one read of the day's new lake rows, filtered). -#}

{#- pre_hook. `key`: the model's unique key; `lake_key`: SQL over the lake columns giving it;
    `record_id`: the held row's column that is the activity's record_id (default: the key);
    `held_yields`: SQL over the held row (alias `held`) true when it yields the activity; `lake_lacks`:
    SQL over a lake row true when that version yields none. -#}
{% macro staging_log_lost_activities(source_name, key, lake_key, held_yields, lake_lacks, record_id=none) -%}
    {%- if not (execute and incremental_window_active()) or staging_empty_run() -%}{{ return('') }}{%- endif -%}
    {%- set new_rows = staging_new_lake_rows_filter() -%}
    {%- if not new_rows -%}{{ return('') }}{%- endif -%}
    insert into {{ removed_records_relation() }} (source, record_id, model_key, source_file, removed_at)
    select distinct '{{ source_name }}', held.{{ record_id or key }}, held.{{ key }}, cast(null as {{ dbt.type_string() }}),
        {{ identity_run_started_at() }}
    from {{ this }} held
    where ({{ held_yields }})
        and held.{{ key }} in (
            select {{ lake_key }} from {{ source('lake', source_name) }}
            {{ new_rows }} and ({{ lake_lacks }})
        )
{%- endmacro %}

{#- When a Mailchimp member subscribed (its email_subscribe activity): the confirmation, else the opt-in
    time; null (no activity) without either. One rule for int_activities_unioned and the hook below. -#}
{% macro mailchimp_subscribed_at(confirm_at, optin_at) -%}
    coalesce({{ confirm_at }}, {{ optin_at }})
{%- endmacro %}

{#- stg_mailchimp__members' hook: a member whose new version has no opt-in and no confirmation time -#}
{% macro mailchimp_log_lost_subscribes() -%}
    {{ staging_log_lost_activities(
        'mailchimp_audience', 'email', normalize_email('email_address'),
        held_yields=mailchimp_subscribed_at('held.confirm_at', 'held.optin_at') ~ ' is not null',
        lake_lacks=mailchimp_subscribed_at(timestamp_from_offset_text('confirm_time'),
            timestamp_from_offset_text('optin_time')) ~ ' is null',
        record_id='record_id') }}
{%- endmacro %}
