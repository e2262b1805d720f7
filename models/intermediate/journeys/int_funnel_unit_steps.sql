{#- The steps of each unit's best attempt, one row per step reached, with the event that filled it (for
    unordered funnels only the entry event is known, later steps have no single event). -#}
{%- set max_steps = funnel_max_steps() -%}

with units as (
    select * from {{ ref('int_funnel_units') }}
),

step_names as (
    select distinct
        funnel_name,
        step_index,
        step_name
    from {{ ref('int_funnel_step_matchers') }}
),

unit_steps as (
    select
        u.funnel_name,
        u.unit_id,
        u.person_id,
        u.funnel_order,
        s.step_index,
        s.step_name,
        case s.step_index
            {%- for k in range(1, max_steps + 1) %} when
                {{ k }}
                then u.step_{{ k }}_rank
            {% endfor %}
        end as event_rank
    from units as u
    inner join step_names as s
        on
            u.funnel_name = s.funnel_name
            and u.furthest_step_index >= s.step_index
),

events as (
    select distinct
        funnel_name,
        unit_id,
        event_rank,
        activity_id,
        occurred_at,
        channel
    from {{ ref('int_funnel_step_events') }}
),

activities as (
    select
        activity_id,
        properties
    from {{ ref('int_activities_sessionized') }}
)

select
    us.funnel_name,
    us.unit_id,
    us.person_id,
    us.step_index,
    us.step_name,
    e.activity_id,
    e.occurred_at as reached_at,
    e.channel,
    a.properties,
    {{ seconds_between(
        'lag(e.occurred_at) over (partition by us.funnel_name, us.unit_id order by us.step_index)',
        'e.occurred_at'
    ) }} as seconds_from_previous
from unit_steps as us
left join events as e
    on
        us.funnel_name = e.funnel_name
        and us.unit_id = e.unit_id
        and us.event_rank = e.event_rank
left join activities as a on e.activity_id = a.activity_id
