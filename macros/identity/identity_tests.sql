{#- Generic tests for the identity models (no dbt_utils on these machines). -#}

{#- No two rows share the combination of the given columns. -#}
{% test identity_unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_with_combination
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

{#- Every value of group_column maps to exactly one value of column (e.g. one person per component). -#}
{% test identity_single_value_per_group(model, column_name, group_column) %}
select {{ group_column }}, count(distinct {{ column_name }}) as distinct_values
from {{ model }}
group by {{ group_column }}
having count(distinct {{ column_name }}) <> 1
{% endtest %}

{#- A share lies in [0, 1] (nulls allowed: nothing to divide). -#}
{% test identity_between_zero_and_one(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < 0 or {{ column_name }} > 1
{% endtest %}
