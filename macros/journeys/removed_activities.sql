{#- Activities whose record vanished from a re-delivered export (stg_lake__removed_records, written by
    the lake-sourced staging models: macros/staging/vanished_records.sql; its record_id is the activity's
    record_id, so a Square receipt or loyalty member that lost an item line or version is logged too;
    so is a Mailchimp member whose new version yields no subscribe any more: macros/staging/lost_activities.sql).
    A daily run takes them out of the activity chain as a rebuild would (or rewrites them), reading only
    the log rows written since each model's last run:
      * int_activities_unioned re-reads the logged records from staging (a record re-read from an
        older file is written again) and its post-hook deletes the logged activities it did not write
        (gone from staging, or now a technical GA4 event);
      * journeys.activities' post-hook deletes the logged activities int_activities_unioned did not
        write again since this model last consumed it;
      * int_activities_sessionized counts a removed activity as a change at its held time for its held
        person and scope (the sessions around it are re-cut, so journeys.sessions and the funnel chain
        recompute that person), and its post-hook deletes the rows of activities gone from
        journeys.activities. -#}

{#- the activity ids of the records logged after `since` (SQL timestamp), as a select -#}
{% macro removed_activity_ids(since) -%}
    select distinct concat(source, ':', record_id) as activity_id
    from {{ removed_records_relation() }}
    where removed_at > {{ since }}
{%- endmacro %}

{#- `record_column in (...)`: the records of `source_name` logged after `since` -#}
{% macro removed_records_of(source_name, record_column, since) -%}
    {{ record_column }} in ({{ logged_removed_records(source_name, 'record_id', '> ' ~ since) }})
{%- endmacro %}

{#- post_hook of int_activities_unioned: the logged activities it did not write in this run. Its rows
    from before this run say where it stopped: the log rows after their newest loaded_at. -#}
{% macro delete_unwritten_removed_activities() -%}
    {%- if not (incremental_window_active() and relation_has_column(this, 'loaded_at')) -%}{{ return('') }}{%- endif -%}
    delete from {{ this }}
    where loaded_at < {{ identity_run_started_at() }}
        and activity_id in ({{ removed_activity_ids(
            '(select max(loaded_at) from ' ~ this ~ ' where loaded_at < ' ~ identity_run_started_at() ~ ')') }})
{%- endmacro %}

{#- post_hook statement of a consumer: delete its rows of activities gone from `parent`. With
    `removed_since` (the start of the consumer's last run): the activities logged since that are not in
    `parent` (only its rows loaded after `written_since`, when given: the rows written again); without
    it, every row of the consumer not in `parent`. -#}
{% macro delete_removed_activities(parent, removed_since=none, written_since=none) -%}
    {%- set parent = plain_relation(parent) -%}
    delete from {{ this }}
    where activity_id in (
        {%- if removed_since is none %}
        select held.activity_id
        from {{ this }} held
        left join {{ parent }} kept on held.activity_id = kept.activity_id
        where kept.activity_id is null
        {%- else %}
        select removed.activity_id
        from ({{ removed_activity_ids(removed_since) }}) removed
        left join (
            select activity_id from {{ parent }}
            {%- if written_since is not none %}
            where loaded_at > {{ written_since }}
            {%- endif %}
        ) kept on removed.activity_id = kept.activity_id
        where kept.activity_id is null
        {%- endif %}
    )
{%- endmacro %}

{#- post_hook of journeys.activities (before its watermark hooks, which move its record) -#}
{% macro delete_removed_journey_activities() -%}
    {%- set window = incremental_window_active() -%}
    {%- if not window -%}{{ return('') }}{%- endif -%}
    {%- set consumed = consumed_watermark('activities', window) -%}
    {%- if consumed -%}
    {{ delete_removed_activities(ref('int_activities_unioned'), consumed.run_started_at, consumed.watermark) }}
    {%- else -%}
    {{ delete_removed_activities(ref('int_activities_unioned')) }}
    {%- endif -%}
{%- endmacro %}

{#- int_activities_sessionized's records: {consumed, upstream, follows}; follows: journeys.activities
    ran in this run, reading from where this model's last run stopped (only what it re-stitched, and
    the activities logged since this model's last run, can have changed). Where it stopped is both the
    watermark and the run: a run in which int_activities_unioned wrote nothing leaves the watermark as
    it was, and journeys.activities may have re-attributed activities in it (a merge) while this model
    did not run. -#}
{% macro sessionized_inputs(window) -%}
    {%- set consumed = consumed_watermark('int_activities_sessionized', window) -%}
    {%- set upstream = consumed_watermark('activities', window) -%}
    {%- set follows = consumed and upstream and upstream.previous_watermark
        and upstream.in_this_run
        and upstream.previous_watermark == consumed.watermark
        and upstream.previous_run_started_at == consumed.run_started_at -%}
    {{ return({'consumed': consumed, 'upstream': upstream, 'follows': follows}) }}
{%- endmacro %}

{#- post_hook of int_activities_sessionized (before its watermark hooks) -#}
{% macro delete_removed_sessionized_activities() -%}
    {%- set window = incremental_window_active() -%}
    {%- if not window -%}{{ return('') }}{%- endif -%}
    {%- set inputs = sessionized_inputs(window) -%}
    {%- if inputs.follows -%}
    {{ delete_removed_activities(ref('activities'), inputs.consumed.run_started_at) }}
    {%- else -%}
    {{ delete_removed_activities(ref('activities')) }}
    {%- endif -%}
{%- endmacro %}

{#- post_hook of int_activities_sessionized: the rows of activities whose time is unknown now (a Square
    receipt re-delivered with a time zone the seed lacks), which a rebuild puts in no session. The model's
    change detection re-cut the sessions around the row's held time (timed_activities lacks it, and
    int_activities_unioned rewrote it); rows a rebuild of an older release put in a session are only
    deleted here (docs/operations.md, upgrading). -#}
{% macro delete_untimed_sessionized_activities() -%}
    {%- if not incremental_window_active() -%}{{ return('') }}{%- endif -%}
    delete from {{ this }}
    where activity_id in (select activity_id from {{ plain_relation(ref('activities')) }} where occurred_at is null)
{%- endmacro %}
