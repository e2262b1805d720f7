{#- Canonical order lines: a JSON array of {sku, name, category, quantity, price} objects exploded to
    one row per element with its 1-based position. `relation` must have order_id and lines_json. -#}
{% macro explode_order_lines(relation) -%}
    {{ return(adapter.dispatch('explode_order_lines', 'omni_warehouse')(relation)) }}
{%- endmacro %}

{% macro default__explode_order_lines(relation) -%}
    select
        order_id,
        pos + 1 as line_number,
        line.sku as sku,
        line.name as product_name,
        line.category as category,
        line.quantity as quantity_text,
        line.price as price_text
    from {{ relation }}
    lateral view posexplode(
        from_json(lines_json, 'array<struct<sku:string,name:string,category:string,quantity:string,price:string>>')
    ) exploded as pos, line
{%- endmacro %}

{% macro duckdb__explode_order_lines(relation) -%}
    select
        order_id,
        line_number,
        lines[line_number].sku as sku,
        lines[line_number].name as product_name,
        lines[line_number].category as category,
        lines[line_number].quantity as quantity_text,
        lines[line_number].price as price_text
    from (
        select
            order_id,
            lines,
            unnest(range(1, len(lines) + 1)) as line_number
        from (
            select
                order_id,
                try_cast(
                    from_json(lines_json, '[{"sku": "VARCHAR", "name": "VARCHAR", "category": "VARCHAR", "quantity": "VARCHAR", "price": "VARCHAR"}]')
                    as struct(sku varchar, name varchar, category varchar, quantity varchar, price varchar)[]
                ) as lines
            from {{ relation }}
            where lines_json is not null and json_valid(lines_json)
        ) as parsed
    ) as exploded
{%- endmacro %}
