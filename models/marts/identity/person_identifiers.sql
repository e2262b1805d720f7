-- Restricted: clear normalised values. One row per identifier with its person.
select
    p.person_id,
    n.identifier_type,
    n.identifier_value,
    {{ identifier_hash('n.identifier_type', 'n.identifier_value') }} as identifier_hash,
    n.first_seen_at,
    n.last_seen_at,
    n.sources,
    n.blocked_reason is not null as is_blocked
from {{ ref('int_identity_nodes') }} n
join {{ ref('int_identity_person_ids') }} p on n.node_key = p.node_key
