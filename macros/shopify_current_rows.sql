{#- Shopify's export is one row per line item, order fields only on the first row of each Name.
    An order re-exported in a later file is taken whole from its latest delivery (never mixing lines
    of two deliveries); line_number is the row's position within the order in that file.
    `source_filter`: a `where` on the lake rows (incremental models read the files ingested since). -#}
{% macro shopify_current_rows(source_filter='') -%}
    select
        *,
        row_number() over (partition by order_name order by _row_number) as line_number
    from (
        select
            *,
            dense_rank() over (
                partition by order_name
                order by _landing_date desc, _ingested_at desc, _file_sha256 desc
            ) as delivery_rank
        from (
            select *, {{ normalize_id('name') }} as order_name
            from {{ source('lake', 'shopify_orders') }}
            {{ source_filter }}
        ) as named
        where order_name is not null
    ) as ranked
    where delivery_rank = 1
{%- endmacro %}
