-- noqa: disable=PRS
-- (the rendered redaction macros nest deeper than sqlfluff's parser limit)
-- One row per expectation evaluated by a quality gate; is_blocking rows stopped a run or a publish.
-- Failing samples of e-mail and phone columns are tokenised, and e-mails in any text
-- (macros/quality/quality_redaction.sql): the lake's gate results keep the clear values, for operators.
with source as (
    select * from {{ source('quality_lake', 'gate_results') }}
),

classified as (
    select
        *,
        {{ quality_identifier_kind_sql('column_name') }} as identifier_kind
    from source
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
        cast({{ quality_redact_emails('observed_value') }} as {{ dbt.type_string() }}) as observed_value,
        cast(element_count as {{ dbt.type_bigint() }}) as element_count,
        cast(unexpected_count as {{ dbt.type_bigint() }}) as unexpected_count,
        cast({{ quality_redact_emails(
            "case when identifier_kind is not null and failing_sample not in ('', '[]') then "
            ~ quality_redact_sample('failing_sample', 'identifier_kind') ~ " else failing_sample end"
        ) }} as {{ dbt.type_string() }}) as failing_sample,
        cast({{ quality_redact_emails('error') }} as {{ dbt.type_string() }}) as error
    from classified
)

select * from renamed
