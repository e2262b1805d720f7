{#- The log of records that vanished from a re-delivered export (macros/staging/vanished_records.sql):
    one row per record a daily run removed from an event staging table, or re-read from an older file,
    because the file its row came from was replaced by a version without it (or, without a
    source_file, ranked again against its other live versions: the replacing file's version may rank
    below another file's), or a Mailchimp member whose new version lost its opt-in and confirmation
    times (macros/staging/lost_activities.sql: its subscribe activity must go). Written by the staging
    models' pre-hooks; read by the activity chain (int_activities_unioned, journeys.activities,
    int_activities_sessionized), each from its own last run on. This model only creates the (empty)
    relation: appended to, never rewritten; a rebuild (full refresh) empties it, as everything
    downstream is rebuilt too. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
) }}

select
    cast(null as {{ dbt.type_string() }}) as source,
    cast(null as {{ dbt.type_string() }}) as record_id,
    cast(null as {{ dbt.type_string() }}) as model_key,
    cast(null as {{ dbt.type_string() }}) as source_file,
    cast(null as {{ dbt.type_timestamp() }}) as removed_at
where 1 = 0
