-- Per funnel step transition (step i -> i + 1), channel of the step-i event ('(all)' for every channel)
-- and day step i was reached: conversion to step i + 1 within var alert_transition_hours (24) of step i
-- (and inside the attempt's window), against the trailing baseline of the var alert_baseline_days (28)
-- days before it. The transition's own wait keeps alerts timely: a checkout outage shows the next day,
-- not after a 14-day funnel window. Flagged by a one-sided two-proportion z-test (pooled
-- variance): p_value < var alert_alpha (0.001), with at least var alert_min_volume (5) units on the day
-- and in the baseline. Only days whose waits have all closed at the as-of time appear
-- (day + 1 day + the shorter of the transition wait and the funnel window <= as-of).
-- Ordered and strict funnels only (unordered steps have no transition order).
with definitions as (
    select
        funnel_name,
        window_seconds,
        funnel_order,
        step_count
    from {{ ref('int_funnel_definitions') }}
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
        reached_at,
        channel
    from {{ ref('int_funnel_unit_steps') }}
),

transitions as (
    select
        cur.funnel_name,
        cur.step_index as from_step_index,
        cast(cur.reached_at as date) as period_date,
        cur.channel,
        case
            when nxt.reached_at <= {{ dbt.dateadd('hour', var('alert_transition_hours', 24) | int, 'cur.reached_at') }}
                then 1
            else 0
        end as converted
    from unit_steps as cur
    inner join definitions as d on cur.funnel_name = d.funnel_name
    left join unit_steps as nxt
        on
            cur.funnel_name = nxt.funnel_name
            and cur.unit_id = nxt.unit_id
            and nxt.step_index = cur.step_index + 1
    where
        d.funnel_order <> 'unordered'
        and cur.step_index < d.step_count
        -- closed: every unit reaching step i that day has had its full wait by the as-of time
        and {{ dbt.dateadd(
                'second',
                'least(d.window_seconds, ' ~ (var('alert_transition_hours', 24) | int) ~ ' * 3600) + 86400',
                'cast(cast(cur.reached_at as date) as ' ~ dbt.type_timestamp() ~ ')'
            ) }} <= {{ journeys_as_of() }}
),

daily as (
    select
        funnel_name,
        from_step_index,
        channel,
        period_date,
        count(*) as units,
        sum(converted) as converted
    from transitions
    group by funnel_name, from_step_index, channel, period_date
    union all
    select
        funnel_name,
        from_step_index,
        '(all)' as channel,
        period_date,
        count(*) as units,
        sum(converted) as converted
    from transitions
    group by funnel_name, from_step_index, period_date
),

with_baseline as (
    select
        *,
        sum(units) over baseline_days as baseline_units,
        sum(converted) over baseline_days as baseline_converted
    from (
        select
            *,
            {{ dbt.datediff("cast('1970-01-01' as date)", 'period_date', 'day') }} as day_number
        from daily
    ) as numbered
    window baseline_days as (
        partition by funnel_name, from_step_index, channel
        order by day_number
        range between {{ var('alert_baseline_days', 28) | int }} preceding and 1 preceding
    )
),

tested as (
    select
        *,
        cast(converted as double) / units as conversion,
        cast(baseline_converted as double) / nullif(baseline_units, 0) as baseline_conversion,
        cast(converted + baseline_converted as double) / nullif(units + baseline_units, 0) as pooled
    from with_baseline
),

scored as (
    select
        *,
        (conversion - baseline_conversion) / nullif(sqrt(
            pooled * (1 - pooled) * (1.0 / units + 1.0 / nullif(baseline_units, 0))
        ), 0) as z_score
    from tested
)

select
    s.funnel_name,
    s.from_step_index,
    f.step_name as from_step_name,
    s.from_step_index + 1 as to_step_index,
    t.step_name as to_step_name,
    s.channel,
    s.period_date,
    cast(s.units as {{ dbt.type_bigint() }}) as units,
    cast(s.converted as {{ dbt.type_bigint() }}) as converted,
    s.conversion,
    cast(s.baseline_units as {{ dbt.type_bigint() }}) as baseline_units,
    cast(s.baseline_converted as {{ dbt.type_bigint() }}) as baseline_converted,
    s.baseline_conversion,
    s.z_score,
    {{ normal_cdf('s.z_score') }} as p_value,
    coalesce(
        s.units >= {{ var('alert_min_volume', 5) | int }}
        and s.baseline_units >= {{ var('alert_min_volume', 5) | int }}
        and s.conversion < s.baseline_conversion
        and {{ normal_cdf('s.z_score') }} < {{ var('alert_alpha', 0.001) | float }},
        false
    ) as is_flagged
from scored as s
inner join step_names as f on s.funnel_name = f.funnel_name and s.from_step_index = f.step_index
inner join step_names as t on s.funnel_name = t.funnel_name and s.from_step_index + 1 = t.step_index
