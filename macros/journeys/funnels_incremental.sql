{#- Daily (incremental) runs of the drop-off alerts' counting chain:

      int_funnel_attempts --(persons re-cut, from their change)--> int_funnel_step_occurrences --(changed days)-->
      int_funnel_transition_days --> journeys.dropoff_alerts (statistics over days x series rows)

    int_funnel_step_occurrences recomputes the persons int_activities_sessionized re-cut since its
    watermark, like int_funnel_attempts, but only their rows from a funnel window before their first
    change (funnel_occurrences_recompute_from), and even those mostly come out as they were. So it
    appends the recomputed rows,
    and its post-hooks compare them with the rows they replace: only the (funnel, local day) pairs
    where a row appeared or disappeared are logged in int_funnel_changed_days, and the replaced rows
    are deleted. int_funnel_transition_days recounts the logged days since its own watermark. -#}

{#- What an occurrence row is computed with besides its person's data: the funnel configuration and the
    vars that decide its local day and its conversion. A change recomputes every person. -#}
{% macro funnel_occurrences_fingerprint() -%}
    {{ return(relations_fingerprint(funnel_config_relations())
        ~ ' reporting_timezone=' ~ journeys_reporting_timezone()
        ~ ' alert_transition_hours=' ~ (var('alert_transition_hours', 24) | int)) }}
{%- endmacro %}

{% macro funnel_occurrences_recompute_since() -%}
    {{ return(persons_recompute_since('int_funnel_step_occurrences', fingerprint=funnel_occurrences_fingerprint)) }}
{%- endmacro %}

{#- The columns that make an occurrence row (everything but loaded_at). -#}
{% macro funnel_occurrence_columns() -%}
    {{ return(['funnel_name', 'person_id', 'unit_id', 'from_step_index', 'channel', 'period_date',
        'converted_any_channel', 'converted_same_channel']) }}
{%- endmacro %}

{#- Whether a per-person model's daily run recomputes each re-cut person from its changed_from
    (journeys_changed_from): `since` is a watermark, not none (a rebuild) nor 'all' (everyone whole) -#}
{% macro recomputes_from_change(since) -%}
    {{ return(since is not none and since != 'all') }}
{%- endmacro %}

{#- Per person int_activities_sessionized re-cut after `since`, its earliest change: the earliest activity
    it re-cut (it re-cuts a person from before its first change: from the start of the session the change
    may extend, or the whole history), or earlier, the held time of an activity the person lost (moved to
    another person, removed, or moved in time), which no re-cut row of the person shows
    (person_changed_from). Nothing of the person before changed_from has changed. -#}
{% macro journeys_changed_from(since, consumer) -%}
    {#- person_changed_from is kept on the rows of the run that wrote them only: a later run that
        re-cuts the person again overwrites it. So it bounds the changes only when the consumer read
        int_activities_sessionized's previous run: its watermark is at least that run's start (the run
        wrote rows), or the consumer ran in that run or after it (a run that wrote no rows leaves the
        watermark older). A consumer that missed a run (failed or not selected) recomputes the listed
        persons whole. -#}
    {%- set sessionized = consumed_watermark('int_activities_sessionized', true) -%}
    {%- set previous = sessionized.previous_run_started_at if sessionized else none -%}
    {%- set consumed = consumed_watermark(consumer, true) -%}
    {%- if consumed and consumed.in_this_run -%}
        {#- read after the consumer recorded this run (a hook moved after record_consumed_watermark) -#}
        {{ exceptions.raise_compiler_error("journeys_changed_from: " ~ consumer ~ " already recorded this run's "
            ~ "watermark; call it before record_consumed_watermark") }}
    {%- endif -%}
    {%- set consumer_run = consumed.run_started_at if consumed else none -%}
    select
        person_id,
        {%- if previous is none %}
        cast('1900-01-01' as {{ dbt.type_timestamp() }}) as changed_from
        {%- else %}
        case
            when {{ since }} >= {{ previous }}{% if consumer_run is not none %} or {{ consumer_run }} >= {{ previous }}{% endif %}
                -- a lost activity's held time can be before every row re-cut for the person
                then min(least(occurred_at, coalesce(person_changed_from, occurred_at)))
            else cast('1900-01-01' as {{ dbt.type_timestamp() }})
        end as changed_from
        {%- endif %}
    from {{ ref('int_activities_sessionized') }}
    where loaded_at > {{ since }}
    group by person_id
{%- endmacro %}

{#- Where a recomputed person's rows may have changed: per person and funnel, the local days from
    recompute_from_date on. changed_from (journeys_changed_from) bounds every change of the person. An
    attempt whose window ended before it has the same events, links, interruptions and exclusions as
    before, and every step event of a day before recompute_from_date (the local day of changed_from
    minus the funnel window) belongs only to such attempts: those rows are what a rebuild computes. -#}
{% macro funnel_occurrences_recompute_from(since) -%}
    {#- the consumer: int_funnel_step_occurrences, whose hooks and body call this -#}
    {%- set tz_sql = "'" ~ journeys_reporting_timezone() ~ "'" -%}
    {%- set entered_from = dbt.dateadd('second', '-1 * d.window_seconds', 'c.changed_from') -%}
    select
        c.person_id,
        d.funnel_name,
        {{ entered_from }} as entered_from,
        cast({{ utc_to_local_timestamp(entered_from, tz_sql) }} as date) as recompute_from_date
    from ({{ journeys_changed_from(since, 'int_funnel_step_occurrences') }}) as c
    cross join {{ ref('int_funnel_definitions') }} as d
    where d.funnel_order <> 'unordered'
{%- endmacro %}

{#- The held rows this run replaces (`alias` is int_funnel_step_occurrences): written by an earlier run, of
    a recomputed person from its recompute_from_date on, or of a person without activity any more
    (merged into another). -#}
{% macro funnel_replaced_occurrences_condition(since, alias) -%}
    {{ alias }}.loaded_at < {{ identity_run_started_at() }}
    {%- if since is none %}
    and 1 = 0
    {%- elif since != 'all' %}
    and (
        exists (
            select 1 from ({{ funnel_occurrences_recompute_from(since) }}) as r
            where
                r.person_id = {{ alias }}.person_id
                and r.funnel_name = {{ alias }}.funnel_name
                and {{ alias }}.period_date >= r.recompute_from_date
        )
        or {{ alias }}.person_id not in ({{ persons_with_activity() }})
    )
    {%- endif -%}
{%- endmacro %}

{#- post-hook 1 of int_funnel_step_occurrences: log the (funnel, local day) pairs whose rows changed,
    i.e. rows appended in this run that were not held before, and replaced rows that did not come back.
    A rebuild logs every day it holds. -#}
{% macro log_changed_funnel_days() -%}
    {%- set since = funnel_occurrences_recompute_since() -%}
    {%- set columns = funnel_occurrence_columns() | join(', ') -%}
    insert into {{ plain_relation(ref('int_funnel_changed_days')) }} (funnel_name, period_date, loaded_at)
    select distinct funnel_name, period_date, {{ identity_run_started_at() }}
    from (
        select * from (
            select {{ columns }} from {{ this }} where loaded_at = {{ identity_run_started_at() }}
            except
            select {{ columns }} from {{ this }} as o where {{ funnel_replaced_occurrences_condition(since, 'o') }}
        ) as appeared
        union all
        select * from (
            select {{ columns }} from {{ this }} as o where {{ funnel_replaced_occurrences_condition(since, 'o') }}
            except
            select {{ columns }} from {{ this }} where loaded_at = {{ identity_run_started_at() }}
        ) as disappeared
    ) as changed
{%- endmacro %}

{#- post-hook 2 of int_funnel_step_occurrences: drop the replaced rows (their successors are appended) -#}
{% macro delete_replaced_funnel_occurrences() -%}
    {%- set since = funnel_occurrences_recompute_since() -%}
    {%- if since is not none -%}
    delete from {{ this }} as o where {{ funnel_replaced_occurrences_condition(since, 'o') }}
    {%- endif -%}
{%- endmacro %}

{#- int_funnel_transition_days: none outside a daily run, 'all' without a watermark, else the newest
    loaded_at of int_funnel_changed_days it has recounted -#}
{% macro funnel_transition_days_since() -%}
    {%- if not incremental_window_active() -%}{{ return(none) }}{%- endif -%}
    {%- set consumed = consumed_watermark('int_funnel_transition_days', true) -%}
    {{ return(consumed.watermark if consumed else 'all') }}
{%- endmacro %}

{#- the (funnel, local day) pairs to recount: every one logged after `since` -#}
{% macro funnel_days_to_recount(since) -%}
    select distinct funnel_name, period_date
    from {{ ref('int_funnel_changed_days') }}
    where loaded_at > {{ since }}
{%- endmacro %}

{#- pre-hook of int_funnel_transition_days (its recounted days are appended after it) -#}
{% macro delete_funnel_days_to_recount() -%}
    {%- set since = funnel_transition_days_since() -%}
    {%- if since == 'all' -%}
    delete from {{ this }}
    {%- elif since is not none -%}
    delete from {{ this }} as t
    where exists (
        select 1 from ({{ funnel_days_to_recount(since) }}) as c
        where c.funnel_name = t.funnel_name and c.period_date = t.period_date
    )
    {%- endif -%}
{%- endmacro %}

{#- post-hook of int_funnel_transition_days, after its watermark is recorded: the log keeps only its newest
    batch (every older row has been recounted; the newest keeps the watermark's value readable) -#}
{% macro prune_funnel_changed_days() -%}
    {%- set log = plain_relation(ref('int_funnel_changed_days')) -%}
    delete from {{ log }} where loaded_at < (select max(loaded_at) from {{ log }})
{%- endmacro %}

{#- int_purchase_paths: the setting a path is computed with -#}
{% macro purchase_paths_fingerprint() -%}
    {{ return('path_lookback_days=' ~ (var('path_lookback_days', 30) | int)) }}
{%- endmacro %}

{#- The persons int_activities_sessionized holds: distinct, so that a NOT IN builds its hash over the
    persons, not over every activity (ten times faster at 6M activities) -#}
{% macro persons_with_activity() -%}
    select distinct person_id from {{ ref('int_activities_sessionized') }}
{%- endmacro %}

{#- int_funnel_units, whose status depends on the as-of time (journeys_as_of): besides the re-cut persons
    (persons_recompute_since), a daily run recomputes the persons of the held units in progress whose
    last attempt window (open_until) has ended by the as-of time, and everyone when the as-of time is
    earlier than the held one (a dropped unit may be open again). A converted unit stays
    converted and a dropped one stays dropped while the as-of time only moves on: every window of it had
    ended. `alias`: the rows tested (int_funnel_attempts in the body, the held rows in the post-hook);
    held rows are those of earlier runs. -#}
{% macro funnel_units_recompute_condition(since, alias) -%}
    {%- set held -%}
        (select * from {{ this }} where loaded_at < {{ identity_run_started_at() }})
    {%- endset -%}
    (
        {{ alias }}.person_id in ({{ recomputed_persons(since) }})
        or {{ alias }}.person_id in (
            select h.person_id from {{ held }} as h
            where h.status = 'in_progress' and h.open_until <= {{ journeys_as_of() }}
        )
        or (select max(h.status_as_of) from {{ held }} as h) > {{ journeys_as_of() }}
    )
{%- endmacro %}

{#- post-hook of int_funnel_units: drop the held rows of the units recomputed (their successors are
    appended) and of persons without activity any more -#}
{% macro delete_replaced_funnel_units() -%}
    {%- set since = persons_recompute_since('int_funnel_units', funnel_config_relations()) -%}
    {%- if since is not none -%}
    delete from {{ this }} as o
    where
        {%- if since == 'all' %}
        -- rows of the table this model was before it was incremental carry no loaded_at
        o.loaded_at < {{ identity_run_started_at() }} or o.loaded_at is null
        {%- else %}
        o.loaded_at < {{ identity_run_started_at() }}
        and (
            {{ funnel_units_recompute_condition(since, 'o') }}
            or o.person_id not in ({{ persons_with_activity() }})
        )
        {%- endif %}
    {%- endif -%}
{%- endmacro %}

{#- pre-hook of a per-person model that recomputes a re-cut person only from its change on
    (journeys_changed_from: nothing of the person before it has changed): the person's rows whose
    `time_column` is at or after its changed_from; without `time_column`, a model that recomputes each
    re-cut person whole (int_funnel_unit_steps): all its rows. And the rows of persons without activity
    any more; every row when all are recomputed (no watermark, or `config_relations` / `fingerprint`
    changed). -#}
{% macro delete_person_rows_from_change(consumer, time_column=none, config_relations=none, fingerprint=none) -%}
    {%- set since = persons_recompute_since(consumer, config_relations, fingerprint) -%}
    {%- if since == 'all' -%}
    delete from {{ this }}
    {%- elif since is not none -%}
    delete from {{ this }} as o
    where
        {%- if time_column %}
        exists (
            select 1 from ({{ journeys_changed_from(since, consumer) }}) as c
            where c.person_id = o.person_id and o.{{ time_column }} >= c.changed_from
        )
        {%- else %}
        o.person_id in ({{ recomputed_persons(since) }})
        {%- endif %}
        or o.person_id not in ({{ persons_with_activity() }})
    {%- endif -%}
{%- endmacro %}

{#- A per-person model that reads other per-person models (`inputs`: journeys.sessions for
    int_channel_transitions and int_purchase_paths; the funnel chain's earlier tables for its later ones)
    but takes the persons to recompute, and its watermark, from int_activities_sessionized: each input
    must have run since int_activities_sessionized last did, or the model would record those persons as
    consumed while reading their old rows (in a daily run or a rebuild alike). With `config_relations`
    (the funnel chain) each input must also have been built with the configuration they hold now (the
    fingerprint it recorded): after the funnels are compiled again, the model would recompute everyone
    from rows of the old funnels and record the new configuration as consumed. Raised when the model is
    built (run, build, retry; not by dbt compile or docs), before its pre-hook deletes anything: a
    selection that leaves an input out after a run of int_activities_sessionized or a new funnel
    configuration. `root`: the model to build from, named in the error. Compares the runs recorded in
    int_incremental_watermarks (each input records one under its own name; their watermarks can be
    null: an empty int_activities_sessionized). -#}
{% macro require_inputs_current(consumer, inputs, root, config_relations=none) -%}
    {%- if not execute or flags.WHICH not in ('run', 'build', 'retry') -%}{{ return('') }}{%- endif -%}
    {%- set held = load_relation(ref('int_incremental_watermarks')) -%}
    {%- if held is none -%}{{ return('') }}{%- endif -%}
    {%- set fix = ": run them together, e.g. dbt build --select " ~ root ~ "+" -%}
    {%- set last_run = 'select max(run_started_at) as run_started_at from ' ~ held ~ ' where consumer = ' -%}
    {%- set fingerprint = relations_fingerprint(config_relations) if config_relations is not none else none -%}
    {%- for input in inputs -%}
        {%- set behind = run_query(
            'select coalesce(s.run_started_at < z.run_started_at, z.run_started_at is not null) from ('
            ~ last_run ~ "'" ~ input ~ "') as s, (" ~ last_run ~ "'int_activities_sessionized') as z")[0][0] -%}
        {%- if behind -%}
            {{ exceptions.raise_compiler_error(consumer ~ " reads " ~ input ~ ", which has not run since "
                ~ "int_activities_sessionized last did" ~ fix) }}
        {%- endif -%}
        {%- if fingerprint is not none -%}
            {%- set built_with = run_query('select input_fingerprint from ' ~ held ~ " where consumer = '" ~ input
                ~ "' order by run_started_at desc limit 1") -%}
            {%- if built_with | length == 0 or built_with[0][0] != fingerprint -%}
                {{ exceptions.raise_compiler_error(consumer ~ " reads " ~ input ~ ", which was built with another "
                    ~ "funnel configuration than the one compiled now" ~ fix) }}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}

{#- require_inputs_current for the funnel chain: built from int_funnel_step_events, with the funnel
    configuration -#}
{% macro require_funnel_inputs_current(consumer, inputs) -%}
    {{ return(require_inputs_current(consumer, inputs, 'int_funnel_step_events', funnel_config_relations())) }}
{%- endmacro %}
