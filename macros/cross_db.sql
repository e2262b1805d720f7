{#- Small portable helpers for what DuckDB and Spark spell differently (dbt has no built-in for these). -#}

{#- Replace every match of a regular expression (DuckDB replaces only the first without the 'g' flag). -#}
{% macro regexp_replace_all(expr, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'omni_warehouse')(expr, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, '{{ pattern }}', '{{ replacement }}')
{%- endmacro %}

{% macro duckdb__regexp_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{#- True when the expression matches a regular expression anywhere (anchor it with ^...$ for a full match). -#}
{% macro regexp_like(expr, pattern) -%}
    {{ return(adapter.dispatch('regexp_like', 'omni_warehouse')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regexp_like(expr, pattern) -%}
    ({{ expr }} rlike '{{ pattern }}')
{%- endmacro %}

{% macro duckdb__regexp_like(expr, pattern) -%}
    regexp_matches({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{#- Text of a scalar inside a JSON document, by a JSONPath like '$.person.email'. -#}
{% macro json_text(expr, path) -%}
    {{ return(adapter.dispatch('json_text', 'omni_warehouse')(expr, path)) }}
{%- endmacro %}

{% macro default__json_text(expr, path) -%}
    get_json_object({{ expr }}, '{{ path }}')
{%- endmacro %}

{% macro duckdb__json_text(expr, path) -%}
    json_extract_string({{ expr }}, '{{ path }}')
{%- endmacro %}

{#- A JSON object as text from a dict of key -> SQL expression (the properties column of activities). -#}
{% macro json_object_text(fields) -%}
    {{ return(adapter.dispatch('json_object_text', 'omni_warehouse')(fields)) }}
{%- endmacro %}

{% macro default__json_object_text(fields) -%}
    to_json(named_struct(
        {%- for key, expr in fields.items() %}
        '{{ key }}', {{ expr }}{{ "," if not loop.last }}
        {%- endfor %}
    ))
{%- endmacro %}

{% macro duckdb__json_object_text(fields) -%}
    cast(json_object(
        {%- for key, expr in fields.items() %}
        '{{ key }}', {{ expr }}{{ "," if not loop.last }}
        {%- endfor %}
    ) as {{ dbt.type_string() }})
{%- endmacro %}

{#- Column names of a relation as the warehouse resolves it, lower-cased. Works on external sources
    (dbt-duckdb read_parquet locations) where information_schema knows nothing. Empty at parse time. -#}
{% macro relation_column_names(relation) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set result = run_query("select * from " ~ relation ~ " limit 0") -%}
    {{ return(result.column_names | map('lower') | list) }}
{%- endmacro %}

{#- The column if the relation has it, else a typed NULL: optional export columns (e.g. Mailchimp's
    UNSUB_TIME only exists once an unsubscribed file has landed). -#}
{% macro optional_column(column_names, name, data_type=none) -%}
    {%- if name | lower in column_names -%}
        {{ name }}
    {%- else -%}
        cast(null as {{ data_type or dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}

{#- 1 for the newest version of each natural key: latest landing day, then latest ingestion, then the
    last row of the file (re-deliveries overlap; later files correct earlier ones). -#}
{% macro latest_first(partition_by, extra_order_by=none) -%}
    row_number() over (
        partition by {{ partition_by | join(', ') }}
        order by
            {%- if extra_order_by %} {{ extra_order_by }},{% endif %}
            _landing_date desc, _ingested_at desc, _row_number desc
    )
{%- endmacro %}

{#- A stable hash key over several columns; nulls hash as empty text so a key never becomes null. -#}
{% macro hash_key(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}

{#- 'YYYYMMDD' text (GA4 event_date) to a date. -#}
{% macro date_from_yyyymmdd(expr) -%}
    {{ dbt.safe_cast("concat(substr(" ~ expr ~ ", 1, 4), '-', substr(" ~ expr ~ ", 5, 2), '-', substr(" ~ expr ~ ", 7, 2))", "date") }}
{%- endmacro %}

{#- 'true'/'yes'/'1'/'subscribed' style flags to boolean; anything else non-empty is false, empty is null. -#}
{% macro parse_bool(expr) -%}
    case
        when lower(trim({{ expr }})) in ('true', 't', 'yes', 'y', '1', 'subscribed', 'opt-in', 'opted_in') then true
        when lower(trim({{ expr }})) in ('false', 'f', 'no', 'n', '0', 'unsubscribed', 'opt-out', 'opted_out') then false
    end
{%- endmacro %}

{#- dbt-duckdb has no safe_cast, so dbt.safe_cast falls back to a plain cast that fails the whole model
    on one bad value. dbt searches the root project first for dbt's own dispatched macros. -#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}

{#- Type of the lake's _ingested_at (ingestion writes an instant): a literal of it compares with the
    column without a cast on the column, so Parquet readers can skip row groups by statistics. -#}
{% macro lake_ingested_at_type() -%}
    {{ return(adapter.dispatch('lake_ingested_at_type', 'omni_warehouse')()) }}
{%- endmacro %}

{% macro default__lake_ingested_at_type() -%}
    {{ return(dbt.type_timestamp()) }}
{%- endmacro %}

{% macro duckdb__lake_ingested_at_type() -%}
    {{ return('timestamp with time zone') }}
{%- endmacro %}
