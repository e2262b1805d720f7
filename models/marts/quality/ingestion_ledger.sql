-- One row per ingestion attempt of one landed file: how many rows were read, loaded and quarantined.
-- Incremental on daily runs (window set): the ledger is append-only, so a run reads only the ledger
-- files it does not hold yet (ledger_rows_not_loaded in macros/identity/incremental_window.sql), not
-- one file per attempt ever made.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='ledger_row_id',
    on_schema_change='fail',
) }}

with source as (
    {{ ledger_rows_not_loaded(source('quality_lake', 'ingestion_ledger')) }}
),

renamed as (
    select
        {{ quality_surrogate_key([
            'table_name', 'file_sha256', 'source_file', 'ingested_at', 'run_id'
        ]) }} as ledger_row_id,
        cast(table_name as {{ dbt.type_string() }}) as table_name,
        cast(landing_date as date) as landing_date,
        cast(source_file as {{ dbt.type_string() }}) as source_file,
        cast(file_sha256 as {{ dbt.type_string() }}) as file_sha256,
        cast(file_bytes as {{ dbt.type_bigint() }}) as file_bytes,
        cast(rows_read as {{ dbt.type_bigint() }}) as rows_read,
        cast(rows_loaded as {{ dbt.type_bigint() }}) as rows_loaded,
        cast(rows_quarantined as {{ dbt.type_bigint() }}) as rows_quarantined,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(error as {{ dbt.type_string() }}) as error,
        cast(replaces_sha256 as {{ dbt.type_string() }}) as replaces_sha256,
        cast(lake_file as {{ dbt.type_string() }}) as lake_file,
        -- UTC by convention, stored naive like every mart timestamp
        {{ quality_utc_timestamp('ingested_at') }} as ingested_at,
        cast(run_id as {{ dbt.type_string() }}) as run_id
    from source
)

select * from renamed
