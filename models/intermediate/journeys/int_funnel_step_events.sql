-- Every activity that can fill a funnel step: one row per (funnel, event, step it matches), for the
-- funnel's counting unit (the person, or the session for count_by: session). Matching is a join against
-- the compiled definitions (source funnel_config): activity, optional channel, and all property filters.
-- event_rank orders a unit's events: by time, then by the lowest step the event can fill (so different
-- steps at the same timestamp count in step order), then by activity_id (a stable tie-break).
-- Incremental (daily runs), per person: a unit's events are its person's activities, so only the persons
-- int_activities_sessionized re-cut since this model's watermark are recomputed (all of them after a
-- change of the funnel configuration; macros/identity/incremental_window.sql, persons_recompute_since),
-- and each from its changed_from on (macros/journeys/funnels_incremental.sql, journeys_changed_from):
-- nothing of the person before it changed, its sessions that started before it included, so its events
-- before it keep their rows and ranks (ranks follow time) and the events from it on rank after them.
-- loaded_at: the run that (re)computed the row (a kept row keeps its run's).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_person_rows_from_change('int_funnel_step_events', 'occurred_at',
        funnel_config_relations()) }}",
    post_hook=["{{ record_consumed_watermark('int_funnel_step_events', 'insert', ref('int_activities_sessionized'),
            relations_fingerprint(funnel_config_relations())) }}",
        "{{ record_consumed_watermark('int_funnel_step_events', 'delete') }}"],
) }}
-- depends_on: {{ ref('int_incremental_watermarks') }}
-- depends_on: {{ ref('int_funnel_definitions') }}
-- depends_on: {{ ref('int_funnel_step_matchers') }}
-- depends_on: {{ ref('int_funnel_step_filters') }}
-- depends_on: {{ ref('int_funnel_interruptions') }}
-- depends_on: {{ ref('int_funnel_exclusions') }}
-- depends_on: {{ ref('int_activities_sessionized') }}
{%- set since = persons_recompute_since('int_funnel_step_events', funnel_config_relations()) %}
{%- set from_change = recomputes_from_change(since) %}

with
{%- if from_change %}
changed as (
    {{ journeys_changed_from(since, 'int_funnel_step_events') }}
),

-- the last rank of each unit of a recomputed person among the rows the pre-hook kept (before the
-- person's changed_from): the unit's events from changed_from on rank after it
held_ranks as (
    select
        e.funnel_name,
        e.unit_id,
        max(e.event_rank) as held_rank
    from {{ this }} as e
    inner join changed as c on e.person_id = c.person_id
    group by e.funnel_name, e.unit_id
),
{%- endif %}

definitions as (
    select
        funnel_name,
        count_by,
        entry_start,
        entry_end
    from {{ ref('int_funnel_definitions') }}
),

matchers as (
    select
        funnel_name,
        step_index,
        activity,
        channel,
        filter_count
    from {{ ref('int_funnel_step_matchers') }}
),

filters as (
    select
        funnel_name,
        step_index,
        property_key,
        property_value
    from {{ ref('int_funnel_step_filters') }}
),

activities as (
    select
        a.activity_id,
        a.person_id,
        a.session_id,
        a.occurred_at,
        a.activity,
        a.channel,
        a.properties
    from {{ ref('int_activities_sessionized') }} as a
    {%- if from_change %}
    inner join changed as c on a.person_id = c.person_id and a.occurred_at >= c.changed_from
    {%- endif %}
),

-- the compiled matchers are unique per (funnel, step, activity, channel), so no event matches one step
-- twice; properties are carried only where a filter needs them (they are wide, and sorted below)
matched as (
    select
        m.funnel_name,
        m.step_index,
        m.filter_count,
        a.activity_id,
        a.person_id,
        a.session_id,
        a.occurred_at,
        a.activity,
        a.channel,
        case when m.filter_count > 0 then a.properties end as properties
    from activities as a
    inner join matchers as m
        on
            a.activity = m.activity
            and (m.channel is null or a.channel = m.channel)
),

-- steps with property filters keep an event only when every filter holds
filter_hits as (
    select
        x.funnel_name,
        x.step_index,
        x.activity_id,
        count(*) as hits
    from matched as x
    inner join filters as f
        on
            x.funnel_name = f.funnel_name
            and x.step_index = f.step_index
            and {{ json_property_by_key('x.properties', 'f.property_key') }} = f.property_value
    where x.filter_count > 0
    group by x.funnel_name, x.step_index, x.activity_id
),

kept as (
    select x.*
    from matched as x
    left join filter_hits as h
        on
            x.funnel_name = h.funnel_name
            and x.step_index = h.step_index
            and x.activity_id = h.activity_id
    where x.filter_count = 0 or h.hits = x.filter_count
),

with_unit as (
    select
        k.*,
        d.count_by,
        case when d.count_by = 'session' then k.session_id else k.person_id end as unit_id,
        min(k.step_index) over (partition by k.funnel_name, k.activity_id) as lowest_step
    from kept as k
    inner join definitions as d on k.funnel_name = d.funnel_name
),

ranked as (
    select
        *,
        dense_rank() over (
            partition by funnel_name, unit_id order by occurred_at, lowest_step, activity_id
        ) as unit_rank
    from with_unit
)

select
    r.funnel_name,
    r.count_by,
    r.unit_id,
    r.person_id,
    r.session_id,
    r.activity_id,
    r.occurred_at,
    r.activity,
    r.channel,
    r.step_index,
    {%- if from_change %}
    coalesce(h.held_rank, 0) + r.unit_rank as event_rank,
    {%- else %}
    r.unit_rank as event_rank,
    {%- endif %}
    {{ identity_run_started_at() }} as loaded_at
from ranked as r
{%- if from_change %}
left join held_ranks as h on r.funnel_name = h.funnel_name and r.unit_id = h.unit_id
{%- endif %}
