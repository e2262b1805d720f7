{#- GA4 repeated fields arrive as JSON text in the lake; parse once per row, then pick keys. -#}

{#- event_params / user_properties JSON text -> a list of {key, value{...}} structs. -#}
{% macro ga4_parse_params(expr) -%}
    {{ return(adapter.dispatch('ga4_parse_params', 'omni_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__ga4_parse_params(expr) -%}
    from_json({{ expr }}, 'array<struct<key:string,value:struct<string_value:string,int_value:string,float_value:string,double_value:string>>>')
{%- endmacro %}

{% macro duckdb__ga4_parse_params(expr) -%}
    from_json({{ expr }}, '[{"key": "VARCHAR", "value": {"string_value": "VARCHAR", "int_value": "VARCHAR", "float_value": "VARCHAR", "double_value": "VARCHAR"}}]')
{%- endmacro %}

{#- One parameter's value as text, whichever typed slot GA4 used. -#}
{% macro ga4_param(parsed_params, key) -%}
    {{ return(adapter.dispatch('ga4_param', 'omni_warehouse')(parsed_params, key)) }}
{%- endmacro %}

{% macro default__ga4_param(parsed_params, key) -%}
    (
        coalesce(
            filter({{ parsed_params }}, p -> p.key = '{{ key }}')[0].value.string_value,
            filter({{ parsed_params }}, p -> p.key = '{{ key }}')[0].value.int_value,
            filter({{ parsed_params }}, p -> p.key = '{{ key }}')[0].value.double_value,
            filter({{ parsed_params }}, p -> p.key = '{{ key }}')[0].value.float_value
        )
    )
{%- endmacro %}

{% macro duckdb__ga4_param(parsed_params, key) -%}
    coalesce(
        list_filter({{ parsed_params }}, lambda p: p.key = '{{ key }}')[1].value.string_value,
        list_filter({{ parsed_params }}, lambda p: p.key = '{{ key }}')[1].value.int_value,
        list_filter({{ parsed_params }}, lambda p: p.key = '{{ key }}')[1].value.double_value,
        list_filter({{ parsed_params }}, lambda p: p.key = '{{ key }}')[1].value.float_value
    )
{%- endmacro %}

{#- items JSON text -> list of {item_id, item_name, item_category, price, quantity} structs (text). -#}
{% macro ga4_parse_items(expr) -%}
    {{ return(adapter.dispatch('ga4_parse_items', 'omni_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__ga4_parse_items(expr) -%}
    from_json({{ expr }}, 'array<struct<item_id:string,item_name:string,item_category:string,price:string,quantity:string>>')
{%- endmacro %}

{% macro duckdb__ga4_parse_items(expr) -%}
    from_json({{ expr }}, '[{"item_id": "VARCHAR", "item_name": "VARCHAR", "item_category": "VARCHAR", "price": "VARCHAR", "quantity": "VARCHAR"}]')
{%- endmacro %}

{#- The item ids of a parsed items list as a comma-separated text (null when none). -#}
{% macro ga4_item_ids(parsed_items) -%}
    {{ return(adapter.dispatch('ga4_item_ids', 'omni_warehouse')(parsed_items)) }}
{%- endmacro %}

{% macro default__ga4_item_ids(parsed_items) -%}
    nullif(array_join(transform({{ parsed_items }}, i -> i.item_id), ','), '')
{%- endmacro %}

{% macro duckdb__ga4_item_ids(parsed_items) -%}
    nullif(array_to_string(list_transform({{ parsed_items }}, lambda i: i.item_id), ','), '')
{%- endmacro %}

{#- The first item's field (GA4 arrays are 0-based in Spark, 1-based in DuckDB). -#}
{% macro ga4_first_item(parsed_items, field) -%}
    {{ return(adapter.dispatch('ga4_first_item', 'omni_warehouse')(parsed_items, field)) }}
{%- endmacro %}

{% macro default__ga4_first_item(parsed_items, field) -%}
    {{ parsed_items }}[0].{{ field }}
{%- endmacro %}

{% macro duckdb__ga4_first_item(parsed_items, field) -%}
    {{ parsed_items }}[1].{{ field }}
{%- endmacro %}
