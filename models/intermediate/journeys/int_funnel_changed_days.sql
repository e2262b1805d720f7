{#- The (funnel, local day) pairs whose step occurrences changed, one row per pair and run: written by
    int_funnel_step_occurrences' post-hook (macros/journeys/funnels_incremental.sql) in the transaction
    that commits its rows, read by int_funnel_transition_days, which recounts the pairs logged after its
    watermark and then prunes the rows it has recounted. This model only creates the (empty) relation;
    a rebuild empties it, and the rebuilt int_funnel_step_occurrences logs every day it holds. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
) }}

select
    cast(null as {{ dbt.type_string() }}) as funnel_name,
    cast(null as date) as period_date,
    cast(null as {{ dbt.type_timestamp() }}) as loaded_at
where 1 = 0
