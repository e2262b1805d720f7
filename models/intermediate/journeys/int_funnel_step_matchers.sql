-- One row per funnel step, activity and channel (channel null = any), compiled from funnels/*.yml.
{{ config(materialized='view') }}
select
    cast(funnel_name as {{ dbt.type_string() }}) as funnel_name,
    cast(step_index as {{ dbt.type_int() }}) as step_index,
    cast(step_name as {{ dbt.type_string() }}) as step_name,
    cast(activity as {{ dbt.type_string() }}) as activity,
    cast(channel as {{ dbt.type_string() }}) as channel,
    cast(filter_count as {{ dbt.type_int() }}) as filter_count
from {{ source('funnel_config', 'funnel_step_matchers') }}
