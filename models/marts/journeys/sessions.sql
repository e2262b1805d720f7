-- One row per session (see int_activities_sessionized for how sessions are cut, per scope).
-- Incremental (daily runs, var min_date set), per person like the funnel chain
-- (macros/identity/incremental_window.sql, persons_recompute_since): for every person
-- int_activities_sessionized re-cut since this model last consumed it (its loaded_at after the
-- watermark this model records in int_incremental_watermarks, committed with its rows), the sessions
-- that started at or after the person's changed_from (macros/journeys/funnels_incremental.sql,
-- journeys_changed_from) are deleted by the pre-hook with those of persons left without any activity
-- (merged into another person), and recomputed from the activities of those sessions. A session that
-- started earlier is unchanged: each scope is re-cut from the start of a held session, and every
-- earlier session of the scope ended before it. A session belongs to one person (its id hashes the
-- person), so every other session is the one a full refresh computes. Without a watermark every person
-- is recomputed whole.
-- depends_on: {{ ref('int_incremental_watermarks') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_person_rows_from_change('sessions', 'started_at') }}",
    post_hook=["{{ record_consumed_watermark('sessions', 'insert', ref('int_activities_sessionized')) }}",
        "{{ record_consumed_watermark('sessions', 'delete') }}"],
) }}
{%- set since = persons_recompute_since('sessions') %}
{%- set from_change = recomputes_from_change(since) %}

with activities as (
    select a.*
    from {{ ref('int_activities_sessionized') }} as a
    {%- if from_change %}
    inner join ({{ journeys_changed_from(since, 'sessions') }}) as c
        on a.person_id = c.person_id and a.session_started_at >= c.changed_from
    {%- endif %}
),

ranked as (
    select
        *,
        row_number() over (partition by session_id order by occurred_at, activity_id) as position_first,
        row_number() over (partition by session_id order by occurred_at desc, activity_id desc) as position_last
    from activities
)

select
    session_id,
    max(person_id) as person_id,
    cast(max(case when is_known_person then 1 else 0 end) = 1 as boolean) as is_known_person,
    max(case when position_first = 1 then channel end) as channel,
    max(case when position_first = 1 then device_id end) as device_id,
    max(session_scope) as session_scope,
    min(occurred_at) as started_at,
    max(occurred_at) as ended_at,
    {{ seconds_between('min(occurred_at)', 'max(occurred_at)') }} as duration_seconds,
    count(*) as activity_count,
    max(case when position_first = 1 then activity end) as first_activity,
    max(case when position_last = 1 then activity end) as last_activity,
    cast(sum(case when activity in ('purchase', 'store_purchase') then 1 else 0 end) as {{ dbt.type_bigint() }})
        as purchase_count,
    cast(
        coalesce(sum(case when activity in ('purchase', 'store_purchase') then revenue end), 0)
        as decimal(18, 2)
    ) as revenue
from ranked
group by session_id
