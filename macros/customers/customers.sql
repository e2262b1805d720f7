{#- Helpers of the customers capability (profiles, consents, value). -#}

{#- Switch for the customers capability (default on). Every customers model is enabled by it, and
    consumers (e.g. the journeys funnels) read customers.customer_profiles only when it is true, so
    `--vars '{customers_enabled: false}'` builds the rest of the warehouse without profiles. -#}
{% macro customers_enabled() -%}
    {{ return(var('customers_enabled', true)) }}
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

{#- A row value ordered by its fields in turn: the sort key of "latest value" aggregates. -#}
{% macro customers_sort_key(fields) -%}
    {{ return(adapter.dispatch('customers_sort_key', 'omni_warehouse')(fields)) }}
{%- endmacro %}

{% macro default__customers_sort_key(fields) -%}
    struct({{ fields | join(', ') }})
{%- endmacro %}

{% macro duckdb__customers_sort_key(fields) -%}
    row({{ fields | join(', ') }})
{%- endmacro %}

{#- A BIGINT that orders rows by time, then (for rows in the same microsecond) by a hash bucket of
    their id: as deterministic as a (time, id) struct but several times cheaper to aggregate on. -#}
{% macro customers_time_key(ts, id) -%}
    {{ return(adapter.dispatch('customers_time_key', 'omni_warehouse')(ts, id)) }}
{%- endmacro %}

{% macro default__customers_time_key(ts, id) -%}
    (unix_micros({{ ts }}) * 1000 + pmod(hash({{ id }}), 1000))
{%- endmacro %}

{% macro duckdb__customers_time_key(ts, id) -%}
    (epoch_us({{ ts }}) * 1000 + cast(hash({{ id }}) % 1000 as bigint))
{%- endmacro %}

{#- Value of `value_expr` on the row with the latest (or earliest) `ts`, ties broken by `id`;
    null-valued rows are skipped (their key is null). min_by/max_by: DuckDB and Spark 3 alike. -#}
{% macro customers_latest(value_expr, ts, id, latest=true) -%}
    {{ 'max_by' if latest else 'min_by' }}({{ value_expr }}, case when {{ value_expr }} is not null then {{ customers_time_key(ts, id) }} end)
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

{#- A 64-bit hash of several values: the key of a session or campaign when counting distinct ones per
    person. Grouping on it instead of the concatenated strings is several times cheaper; two units of
    one person colliding needs a 64-bit hash collision among that person's few hundred units. -#}
{% macro customers_unit_hash(exprs) -%}
    {{ return(adapter.dispatch('customers_unit_hash', 'omni_warehouse')(exprs)) }}
{%- endmacro %}

{% macro default__customers_unit_hash(exprs) -%}
    xxhash64({{ exprs | join(', ') }})
{%- endmacro %}

{% macro duckdb__customers_unit_hash(exprs) -%}
    hash({{ exprs | join(', ') }})
{%- endmacro %}

{#- The previous non-null value of `expr` in window `window_name` (a named WINDOW): lag ignoring
    nulls, spelled differently by the engines. -#}
{% macro customers_previous_non_null(expr, window_name) -%}
    {{ return(adapter.dispatch('customers_previous_non_null', 'omni_warehouse')(expr, window_name)) }}
{%- endmacro %}

{% macro default__customers_previous_non_null(expr, window_name) -%}
    lag({{ expr }}) ignore nulls over {{ window_name }}
{%- endmacro %}

{% macro duckdb__customers_previous_non_null(expr, window_name) -%}
    lag({{ expr }} ignore nulls) over {{ window_name }}
{%- endmacro %}

{#- Two comma-separated lists merged into one sorted list (the channels used, when a person has channels
    outside the documented vocabulary next to vocabulary ones). -#}
{% macro customers_merge_sorted_lists(a, b) -%}
    {{ return(adapter.dispatch('customers_merge_sorted_lists', 'omni_warehouse')(a, b)) }}
{%- endmacro %}

{% macro default__customers_merge_sorted_lists(a, b) -%}
    array_join(array_sort(concat(split({{ a }}, ','), split({{ b }}, ','))), ',')
{%- endmacro %}

{% macro duckdb__customers_merge_sorted_lists(a, b) -%}
    array_to_string(list_sort(list_concat(string_split({{ a }}, ','), string_split({{ b }}, ','))), ',')
{%- endmacro %}
