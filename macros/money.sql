{#- Money text to decimal(18,2), whatever the exporter's locale: '$8.00', '"$1,149.00 "', '($33.62)'
    (accounting negative), '-12.5', '$-3.00' and '€ -3,00' (a minus anywhere before the digits), '525.33',
    '1.234,50' and 'kr 1.234,50' (comma decimals), '1.234.567' (several dots group thousands), '1 234,50'.
    A comma followed by one or two final digits is the decimal separator; otherwise commas group
    thousands. A single dot is the decimal point even before three digits: '1.234' is 1.23 (rounded), as
    one value cannot tell a German thousands dot from a decimal point. Unparseable -> null. -#}
{% macro parse_money(expr) -%}
    {%- set trimmed = "trim(cast(" ~ expr ~ " as " ~ dbt.type_string() ~ "))" -%}
    {%- set kept = regexp_replace_all(trimmed, '[^0-9,.]', '') -%}
    {%- set negative = "(" ~ trimmed ~ " like '(%)' or " ~ regexp_like(trimmed, '^[^0-9]*-') ~ " or "
        ~ trimmed ~ " like '%-')" -%}
    (case when {{ negative }} then -1 else 1 end) * {{ dbt.safe_cast(
        "case when " ~ regexp_like(kept, ",[0-9]{1,2}$") ~ " then replace(replace(" ~ kept ~ ", '.', ''), ',', '.')"
        ~ " when " ~ regexp_like(kept, "^[0-9]{1,3}([.][0-9]{3}){2,}$") ~ " then replace(" ~ kept ~ ", '.', '')"
        ~ " else replace(" ~ kept ~ ", ',', '') end",
        "decimal(18, 2)"
    ) }}
{%- endmacro %}

{#- Quantities like '1.0' or '2' to a number (Square writes '1.0'). -#}
{% macro parse_quantity(expr) -%}
    {{ dbt.safe_cast("replace(trim(cast(" ~ expr ~ " as " ~ dbt.type_string() ~ ")), ',', '.')", "decimal(18, 3)") }}
{%- endmacro %}
