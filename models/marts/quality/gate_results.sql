-- One row per expectation evaluated by a quality gate; is_blocking rows stopped a run or a publish.
with source as (
    select * from {{ source('quality_lake', 'gate_results') }}
),

renamed as (
    select
        {{ quality_surrogate_key([
            'run_id', 'asset', 'partition_key', 'suite', 'expectation', 'validated_at'
        ]) }} as gate_result_id,
        cast(run_id as {{ dbt.type_string() }}) as run_id,
        {{ quality_utc_timestamp('validated_at') }} as validated_at,
        cast(asset as {{ dbt.type_string() }}) as asset,
        cast(partition_key as {{ dbt.type_string() }}) as partition_key,
        cast(suite as {{ dbt.type_string() }}) as suite,
        cast(expectation as {{ dbt.type_string() }}) as expectation,
        cast(expectation_type as {{ dbt.type_string() }}) as expectation_type,
        cast(column_name as {{ dbt.type_string() }}) as column_name,
        cast(severity as {{ dbt.type_string() }}) as severity,
        cast(success as {{ dbt.type_boolean() }}) as success,
        cast(severity = 'critical' and not success as {{ dbt.type_boolean() }}) as is_blocking,
        cast(observed_value as {{ dbt.type_string() }}) as observed_value,
        cast(element_count as {{ dbt.type_bigint() }}) as element_count,
        cast(unexpected_count as {{ dbt.type_bigint() }}) as unexpected_count,
        cast(failing_sample as {{ dbt.type_string() }}) as failing_sample,
        cast(error as {{ dbt.type_string() }}) as error
    from source
)

select * from renamed
