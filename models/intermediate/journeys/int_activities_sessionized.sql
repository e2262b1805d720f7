-- Every activity with the session it belongs to. A session is a run of one person's activities in one
-- scope with no gap longer than var session_timeout_minutes (default 30; a gap of exactly the timeout
-- stays in the session). Scope: web and app activities by device (device_id), because a person's phone
-- and laptop are separate visits; every other channel (e-mail, store, service, ...) per person and
-- channel, so an e-mail open and its click minutes later are one session while two store visits on
-- different days are two. The session id hashes person, scope and start time: stable while history is.
-- Incremental (daily runs, var min_date set): sessions are cut per person, so only the persons that
-- gained, lost or changed an activity since the last run are re-sessionized, over their whole history.
-- Those are found among the activities journeys.activities re-stitched in this run (what
-- int_activities_unioned wrote since then, the window, re-attributed records and devices): when this
-- model consumed exactly what journeys.activities had consumed before this run (their records in
-- int_incremental_watermarks), only those are compared with the rows held; otherwise (a run that
-- failed or skipped this model, no record yet) every activity is compared.
-- depends_on: {{ ref('int_incremental_watermarks') }}
-- depends_on: {{ ref('int_activities_unioned') }}
-- depends_on: {{ ref('int_identity_person_ids') }}
-- depends_on: {{ ref('int_identifier_observations') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    full_refresh=incremental_full_refresh(),
    unique_key='activity_id',
    on_schema_change='append_new_columns',
    post_hook=["{{ record_consumed_watermark('int_activities_sessionized', 'insert') }}",
        "{{ record_consumed_watermark('int_activities_sessionized', 'delete') }}"],
) }}
{%- set window = incremental_window_active() %}
{%- set consumed = consumed_watermark('int_activities_sessionized', window) %}
{%- set upstream = consumed_watermark('activities', window) %}
{#- journeys.activities ran in this run, reading from where this model's last run stopped -#}
{%- set follows = consumed and upstream and upstream.previous_watermark
    and upstream.in_this_run
    and upstream.previous_watermark == consumed.watermark %}

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
    left join reattributed r on a.source = r.source and a.record_id = r.record_id
    where {{ restitched_activities_condition('a') }}
),
{%- endif %}

changed as (
    select a.activity_id, a.person_id as new_person_id, t.person_id as old_person_id
    from {{ ref('activities') }} a
    {%- if follows %}
    join restitched s on a.activity_id = s.activity_id
    left join {{ this }} t on a.activity_id = t.activity_id
    {%- else %}
    full outer join {{ this }} t on a.activity_id = t.activity_id
    {%- endif %}
    where a.activity_id is null
        or t.activity_id is null
        {%- for column in ['person_id', 'is_known_person', 'occurred_at', 'activity', 'channel', 'device_id',
            'revenue', 'properties'] %}
        or a.{{ column }} is distinct from t.{{ column }}
        {%- endfor %}
        or a.session_id is distinct from t.tool_session_id
),

affected_persons as (
    select new_person_id as person_id from changed where new_person_id is not null
    union
    select old_person_id from changed where old_person_id is not null
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
    from {{ ref('activities') }}
    {%- if window %}
    where person_id in (select person_id from affected_persons)
    {%- endif %}
),

scoped as (
    select
        *,
        case
            when channel in ('web', 'app') and device_id is not null then 'device:' || device_id
            else 'channel:' || channel
        end as session_scope
    from activities
),

gaps as (
    select
        *,
        lag(occurred_at) over (
            partition by person_id, session_scope order by occurred_at, activity_id
        ) as previous_at
    from scoped
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
    {{ identity_run_started_at() }} as loaded_at
from with_start
