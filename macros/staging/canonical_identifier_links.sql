{#- stg_canonical__identifier_links: a link has no natural key, it is its content (a re-delivered
    identical row is the same link). Its columns as SQL over the lake columns, in key order, so the
    model and its vanished-records hooks (which match lake rows to held links) compute one key. -#}
{% macro canonical_link_columns() -%}
    {%- set columns = [
        ('occurred_at', timestamp_from_offset_text('occurred_at')),
        ('link_source', 'lower(' ~ normalize_id('source') ~ ')'),
        ('email', normalize_email('email')),
        ('phone', normalize_phone('phone')),
    ] -%}
    {%- for column in ['customer_id', 'loyalty_id', 'ga_client_id', 'app_instance_id', 'site_user_id',
        'pos_customer_id', 'esp_member_id', 'service_requester_id'] -%}
        {%- do columns.append((column, normalize_id(column))) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{#- link_id over the lake columns -#}
{% macro canonical_link_id() -%}
    {%- set expressions = [] -%}
    {%- for column, expression in canonical_link_columns() -%}{%- do expressions.append(expression) -%}{%- endfor -%}
    {{ hash_key(expressions) }}
{%- endmacro %}
