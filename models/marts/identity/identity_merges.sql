{#- Append-only log of person id changes: one row per (old person, new person) pair of a run.
    merge: the old person's identifiers (most of them) joined an older person, who kept its id.
    split: part of the old person's identifiers left it for another person.
    Built from int_identity_person_ids.previous_person_id, so it must run in the same invocation.
    The causing edge: for a merge the newest trusted edge joining the two; for a split the newest edge
    the previous run trusted (int_identity_trusted_edges) whose ends were both the old person's and now
    belong to the split-off part and to another person. -#}
{{ config(materialized='incremental', unique_key='merge_id', on_schema_change='fail', meta={'keep_history': true}) }}

with ids as (
    select * from {{ ref('int_identity_person_ids') }}
),

moves as (
    select previous_person_id as old_person_id, person_id as new_person_id, count(*) as identifiers_moved
    from ids
    where previous_person_id is not null and previous_person_id <> person_id
    group by previous_person_id, person_id
),

-- where most of each old person went (same rule as int_identity_person_ids)
destination as (
    select previous_person_id, person_id
    from (
        select
            previous_person_id,
            person_id,
            row_number() over (
                partition by previous_person_id order by count(*) desc, min(component_key)
            ) as rank_in_person
        from ids
        where previous_person_id is not null
        group by previous_person_id, person_id
    ) ranked
    where rank_in_person = 1
),

-- a split's lost edge, seen from either end
lost_edges as (
    select node_a as node_key, node_b as other_key, node_a, node_b, first_seen_at, lost_reason
    from {{ ref('int_identity_trusted_edges') }}
    where not is_trusted
    union all
    select node_b as node_key, node_a as other_key, node_a, node_b, first_seen_at, lost_reason
    from {{ ref('int_identity_trusted_edges') }}
    where not is_trusted
),

cause_candidates as (
    -- merge: a trusted edge inside the new person joining an identifier of the old person to one
    -- that was not the old person's
    select
        m.old_person_id,
        m.new_person_id,
        e.node_a,
        e.node_b,
        e.first_seen_at,
        'new trusted edge' as cause,
        true as is_merge
    from moves m
    join ids a on a.person_id = m.new_person_id
    join {{ ref('int_identity_edges') }} e on e.node_a = a.node_key
    join ids b on e.node_b = b.node_key and b.person_id = m.new_person_id
    where not a.is_excluded and not b.is_excluded
        and (a.previous_person_id = m.old_person_id or b.previous_person_id = m.old_person_id)
        and coalesce(a.previous_person_id, '') <> coalesce(b.previous_person_id, '')

    union all

    -- split: an edge the previous run trusted between the part split off and the rest of the old person
    select
        m.old_person_id,
        m.new_person_id,
        l.node_a,
        l.node_b,
        l.first_seen_at,
        l.lost_reason as cause,
        false as is_merge
    from moves m
    join ids a on a.person_id = m.new_person_id and a.previous_person_id = m.old_person_id
    join lost_edges l on a.node_key = l.node_key
    join ids b on l.other_key = b.node_key
    where b.previous_person_id = m.old_person_id and b.person_id <> m.new_person_id
),

-- the newest candidate per move and kind
causes as (
    select old_person_id, new_person_id, node_a, node_b, first_seen_at, cause, is_merge
    from (
        select
            c.*,
            row_number() over (
                partition by c.old_person_id, c.new_person_id, c.is_merge
                order by c.first_seen_at desc, c.node_a, c.node_b
            ) as rank_in_move
        from cause_candidates c
    ) ranked
    where rank_in_move = 1
)

select
    {{ identity_sha256("concat('" ~ invocation_id ~ "', '|', m.old_person_id, '|', m.new_person_id)") }} as merge_id,
    case when d.person_id = m.new_person_id then 'merge' else 'split' end as event_type,
    m.old_person_id,
    m.new_person_id,
    m.identifiers_moved,
    case when c.node_a is not null then {{ identity_sha256("concat(c.node_a, '|', c.node_b)") }} end as edge_id,
    case when c.node_a is not null then {{ identity_sha256('c.node_a') }} end as edge_identifier_a_hash,
    case when c.node_a is not null then {{ identity_sha256('c.node_b') }} end as edge_identifier_b_hash,
    c.first_seen_at as edge_first_seen_at,
    -- no edge found: a merge without a new trusted edge, or a split whose lost edge predates the
    -- history (the first run after an upgrade) or whose identifiers are no longer observed at all
    coalesce(c.cause, 'link removed, blocked or capped') as cause,
    {{ identity_run_started_at() }} as recorded_at,
    cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as run_id
from moves m
join destination d on m.old_person_id = d.previous_person_id
-- a merge's edge for the old person's destination, a lost edge for the parts split off
left join causes c
    on m.old_person_id = c.old_person_id
    and m.new_person_id = c.new_person_id
    and (d.person_id = m.new_person_id) = c.is_merge
