-- Every activity with the session it belongs to. A session is a run of one person's activities in one
-- scope with no gap longer than var session_timeout_minutes (default 30; a gap of exactly the timeout
-- stays in the session). Scope: web and app activities by device (device_id), because a person's phone
-- and laptop are separate visits; every other channel (e-mail, store, service, ...) per person and
-- channel, so an e-mail open and its click minutes later are one session while two store visits on
-- different days are two. The session id hashes person, scope and start time: stable while history is.
-- Incremental (daily runs, var min_date set): only the persons that gained, lost or changed an activity
-- since the last run are re-sessionized, and in each of their scopes only from the start of the held
-- session the first change may extend (the session of the last unchanged activity before it): every
-- earlier session ended more than the timeout before that start, so nothing after it can change it.
-- A person none of whose rows falls in such a re-cut (an activity moved to another person was the
-- last of its scope) is re-cut over its whole history, so journeys.sessions recomputes that person.
-- The changes are found among the activities journeys.activities re-stitched in this run (what
-- int_activities_unioned wrote since then, the window, records whose identifiers were reloaded,
-- re-attributed records and devices): when this model consumed exactly what journeys.activities had
-- consumed before this run, in journeys.activities' previous run (their records in
-- int_incremental_watermarks), only those are compared with the rows held; otherwise (a run that
-- failed or skipped this model, no record yet) every activity is compared.
-- An activity without a time (a Square sale whose time zone is unknown) is in no session: it is left
-- out here as if absent, so every model downstream (sessions, funnels, paths) leaves it out too; one
-- that had a time is a lost activity, and the second post-hook deletes its row.
-- An activity gone from journeys.activities (its record vanished from a re-delivered export: logged in
-- stg_lake__removed_records) is a change at its held time for its held person and scope; the first
-- post-hook deletes its row (macros/journeys/removed_activities.sql).
-- depends_on: {{ ref('int_incremental_watermarks') }}
-- depends_on: {{ ref('int_activities_unioned') }}
-- depends_on: {{ ref('int_identity_person_ids') }}
-- depends_on: {{ ref('int_identifier_observations') }}
-- depends_on: {{ ref('stg_lake__removed_records') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='activity_id',
    on_schema_change='append_new_columns',
    post_hook=["{{ delete_removed_sessionized_activities() }}",
        "{{ delete_untimed_sessionized_activities() }}",
        "{{ record_consumed_watermark('int_activities_sessionized', 'insert') }}",
        "{{ record_consumed_watermark('int_activities_sessionized', 'delete') }}"],
) }}
{%- set window = incremental_window_active() %}
{%- set inputs = sessionized_inputs(window) %}
{%- set consumed, upstream, follows = inputs.consumed, inputs.upstream, inputs.follows %}

{#- a subquery, not a CTE: DuckDB materialises a CTE read twice, every column of every activity, where
    each reader needs only some rows -#}
{%- set timed_activities %}(select * from {{ ref('activities') }} where occurred_at is not null){% endset %}

with
{%- if window %}
{%- if follows %}
{#- the identifiers journeys.activities re-attributed: changed since its previous run #}
{{ restitched_activities_ctes(upstream.previous_run_started_at) }}

restitched as (
    select activity_id
    from {{ ref('int_activities_unioned') }}
    where loaded_at > {{ consumed.watermark }}
    union
    select a.activity_id
    from {{ ref('activities') }} a
    {{ restitched_activities_joins('a', hashed_devices=true) }}
    where {{ restitched_activities_condition('a') }}
    union
    -- removed: gone from journeys.activities (or re-read from an older file) since this model's last run
    {{ removed_activity_ids(consumed.run_started_at) }}
),
{%- endif %}

changed as (
    select
        a.activity_id,
        a.person_id as new_person_id,
        t.person_id as old_person_id,
        {{ session_scope_of('a') }} as new_scope,
        t.session_scope as old_scope,
        a.occurred_at as new_at,
        t.occurred_at as old_at
    {%- if follows %}
    from restitched s
    left join {{ timed_activities }} as a on s.activity_id = a.activity_id
    left join {{ this }} t on s.activity_id = t.activity_id
    where (a.activity_id is not null or t.activity_id is not null) and (a.activity_id is null
    {%- else %}
    from {{ timed_activities }} as a
    full outer join {{ this }} t on a.activity_id = t.activity_id
    where (a.activity_id is null
    {%- endif %}
        or t.activity_id is null
        {%- for column in ['person_id', 'is_known_person', 'occurred_at', 'activity', 'channel', 'device_id',
            'revenue', 'properties'] %}
        or a.{{ column }} is distinct from t.{{ column }}
        {%- endfor %}
        or a.session_id is distinct from t.tool_session_id)
),

-- the earliest change per person and scope (a moved activity counts where it was and where it is)
changed_scopes as (
    select person_id, session_scope, min(changed_at) as changed_from
    from (
        select new_person_id as person_id, new_scope as session_scope, new_at as changed_at
        from changed where new_person_id is not null
        union all
        select old_person_id, old_scope, old_at from changed where old_person_id is not null
    ) moves
    group by person_id, session_scope
),

-- re-cut from the start of the held session of the last unchanged activity before the first change
-- (session starts grow with time in a scope, so the latest start before it is that session's), or
-- from the change itself when nothing is held before it
cut_points as (
    select
        c.person_id,
        c.session_scope,
        coalesce(max(t.session_started_at), c.changed_from) as cut_from
    from changed_scopes c
    left join {{ this }} t
        on c.person_id = t.person_id
        and c.session_scope = t.session_scope
        and t.occurred_at < c.changed_from
    group by c.person_id, c.session_scope, c.changed_from
),

affected_persons as (
    select distinct person_id from changed_scopes
),

-- each changed person's earliest change, a lost activity's held time included: the rows written for
-- a person may all be later than what it lost (see person_changed_from below)
person_changes as (
    select person_id, min(changed_from) as person_changed_from
    from changed_scopes
    group by person_id
),
{%- endif %}

activities as (
    select
        activity_id,
        person_id,
        is_known_person,
        occurred_at,
        activity,
        channel,
        device_id,
        session_id as tool_session_id,
        revenue,
        properties
    from {{ timed_activities }} as timed_activities
    {%- if window %}
    where person_id in (select person_id from affected_persons)
    {%- endif %}
),

scoped as (
    select
        *,
        {{ session_scope_of('activities') }} as session_scope
    from activities
),
{%- if window %}

-- the rows of each changed scope from its cut on
recut as (
    select s.*
    from scoped s
    join cut_points c
        on s.person_id = c.person_id
        and s.session_scope = c.session_scope
        and s.occurred_at >= c.cut_from
),

to_cut as (
    select * from recut
    union all
    -- persons without a row in any cut: their whole history
    select s.* from scoped s
    where s.person_id not in (select person_id from recut)
),
{%- endif %}

gaps as (
    select
        *,
        lag(occurred_at) over (
            partition by person_id, session_scope order by occurred_at, activity_id
        ) as previous_at
    from {{ 'to_cut' if window else 'scoped' }}
),

starts as (
    select
        *,
        case
            when previous_at is null then 1
            when {{ seconds_between('previous_at', 'occurred_at') }}
                > {{ var('session_timeout_minutes', 30) | int }} * 60 then 1
            else 0
        end as is_session_start
    from gaps
),

numbered as (
    select
        *,
        sum(is_session_start) over (
            partition by person_id, session_scope order by occurred_at, activity_id
            rows between unbounded preceding and current row
        ) as session_number
    from starts
),

with_start as (
    select
        *,
        min(occurred_at) over (partition by person_id, session_scope, session_number) as session_started_at
    from numbered
)

select
    activity_id,
    person_id,
    is_known_person,
    occurred_at,
    activity,
    channel,
    device_id,
    tool_session_id,
    revenue,
    properties,
    session_scope,
    {{ dbt.hash(dbt.concat([
        "person_id", "'|'", "session_scope", "'|'",
        "cast(session_started_at as " ~ dbt.type_string() ~ ")"
    ])) }} as session_id,
    session_started_at,
    -- the run that (re)cut the person's sessions: journeys.sessions recomputes those persons
    {{ identity_run_started_at() }} as loaded_at,
    -- in a daily run, the person's earliest change (an activity gained, lost, changed or moved), which
    -- may be before every row written for it: per-person models downstream that recompute only from a
    -- person's change on start there (journeys_changed_from); null in a rebuild
    {%- if window %}
    (select c.person_changed_from from person_changes c where c.person_id = with_start.person_id)
    {%- else %}
    cast(null as {{ dbt.type_timestamp() }})
    {%- endif %} as person_changed_from
from with_start
