-- One row per funnel, entry period (var funnel_period, default week, of the unit's best attempt's entry),
-- breakdown value and step. Counts are cumulative: units_reached counts units whose furthest step is
-- at least this step, so every unit is counted once per funnel and periods add up.
with progress as (
    select * from {{ ref('funnel_progress') }}
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
        funnel_name,
        unit_id,
        step_index,
        seconds_from_previous
    from {{ ref('int_funnel_unit_steps') }}
),

grid as (
    select
        p.funnel_name,
        p.count_by,
        cast({{ dbt.date_trunc(var('funnel_period', 'week'), 'p.entry_date') }} as date) as entry_period,
        p.breakdown_value,
        s.step_index,
        s.step_name,
        p.unit_id,
        p.person_id,
        p.furthest_step_index,
        p.status,
        us.seconds_from_previous
    from progress as p
    inner join step_names as s on p.funnel_name = s.funnel_name
    left join unit_steps as us
        on
            p.funnel_name = us.funnel_name
            and p.unit_id = us.unit_id
            and s.step_index = us.step_index
),

counted as (
    select
        funnel_name,
        count_by,
        entry_period,
        breakdown_value,
        step_index,
        step_name,
        count(case when furthest_step_index >= step_index then 1 end) as units_reached,
        count(distinct case when furthest_step_index >= step_index then person_id end) as persons_reached,
        count(case when furthest_step_index = step_index and status = 'dropped' then 1 end) as dropped,
        count(case when furthest_step_index = step_index and status = 'in_progress' then 1 end) as in_progress,
        cast(avg(seconds_from_previous) as double) as mean_seconds_from_previous,
        cast({{ journeys_median('seconds_from_previous') }} as double) as median_seconds_from_previous
    from grid
    group by funnel_name, count_by, entry_period, breakdown_value, step_index, step_name
)

select
    funnel_name,
    count_by,
    entry_period,
    breakdown_value,
    step_index,
    step_name,
    units_reached,
    persons_reached,
    cast(units_reached as double) / nullif(first_value(units_reached) over (
        partition by funnel_name, entry_period, breakdown_value order by step_index
        rows between unbounded preceding and current row
    ), 0) as conversion_from_start,
    cast(units_reached as double) / nullif(lag(units_reached) over (
        partition by funnel_name, entry_period, breakdown_value order by step_index
    ), 0) as conversion_from_previous,
    dropped,
    in_progress,
    mean_seconds_from_previous,
    median_seconds_from_previous
from counted
