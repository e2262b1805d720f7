-- One row per session (see int_activities_sessionized for how sessions are cut, per scope).
with activities as (
    select * from {{ ref('int_activities_sessionized') }}
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
