{#- Generic test: no two rows share the combination of `columns` (dbt has no built-in for a compound key
    and dbt_utils is not available). `latest_run_keys`: only the combinations the latest run wrote
    (rows with the newest loaded_at) are checked, against every row: rows of earlier runs were checked
    when written and are unchanged, so a duplicate needs a row of the latest run; a rebuild stamps every
    row with its run and checks them all. A daily run then groups its own keys, not the whole table;
    after a build that failed or never finished, every key (full_data_tests). -#}
{% test journeys_unique_combination(model, columns, latest_run_keys=false) %}
{#- `model` may be a filtered subquery with its own alias (config where) #}
select {{ columns | join(', ') }}, count(*) as row_count
from (select * from {{ model }}) as t
{%- if latest_run_keys and not full_data_tests() %}
where exists (
    select 1 from (select * from {{ model }}) as n
    where
        n.loaded_at = (select max(loaded_at) from {{ model }})
        {%- for column in columns %}
        and n.{{ column }} is not distinct from t.{{ column }}
        {%- endfor %}
)
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

{#- Generic test: every non-null value lies within [min_value, max_value] (either bound optional). -#}
{% test journeys_range(model, column_name, min_value=none, max_value=none) %}
select {{ column_name }}
from {{ model }}
where
    {%- if min_value is not none %} {{ column_name }} < {{ min_value }}{% endif %}
    {%- if min_value is not none and max_value is not none %} or{% endif %}
    {%- if max_value is not none %} {{ column_name }} > {{ max_value }}{% endif %}
{% endtest %}
