{%- set device_types = identity_setting('identity_device_types') -%}
{%- set device_user_types = identity_setting('identity_device_user_types') -%}
{%- set weak_types = identity_setting('identity_weak_types') -%}
{%- set strong_types = identity_setting('identity_strong_types') -%}
{%- set max_per_person = identity_setting('identity_max_per_person') -%}
-- One row per identifier and guardrail that keeps it out of the graph: blocked values (seed), weak
-- types, shared devices, values linking more than one of a one-per-person type, values linking too
-- many strong ids or identifiers. Caps are counted on the graph left after blocking and weak types,
-- in one pass (a capped value's own links do not lift other caps).
with nodes as (
    select * from {{ ref('int_identity_nodes') }}
),

edges as (
    select * from {{ ref('int_identity_edges') }}
),

-- a value is out before any cap when blocked or of a weak type
pre_excluded as (
    select node_key
    from nodes
    where blocked_reason is not null
        or identifier_type in {{ identity_sql_list(weak_types) }}
),

usable_edges as (
    select e.*
    from edges e
    left join pre_excluded xa on e.node_a = xa.node_key
    left join pre_excluded xb on e.node_b = xb.node_key
    where xa.node_key is null and xb.node_key is null
),

adjacency as (
    select node_a as node_key, node_b as neighbour_key, node_b_type as neighbour_type, record_count
    from usable_edges
    union all
    select node_b, node_a, node_a_type, record_count
    from usable_edges
),

neighbour_stats as (
    select
        node_key,
        count(*) as linked_identifiers,
        sum(case when neighbour_type in {{ identity_sql_list(strong_types) }} then 1 else 0 end)
            as linked_strong_ids
        {%- for t in device_user_types %},
        sum(case when neighbour_type = '{{ t }}' then 1 else 0 end) as linked_device_user_{{ loop.index }}
        {%- endfor %}
        {%- for t in max_per_person %},
        sum(case when neighbour_type = '{{ t }}' then 1 else 0 end) as linked_unique_{{ loop.index }}
        {%- endfor %}
    from adjacency
    group by node_key
),

edge_counts as (
    select node_key, count(*) as edges_dropped, sum(record_count) as records_linked
    from (
        select node_a as node_key, record_count from edges
        union all
        select node_b, record_count from edges
    ) ends
    group by node_key
),

findings as (
    select
        n.node_key,
        'blocked' as guardrail,
        n.blocked_reason as reason,
        cast(null as {{ dbt.type_bigint() }}) as linked_identifiers,
        cast(null as {{ dbt.type_bigint() }}) as linked_strong_ids
    from nodes n
    where n.blocked_reason is not null

    union all

    select
        n.node_key,
        'weak_type' as guardrail,
        concat(n.identifier_type, ' is a weak identifier type (var identity_weak_types)') as reason,
        null as linked_identifiers,
        null as linked_strong_ids
    from nodes n
    join edge_counts c on n.node_key = c.node_key  -- only when it had a link to drop
    where n.identifier_type in {{ identity_sql_list(weak_types) }}
        and n.blocked_reason is null

    {%- for t in device_user_types %}
    union all
    select
        s.node_key,
        'shared_device' as guardrail,
        concat('device linked to ', cast(s.linked_device_user_{{ loop.index }} as {{ dbt.type_string() }}),
               ' {{ t }} values (var identity_max_users_per_device = {{ identity_setting("identity_max_users_per_device") }})') as reason,
        s.linked_identifiers,
        s.linked_strong_ids
    from neighbour_stats s
    join nodes n on s.node_key = n.node_key
    where n.identifier_type in {{ identity_sql_list(device_types) }}
        and s.linked_device_user_{{ loop.index }} > {{ identity_setting('identity_max_users_per_device') | int }}
    {%- endfor %}

    {%- for t, cap in max_per_person.items() %}
    union all
    select
        s.node_key,
        'per_person_cap' as guardrail,
        concat('linked to ', cast(s.linked_unique_{{ loop.index }} as {{ dbt.type_string() }}),
               ' {{ t }} values; a person has at most {{ cap }} (var identity_max_per_person)') as reason,
        s.linked_identifiers,
        s.linked_strong_ids
    from nodes n
    join neighbour_stats s on s.node_key = n.node_key
    where s.linked_unique_{{ loop.index }} > {{ cap | int }}
    {%- endfor %}

    union all

    select
        s.node_key,
        'strong_id_cap' as guardrail,
        concat('linked to ', cast(s.linked_strong_ids as {{ dbt.type_string() }}),
               ' strong ids (var identity_max_strong_ids_per_value = {{ identity_setting("identity_max_strong_ids_per_value") }})') as reason,
        s.linked_identifiers,
        s.linked_strong_ids
    from neighbour_stats s
    where s.linked_strong_ids > {{ identity_setting('identity_max_strong_ids_per_value') | int }}

    union all

    select
        s.node_key,
        'linked_identifiers_cap' as guardrail,
        concat('linked to ', cast(s.linked_identifiers as {{ dbt.type_string() }}),
               ' identifiers (var identity_max_linked_identifiers = {{ identity_setting("identity_max_linked_identifiers") }})') as reason,
        s.linked_identifiers,
        s.linked_strong_ids
    from neighbour_stats s
    where s.linked_identifiers > {{ identity_setting('identity_max_linked_identifiers') | int }}
)

select
    f.node_key,
    n.identifier_type,
    n.identifier_value,
    f.guardrail,
    f.reason,
    n.record_count,
    coalesce(c.edges_dropped, 0) as edges_dropped,
    coalesce(c.records_linked, 0) as records_linked,
    f.linked_identifiers,
    f.linked_strong_ids
from findings f
join nodes n on f.node_key = n.node_key
left join edge_counts c on f.node_key = c.node_key
