{#- Every pair of identifiers observed on one record (source, record_id), one row per unordered pair
    (node_a < node_b), with when and where it was seen; int_identity_edges adds the node ids.

    Incremental (daily runs, var min_date set), delete+insert on (node_a, node_b): the pairs of every
    record int_identifier_observations (re)loaded since this model's last run (loaded_at) are the
    affected pairs; each is recomputed over ALL records carrying both its identifiers (their rows in
    int_identity_record_pairs, one per record and pair, so the records are not paired again), so first_seen_at
    (min), last_seen_at (max), record_count and sources equal a full recomputation, also when a
    rewritten record (a GA4 day re-exported) is read again. Every existing pair with an end among the
    identifiers of those records is recomputed too: a rewrite that replaced one identifier of a record
    (a GA4 login re-exported with another user_id) leaves the old pair with record_count 0, a tombstone
    that int_identity_edges drops, exactly as a full refresh would never have produced it. Pairs no
    record touched keep their row. A pair whose records were rewritten without BOTH of its identifiers
    keeps its row until a full refresh (docs/operations.md). -#}
-- depends_on: {{ ref('int_identifier_observations') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['node_a', 'node_b'],
    on_schema_change='fail',
) }}
{%- set window = incremental_window_active() -%}
{%- set watermark = held_loaded_at_watermark() %}

with

{%- if window %}

observations as (
    select
        source,
        record_id,
        {{ identity_node_key('identifier_type', 'identifier_value') }} as node_key,
        observed_at
    from {{ ref('int_identifier_observations') }}
    where identifier_type is not null and identifier_value is not null
),

-- records (re)loaded since this model's last run; every record when it has no rows yet
loaded_records as (
    select distinct source, record_id
    from {{ ref('int_identifier_observations') }}
    {%- if watermark is not none %}
    where loaded_at > cast('{{ watermark }}' as {{ dbt.type_timestamp() }})
    {%- endif %}
),

-- the identifiers on those records (one alone on a rewritten record can end a pair)
touched_nodes as (
    select distinct o.node_key
    from observations o
    inner join loaded_records r on o.source = r.source and o.record_id = r.record_id
),

affected_pairs as (
    -- the pairs of those records: int_identity_record_pairs paired them already (it re-reads every
    -- record loaded since its own last run, so its rows written after this model's watermark hold them)
    select node_a, node_b
    from {{ ref('int_identity_record_pairs') }}
    {%- if watermark is not none %}
    where loaded_at > cast('{{ watermark }}' as {{ dbt.type_timestamp() }})
    {%- endif %}
    union
    -- pairs the reloaded records may no longer carry (one end still there)
    select node_a, node_b
    from {{ this }}
    where node_a in (select node_key from touched_nodes) or node_b in (select node_key from touched_nodes)
),

{%- endif %}

-- one row per record and pair: in a daily run those of the affected pairs
pairs as (
    select r.node_a, r.node_b, r.source, r.observed_at
    from {{ ref('int_identity_record_pairs') }} r
    {%- if window %}
    inner join affected_pairs p on r.node_a = p.node_a and r.node_b = p.node_b
    {%- endif %}
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
),

-- the pairs to write: in a daily run every affected pair, and one no current record carries any more
-- is written as a tombstone (record_count 0)
written_pairs as (
    select node_a, node_b from {{ 'affected_pairs' if window else 'per_edge' }}
)

select
    p.node_a,
    p.node_b,
    s.sources,
    e.first_seen_at,
    e.last_seen_at,
    coalesce(e.record_count, 0) as record_count,
    {{ identity_run_started_at() }} as loaded_at
from written_pairs p
left join per_edge e on p.node_a = e.node_a and p.node_b = e.node_b
left join edge_sources s on p.node_a = s.node_a and p.node_b = s.node_b
