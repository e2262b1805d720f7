{#- Incremental connected components (int_identity_components): which identifiers to recompute. -#}

{% macro identity_components_touched_relation(base_relation) -%}
    {{ return(api.Relation.create(database=base_relation.database, schema=base_relation.schema,
                                  identifier=base_relation.identifier ~ '__touched', type='table')) }}
{%- endmacro %}

{% macro identity_components_drop_touched(base_relation) -%}
    {%- if execute -%}
        {%- do adapter.drop_relation(identity_components_touched_relation(base_relation)) -%}
    {%- endif -%}
{%- endmacro %}

{#- post_hook of int_identity_components in a daily run: delete+insert writes only the identifiers that
    still exist, so the rows of those no record carries any more are deleted here -#}
{% macro identity_components_delete_gone(base_relation) -%}
    {%- if incremental_window_active() -%}
    delete from {{ base_relation }}
    where not exists (
        select 1 from {{ plain_relation(ref('int_identity_nodes')) }} n where n.node_key = {{ base_relation }}.node_key
    )
    {%- endif -%}
{%- endmacro %}

{#- node_key of every identifier whose component must be recomputed, given the previous state `previous`
    (node_key, component_key, is_trusted, computed_at). -#}
{% macro identity_components_touched_sql(previous) -%}
{%- set has_computed_at = relation_has_column(previous, 'computed_at') -%}
with previous as (
    select node_key, component_key, is_trusted from {{ previous }}
),

-- pairs no current record carries any more (tombstones of int_identity_edge_pairs) written since this
-- model last computed a component: the edge may have held a component together, and nothing else marks
-- it touched when the rewritten record brought no new identifier or edge. Without the run column (a
-- table from before it) every tombstone counts: a recomputed component that did not change stays put.
vanished as (
    select t.node_a, t.node_b
    from {{ ref('int_identity_edge_pairs') }} t
    where t.record_count = 0
    {%- if has_computed_at %}
        and t.loaded_at > coalesce(
            (select max(computed_at) from {{ previous }}),
            cast('1900-01-01' as {{ dbt.type_timestamp() }})
        )
    {%- endif %}
),

current_nodes as (
    select
        n.node_key,
        not exists (select 1 from {{ ref('int_identity_guardrail_audit') }} g where g.node_key = n.node_key)
            as is_trusted
    from {{ ref('int_identity_nodes') }} n
),

trusted_edges as (
    select e.node_a, e.node_b
    from {{ ref('int_identity_edges') }} e
    join current_nodes a on e.node_a = a.node_key and a.is_trusted
    join current_nodes b on e.node_b = b.node_key and b.is_trusted
),

changed_nodes as (
    select c.node_key
    from current_nodes c
    left join previous p on c.node_key = p.node_key
    where p.node_key is null or p.is_trusted is distinct from c.is_trusted
),

-- identifiers no record carries any more (every record of theirs rewritten without them): their
-- component loses them (a singleton has no tombstone to say so); identity_components_delete_gone
-- deletes their rows
gone_nodes as (
    select p.node_key, p.component_key
    from previous p
    where not exists (select 1 from current_nodes c where c.node_key = p.node_key)
),

crossing as (
    select pa.component_key as component_a, pb.component_key as component_b
    from trusted_edges e
    left join previous pa on e.node_a = pa.node_key
    left join previous pb on e.node_b = pb.node_key
    where pa.component_key is distinct from pb.component_key
),

touched_components as (
    select p.component_key from previous p join changed_nodes c on p.node_key = c.node_key
    union
    select component_a from crossing where component_a is not null
    union
    select component_b from crossing where component_b is not null
    union
    select p.component_key from previous p join vanished v on p.node_key in (v.node_a, v.node_b)
    union
    select component_key from gone_nodes
)

select node_key from changed_nodes
union
select p.node_key from previous p join touched_components t on p.component_key = t.component_key
{%- endmacro %}

{#- The newest loaded_at the model holds in a daily run (its inputs loaded after that are re-read), none
    when it is built whole or holds nothing yet. `columns`: the run-stamp columns to take the newest of
    (those the relation has: a state written before one existed lacks it). -#}
{% macro held_loaded_at_watermark(columns=['loaded_at']) -%}
    {%- if not (execute and is_incremental()) -%}{{ return(none) }}{%- endif -%}
    {%- set present = [] -%}
    {%- for column in columns if relation_has_column(this, column) -%}
        {%- do present.append('max(' ~ column ~ ')') -%}
    {%- endfor -%}
    {%- set row = run_query('select ' ~ present | join(', ') ~ ' from ' ~ this).rows[0] -%}
    {%- set stamps = row.values() | reject('none') | list -%}
    {{ return(stamps | max if stamps else none) }}
{%- endmacro %}

{#- pre_hook of int_identity_record_pairs: retract the live rows of the records it is about to re-read
    (a state from before retracted_at gets the column first) -#}
{% macro identity_record_pairs_retract_reloaded() -%}
    {%- set watermark = held_loaded_at_watermark(['loaded_at', 'retracted_at']) -%}
    {%- if watermark is not none -%}
    {%- if not relation_has_column(this, 'retracted_at') -%}
        {%- do alter_relation_add_remove_columns(this.incorporate(type='table'),
            [api.Column.create('retracted_at', dbt.type_timestamp())]) -%}
    {%- endif -%}
    update {{ this }}
    set retracted_at = {{ identity_run_started_at() }}
    where retracted_at is null
        and exists (
            select 1
            from {{ ref('int_identifier_observations') }} as o
            where o.loaded_at > cast('{{ watermark }}' as {{ dbt.type_timestamp() }})
                and o.source = {{ this }}.source
                and o.record_id = {{ this }}.record_id
        )
    {%- endif -%}
{%- endmacro %}

{#- pre_hook of int_identity_record_pairs: drop the rows retracted before int_identity_edge_pairs last
    recomputed pairs (its newest loaded_at): it has summed without them since. Found through the graph,
    not ref(): a ref would make the downstream model a parent. Kept while it has never been built. -#}
{% macro identity_record_pairs_purge_retracted() -%}
    {%- if not (execute and is_incremental() and relation_has_column(this, 'retracted_at')) -%}{{ return('') }}{%- endif -%}
    {%- set consumer = identity_model_relation('int_identity_edge_pairs') -%}
    {%- if consumer is not none and relation_has_column(consumer, 'loaded_at') -%}
    delete from {{ this }}
    where retracted_at <= (select max(loaded_at) from {{ consumer }})
    {%- endif -%}
{%- endmacro %}

{#- The built relation of a model of this project by name, none when it does not exist yet. -#}
{% macro identity_model_relation(model_name) -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == model_name -%}
        {{ return(adapter.get_relation(node.database, node.schema, node.alias)) }}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}
