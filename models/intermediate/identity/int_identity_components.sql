{#- Connected components over trusted edges (neither end blocked or capped). Identifiers without a
    trusted edge are components of one. The rounds run when the model executes (see the macro);
    component_key is the smallest node key of the component.

    Incremental (daily runs, var min_date set): only the components touched since the previous run are
    recomputed. Touched: the previous component of every new identifier, of every identifier whose
    trust (guardrail exclusion) changed, and of both ends of every trusted edge that crosses two
    previous components or reaches a new identifier, and of both ends of every pair that became a
    tombstone since this model's last run (a source record rewritten without the pair: the lost edge may
    split a person), and of every identifier no record carries any more (its row is deleted). The
    touched identifiers are closed under trusted edges, so the rounds over their edges alone give
    exactly their components; every other identifier keeps its component (delete+insert on node_key).
    A record that vanishes from its source (a landed file deleted) leaves no tombstone: run with
    --full-refresh after such corrections. convergence_rounds and computed_at are the rounds and the
    run that last computed the row. -#}
-- depends_on: {{ ref('int_identity_edge_pairs') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='node_key',
    on_schema_change='append_new_columns',
    post_hook=["{{ identity_components_delete_gone(this) }}", "{{ identity_cc_drop_work_tables(this) }}",
               "{{ identity_components_drop_touched(this) }}"],
) }}

{%- set incremental_run = incremental_window_active() and relation_has_column(this, 'is_trusted') -%}
{%- set touched = identity_components_touched_relation(this) if execute else none -%}

{%- if execute and incremental_run -%}
    {%- do adapter.drop_relation(touched) -%}
    {%- call statement('identity_components_touched') -%}
        {{ identity_create_table_as(touched, identity_components_touched_sql(this)) }}
    {%- endcall -%}
{%- endif -%}

{%- set trusted_edges_sql -%}
    select e.node_a_id as src_id, e.node_b_id as dst_id
    from {{ ref('int_identity_edges') }} e
    where not exists (select 1 from {{ ref('int_identity_guardrail_audit') }} g where g.node_key = e.node_a)
        and not exists (select 1 from {{ ref('int_identity_guardrail_audit') }} g where g.node_key = e.node_b)
    {%- if incremental_run %}
        and e.node_a in (select node_key from {{ touched }})
        and e.node_b in (select node_key from {{ touched }})
    {%- endif %}
{%- endset -%}

{#- The rounds need the upstream tables: a `dbt compile` (or sqlfluff) before the first build renders
    the model without running them. In a build the refs above are always built first. -#}
{%- set upstream_built = execute and load_relation(ref('int_identity_edges')) is not none
    and load_relation(ref('int_identity_guardrail_audit')) is not none -%}
{%- if upstream_built -%}
    {%- set cc = identity_connected_components(trusted_edges_sql, this,
                                               identity_setting('identity_max_rounds') | int) -%}
    {%- set labels_relation = '(' ~ cc.labels_sql ~ ') cc_labels' -%}
    {%- set rounds = cc.rounds -%}
{%- else -%}
    {%- set labels_relation = none -%}
    {%- set rounds = 0 -%}
{%- endif %}

with nodes as (
    select node_id, node_key from {{ ref('int_identity_nodes') }}
    {%- if incremental_run %}
    where node_key in (select node_key from {{ touched }})
    {%- endif %}
),

labels as (
    {%- if labels_relation is not none %}
    select node_id, parent_id as root_id from {{ labels_relation }}
    {%- else %}
    select cast(null as {{ dbt.type_bigint() }}) as node_id, cast(null as {{ dbt.type_bigint() }}) as root_id
    {%- endif %}
),

-- the root is the component's smallest node id = its smallest node key (ids follow key order); labels
-- has no row for a root itself nor for an identifier without a trusted edge: both are their own root
resolved as (
    select n.node_key, coalesce(l.root_id, n.node_id) as root_id
    from nodes n
    left join labels l on n.node_id = l.node_id
),

-- a hash aggregate joined back: cheaper than a window partitioned by root (no sort)
sizes as (
    select root_id, count(*) as component_size
    from resolved
    group by root_id
)

select
    r.node_key,
    root.node_key as component_key,
    s.component_size,
    {{ rounds }} as convergence_rounds,
    {{ identity_run_started_at() }} as computed_at,
    not exists (
        select g.node_key from {{ ref('int_identity_guardrail_audit') }} g where g.node_key = r.node_key
    ) as is_trusted
from resolved r
join sizes s on r.root_id = s.root_id
join nodes root on r.root_id = root.node_id
