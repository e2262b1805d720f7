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
