-- One row per move of a person from a session in one channel to their next session in another channel
-- (person-step grain). Sessions are ordered by start; a move within one channel is not a transition.
-- Incremental (daily runs, var min_date set), per person like journeys.sessions: for every person
-- int_activities_sessionized re-cut since this model's watermark, the moves into a session that started at
-- or after the person's changed_from (journeys_changed_from) are deleted by the pre-hook with those of
-- persons left without any activity, and recomputed from the person's last session that started before
-- changed_from (unchanged, but its next session may be new). An earlier move is between two sessions that
-- started before changed_from: journeys.sessions holds them as a full refresh computes them. Without a
-- watermark every person is recomputed whole.
-- A table built before loaded_at gets the column (append_new_columns) and, having no watermark yet,
-- every person recomputed.
-- depends_on: {{ ref('int_incremental_watermarks') }}
-- depends_on: {{ ref('int_activities_sessionized') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_person_rows_from_change('int_channel_transitions', 'to_started_at') }}",
    post_hook=["{{ record_consumed_watermark('int_channel_transitions', 'insert', ref('int_activities_sessionized')) }}",
        "{{ record_consumed_watermark('int_channel_transitions', 'delete') }}"],
) }}
{%- set since = persons_recompute_since('int_channel_transitions') %}
{%- set from_change = recomputes_from_change(since) %}
{{- require_inputs_current('int_channel_transitions', ['sessions'], 'sessions') }}

with

{%- if from_change %}

-- from the start of the person's last session before its change (sessions that start together all)
resumed as (
    select
        c.person_id,
        c.changed_from,
        coalesce(max(s.started_at), c.changed_from) as resume_from
    from ({{ journeys_changed_from(since, 'int_channel_transitions') }}) as c
    left join {{ ref('sessions') }} as s
        on c.person_id = s.person_id and s.started_at < c.changed_from
    group by c.person_id, c.changed_from
),
{%- endif %}

sessions as (
    select
        s.session_id,
        s.person_id,
        s.channel,
        s.started_at,
        s.ended_at
        {%- if from_change %},
        r.changed_from
        {%- endif %}
    from {{ ref('sessions') }} as s
    {%- if from_change %}
    inner join resumed as r on s.person_id = r.person_id and s.started_at >= r.resume_from
    {%- endif %}
),

ordered as (
    select
        *,
        lead(session_id) over (partition by person_id order by started_at, session_id) as next_session_id,
        lead(channel) over (partition by person_id order by started_at, session_id) as next_channel,
        lead(started_at) over (partition by person_id order by started_at, session_id) as next_started_at
    from sessions
)

select
    person_id,
    session_id as from_session_id,
    next_session_id as to_session_id,
    channel as from_channel,
    next_channel as to_channel,
    ended_at as from_ended_at,
    next_started_at as to_started_at,
    -- overlapping sessions (browsing the app while in a store) count as an immediate move
    case
        when next_started_at < ended_at then 0
        else {{ seconds_between('ended_at', 'next_started_at') }}
    end as seconds_between,
    -- the run that computed the row
    {{ identity_run_started_at() }} as loaded_at
from ordered
where
    next_session_id is not null and next_channel <> channel
    {%- if from_change %}
    -- the moves into a session from the change on; the earlier ones are held
    and next_started_at >= changed_from
    {%- endif %}
