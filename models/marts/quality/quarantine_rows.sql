-- Every row ingestion rejected, with its reason: nothing is silently dropped.
with source as (
    select * from {{ source('quality_lake', 'quarantine') }}
),

renamed as (
    select
        {{ quality_surrogate_key(['q._file_sha256', 'q._row_number', 'q.filename']) }} as quarantine_row_id,
        -- the lake table is the folder above the hive partition
        cast(regexp_extract(q.filename, '/quarantine/([^/]+)/', 1) as {{ dbt.type_string() }}) as table_name,
        cast(q._landing_date as date) as landing_date,
        cast(q._source_file as {{ dbt.type_string() }}) as source_file,
        cast(q._file_sha256 as {{ dbt.type_string() }}) as file_sha256,
        cast(q._row_number as {{ dbt.type_bigint() }}) as row_number,
        cast(q._reason as {{ dbt.type_string() }}) as reason,
        cast(q._raw_line as {{ dbt.type_string() }}) as raw_line,
        {{ quality_utc_timestamp('q._ingested_at') }} as ingested_at,
        {{ quality_row_json('q') }} as row_values
    from source as q
)

select * from renamed
