{#- Generic test: rows where the boolean SQL expression is not true fail (no dbt_utils here). -#}
{% test quality_expression_is_true(model, expression) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}
