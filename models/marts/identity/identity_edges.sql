-- Every candidate edge (two identifiers on one record), hashed, with whether the graph used it.
with exclusions as (
    select node_key, min(guardrail) as guardrail
    from {{ ref('int_identity_guardrail_audit') }}
    group by node_key
)

select
    {{ identity_sha256("concat(e.node_a, '|', e.node_b)") }} as edge_id,
    e.node_a_type as identifier_a_type,
    {{ identity_sha256('e.node_a') }} as identifier_a_hash,
    e.node_b_type as identifier_b_type,
    {{ identity_sha256('e.node_b') }} as identifier_b_hash,
    xa.guardrail is null and xb.guardrail is null as is_trusted,
    case
        when xa.guardrail is not null and xb.guardrail is not null
            then concat('a: ', xa.guardrail, '; b: ', xb.guardrail)
        when xa.guardrail is not null then concat('a: ', xa.guardrail)
        when xb.guardrail is not null then concat('b: ', xb.guardrail)
    end as excluded_reason,
    case when xa.guardrail is null and xb.guardrail is null then pa.person_id end as person_id,
    e.sources,
    e.first_seen_at,
    e.last_seen_at,
    e.record_count
from {{ ref('int_identity_edges') }} e
left join exclusions xa on e.node_a = xa.node_key
left join exclusions xb on e.node_b = xb.node_key
join {{ ref('int_identity_person_ids') }} pa on e.node_a = pa.node_key
