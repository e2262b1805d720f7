-- Activities that void a funnel attempt when they fall between two of its steps.
{{ config(materialized='view') }}
select
    cast(funnel_name as {{ dbt.type_string() }}) as funnel_name,
    cast(exclusion_index as {{ dbt.type_int() }}) as exclusion_index,
    cast(after_step as {{ dbt.type_int() }}) as after_step,
    cast(before_step as {{ dbt.type_int() }}) as before_step,
    cast(activity as {{ dbt.type_string() }}) as activity,
    cast(channel as {{ dbt.type_string() }}) as channel
from {{ source('funnel_config', 'funnel_exclusions') }}
