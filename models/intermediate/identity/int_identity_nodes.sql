-- One row per identifier (graph node), with where and when it was seen and whether the blocked list
-- matches it. node_id is a dense integer id so the component rounds join on integers, not strings.
-- Aggregated per identifier and source first (one pass over the observations, on their own columns:
-- a node key per observation row cost a second a day), then per identifier.
with per_node_source as (
    select
        identifier_type,
        identifier_value,
        source,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at,
        count(*) as record_count
    from {{ ref('int_identifier_observations') }}
    where identifier_type is not null and identifier_value is not null
    group by identifier_type, identifier_value, source
),

per_node as (
    select
        {{ identity_node_key('identifier_type', 'identifier_value') }} as node_key,
        identifier_type,
        identifier_value,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        cast(sum(record_count) as {{ dbt.type_bigint() }}) as record_count,
        {{ dbt.listagg('source', "','", "order by source") }} as sources
    from per_node_source
    group by identifier_type, identifier_value
),

blocked_rules as (
    select
        lower(trim(identifier_type)) as identifier_type,
        lower(trim(match_type)) as match_type,
        lower(trim(value)) as value,
        reason
    from {{ ref('blocked_identifiers') }}
),

-- exact rules join on equality (cheap); only the few pattern rules need a LIKE per node
blocked_matches as (
    select n.node_key, b.reason
    from per_node n
    join blocked_rules b
        on lower(n.identifier_value) = b.value
        and b.match_type = 'exact'
        and b.identifier_type in ('*', n.identifier_type)
    union all
    select n.node_key, b.reason
    from per_node n
    join blocked_rules b
        on b.match_type = 'pattern'
        and b.identifier_type in ('*', n.identifier_type)
        and lower(n.identifier_value) like b.value
),

blocked as (
    select node_key, min(reason) as blocked_reason
    from blocked_matches
    group by node_key
)

select
    -- a global ordering: fine on one machine; on Spark it funnels through one task (ids only)
    row_number() over (order by n.node_key) as node_id,
    n.node_key,
    n.identifier_type,
    n.identifier_value,
    n.first_seen_at,
    n.last_seen_at,
    n.record_count,
    n.sources,
    b.blocked_reason,
    n.identifier_type in {{ identity_sql_list(identity_setting('identity_device_types')) }} as is_device
from per_node n
left join blocked b on n.node_key = b.node_key
