{#- Records that vanish from a re-delivered export (event sources: stg_ga4__events,
    stg_mailchimp__activity, stg_canonical__events).

    Ingestion replaces a landed file whole: a changed re-delivery of the same file (Table.replace_by in
    orchestration/sources.py: same landing day and name, or for GA4 the same name on any day) deletes the
    earlier lake file and writes the new one (ledger status `replaced`). A rebuild then no longer sees a
    record the earlier version had and the new one lacks; the key delete+insert of a daily run never
    touches it. So an event staging table keeps each row's `source_file`, and a daily run that reads a
    replacing file:
      1. pre-hook (staging_log_vanished_records): logs in stg_lake__removed_records every held record whose
         row came from a replaced file and that no replacing file carries (a record still carried is
         simply replaced by its new version, which ranks first);
      2. the model reads, besides the new lake rows, every older live version of those logged records
         (staging_lake_rows: another, older file may still carry the record; its version is then the
         one a rebuild keeps), and a held row of a replaced file never outranks a new one
         (staging_held_rows_of_live_files);
      3. post-hook (staging_delete_vanished_records): the logged records whose row still comes from the
         replaced file (no other version anywhere) are deleted.
    A record that moved to a newer file keeps its row when the older file is re-delivered: its held row
    came from the newer file, not from the replaced one.
    The log tells the activity chain (int_activities_unioned, journeys.activities,
    int_activities_sessionized) which records to re-read or remove; its rows are never deleted (a full
    refresh empties it). Nothing of this runs outside a daily run, nor when no read file replaces a file
    the table holds rows from (the usual day: two small queries at compile time). -#}

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
    run then fails on its changed columns and asks for the full refresh a staging change needs). -#}
{% macro staging_replaced_files(source_name) -%}
    {%- if not (execute and incremental_window_active() and relation_has_column(this, 'source_file')) -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set new_rows = staging_new_lake_rows_filter() -%}
    {%- if not new_rows -%}{{ return([]) }}{%- endif -%}
    {%- set query -%}
        select distinct source_file from {{ this }}
        where {{ lake_file_replace_key(source_name, 'source_file') }} in (
            select distinct {{ lake_file_replace_key(source_name, '_source_file') }}
            from {{ source('lake', source_name) }}
            {{ new_rows }}
        )
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{% macro sql_string_list(values) -%}
    {%- set quoted = [] -%}
    {%- for value in values -%}{%- do quoted.append("'" ~ (value | replace("'", "''")) ~ "'") -%}{%- endfor -%}
    {{ return(quoted | join(', ')) }}
{%- endmacro %}

{#- The held records of `replaced` files that no replacing file carries: (record_id, source_file).
    `lake_key`: the model's record key as SQL over the lake columns. -#}
{% macro staging_vanished_records_sql(source_name, key, lake_key, replaced) -%}
    select held.{{ key }} as record_id, held.source_file
    from {{ this }} held
    where held.source_file in ({{ sql_string_list(replaced) }})
        and held.{{ key }} not in (
            select {{ lake_key }}
            from {{ source('lake', source_name) }}
            {{ staging_new_lake_rows_filter() }}
                and {{ lake_file_replace_key(source_name, '_source_file') }} in (
                    {%- for file in replaced -%}
                    {{ lake_file_replace_key(source_name, "'" ~ (file | replace("'", "''")) ~ "'") }}
                    {{- ", " if not loop.last }}
                    {%- endfor -%})
                and {{ lake_key }} is not null
        )
{%- endmacro %}

{#- pre_hook: log the vanished records (step 1 above) -#}
{% macro staging_log_vanished_records(source_name, key, lake_key) -%}
    {%- set replaced = staging_replaced_files(source_name) -%}
    {%- if replaced | length == 0 -%}{{ return('') }}{%- endif -%}
    insert into {{ removed_records_relation() }} (source, record_id, source_file, removed_at)
    select '{{ source_name }}', record_id, source_file, {{ identity_run_started_at() }}
    from ({{ staging_vanished_records_sql(source_name, key, lake_key, replaced) }}) vanished
{%- endmacro %}

{#- The model's lake rows (step 2 above): those ingested since the newest version held, and every
    version in the older live files of the records this run's pre-hook logged (when any vanished:
    whether any did is asked at compile time, before the pre-hook runs, so the usual day reads no
    older file). -#}
{% macro staging_lake_rows(source_name, key, lake_key) -%}
    {%- set lake = source('lake', source_name) -%}
    select * from {{ lake }}
    {{ staging_new_lake_rows_filter() }}
    {%- set replaced = staging_replaced_files(source_name) -%}
    {%- if replaced | length > 0 -%}
        {%- set vanished = run_query('select count(*) from ('
            ~ staging_vanished_records_sql(source_name, key, lake_key, replaced) ~ ') v').columns[0].values()[0] -%}
        {%- if vanished > 0 %}
    union all
    select * from {{ lake }}
    where not ({{ staging_new_lake_rows_filter() | replace('where ', '', 1) }})
        and {{ lake_key }} in (
            select record_id from {{ removed_records_relation() }}
            where source = '{{ source_name }}' and removed_at = {{ identity_run_started_at() }}
        )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- order_columns of staging_keep_later_held_versions' `held_where`: a held row of a replaced file
    never outranks a new version (its file is gone from the lake) -#}
{% macro staging_held_rows_of_live_files(source_name) -%}
    {%- set replaced = staging_replaced_files(source_name) -%}
    {%- if replaced | length == 0 -%}{{ return(none) }}{%- endif -%}
    {{ return('held.source_file not in (' ~ sql_string_list(replaced) ~ ')') }}
{%- endmacro %}

{#- post_hook: delete the logged records still held from the replaced file (step 3 above) -#}
{% macro staging_delete_vanished_records(source_name, key) -%}
    {%- if not incremental_window_active() -%}{{ return('') }}{%- endif -%}
    {%- set logged -%}
        from {{ removed_records_relation() }}
        where source = '{{ source_name }}' and removed_at = {{ identity_run_started_at() }}
    {%- endset -%}
    delete from {{ this }}
    where {{ key }} in (select record_id {{ logged }})
        and source_file in (select source_file {{ logged }})
{%- endmacro %}

{#- the log, as a plain relation (plain_relation) -#}
{% macro removed_records_relation() -%}
    {{ return(plain_relation(ref('stg_lake__removed_records'))) }}
{%- endmacro %}
