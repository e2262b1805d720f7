{#- Connected components over trusted edges (neither end blocked or capped). Identifiers without a
    trusted edge are components of one. The rounds run when the model executes (see the macro);
    component_key is the smallest node key of the component. -#}
{{ config(post_hook=["{{ identity_cc_drop_work_tables(this) }}"]) }}

{%- set trusted_edges_sql -%}
    select e.node_a_id as src_id, e.node_b_id as dst_id
    from {{ ref('int_identity_edges') }} e
    where not exists (select 1 from {{ ref('int_identity_guardrail_audit') }} g where g.node_key = e.node_a)
        and not exists (select 1 from {{ ref('int_identity_guardrail_audit') }} g where g.node_key = e.node_b)
{%- endset -%}

{%- if execute -%}
    {%- set cc = identity_connected_components(trusted_edges_sql, this,
                                               identity_setting('identity_max_rounds') | int) -%}
    {%- set labels_relation = cc.relation -%}
    {%- set rounds = cc.rounds -%}
{%- else -%}
    {%- set labels_relation = none -%}
    {%- set rounds = 0 -%}
{%- endif %}

with nodes as (
    select node_id, node_key from {{ ref('int_identity_nodes') }}
),

labels as (
    {%- if labels_relation is not none %}
    select node_id, parent_id as root_id from {{ labels_relation }}
    {%- else %}
    select cast(null as {{ dbt.type_bigint() }}) as node_id, cast(null as {{ dbt.type_bigint() }}) as root_id
    {%- endif %}
),

-- the root is the component's smallest node id = its smallest node key (ids follow key order)
resolved as (
    select n.node_key, coalesce(l.root_id, n.node_id) as root_id
    from nodes n
    left join labels l on n.node_id = l.node_id
)

select
    r.node_key,
    root.node_key as component_key,
    count(*) over (partition by r.root_id) as component_size,
    {{ rounds }} as convergence_rounds
from resolved r
join nodes root on r.root_id = root.node_id
