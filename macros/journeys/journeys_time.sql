{#- Shop-local time for the journeys capability. Timestamps in the warehouse are naive UTC; the shop's
    business days (the daily partitions' days, OMNI_TIMEZONE) are local days of var reporting_timezone. -#}

{#- The reporting timezone, an IANA name (e.g. 'Europe/Copenhagen'), checked so it can be inlined as a
    SQL literal. -#}
{% macro journeys_reporting_timezone() -%}
    {%- set tz = var('reporting_timezone', 'Europe/Copenhagen') | string | trim -%}
    {%- if not modules.re.fullmatch('[A-Za-z][A-Za-z0-9_+/-]*', tz) -%}
        {{ exceptions.raise_compiler_error("var reporting_timezone must be an IANA timezone name, got '" ~ tz ~ "'") }}
    {%- endif -%}
    {{ return(tz) }}
{%- endmacro %}

{#- Naive UTC timestamp -> naive wall-clock timestamp in tz. -#}
{% macro utc_to_local_timestamp(expr, tz) -%}
    {{ return(adapter.dispatch('utc_to_local_timestamp', 'omni_warehouse')(expr, tz)) }}
{%- endmacro %}

{% macro default__utc_to_local_timestamp(expr, tz) -%}
    from_utc_timestamp({{ expr }}, '{{ tz }}')
{%- endmacro %}

{% macro duckdb__utc_to_local_timestamp(expr, tz) -%}
    cast((({{ expr }}) at time zone 'UTC') at time zone '{{ tz }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- Naive wall-clock timestamp in tz -> naive UTC timestamp. -#}
{% macro local_to_utc_timestamp(expr, tz) -%}
    {{ return(adapter.dispatch('local_to_utc_timestamp', 'omni_warehouse')(expr, tz)) }}
{%- endmacro %}

{% macro default__local_to_utc_timestamp(expr, tz) -%}
    to_utc_timestamp({{ expr }}, '{{ tz }}')
{%- endmacro %}

{% macro duckdb__local_to_utc_timestamp(expr, tz) -%}
    cast((({{ expr }}) at time zone '{{ tz }}') at time zone 'UTC' as {{ dbt.type_timestamp() }})
{%- endmacro %}
