{#- The trusted edges of this run, plus the edges the previous run trusted that this run does not:
    the state identity_merges needs to name the edge whose loss split a person. The previous run's
    rows are this model's own last state ({{ this }} is still the old table while the new one is
    built), as in int_identity_person_ids. An edge lost this run is kept for this run only: the next
    run keeps only what this run trusted. -#}
{%- set previous_relation = adapter.get_relation(this.database, this.schema, this.identifier) if execute else none -%}

with exclusions as (
    select node_key, min(guardrail) as guardrail
    from {{ ref('int_identity_guardrail_audit') }}
    group by node_key
),

current_edges as (
    select
        e.node_a,
        e.node_b,
        e.first_seen_at,
        xa.guardrail is null and xb.guardrail is null as is_trusted,
        coalesce(xa.guardrail, xb.guardrail) as guardrail
    from {{ ref('int_identity_edges') }} e
    left join exclusions xa on e.node_a = xa.node_key
    left join exclusions xb on e.node_b = xb.node_key
),

current_trusted as (
    select node_a, node_b, first_seen_at from current_edges where is_trusted
),

previous_trusted as (
    {%- if previous_relation is not none %}
    select node_a, node_b, first_seen_at from {{ previous_relation }} where is_trusted
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as node_a,
        cast(null as {{ dbt.type_string() }}) as node_b,
        cast(null as {{ dbt.type_timestamp() }}) as first_seen_at
    where 1 = 0
    {%- endif %}
),

-- trusted before, not now: still observed with a blocked or capped end, or observed no more
lost as (
    select
        p.node_a,
        p.node_b,
        p.first_seen_at,
        case
            when x.node_a is null then 'trusted edge no longer observed'
            else concat('trusted edge now excluded: ', x.guardrail)
        end as lost_reason
    from previous_trusted p
    left join current_edges x on p.node_a = x.node_a and p.node_b = x.node_b
    where x.node_a is null or not x.is_trusted
)

select
    c.node_a,
    c.node_b,
    c.first_seen_at,
    true as is_trusted,
    cast(null as {{ dbt.type_string() }}) as lost_reason
from current_trusted c

union all

select node_a, node_b, first_seen_at, false as is_trusted, lost_reason
from lost
