{#- Records that vanish from a re-delivered export (every lake-sourced staging model).

    Ingestion replaces a landed file whole: a changed re-delivery of the same file (Table.replace_by in
    orchestration/sources.py: same landing day and name, or for GA4 the same name on any day) deletes the
    earlier lake file and writes the new one (ledger status `replaced`). A rebuild then no longer sees a
    record the earlier version had and the new one lacks; the key delete+insert of a daily run never
    touches it. So a lake-sourced staging table keeps each row's `source_file`, and a daily run in which
    the ledger says a file ingested since the table's newest version replaced one it holds rows from:
      1. pre-hook (staging_log_vanished_records): logs in stg_lake__removed_records every held row that
         came from a replaced file and whose key no replacing file carries, with the record it belongs
         to;
      1b. a held row of a replaced file whose key a replacing file carries is replaced by its new
         version, which ranks first when the order is the landing day then the ingestion time (the
         replacing file has the replaced one's landing day, or a later one: ingestion refuses an
         earlier day as stale, and it is ingested last, so it outranks every file the replaced one
         did). A model whose order puts another column first (Zendesk, Delighted: updated_at) or
         before the ingestion time (Mailchimp members: last_changed_at within a landing day) passes
         it as `order_columns`: the new version may then rank below one of another live file the
         run does not read, so the pre-hook also logs those held rows whose key another live file
         carries (one that may outrank it: for a landing-day-first order, landed no earlier than the
         replaced file), without a source_file (ranked again, not removed);
      2. the model reads, besides the new lake rows, every older live version of those logged keys
         (staging_lake_rows_filter: another, older file may still carry the row; its version is then the
         one a rebuild keeps), and a held row of a replaced file never outranks a new one
         (staging_held_rows_of_live_files); a member or customer that lost a version is written again
         from its other versions (staging_held_versions_of_new_records);
      3. post-hook (staging_delete_vanished_records): the logged rows that still come from the replaced
         file (no other version anywhere) are deleted (not those logged without a file).
    A re-delivery whose bytes another live file already holds (ledger status `duplicate` with a
    `replaces_sha256`: orchestration/ingestion/ingest.py) writes nothing, but its earlier version leaves
    the lake all the same: it replaces that version like a `replaced` file, told only by the ledger (its
    rows are the other file's, under that file's landing day and name, which this run does not read as
    new rows). No lake row has its file key, so no replacing file carries a key: step 1 logs every held
    row of the replaced file, step 2 reads every live version of those keys (the other file's among
    them, ranked as any older live file's, whatever its day, name or order column), and step 3 deletes
    those that no live file carries, as a rebuild keeps them.
    A row that moved to a newer file keeps its row when the older file is re-delivered: its held row
    came from the newer file, not from the replaced one. Tables derived from a logged one
    (stg_square__transactions, stg_canonical__order_lines) re-derive the records logged since their
    own last run, not every one ever logged (staging_rederived_records_filter).
    The log tells the activity chain (int_activities_unioned, journeys.activities,
    int_activities_sessionized) and int_identifier_observations which records to re-read or remove (a
    record ranked again may now hold an older file's version, with an ingestion time they have read
    past); its rows are never deleted (a full refresh empties it). Nothing of this runs outside a daily
    run, nor when no file read replaced one the table holds rows from (the usual day: at compile time,
    the newest version held, a listing of the table's ledger folder and one scan of the held
    source_file column, twice: the model and its pre-hook are rendered apart). -#}

{#- What identifies "the same file, changed", as SQL over a source_file path (<table>/<day>/<name>):
    the path, or the name alone for a lake table whose source meta says `replace_by: name`. -#}
{% macro lake_file_replace_key(source_name, column) -%}
    {%- if lake_replace_by(source_name) == 'name' -%}
    regexp_replace({{ column }}, '^[^/]*/[^/]*/', '')
    {%- else -%}
    {{ column }}
    {%- endif -%}
{%- endmacro %}

{#- meta.replace_by of a lake source table (models/staging/lake/_lake__sources.yml), default day_and_name -#}
{% macro lake_replace_by(source_name) -%}
    {%- for node in graph.sources.values() if node.source_name == 'lake' and node.name == source_name -%}
        {%- set meta = node.meta or node.config.get('meta', {}) or {} -%}
        {{ return(meta.get('replace_by', 'day_and_name')) }}
    {%- endfor -%}
    {{ return('day_and_name') }}
{%- endmacro %}

{#- The held source_file paths whose lake file a file read in this daily run replaced (a list; empty
    outside a daily run, on the first load, or when the held table predates source_file: the daily
    run then fails on its changed columns and asks for the full refresh a staging change needs).
    A replacing file is told by its lake rows (the same file key as a held row's) or by the ingestion
    ledger (staging_replacing_files): a re-delivery that lost every row, or whose bytes another file
    holds (a duplicate), has no lake row to tell it. The ledger row's source_file is the re-delivered
    path (for a duplicate too, not the other file's), so its file key finds the held rows of the version
    it replaced: the same path, or for `replace_by: name` the same name on an earlier day. -#}
{% macro staging_replaced_files(source_name) -%}
    {%- if not (execute and incremental_window_active() and relation_has_column(this, 'source_file'))
        or staging_empty_run() -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set watermark = run_query('select cast(max(ingested_at) as ' ~ dbt.type_string() ~ ') from ' ~ this)
        .columns[0].values()[0] -%}
    {%- if watermark is none -%}{{ return([]) }}{%- endif -%}
    {%- set watermark = "cast('" ~ watermark ~ "' as " ~ lake_ingested_at_type() ~ ")" -%}
    {%- set in_ledger = staging_replacing_files(source_name, watermark) -%}
    {%- set query -%}
        {#- the file key of the few distinct paths, not of every row (a regexp per GA4 row cost 0.2 s) #}
        select source_file
        from (select distinct source_file from {{ this }}) as held
        where {{ lake_file_replace_key(source_name, 'source_file') }} in (
            select {{ lake_file_replace_key(source_name, '_source_file') }}
            from (
                select distinct _source_file from {{ source('lake', source_name) }}
                where _ingested_at > {{ watermark }}
            ) as new_files
            {%- for file in in_ledger %}
            union all
            select {{ lake_file_replace_key(source_name, sql_string(file)) }}
            {%- endfor %}
        )
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{#- The landed files of a lake table that replaced an earlier delivery (staging_replacing_status: ledger
    status `replaced`, or a `duplicate` that replaced its own earlier version) and were ingested after
    `watermark` (a SQL timestamp), as a list. -#}
{% macro staging_replacing_files(source_name, watermark) -%}
    {{ return(adapter.dispatch('staging_replacing_files', 'omni_warehouse')(source_name, watermark)) }}
{%- endmacro %}

{#- Engines without a file listing in SQL: the table's ledger rows, read whole -#}
{% macro default__staging_replacing_files(source_name, watermark) -%}
    {%- set query -%}
        select distinct source_file from {{ source('lake_ops', 'ingestion_ledger') }}
        where table_name = '{{ source_name }}' and {{ staging_replacing_status() }} and ingested_at > {{ watermark }}
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{#- DuckDB: list the table's ledger folder and read only the files written after the watermark (a
    ledger file is named <file_sha256>-<time_ns>.parquet, written after the ingestion time it records:
    orchestration/ingestion/ledger.py), so the usual day reads one listing and a few one-row files. -#}
{% macro duckdb__staging_replacing_files(source_name, watermark) -%}
    {%- set found = modules.re.search("read_parquet\\('([^']+)/\\*/\\*/\\*\\.parquet'",
        source('lake_ops', 'ingestion_ledger') | string) -%}
    {%- if not found -%}{{ return(default__staging_replacing_files(source_name, watermark)) }}{%- endif -%}
    {%- set listed = run_query("select file from glob('" ~ found.group(1) ~ "/" ~ source_name ~ "/*/*.parquet') "
        ~ "where try_cast(regexp_extract(file, '-([0-9]+)\\.parquet$', 1) as hugeint) > epoch_ns(" ~ watermark ~ ")")
        .columns[0].values() | list -%}
    {%- if listed | length == 0 -%}{{ return([]) }}{%- endif -%}
    {%- set query -%}
        select distinct source_file
        from read_parquet([{{ sql_string_list(listed) }}], union_by_name=true, hive_partitioning=true)
        where {{ staging_replacing_status() }} and ingested_at > {{ watermark }}
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{#- The ledger rows of a file that replaced its earlier version: `replaced`, or a `duplicate` whose bytes
    another live file already held (nothing written, the earlier version removed: replaces_sha256 set) -#}
{% macro staging_replacing_status() -%}
    (status = 'replaced' or (status = 'duplicate' and replaces_sha256 is not null))
{%- endmacro %}

{#- a SQL string literal -#}
{% macro sql_string(value) -%}
    {{ return("'" ~ (value | replace("'", "''")) ~ "'") }}
{%- endmacro %}

{% macro sql_string_list(values) -%}
    {%- set quoted = [] -%}
    {%- for value in values -%}{%- do quoted.append(sql_string(value)) -%}{%- endfor -%}
    {{ return(quoted | join(', ')) }}
{%- endmacro %}

{#- A model's vanished-records spec, computed once per compilation (the replaced files cost one scan of
    the held source_file column): {source_name, key, lake_key, record_id, order_columns, replaced,
    rerank, any}. `key`: the model's row key (what the post-hook deletes); `lake_key`: the same as SQL
    over the lake columns; `record_id`: SQL over the held row's columns giving the source record it
    belongs to, as the activity chain and int_identifier_observations know it (default: the key; a
    Square item line logs its receipt, a loyalty member version its member); `order_columns`: the
    model's staging_keep_later_held_versions order. `rerank`: a file was replaced and the order puts a
    column other than the landing day before the ingestion time (step 1b above). `any`: whether a
    record vanished or is ranked again (so the model reads older files and its held versions of them). -#}
{% macro staging_vanished(source_name, key, lake_key, record_id=none, order_columns=['landing_date']) -%}
    {%- set spec = staging_vanished_spec(source_name, key, lake_key, record_id, order_columns) -%}
    {%- if spec.replaced | length > 0 -%}
        {%- set count = run_query('select count(*) from (' ~ staging_vanished_records_sql(spec) ~ ') v')
            .columns[0].values()[0] -%}
        {%- do spec.update({'any': count > 0}) -%}
    {%- endif -%}
    {{ return(spec) }}
{%- endmacro %}

{#- staging_vanished's spec without `any` (the pre-hook needs no count: it logs what it finds) -#}
{% macro staging_vanished_spec(source_name, key, lake_key, record_id=none, order_columns=['landing_date']) -%}
    {%- set replaced = staging_replaced_files(source_name) -%}
    {{ return({'source_name': source_name, 'key': key, 'lake_key': lake_key, 'record_id': record_id or key,
        'order_columns': order_columns, 'replaced': replaced,
        'rerank': replaced | length > 0 and order_columns != ['landing_date'], 'any': false}) }}
{%- endmacro %}

{#- The held rows of `replaced` files whose key no replacing file carries: (record_id, model_key,
    source_file); with `rerank`, also those whose key another live file carries (source_file null: the
    row is ranked again, not removed). -#}
{% macro staging_vanished_records_sql(spec) -%}
    {%- set source_name = spec.source_name -%}
    {%- set replacing_file -%}
        {{ lake_file_replace_key(source_name, '_source_file') }} in (
            {%- for file in spec.replaced -%}
            {{ lake_file_replace_key(source_name, sql_string(file)) }}
            {{- ", " if not loop.last }}
            {%- endfor -%})
    {%- endset -%}
    {#- every lake row of a replacing file, whatever its ingestion time: a replaced lake file is deleted,
        so these are the live file's rows (a file re-ingested after a crash keeps the first attempt's
        _ingested_at, older than its ledger row) -#}
    {%- set carried -%}
        select {{ spec.lake_key }} from {{ source('lake', source_name) }}
        where {{ replacing_file }} and {{ spec.lake_key }} is not null
    {%- endset -%}
    select distinct {{ spec.record_id }} as record_id, held.{{ spec.key }} as model_key, held.source_file
    from {{ this }} held
    where held.source_file in ({{ sql_string_list(spec.replaced) }})
        and held.{{ spec.key }} not in ({{ carried }})
    {%- if spec.rerank %}
    {#- (two selects, not a `case` over the subquery: Spark takes IN subqueries only in a filter) #}
    union all
    select distinct {{ spec.record_id }} as record_id, held.{{ spec.key }} as model_key,
        cast(null as {{ dbt.type_string() }}) as source_file
    from {{ this }} held
    where held.source_file in ({{ sql_string_list(spec.replaced) }})
        and held.{{ spec.key }} in ({{ carried }})
        and held.{{ spec.key }} in (
            select {{ spec.lake_key }} from {{ source('lake', source_name) }}
            where not ({{ replacing_file }}) and {{ spec.lake_key }} is not null
            {%- if spec.order_columns[0] == 'landing_date' %}
            {#- a file that landed before the replaced one ranks below the replacing file (same day, or a
                later one for a file replaced by name: ingestion refuses an earlier day as stale) #}
            {%- set days = [] -%}
            {%- for file in spec.replaced -%}{%- do days.append(file.split('/')[1]) -%}{%- endfor %}
                and _landing_date >= cast('{{ days | min }}' as date)
            {%- endif %}
        )
    {%- endif %}
{%- endmacro %}

{#- pre_hook: log the vanished records (step 1 above). Its arguments are the model's staging_vanished
    ones (a hook is rendered apart from the model: it asks for the replaced files once more). -#}
{% macro staging_log_vanished_records(source_name, key, lake_key, record_id=none, order_columns=['landing_date']) -%}
    {%- set spec = staging_vanished_spec(source_name, key, lake_key, record_id, order_columns) -%}
    {%- if spec.replaced | length == 0 -%}{{ return('') }}{%- endif -%}
    insert into {{ removed_records_relation() }} (source, record_id, model_key, source_file, removed_at)
    select '{{ source_name }}', record_id, model_key, source_file, {{ identity_run_started_at() }}
    from ({{ staging_vanished_records_sql(spec) }}) vanished
{%- endmacro %}

{#- the log rows this run's pre-hooks wrote for a source (`column` of them), as a select (a derived
    table reads those since its own last run instead: staging_logged_since_derived). `removed_only`: not
    the rows logged to be ranked again (step 1b above) -#}
{% macro staging_logged_this_run(source_name, column, removed_only=false) -%}
    {{ logged_removed_records(source_name, column, '= ' ~ identity_run_started_at(), removed_only) }}
{%- endmacro %}

{#- `column` of the log rows of a source, as a select; `removed_at`: a condition on their time (e.g.
    '> <since>'), none for every run's; `removed_only`: only the rows of a removed held row (with its
    source_file). The staging hooks, the derived tables, the activity chain and
    int_identifier_observations all read the log through it. -#}
{% macro logged_removed_records(source_name, column='record_id', removed_at=none, removed_only=false) -%}
    select {{ column }} from {{ removed_records_relation() }}
    where source = '{{ source_name }}'
    {%- if removed_at is not none %} and removed_at {{ removed_at }}{% endif %}
    {%- if removed_only %} and source_file is not null{% endif %}
{%- endmacro %}

{#- Whether this run's pre-hooks logged a row of the source (a query on the small log at render time:
    the hooks that read it run only then) -#}
{% macro staging_logged_any(source_name, removed_only=false) -%}
    {%- if not (execute and incremental_window_active()) -%}{{ return(false) }}{%- endif -%}
    {%- if staging_empty_run() -%}{{ return(false) }}{%- endif -%}
    {{ return(run_query('select count(*) from (' ~ staging_logged_this_run(source_name, 'record_id', removed_only=removed_only) ~ ') l')
        .columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- `dbt run --empty`: every ref and source is an empty subquery, except a path read apart from dbt's
    relation (the ledger folder) and the plain relations the delete hooks use; nothing may be logged or
    deleted then -#}
{% macro staging_empty_run() -%}
    {{ return(invocation_args_dict.get('empty') in [true, 'true', 'True']) }}
{%- endmacro %}

{#- `where` on the model's lake rows (step 2 above): those ingested since the newest version held, and
    every version in the older live files of the keys this run's pre-hook logged (only when any vanished
    or is ranked again: the usual day reads no older file). `whole_files`: every row of those files (a
    model whose row depends on its file's other rows: stg_mailchimp__members). -#}
{% macro staging_lake_rows_filter(spec, whole_files=false) -%}
    {%- set new_rows = staging_new_lake_rows_filter() -%}
    {%- if not (new_rows and spec.any) -%}{{ return(new_rows) }}{%- endif -%}
    {%- set logged = spec.lake_key ~ ' in (' ~ staging_logged_this_run(spec.source_name, 'model_key') ~ ')' -%}
    {%- if whole_files -%}
        {%- set logged = '_file_sha256 in (select _file_sha256 from ' ~ source('lake', spec.source_name)
            ~ ' where ' ~ logged ~ ')' -%}
    {%- endif -%}
    {{ return(new_rows ~ ' or ' ~ logged) }}
{%- endmacro %}

{#- the model's lake rows, as a select (staging_lake_rows_filter) -#}
{% macro staging_lake_rows(spec) -%}
    select * from {{ source('lake', spec.source_name) }}
    {{ staging_lake_rows_filter(spec) }}
{%- endmacro %}

{#- order_columns of staging_keep_later_held_versions' `held_where`: a held row of a replaced file
    never outranks a new version (its file is gone from the lake) -#}
{% macro staging_held_rows_of_live_files(spec) -%}
    {%- if spec.replaced | length == 0 -%}{{ return(none) }}{%- endif -%}
    {{ return('held.source_file not in (' ~ sql_string_list(spec.replaced) ~ ')') }}
{%- endmacro %}

{#- post_hook: delete the logged rows still held from the replaced file (step 3 above): a record
    re-read from an older file has that file's row now, one carried by the replacing file its row. -#}
{% macro staging_delete_vanished_records(source_name, key) -%}
    {%- if not staging_logged_any(source_name, removed_only=true) -%}{{ return('') }}{%- endif -%}
    delete from {{ this }}
    where {{ staging_logged_row(source_name, key) }}
{%- endmacro %}

{#- a held row (`alias`: a table alias and dot) that this run logged as vanished from its replaced file:
    its key and file are in the log (a row logged to be ranked again has no file) -#}
{% macro staging_logged_row(source_name, key, alias='') -%}
    {{ alias }}{{ key }} in ({{ staging_logged_this_run(source_name, 'model_key', removed_only=true) }})
        and {{ alias }}source_file in ({{ staging_logged_this_run(source_name, 'source_file', removed_only=true) }})
{%- endmacro %}

{#- the log, as a plain relation (plain_relation) -#}
{% macro removed_records_relation() -%}
    {{ return(plain_relation(ref('stg_lake__removed_records'))) }}
{%- endmacro %}

{#- A Square receipt's id over stg_square__items columns (`prefix`: a table alias and dot): a refund
    reuses its sale's Transaction ID. stg_square__transactions' key, and the record its item lines log. -#}
{% macro square_receipt_id(prefix='') -%}
    case
        when {{ prefix }}event_type = 'refund' then concat({{ prefix }}transaction_id, ':refund')
        else {{ prefix }}transaction_id
    end
{%- endmacro %}

{#- A staging table derived from `parent` record by record (delete+insert on `key`, the record id of
    `source_name`; each row stamped with the run that wrote it, loaded_at): the `where` of the parent
    rows a daily run derives again, empty outside a daily run or when the table holds nothing yet. Those
    `parent` wrote since the newest ingested_at held, and those of the records the log
    (stg_lake__removed_records) holds since the newest loaded_at: removed from `parent` or re-read there
    from an older file (an older ingested_at). Not every record ever logged: each daily run would
    re-derive them all again. A run that logged records but failed or skipped this table wrote no
    loaded_at since, so its retry still derives them (a run that wrote no row leaves the newest loaded_at
    where it was: its logged records are derived once more, idempotently). The model and its pre-hook
    both call it, and the pre-hook is the first statement: both see the same held table.
    `record_id`: SQL over the parent's columns giving the record id the log holds, when it is not `key`:
    a record derived from several parent rows under a coarser `key` (a Square receipt sums its item
    lines, and a transaction's receipts are derived together: the model reads every parent row of the
    `key`s this selects). -#}
{% macro staging_rederived_records_filter(source_name, key, record_id=none) -%}
    {{ return(staging_rederived_where(staging_rederived_records(source_name), key, record_id)) }}
{%- endmacro %}

{#- What a daily run of a derived table re-derives, read once (render-time queries): {new_rows: the
    `where` of the parent rows written since the newest ingested_at held, logged: the select of the
    record ids logged since the newest loaded_at, or none}; none outside a daily run. -#}
{% macro staging_rederived_records(source_name) -%}
    {%- set new_rows = staging_new_lake_rows_filter('ingested_at') -%}
    {%- if not new_rows -%}{{ return(none) }}{%- endif -%}
    {{ return({'new_rows': new_rows, 'logged': staging_logged_since_derived(source_name)}) }}
{%- endmacro %}

{% macro staging_rederived_where(rederived, key, record_id=none) -%}
    {%- if rederived is none -%}{{ return('') }}{%- endif -%}
    {%- if rederived.logged is none -%}{{ return(rederived.new_rows) }}{%- endif -%}
    {{ return(rederived.new_rows ~ ' or ' ~ (record_id or key) ~ ' in (' ~ rederived.logged ~ ')') }}
{%- endmacro %}

{#- The record ids of `source_name` logged since this derived table's newest loaded_at (every run's when
    it holds no row), as a select; none when there are none (a query on the small log at render time).
    A table written before the loaded_at column stops the run here, before its pre-hook deletes
    anything: dbt would refuse the changed columns only after the delete. -#}
{% macro staging_logged_since_derived(source_name) -%}
    {%- if not (execute and incremental_window_active()) or staging_empty_run() -%}{{ return(none) }}{%- endif -%}
    {%- if not relation_has_column(this, 'loaded_at') -%}
        {{ exceptions.raise_compiler_error(this ~ " was built before its loaded_at column: rebuild it once with "
            ~ "`dbt build --full-refresh --select " ~ this.identifier ~ "+` (a change of its SQL needs a full refresh)") }}
    {%- endif -%}
    {%- set removed_at = none -%}
    {%- set since = run_query('select cast(max(loaded_at) as ' ~ dbt.type_string() ~ ') from ' ~ this)
        .columns[0].values()[0] -%}
    {%- if since is not none -%}
        {%- set removed_at = "> cast('" ~ since ~ "' as " ~ dbt.type_timestamp() ~ ")" -%}
    {%- endif -%}
    {%- set logged = logged_removed_records(source_name, 'record_id', removed_at) -%}
    {%- if run_query('select count(*) from (' ~ logged ~ ') l').columns[0].values()[0] == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(logged) }}
{%- endmacro %}

{#- pre_hook of such a derived table (append after this delete): the held rows of the records the model
    derives again (staging_rederived_records_filter), so a record derived again with fewer rows, or none
    (an order re-delivered without lines, or gone), loses the others, as in a rebuild. One statement:
    a first delete would move the watermarks the second reads. `record_id`: as for the filter;
    `record_column`: the held column holding the logged record id, when it is not `key` (a Square
    receipt whose every line is gone, of a transaction the model does not derive again: its other
    receipts stay, their lines unchanged). -#}
{% macro staging_delete_rederived_records(parent, source_name, key, record_id=none, record_column=none) -%}
    {%- set rederived = staging_rederived_records(source_name) -%}
    {%- if rederived is none -%}{{ return('') }}{%- endif -%}
    delete from {{ this }}
    where {{ key }} in (select {{ key }} from {{ parent }} {{ staging_rederived_where(rederived, key, record_id) }})
    {%- if rederived.logged is not none %}
        or {{ record_column or key }} in ({{ rederived.logged }})
    {%- endif %}
{%- endmacro %}
