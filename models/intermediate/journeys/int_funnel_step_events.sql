-- Every activity that can fill a funnel step: one row per (funnel, event, step it matches), for the
-- funnel's counting unit (the person, or the session for count_by: session). Matching is a join against
-- the compiled definitions (source funnel_config): activity, optional channel, and all property filters.
-- event_rank orders a unit's events: by time, then by the lowest step the event can fill (so different
-- steps at the same timestamp count in step order), then by activity_id (a stable tie-break).
-- Incremental (daily runs), per person: a unit's events are its person's activities, so only the persons
-- int_activities_sessionized re-cut since this model's watermark are recomputed (all of them after a
-- change of the funnel configuration; macros/identity/incremental_window.sql, persons_recompute_since).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_persons_to_recompute('int_funnel_step_events', funnel_config_relations()) }}",
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

with definitions as (
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
        activity_id,
        person_id,
        session_id,
        occurred_at,
        activity,
        channel,
        properties
    from {{ ref('int_activities_sessionized') }}
    where true {{ persons_recompute_filter(since) }}
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
)

select
    funnel_name,
    count_by,
    unit_id,
    person_id,
    session_id,
    activity_id,
    occurred_at,
    activity,
    channel,
    step_index,
    dense_rank() over (
        partition by funnel_name, unit_id order by occurred_at, lowest_step, activity_id
    ) as event_rank
from with_unit
