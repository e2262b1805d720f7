{#- Daily incremental runs. The partition window is min_date / max_date (first and last landing day, ISO
    dates): vars (`dbt build --vars '{min_date: ..., max_date: ...}'` by hand), else the environment
    variables OMNI_MIN_DATE / OMNI_MAX_DATE, which is how Dagster passes it: a change of CLI vars makes
    dbt re-parse the whole project, a changed env var only the files that read it (the incremental
    models). Incremental models then reprocess what changed since the window's start minus var
    lookback_days (GA4 rewrites a day's export up to 3 days later). Without a window (a plain
    `dbt build`) every incremental model rebuilds from scratch, except the two that hold the history
    of runs (meta keep_history: identity_quality, identity_merges); with --full-refresh every one does
    (macros/should_full_refresh.sql). -#}

{#- The window's first landing day (ISO string), or none without a window. -#}
{% macro incremental_min_date() -%}
    {%- set value = var('min_date', none) -%}
    {%- if value is none -%}
        {%- set value = env_var('OMNI_MIN_DATE', '') | trim or none -%}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{% macro incremental_window_active() -%}
    {#- `this` before is_incremental(): unit tests have no `this`, and is_incremental() needs it. The
        window's variable is read last, at run time only: reading it while dbt parses the model would
        make dbt re-parse the model whenever the window moves (every daily run). -#}
    {{ return(execute and this is not none and is_incremental() and incremental_min_date() is not none) }}
{%- endmacro %}

{#- First timestamp reprocessed: min_date minus lookback_days, as a SQL timestamp literal. -#}
{% macro incremental_window_start() -%}
    {%- set start = modules.datetime.date.fromisoformat(incremental_min_date() | string)
        - modules.datetime.timedelta(days=var('lookback_days', 3) | int) -%}
    cast('{{ start.isoformat() }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- Whether a relation already has a column (a previous state written before the column existed). -#}
{% macro relation_has_column(relation, column_name) -%}
    {%- if relation is none or not execute -%}{{ return(false) }}{%- endif -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- if column.name | lower == column_name | lower -%}{{ return(true) }}{%- endif -%}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}



{#- Data tests of incremental models that stamp every row with loaded_at (the run that wrote it) can be
    limited to the rows the latest run wrote: `config: {where: "__loaded_in_latest_run__"}` becomes
    `loaded_at = (select max(loaded_at) from <model>)`. After a full refresh every row carries that
    run's loaded_at, so everything is tested; after a daily run only the records it (re)loaded. Row
    checks (not_null, accepted_values) of older rows held when those rows were written, and uniqueness
    holds as long as the unique key of the test contains the model's delete+insert key (a key the run
    wrote has no older row left). Overrides dbt's get_where_subquery; any other where passes through. -#}
{#- Env var OMNI_FULL_DATA_TESTS=1 (set by the Dagster dbt asset after a build that failed or never
    finished, whose rows were not all checked) makes the narrowed tests check every row: here and
    journeys_unique_combination's latest_run_keys. Read at run time only, like the window. -#}
{% macro full_data_tests() -%}
    {{ return(execute and env_var('OMNI_FULL_DATA_TESTS', '') | lower in ('1', 'true')) }}
{%- endmacro %}

{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- set where = where | replace('__loaded_in_latest_run__',
            'true' if full_data_tests() else 'loaded_at = (select max(loaded_at) from ' ~ relation ~ ')') -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}

{#- Incremental staging tables (one row per natural key, the latest_first version: latest landing day,
    then latest ingestion). A daily run reads only the lake rows ingested after the newest version the
    table holds (a literal, so Parquet readers skip row groups by their statistics), ranks them, and
    replaces a held version unless the held one ranks first: every row read was ingested after every
    held version, so this is the version a rebuild over all files keeps. `column`: the ingestion time
    read (a lake's _ingested_at, or ingested_at of a staging table the model derives from). -#}
{% macro staging_new_lake_rows_filter(column='_ingested_at') -%}
    {%- if not (execute and incremental_window_active()) -%}{{ return('') }}{%- endif -%}
    {%- set watermark = run_query('select cast(max(ingested_at) as ' ~ dbt.type_string() ~ ') from ' ~ this)
        .columns[0].values()[0] -%}
    {%- if watermark is none -%}{{ return('') }}{%- endif -%}
    {{ return("where " ~ column ~ " > cast('" ~ watermark ~ "' as " ~ lake_ingested_at_type() ~ ")") }}
{%- endmacro %}

{#- `where` of the final select of such a model: a held version that ranks before the new one stays.
    `order_columns`: the model's latest_first order before the ingestion time, all descending with
    nulls last (the landing day; Zendesk and Delighted rank by updated_at first: such a model passes its
    order to staging_vanished too, which then ranks a record held from a replaced file again against its
    other live versions). A tie goes to the new row, ingested later. `held_where`: which held rows may
    rank first (staging_held_rows_of_live_files). -#}
{% macro staging_keep_later_held_versions(relation, key, order_columns=['landing_date'], held_where=none) -%}
    {%- if not incremental_window_active() -%}{{ return('') }}{%- endif -%}
    {%- set ranks_first = [] -%}
    {%- for column in order_columns -%}
        {%- set condition = [] -%}
        {%- for earlier in order_columns[:loop.index0] -%}
            {%- do condition.append('held.' ~ earlier ~ ' is not distinct from ' ~ relation ~ '.' ~ earlier) -%}
        {%- endfor -%}
        {%- do condition.append('held.' ~ column ~ ' is not null and (' ~ relation ~ '.' ~ column
            ~ ' is null or held.' ~ column ~ ' > ' ~ relation ~ '.' ~ column ~ ')') -%}
        {%- do ranks_first.append('(' ~ condition | join(' and ') ~ ')') -%}
    {%- endfor -%}
    {%- set filter -%}
where not exists (
    select 1 from {{ this }} held
    where held.{{ key }} = {{ relation }}.{{ key }}
        and ({{ ranks_first | join(' or ') }})
        {%- if held_where %}
        and {{ held_where }}
        {%- endif %}
)
    {%- endset -%}
    {{ return(filter) }}
{%- endmacro %}

{#- Staging tables with several versions per record (a loyalty member's or a CRM customer's changes)
    whose rows depend on each other (is_current): a daily run rewrites every version of each record it
    read a new version of (delete+insert on `record_key`). The versions held of those records, except
    those replaced by a new one, as a `union all` branch to `new_relation` (whose columns are the
    table's, in order, without `except_columns`). Empty outside a daily run. `vanished`: a
    staging_vanished spec (macros/staging/vanished_records.sql); the records with a version that
    vanished from a re-delivered export in this run are rewritten too, without those versions. -#}
{% macro staging_held_versions_of_new_records(new_relation, record_key, version_key, except_columns=[], vanished=none) -%}
    {%- if not (execute and incremental_window_active()) -%}{{ return('') }}{%- endif -%}
    {%- set columns = [] -%}
    {%- for column in adapter.get_columns_in_relation(this) if column.name | lower not in except_columns -%}
        {%- do columns.append('held.' ~ adapter.quote(column.name)) -%}
    {%- endfor -%}
    {%- set branch -%}
union all
select {{ columns | join(', ') }}
from {{ this }} held
where (held.{{ record_key }} in (select {{ record_key }} from {{ new_relation }})
        {%- if vanished and vanished.any %}
        or held.{{ record_key }} in ({{ staging_logged_this_run(vanished.source_name, 'record_id') }})
        {%- endif %})
    and held.{{ version_key }} not in (select {{ version_key }} from {{ new_relation }})
    {%- if vanished and vanished.any %}
    and not ({{ staging_logged_row(vanished.source_name, version_key, 'held.') }})
    {%- endif %}
    {%- endset -%}
    {{ return(branch) }}
{%- endmacro %}

{#- source -> newest ingested_at the incremental relation holds (sources whose rows carry none are
    absent): a daily run reads each source's rows ingested after it. Empty outside a daily run. -#}
{% macro held_ingestion_watermarks(relation, window) -%}
    {%- set watermarks = {} -%}
    {%- if window and execute -%}
        {%- set rows = run_query('select source, max(ingested_at) from ' ~ relation ~ ' group by source') -%}
        {%- for row in rows -%}
            {%- if row[1] is not none -%}{%- do watermarks.update({row[0]: row[1]}) -%}{%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(watermarks) }}
{%- endmacro %}

{#- The ingestion ledger (models/marts/quality/ingestion_ledger.sql) is append-only: one one-row Parquet
    file per ingestion attempt, named <file_sha256>-<time_ns>.parquet (orchestration/ingestion/ledger.py)
    and filed under the landing day, so a late re-delivery lands in an old folder. A daily run reads only
    the files not held yet: those of every file_sha256 with more ledger files than the table holds rows
    (files are only ever added, one row each, so equal counts mean all of that hash's files are held).
    Exact, without clocks; a hash's files are few (the same bytes delivered again). Without a window the
    source is read whole. -#}
{% macro ledger_rows_not_loaded(source_relation) -%}
    {{ return(adapter.dispatch('ledger_rows_not_loaded', 'omni_warehouse')(source_relation)) }}
{%- endmacro %}

{#- Engines without a file listing in SQL: the whole source (delete+insert rewrites held rows as they were). -#}
{% macro default__ledger_rows_not_loaded(source_relation) -%}
    select * from {{ source_relation }}
{%- endmacro %}

{#- DuckDB: list the files and read only the new ones (union_by_name reads the schema of every file it
    is given, which is most of the cost of reading thousands of one-row files), plus the schema stubs so
    the columns and their types are those of the whole source. -#}
{% macro duckdb__ledger_rows_not_loaded(source_relation) -%}
    {%- set whole = 'select * from ' ~ source_relation -%}
    {%- set found = modules.re.search("read_parquet\\('([^']+)'", source_relation | string) -%}
    {%- if not (execute and incremental_window_active() and found) -%}{{ return(whole) }}{%- endif -%}
    {%- set query -%}
        with listed as (
            select file, regexp_extract(file, '([^/]+)-[0-9]+\.parquet$', 1) as file_sha256
            from glob('{{ found.group(1) }}')
        ),
        listed_per_hash as (
            select file_sha256, count(*) as files from listed where file_sha256 <> '' group by file_sha256
        ),
        held_per_hash as (
            select file_sha256, count(*) as held_rows from {{ this }} group by file_sha256
        )
        select l.file
        from listed l
        left join listed_per_hash c on l.file_sha256 = c.file_sha256
        left join held_per_hash h on l.file_sha256 = h.file_sha256
        where l.file like '%/{{ lake_schema_stub_name() }}' or coalesce(h.held_rows, 0) < c.files
        order by l.file
    {%- endset -%}
    {%- set quoted = [] -%}
    {%- for file in run_query(query).columns[0].values() -%}{%- do quoted.append("'" ~ file ~ "'") -%}{%- endfor -%}
    {%- if quoted | length == 0 -%}{{ return(whole) }}{%- endif -%}
    {{ return('select * from read_parquet([' ~ quoted | join(', ') ~ '], union_by_name=true, hive_partitioning=true)') }}
{%- endmacro %}

{#- orchestration/lake_layout.py STUB_NAME: the zero-row file that carries every column of a lake folder. -#}
{% macro lake_schema_stub_name() -%}
    {{ return('schema_stub.parquet') }}
{%- endmacro %}

{#- A ref as the plain relation, for hooks that write or delete: under `dbt run --empty` a ref renders
    as an empty subquery, which cannot be written and makes every held row look gone from it. -#}
{% macro plain_relation(relation) -%}
    {{ return(api.Relation.create(database=relation.database, schema=relation.schema, identifier=relation.identifier)) }}
{%- endmacro %}

{#- Consumers of an incremental model that read only the rows it wrote since they last consumed it
    (its loaded_at: int_activities_unioned, int_activities_sessionized): their record in
    int_incremental_watermarks as {watermark, previous_watermark, run_started_at,
    previous_run_started_at, in_this_run, input_fingerprint}, the first four SQL timestamp literals (the
    previous ones may be none), in_this_run whether this dbt invocation wrote the record; none without a
    record (never consumed with one, or the relation was rebuilt) and outside a daily run. -#}
{% macro consumed_watermark(consumer, window) -%}
    {%- if not (window and execute) -%}{{ return(none) }}{%- endif -%}
    {%- set string = dbt.type_string() -%}
    {%- set held = ref('int_incremental_watermarks') -%}
    {%- set has_previous_run = relation_has_column(held, 'previous_run_started_at') -%}
    {%- set rows = run_query(
        'select cast(watermark as ' ~ string ~ '), cast(previous_watermark as ' ~ string ~ '), '
        ~ 'case when run_started_at = ' ~ identity_run_started_at() ~ " then 'y' else 'n' end, "
        ~ 'input_fingerprint, cast(run_started_at as ' ~ string ~ '), '
        ~ ('cast(previous_run_started_at as ' ~ string ~ ')' if has_previous_run else 'null')
        ~ ' from ' ~ held
        ~ " where consumer = '" ~ consumer ~ "' order by run_started_at desc limit 1") -%}
    {%- if rows | length == 0 or rows[0][0] is none -%}{{ return(none) }}{%- endif -%}
    {%- set literal = {'in_this_run': rows[0][2] == 'y', 'input_fingerprint': rows[0][3]} -%}
    {%- for key, value in [('watermark', rows[0][0]), ('previous_watermark', rows[0][1]),
                           ('run_started_at', rows[0][4]), ('previous_run_started_at', rows[0][5])] -%}
        {%- do literal.update({key: none if value is none
            else "cast('" ~ value ~ "' as " ~ dbt.type_timestamp() ~ ")"}) -%}
    {%- endfor -%}
    {{ return(literal) }}
{%- endmacro %}

{#- post_hook of such a consumer (`post_hook=["{{ record_consumed_watermark('c', 'insert') }}",
    "{{ record_consumed_watermark('c', 'delete') }}"]`: hooks run in the consumer's transaction, after its
    rows are written): its record becomes the newest loaded_at of its input `upstream` (default
    int_activities_unioned), which it has consumed whole by now, and the record it replaces becomes
    previous_watermark (downstream consumers check they read what it read). Two statements, one per
    hook: not every engine runs a batch. -#}
{% macro record_consumed_watermark(consumer, step, upstream=none, fingerprint=none) -%}
    {%- set watermarks = plain_relation(ref('int_incremental_watermarks')) -%}
    {%- set upstream = upstream if upstream is not none else ref('int_activities_unioned') -%}
    {%- if step == 'insert' -%}
    insert into {{ watermarks }}
        (consumer, watermark, previous_watermark, run_started_at, input_fingerprint, previous_run_started_at)
    select
        '{{ consumer }}',
        (select max(loaded_at) from {{ upstream }}),
        {%- if is_incremental() %}
        (select max(watermark) from {{ watermarks }} where consumer = '{{ consumer }}'),
        {%- else %}
        {#- a rebuild may drop rows (gone from its input): downstream consumers compare everything once #}
        cast(null as {{ dbt.type_timestamp() }}),
        {%- endif %}
        {{ identity_run_started_at() }},
        {{ "'" ~ (fingerprint | replace("'", "''")) ~ "'" if fingerprint is not none
            else 'cast(null as ' ~ dbt.type_string() ~ ')' }},
        {%- if is_incremental() %}
        (select max(run_started_at) from {{ watermarks }} where consumer = '{{ consumer }}')
        {%- else %}
        cast(null as {{ dbt.type_timestamp() }})
        {%- endif %}
    {%- else -%}
    delete from {{ watermarks }}
    where consumer = '{{ consumer }}' and run_started_at <> {{ identity_run_started_at() }}
    {%- endif -%}
{%- endmacro %}

{#- The columns of int_activities_unioned that make an activity new or changed: what it writes again
    for a small source, and what journeys.activities compares without a watermark. -#}
{% macro activity_content_columns() -%}
    {{ return(['source', 'record_id', 'occurred_at', 'activity', 'channel', 'device_id', 'session_id',
        'revenue', 'currency', 'product_id', 'product_category', 'properties']) }}
{%- endmacro %}

{#- journeys.activities re-stitches, besides what int_activities_unioned wrote, every activity that
    occurred since the window start, whose record's identifiers int_identifier_observations (re)loaded,
    or whose record or device carries an identifier whose person, known flag or exclusion changed, after
    `changed_since` (int_identity_person_ids.attribution_changed_at; the start of its own previous run)
    or, without one, in this run (attribution_changed).
    int_activities_sessionized re-checks the same activities. The CTEs (changed_nodes, reattributed,
    changed_devices), the joins of an activity `alias` to them and the condition on that activity.
    The few changed nodes are split into type and value, so the many observations and activities join
    them on their own columns (building a node key per observation cost seconds a day). -#}
{% macro restitched_activities_ctes(changed_since=none) -%}
changed_nodes as (
    select
        identifier_type,
        -- node_key is identity_node_key(type, value): type, ':', value
        substr(node_key, {{ dbt.length('identifier_type') }} + 2) as identifier_value
    from {{ ref('int_identity_person_ids') }}
    {%- if changed_since %}
    where attribution_changed_at > {{ changed_since }}
    {%- else %}
    where attribution_changed
    {%- endif %}
),

reattributed as (
    select o.source, o.record_id
    from {{ ref('int_identifier_observations') }} o
    join changed_nodes n on o.identifier_type = n.identifier_type and o.identifier_value = n.identifier_value
    union
    -- records whose own identifiers were (re)loaded since: a record moves to another person when they
    -- change (a ticket given to another requester) though no identifier changes person, and a small
    -- source's record whose content is unchanged is not written again by int_activities_unioned
    select source, record_id
    from {{ ref('int_identifier_observations') }}
    {%- if changed_since %}
    where loaded_at > {{ changed_since }}
    {%- else %}
    where loaded_at = {{ identity_run_started_at() }}
    {%- endif %}
),

changed_devices as (
    select distinct identifier_value as device_id
    from changed_nodes
    where identifier_type in ('{{ identity_setting('identity_device_types') | join("', '") }}')
),

-- the same devices as journeys.activities carries them (journeys_device_id: the hash of the device
-- as one of the device types; every type's, so an equi-join finds it whatever the activity's channel)
changed_device_hashes as (
    select distinct {{ identifier_hash('t.device_type', 'cd.device_id') }} as device_id
    from changed_devices cd
    cross join (values
        {%- for device_type in identity_setting('identity_device_types') %}
        ('{{ device_type }}'){{ ',' if not loop.last }}
        {%- endfor %}
    ) as t (device_type)
),
{%- endmacro %}

{#- `hashed_devices`: the activity relation is journeys.activities, whose device ids are hashes -#}
{% macro restitched_activities_joins(alias, hashed_devices=false) -%}
left join reattributed r on {{ alias }}.source = r.source and {{ alias }}.record_id = r.record_id
    left join {{ 'changed_device_hashes' if hashed_devices else 'changed_devices' }} cd
        on {{ alias }}.device_id = cd.device_id
{%- endmacro %}

{% macro restitched_activities_condition(alias) -%}
r.record_id is not null
        or {{ alias }}.occurred_at >= {{ incremental_window_start() }}
        or cd.device_id is not null
{%- endmacro %}

{#- Per-person models downstream of int_activities_sessionized (journeys.sessions and the funnel
    chain: a session or a funnel unit is a person or one of its sessions, and every input of it is its
    person's activities). A daily run recomputes the persons int_activities_sessionized re-cut since the
    model's watermark and drops the persons left without activity; it recomputes everything when the
    model has no watermark or when the small configuration relations it depends on (`config_relations`,
    e.g. the compiled funnel definitions, rebuilt every run) differ from those it last consumed. Such a
    model appends its rows after its pre-hook deleted those it recomputes, each person from its change on
    (delete_person_rows_from_change in macros/journeys/funnels_incremental.sql). -#}

{#- the configuration as text (every row, sorted): a few funnels, compared whole -#}
{% macro relations_fingerprint(config_relations) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set parts = [] -%}
    {%- for relation in config_relations -%}
        {%- set lines = [] -%}
        {%- for row in run_query('select * from ' ~ relation) -%}
            {%- do lines.append(row | join('|')) -%}
        {%- endfor -%}
        {%- do parts.append(relation.identifier ~ '=' ~ (lines | sort | join(';'))) -%}
    {%- endfor -%}
    {{ return(parts | join(' ')) }}
{%- endmacro %}

{#- Outside a daily run: none (the model is built whole). In one: the watermark (SQL timestamp literal)
    after which int_activities_sessionized's rows say which persons to recompute, or 'all' (no watermark,
    or the configuration differs from the one last consumed). Without `config_relations` or
    `fingerprint` the model depends on no configuration. -#}
{% macro persons_recompute_since(consumer, config_relations=none, fingerprint=none) -%}
    {%- if not incremental_window_active() -%}{{ return(none) }}{%- endif -%}
    {%- set consumed = consumed_watermark(consumer, true) -%}
    {%- if not consumed -%}{{ return('all') }}{%- endif -%}
    {%- if config_relations is not none
        and consumed.input_fingerprint != relations_fingerprint(config_relations) -%}
        {{ return('all') }}
    {%- endif -%}
    {#- `fingerprint`: a macro rendering the settings besides the persons' data, as recorded with the
        watermark (called only in a daily run) -#}
    {%- if fingerprint is not none and consumed.input_fingerprint != fingerprint() -%}
        {{ return('all') }}
    {%- endif -%}
    {{ return(consumed.watermark) }}
{%- endmacro %}

{#- the persons int_activities_sessionized re-cut after `since` -#}
{% macro recomputed_persons(since) -%}
    select person_id from {{ ref('int_activities_sessionized') }} where loaded_at > {{ since }}
{%- endmacro %}

{#- `and <column> in (...)`: the persons to recompute, nothing outside a daily run or when all are -#}
{% macro persons_recompute_filter(since, column='person_id') -%}
    {%- if since is none or since == 'all' -%}{{ return('') }}{%- endif -%}
    and {{ column }} in ({{ recomputed_persons(since) }})
{%- endmacro %}

{#- the compiled funnel configuration the funnel chain reads -#}
{% macro funnel_config_relations() -%}
    {{ return([ref('int_funnel_definitions'), ref('int_funnel_step_matchers'), ref('int_funnel_step_filters'),
        ref('int_funnel_interruptions'), ref('int_funnel_exclusions')]) }}
{%- endmacro %}
