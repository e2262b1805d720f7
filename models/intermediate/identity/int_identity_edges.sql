-- Every pair of identifiers observed on one record (source, record_id) is a candidate edge, one row
-- per unordered pair (node_a < node_b), from int_identity_edge_pairs (incremental) with the dense node
-- ids of int_identity_nodes (they follow node key order, so a new identifier shifts them: they are
-- joined here on every run, not stored incrementally). Guardrails decide later which edges are trusted.
-- Tombstones (record_count 0: no current record carries the pair any more) are not edges.
select
    e.node_a,
    e.node_b,
    na.node_id as node_a_id,
    nb.node_id as node_b_id,
    na.identifier_type as node_a_type,
    nb.identifier_type as node_b_type,
    e.sources,
    e.first_seen_at,
    e.last_seen_at,
    e.record_count
from {{ ref('int_identity_edge_pairs') }} e
inner join {{ ref('int_identity_nodes') }} na on e.node_a = na.node_key
inner join {{ ref('int_identity_nodes') }} nb on e.node_b = nb.node_key
where e.record_count > 0
