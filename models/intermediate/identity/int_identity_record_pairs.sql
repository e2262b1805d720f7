{#- One row per pair of identifiers observed on one record (source, record_id; node_a < node_b) with when
    it was seen: the per-record contributions that int_identity_edge_pairs sums per pair. Kept so that a
    daily run sums the records of the pairs it recomputes from this table instead of pairing the
    observations of every record that carries one of their identifiers again (an active e-mail address
    is on thousands of records, so that was most of the history every day).

    Incremental (daily runs, var min_date set): the records int_identifier_observations (re)loaded after
    this model's last run are replaced whole: the pre-hook retracts their live rows (retracted_at = this
    run), then their current pairs are appended. A retracted row is no contribution any more, but it
    tells int_identity_edge_pairs which pairs lost a record, also when the rewritten record carries
    neither identifier of the pair or none at all (its observation row without identifier says it was
    reloaded). Retracted rows are purged once int_identity_edge_pairs has run after their retraction.
    Other records keep their rows. Live rows have a null retracted_at. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=["{{ identity_record_pairs_purge_retracted() }}", "{{ identity_record_pairs_retract_reloaded() }}"],
) }}
{%- set watermark = held_loaded_at_watermark(['loaded_at', 'retracted_at']) %}

with

{%- if watermark is not none %}

-- records (re)loaded since this model's last run
loaded_records as (
    select distinct source, record_id
    from {{ ref('int_identifier_observations') }}
    where loaded_at > cast('{{ watermark }}' as {{ dbt.type_timestamp() }})
),
{%- endif %}

observations as (
    select distinct
        o.source,
        o.record_id,
        {{ identity_node_key('o.identifier_type', 'o.identifier_value') }} as node_key,
        o.observed_at
    from {{ ref('int_identifier_observations') }} as o
    {%- if watermark is not none %}
    inner join loaded_records as r on o.source = r.source and o.record_id = r.record_id
    {%- endif %}
    where o.identifier_type is not null and o.identifier_value is not null
)

select
    a.source,
    a.record_id,
    a.node_key as node_a,
    b.node_key as node_b,
    least(a.observed_at, b.observed_at) as observed_at,
    {{ identity_run_started_at() }} as loaded_at,
    cast(null as {{ dbt.type_timestamp() }}) as retracted_at
from observations as a
inner join observations as b
    on a.source = b.source
    and a.record_id = b.record_id
    and a.node_key < b.node_key
