{#- One row per funnel and counting unit (person, or session for count_by: session): the unit counts at
    the furthest step reached over all its attempts. Its best attempt (furthest step, then earliest
    entry) gives the entry time and the step times; status is converted when the last step was
    reached, in_progress while any attempt's window is still open at the as-of time, else dropped. -#}
{%- set max_steps = funnel_max_steps() -%}

with attempts as (
    select
        *,
        row_number() over (
            partition by funnel_name, unit_id order by reached_step desc, entered_at asc, entry_rank asc
        ) as preference
    from {{ ref('int_funnel_attempts') }}
),

per_unit as (
    select
        funnel_name,
        unit_id,
        count(*) as attempt_count,
        max(case when window_ends_at > {{ journeys_as_of() }} then 1 else 0 end) as has_open_attempt
    from attempts
    group by funnel_name, unit_id
)

select
    a.funnel_name,
    a.count_by,
    a.funnel_order,
    a.unit_id,
    a.person_id,
    case when a.count_by = 'session' then a.unit_id end as session_id,
    a.step_count,
    a.reached_step as furthest_step_index,
    a.entry_rank,
    a.entered_at,
    a.last_step_at,
    a.window_ends_at,
    case when a.reached_step = a.step_count then a.last_step_at end as converted_at,
    case
        when a.reached_step = a.step_count then 'converted'
        when u.has_open_attempt = 1 then 'in_progress'
        else 'dropped'
    end as status,
    u.attempt_count
    {%- for k in range(1, max_steps + 1) %},
    a.step_{{ k }}_rank
{%- endfor %}
from attempts as a
inner join per_unit as u on a.funnel_name = u.funnel_name and a.unit_id = u.unit_id
where a.preference = 1
