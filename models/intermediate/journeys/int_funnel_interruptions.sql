-- Strict funnels: activities that break an attempt between two steps (activity null = any activity).
{{ config(materialized='view') }}
select
    cast(funnel_name as {{ dbt.type_string() }}) as funnel_name,
    cast(activity as {{ dbt.type_string() }}) as activity
from {{ source('funnel_config', 'funnel_interruptions') }}
