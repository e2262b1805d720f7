{#- Helpers of the customers capability (profiles, consents, value). -#}

{#- Gate for every customers model: they read journeys.activities and identity.person_identifiers,
    which the identity capability builds. Until those models exist in the project a ref to them would
    break `dbt parse` for everyone, so the customers models are enabled by the var `customers_enabled`.
    Flip the default here to true once models/marts/journeys/activities.sql and
    person_identifiers.sql have landed. -#}
{% macro customers_enabled() -%}
    {{ return(var('customers_enabled', false)) }}
{%- endmacro %}

{#- Documented thresholds of the profile rules; each overridable with a var of the same name. -#}
{% macro customers_setting(name) -%}
    {%- set defaults = {
        'customers_rfm_recency_days': [30, 90, 180, 365],
        'customers_rfm_frequency_orders': [2, 3, 5, 10],
        'customers_rfm_monetary': [50, 200, 500, 1000],
        'customers_loyal_min_orders': 4,
        'customers_lapsing_after_days': 180,
        'customers_lost_after_days': 365,
        'customers_preferred_channel_days': 180,
        'customers_repeat_view_min': 3,
    } -%}
    {{ return(var(name, defaults[name])) }}
{%- endmacro %}

{#- 1-5 score of a value against four ascending thresholds; higher_is_better=false for recency
    (fewer days since the last order is better). A value equal to a threshold gets the better score. -#}
{% macro customers_score_5(expr, thresholds, higher_is_better=true) -%}
    case
        when {{ expr }} is null then null
    {%- if higher_is_better %}
        when {{ expr }} >= {{ thresholds[3] }} then 5
        when {{ expr }} >= {{ thresholds[2] }} then 4
        when {{ expr }} >= {{ thresholds[1] }} then 3
        when {{ expr }} >= {{ thresholds[0] }} then 2
        else 1
    {%- else %}
        when {{ expr }} <= {{ thresholds[0] }} then 5
        when {{ expr }} <= {{ thresholds[1] }} then 4
        when {{ expr }} <= {{ thresholds[2] }} then 3
        when {{ expr }} <= {{ thresholds[3] }} then 2
        else 1
    {%- endif %}
    end
{%- endmacro %}

{#- Microseconds since the epoch: a sortable number to break ties in "latest value" aggregates. -#}
{% macro customers_epoch_us(expr) -%}
    {{ return(adapter.dispatch('customers_epoch_us', 'omni_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__customers_epoch_us(expr) -%}
    unix_micros({{ expr }})
{%- endmacro %}

{% macro duckdb__customers_epoch_us(expr) -%}
    epoch_us({{ expr }})
{%- endmacro %}

{#- Sort key "time, then id" as fixed-width text, so max/min of it picks one deterministic row. -#}
{% macro customers_order_key(ts, id) -%}
    concat(lpad(cast({{ customers_epoch_us(ts) }} as {{ dbt.type_string() }}), 20, '0'), '|', coalesce({{ id }}, ''))
{%- endmacro %}

{#- Value of `value_expr` on the row with the latest (or earliest) `ts`, ties broken by `id`;
    null-valued rows are skipped. min_by/max_by exist under these names in DuckDB and Spark 3. -#}
{% macro customers_latest(value_expr, ts, id, latest=true) -%}
    {{ 'max_by' if latest else 'min_by' }}({{ value_expr }}, case when {{ value_expr }} is not null then {{ customers_order_key(ts, id) }} end)
{%- endmacro %}

{#- Generic test: every non-null value of `field` in relation `from` appears in this column (the
    coverage direction `relationships` cannot express from this side: every person in
    journeys.activities has a profile). -#}
{% test customers_covers(model, column_name, from, field) %}
    select distinct src.{{ field }} as missing_value
    from {{ from }} as src
    left join {{ model }} as tgt on src.{{ field }} = tgt.{{ column_name }}
    where src.{{ field }} is not null and tgt.{{ column_name }} is null
{% endtest %}

{#- Generic test: the column lies in [min_value, max_value] (nulls allowed). -#}
{% test customers_between(model, column_name, min_value, max_value) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}
{% endtest %}
