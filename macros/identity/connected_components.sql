{#- Connected components in SQL rounds, without recursive CTEs (so it runs on DuckDB and Spark alike).

    Algorithm (after FastSV, Zhang/Azad/Hu 2020): every node keeps a parent pointer f with f(v) <= v.
    One round, with gf = f(f(v)) and mn(v) = min gf over v's neighbours:
      shortcutting        f(v)    <- min(f(v), gf(v))        (pointer jumping: path lengths halve)
      aggressive hooking  f(v)    <- min(f(v), mn(v))
      stochastic hooking  f(f(v)) <- min(f(f(v)), mn(v))     (moves whole trees, not single nodes)
    Pointers only decrease, so a round changed nothing exactly when sum(f) did not change; then every
    f(v) = f(f(v)) (stars) and f(u) = f(v) across every edge, i.e. f is the component's minimum node.
    Rounds grow with log(n) (a path of a million nodes took 20), not with the diameter. Leaves are
    set aside before the rounds and take their neighbour's label after them.

    Integer node ids keep the joins cheap. Work tables are named <model>__cc_<step> in the model's
    schema; identity_cc_drop_work_tables() removes them (post-hook). If the labels have
    not converged after max_rounds the run fails: a partial answer would silently split persons.

    edges_sql: a query with bigint columns src_id, dst_id (any direction, duplicates and self-loops ok).
    Returns {'relation': labels relation (node_id, parent_id = smallest node id of the component),
    'rounds': n}. -#}
{% macro identity_connected_components(edges_sql, base_relation, max_rounds) %}
    {%- set started = modules.datetime.datetime.now() -%}
    {%- set work = identity_cc_work_relations(base_relation) -%}
    {%- do identity_cc_drop_work_tables(base_relation) -%}

    {#- Both directions once each; self-loops carry no information. -#}
    {%- call statement('identity_cc_edges') -%}
        {{ identity_create_table_as(work.edges, "
        select distinct src_id, dst_id from (
            select src_id, dst_id from (" ~ edges_sql ~ ") e1
            union all
            select dst_id as src_id, src_id as dst_id from (" ~ edges_sql ~ ") e2
        ) both_ways
        where src_id <> dst_id") }}
    {%- endcall -%}

    {#- Leaves (one neighbour) do not need the rounds: they take their neighbour's label afterwards.
        Dropping them first shrinks the graph the rounds work on (about half of a typical identity
        graph: most identifiers hang off one e-mail or id). -#}
    {%- call statement('identity_cc_degree') -%}
        {{ identity_create_table_as(work.degree, "
        select src_id as node_id, count(*) as degree, min(dst_id) as only_neighbour_id
        from " ~ work.edges ~ "
        group by src_id") }}
    {%- endcall -%}

    {%- call statement('identity_cc_core') -%}
        {{ identity_create_table_as(work.core, "
        select e.src_id, e.dst_id
        from " ~ work.edges ~ " e
        join " ~ work.degree ~ " ds on e.src_id = ds.node_id
        join " ~ work.degree ~ " dd on e.dst_id = dd.node_id
        where ds.degree > 1 and dd.degree > 1") }}
    {%- endcall -%}

    {%- call statement('identity_cc_init') -%}
        {{ identity_create_table_as(work.a, "
        select src_id as node_id, least(src_id, min(dst_id)) as parent_id
        from " ~ work.core ~ "
        group by src_id") }}
    {%- endcall -%}

    {%- set state = {'current': work.a, 'next': work.b, 'sum': identity_cc_parent_sum(work.a), 'rounds': 0,
                     'converged': false} -%}
    {%- for round in range(1, max_rounds + 1) -%}
        {%- if not state.converged -%}
            {%- do adapter.drop_relation(state.next) -%}
            {%- call statement('identity_cc_round') -%}
                {{ identity_create_table_as(state.next, identity_cc_round_sql(state.current, work.core)) }}
            {%- endcall -%}
            {%- set new_sum = identity_cc_parent_sum(state.next) -%}
            {%- set previous = state.current -%}
            {%- do state.update({'current': state.next, 'next': previous, 'rounds': round,
                                 'converged': new_sum == state.sum, 'sum': new_sum}) -%}
        {%- endif -%}
    {%- endfor -%}

    {%- if not state.converged -%}
        {%- do identity_cc_drop_work_tables(base_relation) -%}
        {{ exceptions.raise_compiler_error(
            "identity_connected_components: labels did not converge within " ~ max_rounds
            ~ " rounds (var identity_max_rounds); nothing was published") }}
    {%- endif -%}
    {#- Everyone gets a label: core nodes from the rounds, a node whose neighbours are all leaves is
        its own root, a leaf takes its neighbour's label (two leaves joined only to each other take
        the smaller); then each component is labelled by its smallest node. -#}
    {%- call statement('identity_cc_attach') -%}
        {{ identity_create_table_as(work.labels, "
        with rooted as (
            select d.node_id, coalesce(c.parent_id, d.node_id) as root_id
            from " ~ work.degree ~ " d
            left join " ~ state.current ~ " c on d.node_id = c.node_id
            where d.degree > 1
        ),
        all_labels as (
            select node_id, root_id from rooted
            union all
            select l.node_id, coalesce(r.root_id, least(l.node_id, l.only_neighbour_id)) as root_id
            from " ~ work.degree ~ " l
            left join rooted r on l.only_neighbour_id = r.node_id
            where l.degree = 1
        )
        select node_id, min(node_id) over (partition by root_id) as parent_id
        from all_labels") }}
    {%- endcall -%}
    {%- do log("identity_connected_components: converged in " ~ state.rounds ~ " rounds, "
               ~ (modules.datetime.datetime.now() - started).total_seconds() ~ " s", info=true) -%}
    {{ return({'relation': work.labels, 'rounds': state.rounds}) }}
{% endmacro %}

{% macro identity_cc_round_sql(current, edges) -%}
with gf as (
    select f.node_id, f.parent_id, p.parent_id as grand_id
    from {{ current }} f
    join {{ current }} p on f.parent_id = p.node_id
),
mn as (
    select e.src_id as node_id, min(g.grand_id) as min_grand_id
    from {{ edges }} e
    join gf g on e.dst_id = g.node_id
    group by e.src_id
),
candidates as (
    -- gf <= f, so this also keeps the current pointer
    select node_id, grand_id as label_id from gf
    union all
    select node_id, min_grand_id from mn
    union all
    select g.parent_id, m.min_grand_id from gf g join mn m on g.node_id = m.node_id
)
select node_id, min(label_id) as parent_id
from candidates
group by node_id
{%- endmacro %}

{% macro identity_cc_parent_sum(relation) -%}
    {%- set result = run_query("select count(*), coalesce(sum(parent_id), 0) from " ~ relation) -%}
    {{ return((result.columns[0].values()[0] | int) ~ ':' ~ (result.columns[1].values()[0] | int)) }}
{%- endmacro %}

{% macro identity_cc_work_relations(base_relation) -%}
    {%- set names = {} -%}
    {%- for suffix in ['edges', 'degree', 'core', 'a', 'b', 'labels'] -%}
        {%- do names.update({suffix: api.Relation.create(database=base_relation.database,
                schema=base_relation.schema, identifier=base_relation.identifier ~ '__cc_' ~ suffix,
                type='table')}) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{% macro identity_cc_drop_work_tables(base_relation) -%}
    {%- if execute -%}
        {%- for rel in identity_cc_work_relations(base_relation).values() -%}
            {%- do adapter.drop_relation(rel) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- Plain CTAS for work tables (dbt's create_table_as would apply the calling model's contract). -#}
{% macro identity_create_table_as(relation, sql) -%}
    {{ return(adapter.dispatch('identity_create_table_as', 'omni_warehouse')(relation, sql)) }}
{%- endmacro %}

{% macro default__identity_create_table_as(relation, sql) -%}
    create table {{ relation }} as {{ sql }}
{%- endmacro %}

{% macro spark__identity_create_table_as(relation, sql) -%}
    create table {{ relation }} using {{ var('identity_spark_file_format', 'delta') }} as {{ sql }}
{%- endmacro %}

{#- dbt run-operation entry point for benchmarks: components of a table of (src_id, dst_id) into
    <schema>.<output>; prints rounds and seconds. -#}
{% macro identity_components_operation(edges_table, output, schema='main') %}
    {%- set base = api.Relation.create(database=target.database, schema=schema, identifier=output,
                                       type='table') -%}
    {%- set started = modules.datetime.datetime.now() -%}
    {%- set result = identity_connected_components("select src_id, dst_id from " ~ edges_table, base,
                                                   identity_setting('identity_max_rounds') | int) -%}
    {%- do adapter.drop_relation(base) -%}
    {%- call statement('identity_cc_publish') -%}
        {{ identity_create_table_as(base, "select node_id, parent_id as component_node_id from " ~ result.relation) }}
    {%- endcall -%}
    {%- do identity_cc_drop_work_tables(base) -%}
    {#- run-operation does not commit on its own -#}
    {%- do adapter.commit() -%}
    {%- do print("IDENTITY_CC rounds=" ~ result.rounds ~ " seconds="
                 ~ (modules.datetime.datetime.now() - started).total_seconds()) -%}
{% endmacro %}
