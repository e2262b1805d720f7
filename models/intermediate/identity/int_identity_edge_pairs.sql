{#- Every pair of identifiers observed on one record (source, record_id), one row per unordered pair
    (node_a < node_b), with when and where it was seen; int_identity_edges adds the node ids. Sums the
    live rows (null retracted_at) of int_identity_record_pairs, one per record and pair.

    Incremental (daily runs, var min_date set), delete+insert on (node_a, node_b): the affected pairs are
    those int_identity_record_pairs appended or retracted since this model's last run (loaded_at): the
    pairs of the records reloaded since, as they are now and as they were. Each is recomputed over ALL
    its live record rows, so first_seen_at (min), last_seen_at (max), record_count and sources equal a
    full recomputation, also when a rewritten record (a GA4 day re-exported) is read again. A pair no
    live record carries any more (a GA4 login re-exported with another user id, or without any
    identifier) is written with record_count 0, a tombstone that int_identity_edges drops, exactly as a
    full refresh would never have produced it. Pairs no record touched keep their row. -#}
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

-- the pairs of the records reloaded since this model's last run, as they are now (rows appended) and
-- as they were (rows retracted); every pair when it has no rows yet
affected_pairs as (
    select distinct node_a, node_b
    from {{ ref('int_identity_record_pairs') }}
    {%- if watermark is not none %}
    where loaded_at > cast('{{ watermark }}' as {{ dbt.type_timestamp() }})
        or retracted_at > cast('{{ watermark }}' as {{ dbt.type_timestamp() }})
    {%- endif %}
),

{%- endif %}

-- one row per record and pair: in a daily run those of the affected pairs
pairs as (
    select r.node_a, r.node_b, r.source, r.observed_at
    from {{ ref('int_identity_record_pairs') }} r
    {%- if window %}
    inner join affected_pairs p on r.node_a = p.node_a and r.node_b = p.node_b
    {%- endif %}
    where r.retracted_at is null
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
