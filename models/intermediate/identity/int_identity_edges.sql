-- Every pair of identifiers observed on one record (source, record_id) is a candidate edge, one row
-- per unordered pair (node_a < node_b). Duplicate observations collapse; a node never pairs with
-- itself. Guardrails decide later which edges are trusted.
with observations as (
    select distinct
        source,
        record_id,
        {{ identity_node_key('identifier_type', 'identifier_value') }} as node_key,
        observed_at
    from {{ ref('int_identifier_observations') }}
    where identifier_type is not null and identifier_value is not null
),

pairs as (
    select
        a.node_key as node_a,
        b.node_key as node_b,
        a.source,
        least(a.observed_at, b.observed_at) as observed_at
    from observations a
    join observations b
        on a.source = b.source
        and a.record_id = b.record_id
        and a.node_key < b.node_key
),

edge_sources as (
    select node_a, node_b, {{ dbt.listagg('source', "','", "order by source") }} as sources
    from (select distinct node_a, node_b, source from pairs) distinct_sources
    group by node_a, node_b
),

per_edge as (
    select
        node_a,
        node_b,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at,
        count(*) as record_count
    from pairs
    group by node_a, node_b
)

select
    e.node_a,
    e.node_b,
    na.node_id as node_a_id,
    nb.node_id as node_b_id,
    na.identifier_type as node_a_type,
    nb.identifier_type as node_b_type,
    s.sources,
    e.first_seen_at,
    e.last_seen_at,
    e.record_count
from per_edge e
join edge_sources s on e.node_a = s.node_a and e.node_b = s.node_b
join {{ ref('int_identity_nodes') }} na on e.node_a = na.node_key
join {{ ref('int_identity_nodes') }} nb on e.node_b = nb.node_key
