-- Property equality filters of funnel steps (all of a step's filters must hold), values as text.
{{ config(materialized='view') }}
select
    cast(funnel_name as {{ dbt.type_string() }}) as funnel_name,
    cast(step_index as {{ dbt.type_int() }}) as step_index,
    cast(property_key as {{ dbt.type_string() }}) as property_key,
    cast(property_value as {{ dbt.type_string() }}) as property_value
from {{ source('funnel_config', 'funnel_step_filters') }}
