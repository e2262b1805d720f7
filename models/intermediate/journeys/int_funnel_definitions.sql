-- The compiled funnel definitions (orchestration.funnels.compile_funnels), typed; a view so the funnel
-- models read the definitions current at run time.
{{ config(materialized='view') }}
select
    cast(funnel_name as {{ dbt.type_string() }}) as funnel_name,
    cast(description as {{ dbt.type_string() }}) as description,
    cast(source_file as {{ dbt.type_string() }}) as source_file,
    cast(step_count as {{ dbt.type_int() }}) as step_count,
    cast(window_seconds as {{ dbt.type_bigint() }}) as window_seconds,
    cast(funnel_order as {{ dbt.type_string() }}) as funnel_order,
    cast(count_by as {{ dbt.type_string() }}) as count_by,
    cast(breakdown_by as {{ dbt.type_string() }}) as breakdown_by,
    cast(breakdown_property as {{ dbt.type_string() }}) as breakdown_property,
    cast(breakdown_attribution as {{ dbt.type_string() }}) as breakdown_attribution,
    cast(entry_start as date) as entry_start,
    cast(entry_end as date) as entry_end,
    cast(interruption_scope as {{ dbt.type_string() }}) as interruption_scope,
    cast(definition_hash as {{ dbt.type_string() }}) as definition_hash
from {{ source('funnel_config', 'funnel_definitions') }}
