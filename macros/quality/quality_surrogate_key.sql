{#- md5 of the '|'-joined text of the fields, nulls as empty: a stable row id without dbt_utils. -#}
{% macro quality_surrogate_key(fields) -%}
    {{ dbt.hash(dbt.concat(quality__key_parts(fields))) }}
{%- endmacro %}

{% macro quality__key_parts(fields) -%}
    {%- set parts = [] -%}
    {%- for f in fields -%}
        {%- do parts.append("coalesce(cast(" ~ f ~ " as " ~ dbt.type_string() ~ "), '')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ return(parts) }}
{%- endmacro %}

{#- A UTC instant (timestamptz in the lake) as the naive UTC timestamp every mart uses. -#}
{% macro quality_utc_timestamp(expr) -%}
    {{ return(adapter.dispatch('quality_utc_timestamp')(expr)) }}
{%- endmacro %}

{% macro default__quality_utc_timestamp(expr) -%}
    cast({{ expr }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro duckdb__quality_utc_timestamp(expr) -%}
    cast(timezone('UTC', {{ expr }}) as {{ dbt.type_timestamp() }})
{%- endmacro %}
