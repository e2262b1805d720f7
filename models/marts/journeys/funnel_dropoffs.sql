-- One row per funnel and dropped unit: the step it dropped after, what the person did since (their
-- latest activity after the drop, in any channel) and whether they may be contacted by e-mail.
with dropped as (
    select *
    from {{ ref('funnel_progress') }}
    where status = 'dropped'
),

step_names as (
    select distinct
        funnel_name,
        step_index,
        step_name
    from {{ ref('int_funnel_step_matchers') }}
),

since as (
    select
        d.funnel_name,
        d.unit_id,
        a.occurred_at,
        a.activity,
        a.channel,
        count(*) over (partition by d.funnel_name, d.unit_id) as activities_since,
        row_number() over (
            partition by d.funnel_name, d.unit_id order by a.occurred_at desc, a.activity_id desc
        ) as recency
    from dropped as d
    inner join {{ ref('int_activities_sessionized') }} as a
        on
            d.person_id = a.person_id
            and d.last_step_at < a.occurred_at
)

select
    d.funnel_name,
    d.count_by,
    d.unit_id,
    d.person_id,
    d.entry_date,
    d.breakdown_value,
    d.furthest_step_index as dropped_after_step_index,
    d.furthest_step_name as dropped_after_step_name,
    nxt.step_name as missed_step_name,
    d.entered_at,
    d.last_step_at as dropped_at,
    d.window_ends_at,
    s.occurred_at as last_activity_at,
    s.activity as last_activity,
    s.channel as last_activity_channel,
    cast(coalesce(s.activities_since, 0) as {{ dbt.type_bigint() }}) as activities_since,
    pa.may_contact_email
from dropped as d
left join step_names as nxt
    on
        d.funnel_name = nxt.funnel_name
        and nxt.step_index = d.furthest_step_index + 1
left join since as s
    on
        d.funnel_name = s.funnel_name
        and d.unit_id = s.unit_id
        and s.recency = 1
left join {{ ref('int_journeys_person_attributes') }} as pa on d.person_id = pa.person_id
