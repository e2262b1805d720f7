-- noqa: disable=PRS
-- (sqlfluff cannot parse DuckDB's two-argument lambdas, in quality_redact_values' list_reduce, and the
-- rendered redaction nests deeper than its parser's limit.)
-- Every row ingestion rejected, with its reason: nothing is silently dropped. Published without clear
-- e-mails or phones (macros/quality/quality_redaction.sql); the lake's quarantine files keep the rows
-- as delivered, for operators.
{%- set lake = source('quality_lake', 'quarantine') %}
{%- set columns = relation_column_names(lake) %}
{#- the e-mail and phone columns of the quarantine union, by name: (kind, column) #}
{%- set identifiers = [] %}
{%- set kinds = {} %}
{%- for c in columns if not c.startswith('_') %}
    {%- set kind = quality_identifier_kind(c) %}
    {%- if kind %}
        {%- do identifiers.append((kind, 'q.' ~ adapter.quote(c))) %}
        {%- do kinds.update({c: kind}) %}
    {%- endif %}
{%- endfor %}

with source as (
    select * from {{ lake }}
),

-- the row's texts with its e-mail and phone values replaced, and e-mails found by their pattern;
-- the raw text of a malformed row has no columns: its phone-like digit runs are replaced too
redacted as (
    select
        q.*,
        {{ quality_redact_emails(quality_redact_values('q._reason', identifiers)) }} as redacted_reason,
        {{ quality_redact_digit_runs(quality_redact_emails(quality_redact_values('q._raw_line', identifiers))) }}
            as redacted_raw_line
    from source as q
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
        cast(q.redacted_reason as {{ dbt.type_string() }}) as reason,
        cast(q.redacted_raw_line as {{ dbt.type_string() }}) as raw_line,
        {{ quality_utc_timestamp('q._ingested_at') }} as ingested_at,
        {#- the whole row as a JSON object: e-mail and phone columns as tokens, their values replaced in
            the other columns, e-mails anywhere (notes, nested JSON) by their pattern #}
        {%- set fields = {} %}
        {%- for c in columns %}
            {%- set col = 'q.' ~ adapter.quote(c) %}
            {%- if c == '_reason' %}
                {%- do fields.update({c: 'q.redacted_reason'}) %}
            {%- elif c == '_raw_line' %}
                {%- do fields.update({c: 'q.redacted_raw_line'}) %}
            {%- elif c in kinds %}
                {%- do fields.update({c: "case when trim(" ~ col ~ ") = '' then " ~ col ~ " else "
                    ~ quality_pseudonym("'" ~ kinds[c] ~ "'", col) ~ " end"}) %}
            {%- else %}
                {%- do fields.update({c: col}) %}
            {%- endif %}
        {%- endfor %}
        {{ quality_redact_emails(quality_redact_values(json_object_text(fields), identifiers)) }} as row_values
    from redacted as q
)

select * from renamed
