{#- What each incremental consumer of int_activities_unioned or int_activities_sessionized last
    consumed: one row per consumer, the newest loaded_at it had read (watermark), the one it held
    before (previous_watermark), the run that wrote the row and the one that wrote the row before
    (previous_run_started_at), and for the funnel chain the funnel configuration it was computed with
    (input_fingerprint). The consumers write it themselves, in a
    post-hook that commits with their own rows (record_consumed_watermark in
    macros/identity/incremental_window.sql), so a run that fails or skips a consumer leaves its
    watermark where it was and the next run re-reads what it missed. This model only creates the
    (empty) relation; a rebuild empties it, and a consumer without a row reads its whole input once. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
) }}

select
    cast(null as {{ dbt.type_string() }}) as consumer,
    cast(null as {{ dbt.type_timestamp() }}) as watermark,
    cast(null as {{ dbt.type_timestamp() }}) as previous_watermark,
    cast(null as {{ dbt.type_timestamp() }}) as run_started_at,
    cast(null as {{ dbt.type_string() }}) as input_fingerprint,
    cast(null as {{ dbt.type_timestamp() }}) as previous_run_started_at
where 1 = 0
