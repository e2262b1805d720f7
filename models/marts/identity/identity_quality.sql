-- noqa: disable=PRS,AL03
-- (sqlfluff cannot parse the rendered scalar subqueries inside casts, then misreads their aliases;
-- every column here is named.)
{#- One row per run (append-only): size of the graph, what the guardrails held back, how the
    components converged, and how much activity is attributed to a known person. -#}
{{ config(materialized='incremental', unique_key='run_id', on_schema_change='fail', meta={'keep_history': true}) }}

with ids as (
    select * from {{ ref('int_identity_person_ids') }}
),

audit as (
    select * from {{ ref('int_identity_guardrail_audit') }}
),

activities as (
    select person_id, channel, is_known_person from {{ ref('activities') }}
),

person_channels as (
    select person_id, count(distinct channel) as channels
    from activities
    group by person_id
),

run_merges as (
    select
        sum(case when event_type = 'merge' then 1 else 0 end) as merges,
        sum(case when event_type = 'split' then 1 else 0 end) as splits
    from {{ ref('identity_merges') }}
    where run_id = '{{ invocation_id }}'
)

select
    cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as run_id,
    {{ identity_run_started_at() }} as run_started_at,
    cast((select count(distinct person_id) from ids) as {{ dbt.type_bigint() }}) as persons,
    cast((select count(distinct person_id) from ids where is_known_person) as {{ dbt.type_bigint() }}) as known_persons,
    cast((select count(*) from ids) as {{ dbt.type_bigint() }}) as identifiers,
    cast((select count(*) from {{ ref('int_identity_edges') }}) as {{ dbt.type_bigint() }}) as edges,
    cast((select count(*) from {{ ref('identity_edges') }} where is_trusted) as {{ dbt.type_bigint() }}) as trusted_edges,
    cast((select count(distinct node_key) from audit where guardrail = 'blocked') as {{ dbt.type_bigint() }}) as blocked_values,
    cast((select count(distinct node_key) from audit where guardrail <> 'blocked') as {{ dbt.type_bigint() }}) as capped_values,
    cast((select max(convergence_rounds) from {{ ref('int_identity_components') }}) as {{ dbt.type_int() }}) as convergence_rounds,
    cast((select max(component_size) from ids) as {{ dbt.type_bigint() }}) as largest_component_identifiers,
    cast((select count(*) from activities) as {{ dbt.type_bigint() }}) as activities,
    cast((select avg(case when is_known_person then 1.0 else 0.0 end) from activities) as double)
        as share_activities_known_person,
    cast((select avg(case when channels >= 2 then 1.0 else 0.0 end) from person_channels) as double)
        as share_persons_multichannel,
    cast((select coalesce(merges, 0) from run_merges) as {{ dbt.type_bigint() }}) as merges,
    cast((select coalesce(splits, 0) from run_merges) as {{ dbt.type_bigint() }}) as splits
