{#- Money text to decimal(18,2), whatever the exporter's locale: '$8.00', '"$1,149.00 "', '($33.62)'
    (accounting negative), '-12.5', '525.33', '1.234,50' and 'kr 1.234,50' (comma decimals).
    A comma followed by one or two final digits is the decimal separator; otherwise commas group
    thousands. Unparseable -> null. -#}
{% macro parse_money(expr) -%}
    {%- set trimmed = "trim(cast(" ~ expr ~ " as " ~ dbt.type_string() ~ "))" -%}
    {%- set kept = regexp_replace_all(trimmed, '[^0-9,.]', '') -%}
    {%- set negative = "(" ~ trimmed ~ " like '(%)' or " ~ trimmed ~ " like '-%' or " ~ trimmed ~ " like '%-')" -%}
    (case when {{ negative }} then -1 else 1 end) * {{ dbt.safe_cast(
        "case when " ~ regexp_like(kept, ",[0-9]{1,2}$") ~ " then replace(replace(" ~ kept ~ ", '.', ''), ',', '.')"
        ~ " else replace(" ~ kept ~ ", ',', '') end",
        "decimal(18, 2)"
    ) }}
{%- endmacro %}

{#- Quantities like '1.0' or '2' to a number (Square writes '1.0'). -#}
{% macro parse_quantity(expr) -%}
    {{ dbt.safe_cast("replace(trim(cast(" ~ expr ~ " as " ~ dbt.type_string() ~ ")), ',', '.')", "decimal(18, 3)") }}
{%- endmacro %}
