{#- A custom schema is used as is (staging, identity, ...) rather than prefixed with the target
    schema, so BI tools see stable schema names whatever the target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
