{#- Connected components in SQL rounds, without recursive CTEs (so it runs on DuckDB and Spark alike).

    First the graph is contracted (a few passes over the edges and nodes, then the rounds run on what is
    left): each node points to its smallest neighbour when that is smaller than itself (its hook h, one
    aggregate keyed by the larger end of each edge), pointers jump once (p = h(h(v))), and the contracted
    graph links the pointers of the ends of every edge (built from the hook table, not from a pass over
    the edges: see the contract step). A node and its pointer share a component, so the contracted graph
    has the same components restricted to the pointers, and a component's smallest node is its own
    pointer and its smallest contracted node. The rounds below label the contracted graph; a node then
    takes its pointer's label. On the demo graph (4.0M edges) the contracted graph has 0.31M edges; a
    path of random ids shrinks to about a third. Any graph shrinks by at least two nodes per component (a
    component's largest node is nobody's pointer), so the rounds still do the real work on adversarial
    orders (a path in id order); they need no contraction to be correct. Measured with
    bench/bench_identity.py (CPU seconds of the dbt process minus an empty run, A/B in one session on a
    busy 2-core machine), before -> after the contraction: 1M-person demo 6.0-6.6 -> 3.2-3.4, peak
    memory 1.0 -> 0.6-0.8 GB; a 1M path of random ids 17.6 -> 5.6-7.0, 1.5 -> 0.74 GB; a 1M path in id
    order, where the contraction removes 2 nodes and is pure overhead, about 18 -> 20 (20 rounds).
    Then (CPU seconds of the statements replayed in one DuckDB process, busy machine): contracting from
    the hook table instead of relabelling every edge through two joins, 32-bit ids, and the labels read
    once by the caller instead of materialised first, about 3.1-3.4 -> 2.4-2.7 for the whole macro on
    the 1M-person demo; peak memory 0.71 -> 0.53-0.6 GB.

    Algorithm of the rounds (after FastSV, Zhang/Azad/Hu 2020): every node keeps a parent pointer f with f(v) <= v and
    f(v) in v's component. One round, with gf = f(f(v)) and mn(v) = min gf over v's neighbours:
      shortcutting        f(v)    <- min(f(v), gf(v))        (pointer jumping: path lengths halve)
      aggressive hooking  f(v)    <- min(f(v), mn(v))
      stochastic hooking  f(f(v)) <- min(f(f(v)), mn(v))     (moves whole trees, not single nodes)
    Rounds grow with log(n) (a path of a million nodes takes about 20), not with the diameter.

    Finished components leave the rounds. A node v is stable when f(v) = gf(v) = min and max gf over its
    neighbours. open = {f(v), gf(v) : v not stable}. If f(w) is not open, w's whole component C is stable
    with the one label f(w): w is stable (else f(w) would be open), so every neighbour u has gf(u) = f(w);
    u is then stable too (else gf(u) = f(w) would be open), so f(u) = gf(u) = f(w); repeat across C.
    Conversely a component with one label contributes nothing to open (labels never leave a component).
    A component with one label r is final: r is in C, so f(r) = r, and r is C's smallest node (the
    smallest node m has f(m) <= m, so f(m) = m = r); no later round can change it. So each round moves
    the nodes whose label is not open to the finished table and runs on with the rest; the edges of
    finished components drop out of the next round's join by themselves. A round that would change
    nothing leaves open empty, so the rounds stop when no node is left: that is convergence, and it
    happens in the same round the plain algorithm would observe "no pointer changed" (no change means
    gf = f everywhere and f(u) = f(v) across every edge, i.e. every node stable). The check costs about
    half a round, so a round runs it only when at least half of its nodes are stable (only stable nodes
    can finish; a round with no change has all of them stable). In the demo graph most persons finish
    in the first two rounds, so later rounds touch only the big components. Measured (CPU seconds, the
    statements replayed in one DuckDB process, before -> after this design and the temporary tables):
    1M-person demo graph, rounds 7.7 -> 2.4, whole macro 14.3 -> 7.5; a 1M path, where nothing finishes
    before the last round, 18.6 -> 22.5 (stats materialised between the two halves of each round).

    Leaves (one neighbour) of the contracted graph never enter the rounds: they take their neighbour's
    label afterwards (two leaves joined only to each other take the smaller id; a node whose neighbours
    are all leaves is its own root). The contracted graph's labels are the smallest node of each
    component, leaves included.

    Integer node ids keep the joins cheap; on DuckDB the work tables hold them in 32 bits when they fit
    (identity_cc_narrow_ids). Work tables: identity_cc_work_relations() (dispatched: DuckDB uses
    connection-local temporary tables, which skip the database file and its WAL, replaced in place;
    other engines use <model>__cc_<step> in the model's schema, dropped before each create);
    identity_cc_drop_work_tables() removes them (post-hook).
    If nodes are still open after max_rounds the run fails and publishes nothing: a partial answer would
    silently split persons.

    edges_sql: a query with bigint columns src_id, dst_id (any direction, duplicates and self-loops ok);
    it is read once (into a work table). Returns {'labels_sql': a query over the work tables with columns
    node_id, parent_id (= smallest node id of the component) and a row for every node of the graph except
    each component's smallest node (which labels itself, and is the parent_id of at least one row), to read
    before the work tables are dropped; a caller with a node list left-joins it (coalesce(parent_id,
    node_id)); 'labels_with_roots_sql': the same plus a row (m, m) for each component's smallest node m;
    'rounds': n, 'steps': {step: seconds}}. -#}
{% macro identity_connected_components(edges_sql, base_relation, max_rounds) %}
    {%- set started = modules.datetime.datetime.now() -%}
    {%- set clock = {'last': started} -%}
    {%- set steps = {} -%}
    {%- set work = identity_cc_work_relations(base_relation) -%}
    {%- do identity_cc_drop_work_tables(base_relation) -%}

    {#- The edges once as (smaller, larger), without self-loops (they carry no information); edges_sql may be
        costly (the model filters guarded identifiers), and two statements read the edges. No dedup: the
        next two don't need it. Ids narrowed to 32 bits where the engine allows it and they fit (a null
        from the cast means one did not: then again at full width): every work table is narrower. -#}
    {%- set narrow = identity_cc_narrow_ids() -%}
    {#- both ends are non-null here (a null end fails src_id <> dst_id), unless the cast failed -#}
    {%- set overflow = identity_cc_batch('identity_cc_edges',
            [(work.graph, identity_cc_edges_sql(edges_sql, 'integer' if narrow else none))],
            "select count(*) from " ~ work.graph ~ " where src_id is null or dst_id is null" if narrow else none) -%}
    {%- if overflow -%}
        {%- do identity_cc_batch('identity_cc_edges_wide', [(work.graph, identity_cc_edges_sql(edges_sql, none))]) -%}
    {%- endif -%}
    {%- do identity_cc_lap(steps, clock, 'edges') -%}

    {#- Contraction: every node with a smaller neighbour points to its smallest one, its hook (one
        aggregate keyed by the larger end of each edge, half the rows of a both-ways adjacency); nodes
        without a smaller neighbour (local minima) are absent and point to themselves. has_other: the node
        has a second distinct smaller neighbour, so some of its edges are not its hook edge. -#}
    {%- call statement('identity_cc_hook') -%}
        {{ identity_cc_create_work_table(work.hook, "
        select dst_id as node_id, min(src_id) as parent_id, max(src_id) > min(src_id) as has_other
        from " ~ work.graph ~ "
        group by dst_id") }}
    {%- endcall -%}
    {%- do identity_cc_lap(steps, clock, 'hook') -%}

    {#- One pointer jump: parent_id = the hook's hook (still <= node, still in its component); hook_id kept. -#}
    {%- call statement('identity_cc_jump') -%}
        {{ identity_cc_create_work_table(work.jump, "
        select h.node_id, h.parent_id as hook_id, coalesce(g.parent_id, h.parent_id) as parent_id
        from " ~ work.hook ~ " h
        left join " ~ work.hook ~ " g on h.parent_id = g.node_id") }}
    {%- endcall -%}
    {%- do identity_cc_lap(steps, clock, 'jump') -%}

    {#- The contracted graph, over the pointers p (p(v) = v for a local minimum). It needs, for every edge
        (a, b), a path between p(a) and p(b), and only edges inside a component; then a component's
        pointers are connected, its smallest node m (a local minimum, p(m) = m) is among them, and a node
        whose pointer is on no contracted edge is its component's only pointer, i.e. m.
        Hook edges (h(v), v), the bulk: with x = h(v) and y = h(x), p(v) = y and p(x) = h(y) when x and y
        have hooks, else p(v) = p(x). So it is enough to link every pointer y = p(v) <> h(v) that has a hook to its
        hook: the hook edge of y, read from the hook table (one semi-join, no pass over the edges).
        The other edges, (s, d) with s <> h(d): only at nodes with two distinct smaller neighbours, found
        by a join against those few hooks; each becomes (p(s), p(d)).
        Each undirected edge once as (smaller, larger). On the demo graph: 4.0M edges -> 0.31M. -#}
    {%- call statement('identity_cc_contract') -%}
        {{ identity_cc_create_work_table(work.edges, "
        with other_edges as (
            select e.src_id, e.dst_id
            from " ~ work.graph ~ " e
            join " ~ work.hook ~ " h on e.dst_id = h.node_id
            where h.has_other and e.src_id <> h.parent_id
        ),
        relabelled as (
            -- the larger end always has a smaller neighbour, hence a pointer
            select coalesce(a.parent_id, o.src_id) as src_id, b.parent_id as dst_id
            from other_edges o
            left join " ~ work.jump ~ " a on o.src_id = a.node_id
            join " ~ work.jump ~ " b on o.dst_id = b.node_id
            union all
            select h.parent_id as src_id, h.node_id as dst_id
            from " ~ work.hook ~ " h
            where h.node_id in (select j.parent_id from " ~ work.jump ~ " j where j.parent_id <> j.hook_id)
        )
        select distinct least(src_id, dst_id) as src_id, greatest(src_id, dst_id) as dst_id
        from relabelled
        where src_id <> dst_id") }}
    {%- endcall -%}
    {%- do identity_cc_lap(steps, clock, 'contract') -%}

    {%- call statement('identity_cc_degree') -%}
        {{ identity_cc_create_work_table(work.degree, "
        select node_id, count(*) as degree, min(neighbour_id) as only_neighbour_id
        from (
            select src_id as node_id, dst_id as neighbour_id from " ~ work.edges ~ "
            union all
            select dst_id as node_id, src_id as neighbour_id from " ~ work.edges ~ "
        ) both_ways
        group by node_id") }}
    {%- endcall -%}
    {%- do identity_cc_lap(steps, clock, 'degree') -%}

    {#- Edges between two non-leaves, in both directions (the rounds look at neighbours). -#}
    {%- call statement('identity_cc_core') -%}
        {{ identity_cc_create_work_table(work.core, "
        with core as (
            select e.src_id, e.dst_id
            from " ~ work.edges ~ " e
            join " ~ work.degree ~ " ds on e.src_id = ds.node_id
            join " ~ work.degree ~ " dd on e.dst_id = dd.node_id
            where ds.degree > 1 and dd.degree > 1
        )
        select src_id, dst_id from core
        union all
        select dst_id as src_id, src_id as dst_id from core") }}
    {%- endcall -%}
    {%- do identity_cc_lap(steps, clock, 'core') -%}

    {%- set open_nodes = identity_cc_batch('identity_cc_init', [(work.a, "
        select src_id as node_id, least(src_id, min(dst_id)) as parent_id
        from " ~ work.core ~ "
        group by src_id")], "select count(*) from " ~ work.a) -%}
    {%- do identity_cc_lap(steps, clock, 'init') -%}

    {#- Finished nodes accumulate by CTAS into two alternating tables, never by INSERT: in DuckDB 2.0.0 a
        large INSERT into a table that an empty CTAS created in the same transaction loses its rows. -#}
    {%- set state = {'current': work.a, 'next': work.b, 'done': none, 'next_done': work.done_a,
                     'open_nodes': open_nodes, 'rounds': 0} -%}
    {%- for round in range(1, max_rounds + 1) -%}
        {%- if state.open_nodes > 0 -%}
            {%- set finished = identity_cc_round(state.current, state.next, state.done, state.next_done,
                                                 state.open_nodes, work) -%}
            {%- set previous = state.current -%}
            {%- do state.update({'current': state.next, 'next': previous, 'rounds': round,
                                 'open_nodes': finished.open_nodes}) -%}
            {%- if finished.done is not none -%}
                {%- do state.update({'done': finished.done,
                                     'next_done': work.done_b if finished.done == work.done_a else work.done_a}) -%}
            {%- endif -%}
            {%- do identity_cc_lap(steps, clock, 'round_' ~ round) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if state.done is none -%}
        {#- no rounds: no edge between two non-leaves -#}
        {%- call statement('identity_cc_done') -%}
            {{ identity_cc_create_work_table(work.done_a, "select node_id, parent_id from " ~ work.a ~ " where 1 = 0") }}
        {%- endcall -%}
        {%- do state.update({'done': work.done_a}) -%}
    {%- endif -%}

    {%- if state.open_nodes > 0 -%}
        {%- do identity_cc_drop_work_tables(base_relation) -%}
        {{ exceptions.raise_compiler_error(
            "identity_connected_components: labels did not converge within " ~ max_rounds
            ~ " rounds (var identity_max_rounds; " ~ state.open_nodes ~ " nodes still open); nothing was published") }}
    {%- endif -%}
    {#- Everyone gets a label: core nodes from the rounds, a node whose neighbours are all leaves is
        its own root, a leaf takes its neighbour's label (two leaves joined only to each other take
        the smaller); then each component is labelled by its smallest node, which may be a leaf: the
        smallest leaf per root is one aggregate over the leaves alone (core nodes are >= their root). -#}
    {%- call statement('identity_cc_attach') -%}
        {{ identity_cc_create_work_table(work.contracted, "
        with rooted as (
            select d.node_id, coalesce(c.parent_id, d.node_id) as root_id
            from " ~ work.degree ~ " d
            left join " ~ state.done ~ " c on d.node_id = c.node_id
            where d.degree > 1
        ),
        leaves as (
            select l.node_id, coalesce(r.root_id, least(l.node_id, l.only_neighbour_id)) as root_id
            from " ~ work.degree ~ " l
            left join rooted r on l.only_neighbour_id = r.node_id
            where l.degree = 1
        ),
        smallest_leaf as (
            select root_id, min(node_id) as leaf_id from leaves group by root_id
        ),
        all_labels as (
            select node_id, root_id from rooted
            union all
            select node_id, root_id from leaves
        )
        select a.node_id, least(a.root_id, coalesce(s.leaf_id, a.root_id)) as parent_id
        from all_labels a
        left join smallest_leaf s on a.root_id = s.root_id") }}
    {%- endcall -%}
    {%- do identity_cc_lap(steps, clock, 'attach') -%}
    {%- do log("identity_connected_components: converged in " ~ state.rounds ~ " rounds, "
               ~ (modules.datetime.datetime.now() - started).total_seconds() ~ " s " ~ tojson(steps), info=true) -%}
    {{ return({'labels_sql': identity_cc_labels_sql(work, false),
               'labels_with_roots_sql': identity_cc_labels_sql(work, true),
               'rounds': state.rounds, 'steps': steps}) }}
{% endmacro %}

{#- Labels of the original nodes as a query (the caller reads them once; materialising them first cost a
    pass over every node): a node with a smaller neighbour takes the label of its pointer (which is
    contracted, or else its component's only pointer, hence its smallest node); a local minimum on the
    contracted graph keeps its contracted label. Without roots, only rows whose label is not the node
    itself. With roots, also each component's smallest node labelled by itself: those on the contracted
    graph are among its rows, the others are pointers on no contracted edge, found among the nodes whose
    pointer is their hook (every neighbour of such a root has it as hook and pointer). -#}
{% macro identity_cc_labels_sql(work, with_roots) -%}
    {%- set sql -%}
        select
            cast(node_id as {{ dbt.type_bigint() }}) as node_id,
            cast(parent_id as {{ dbt.type_bigint() }}) as parent_id
        from (
            select j.node_id, coalesce(c.parent_id, j.parent_id) as parent_id
            from {{ work.jump }} j
            left join {{ work.contracted }} c on j.parent_id = c.node_id
            union all
            select c.node_id, c.parent_id
            from {{ work.contracted }} c
            where {% if not with_roots %}c.parent_id <> c.node_id and {% endif %}not exists (
                select 1 from {{ work.jump }} j where j.node_id = c.node_id
            )
            {%- if with_roots %}
            union all
            select distinct j.parent_id as node_id, j.parent_id
            from {{ work.jump }} j
            where j.parent_id = j.hook_id
                and not exists (select 1 from {{ work.contracted }} c where c.node_id = j.parent_id)
            {%- endif %}
        ) labels
    {%- endset -%}
    {{ return(sql) }}
{%- endmacro %}

{#- The edges as (smaller, larger) without self-loops; ids cast to id_type (none: as they come). -#}
{% macro identity_cc_edges_sql(edges_sql, id_type) -%}
    {%- set ends = {'src_id': 'least(src_id, dst_id)', 'dst_id': 'greatest(src_id, dst_id)'} -%}
    select
    {%- for name, expr in ends.items() %}
        {{ adapter.dispatch('identity_cc_try_cast', 'omni_warehouse')(expr, id_type) if id_type else expr }}
            as {{ name }}
        {{- ',' if not loop.last }}
    {%- endfor %}
    from ({{ edges_sql }}) e
    where src_id <> dst_id
{%- endmacro %}

{#- Whether node ids go to 32 bits when they fit: on DuckDB every join and aggregate then moves half the
    bytes (it narrows inside operators anyway, but the work tables stay 64 bits wide without this). -#}
{% macro identity_cc_narrow_ids() -%}
    {{ return(adapter.dispatch('identity_cc_narrow_ids', 'omni_warehouse')()) }}
{%- endmacro %}

{% macro default__identity_cc_narrow_ids() -%}
    {{ return(false) }}
{%- endmacro %}

{% macro duckdb__identity_cc_narrow_ids() -%}
    {{ return(true) }}
{%- endmacro %}

{#- null when the value does not fit -#}
{% macro default__identity_cc_try_cast(expr, id_type) -%}
    try_cast({{ expr }} as {{ id_type }})
{%- endmacro %}

{#- One round from the pointers in `current` (open_nodes nodes, none finished yet) into `next`.
    Finished components are set aside only when at least half of the nodes are stable (only stable nodes
    can finish; the check costs about half a round): then next_done = done (none before the first time)
    + the nodes that finished now, and next holds the others. Otherwise the round is the plain one.
    Either way the pointers of unfinished components evolve exactly as without the check, and a round in
    which nothing would change has every node stable, so it always checks and finds every node finished.
    Returns {'open_nodes': nodes in next, 'done': next_done if it was written, else none}. -#}
{% macro identity_cc_round(current, next, done, next_done, open_nodes, work) %}
    {%- set stats_sql -%}
        with gf as (
            select f.node_id, f.parent_id, p.parent_id as grand_id
            from {{ current }} f
            join {{ current }} p on f.parent_id = p.node_id
        ),
        nb as (
            select e.src_id as node_id, min(g.grand_id) as min_grand_id, max(g.grand_id) as max_grand_id
            from {{ work.core }} e
            join gf g on e.dst_id = g.node_id
            group by e.src_id
        )
        select
            g.node_id, g.parent_id, g.grand_id, n.min_grand_id,
            g.parent_id = g.grand_id and n.min_grand_id = g.grand_id and n.max_grand_id = g.grand_id as is_stable
        from gf g
        join nb n on g.node_id = n.node_id
    {%- endset -%}
    {%- set stable = identity_cc_batch('identity_cc_stats', [(work.stats, stats_sql)],
                                       "select count(*) from " ~ work.stats ~ " where is_stable") -%}
    {%- set check = stable * 2 >= open_nodes -%}
    {%- set creates = [] -%}
    {%- if check -%}
        {%- do creates.append((work.open, "
            select parent_id as label_id from " ~ work.stats ~ " where not is_stable
            union
            select grand_id as label_id from " ~ work.stats ~ " where not is_stable")) -%}
        {%- do creates.append((next_done, (
                "select node_id, parent_id from " ~ done ~ " union all " if done is not none else "") ~ "
            select s.node_id, s.parent_id
            from " ~ work.stats ~ " s
            where not exists (select 1 from " ~ work.open ~ " o where o.label_id = s.parent_id)")) -%}
    {%- endif -%}
    {%- do creates.append((next, "
        with live as (
            select s.node_id, s.parent_id, s.grand_id, s.min_grand_id
            from " ~ work.stats ~ " s"
            ~ ("
            where exists (select 1 from " ~ work.open ~ " o where o.label_id = s.parent_id)" if check else "") ~ "
        ),
        candidates as (
            -- gf <= f, so this also keeps the current pointer
            select node_id, grand_id as label_id from live
            union all
            select node_id, min_grand_id as label_id from live
            union all
            select parent_id as node_id, min_grand_id as label_id from live
        )
        select node_id, min(label_id) as parent_id
        from candidates
        group by node_id")) -%}
    {%- set remaining = identity_cc_batch('identity_cc_next', creates,
                                          "select count(*) from " ~ next if check else none) -%}
    {{ return({'open_nodes': remaining if check else open_nodes,
               'done': next_done if check else none}) }}
{% endmacro %}

{#- Creates the work tables of `creates` ([(relation, sql)], in order), then returns the count that
    count_sql selects (none: no query). Dispatched: DuckDB sends them as one script (one round trip
    instead of one per statement: dbt costs some milliseconds per statement, and a path of a million
    nodes runs 19 rounds); other engines one statement at a time, each table dropped first. -#}
{% macro identity_cc_batch(name, creates, count_sql=none) -%}
    {{ return(adapter.dispatch('identity_cc_batch', 'omni_warehouse')(name, creates, count_sql)) }}
{%- endmacro %}

{% macro default__identity_cc_batch(name, creates, count_sql) -%}
    {%- for relation, sql in creates -%}
        {%- do identity_cc_clear(relation) -%}
        {%- call statement(name) -%}
            {{ identity_cc_create_work_table(relation, sql) }}
        {%- endcall -%}
    {%- endfor -%}
    {%- if count_sql is not none -%}
        {{ return(run_query(count_sql).columns[0].values()[0] | int) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{% macro duckdb__identity_cc_batch(name, creates, count_sql) -%}
    {%- set script -%}
        {%- for relation, sql in creates %}
        {{ identity_cc_create_work_table(relation, sql) }};
        {%- endfor %}
        {{ count_sql if count_sql is not none }}
    {%- endset -%}
    {%- if count_sql is not none -%}
        {#- the script's result is that of its last statement -#}
        {{ return(run_query(script).columns[0].values()[0] | int) }}
    {%- endif -%}
    {%- call statement(name) -%}
        {{ script }}
    {%- endcall -%}
    {{ return(none) }}
{%- endmacro %}

{#- Adds the seconds since clock.last to steps[name]. -#}
{% macro identity_cc_lap(steps, clock, name) -%}
    {%- set now = modules.datetime.datetime.now() -%}
    {%- do steps.update({name: ((steps.get(name, 0) + (now - clock.last).total_seconds()) * 1000) | round | int / 1000}) -%}
    {%- do clock.update({'last': now}) -%}
{%- endmacro %}

{% macro identity_cc_work_relations(base_relation) -%}
    {%- set names = {} -%}
    {%- for suffix in ['graph', 'hook', 'jump', 'edges', 'degree', 'core', 'a', 'b', 'stats', 'open', 'done_a', 'done_b', 'contracted'] -%}
        {%- do names.update({suffix: adapter.dispatch('identity_cc_work_relation', 'omni_warehouse')(
                base_relation, base_relation.identifier ~ '__cc_' ~ suffix)}) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{% macro default__identity_cc_work_relation(base_relation, identifier) -%}
    {{ return(api.Relation.create(database=base_relation.database, schema=base_relation.schema,
                                  identifier=identifier, type='table')) }}
{%- endmacro %}

{#- DuckDB: temporary tables live in the connection (in memory, spilling if needed), not in the
    database file; the model's statements and its post-hook run on one connection. -#}
{% macro duckdb__identity_cc_work_relation(base_relation, identifier) -%}
    {{ return(api.Relation.create(database='temp', schema='main', identifier=identifier, type='table')) }}
{%- endmacro %}

{% macro identity_cc_create_work_table(relation, sql) -%}
    {{ return(adapter.dispatch('identity_cc_create_work_table', 'omni_warehouse')(relation, sql)) }}
{%- endmacro %}

{% macro default__identity_cc_create_work_table(relation, sql) -%}
    {{ identity_create_table_as(relation, sql) }}
{%- endmacro %}

{#- DuckDB replaces a work table in the same statement, so a round needs no drop statements (each
    statement costs dbt some milliseconds, and a path of a million nodes runs 19 rounds). -#}
{% macro duckdb__identity_cc_create_work_table(relation, sql) -%}
    create or replace temp table {{ relation }} as {{ sql }}
{%- endmacro %}

{#- Makes room for a work table that is about to be created again. -#}
{% macro identity_cc_clear(relation) -%}
    {{ return(adapter.dispatch('identity_cc_clear', 'omni_warehouse')(relation)) }}
{%- endmacro %}

{% macro default__identity_cc_clear(relation) -%}
    {%- do adapter.drop_relation(relation) -%}
{%- endmacro %}

{% macro duckdb__identity_cc_clear(relation) -%}
{%- endmacro %}

{% macro identity_cc_drop_work_tables(base_relation) -%}
    {%- if execute -%}
        {%- do adapter.dispatch('identity_cc_drop_work_tables', 'omni_warehouse')(
                identity_cc_work_relations(base_relation).values() | list) -%}
    {%- endif -%}
{%- endmacro %}

{% macro default__identity_cc_drop_work_tables(relations) -%}
    {%- for rel in relations -%}
        {%- do adapter.drop_relation(rel) -%}
    {%- endfor -%}
{%- endmacro %}

{#- DuckDB: all temporary work tables in one statement (they are not in dbt's relation cache). -#}
{% macro duckdb__identity_cc_drop_work_tables(relations) -%}
    {%- call statement('identity_cc_drop_work_tables') -%}
        {%- for rel in relations %}
        drop table if exists {{ rel }};
        {%- endfor %}
    {%- endcall -%}
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
    <schema>.<output>; prints rounds, seconds (edges table to published labels) and seconds per step. -#}
{% macro identity_components_operation(edges_table, output, schema='main') %}
    {%- set base = api.Relation.create(database=target.get('database'), schema=schema, identifier=output,
                                       type='table') -%}
    {%- set started = modules.datetime.datetime.now() -%}
    {%- set result = identity_connected_components("select src_id, dst_id from " ~ edges_table, base,
                                                   identity_setting('identity_max_rounds') | int) -%}
    {%- set clock = {'last': modules.datetime.datetime.now()} -%}
    {%- do adapter.drop_relation(base) -%}
    {%- call statement('identity_cc_publish') -%}
        {{ identity_create_table_as(base, "
        select node_id, parent_id as component_node_id from (" ~ result.labels_with_roots_sql ~ ") labels") }}
    {%- endcall -%}
    {%- do identity_cc_drop_work_tables(base) -%}
    {#- run-operation does not commit on its own -#}
    {%- do adapter.commit() -%}
    {%- do identity_cc_lap(result.steps, clock, 'publish') -%}
    {%- do print("IDENTITY_CC rounds=" ~ result.rounds ~ " seconds="
                 ~ (modules.datetime.datetime.now() - started).total_seconds() ~ " steps=" ~ tojson(result.steps)) -%}
{% endmacro %}
