{#- What the drop-off alerts count, per unit: one row per funnel (ordered or strict), unit, step i below the
    last, channel of the step-i event and the shop's local business day it was reached, over every step-i
    event some (non-voided) attempt reached - not only the best attempt's (docs/funnels.md, Alerts).
    converted_any_channel: one of those events reached step i + 1 within var alert_transition_hours and
    inside the attempt's window; converted_same_channel: the same, with step i + 1 in the step-i event's
    own channel.
    Incremental (daily runs), per person, like int_funnel_attempts: the persons int_activities_sessionized
    re-cut since this model's watermark, each from a funnel window before the earliest activity re-cut
    (funnel_occurrences_recompute_from: older rows cannot have changed); every person, whole, after a
    change of the funnel configuration, reporting_timezone or alert_transition_hours. The recomputed rows
    are appended; the post-hooks log the (funnel, day) pairs whose rows changed in
    int_funnel_changed_days, so that int_funnel_transition_days recounts those days only, then delete
    the rows replaced (macros/journeys/funnels_incremental.sql). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    post_hook=["{{ log_changed_funnel_days() }}",
        "{{ delete_replaced_funnel_occurrences() }}",
        "{{ record_consumed_watermark('int_funnel_step_occurrences', 'insert', ref('int_activities_sessionized'),
            funnel_occurrences_fingerprint()) }}",
        "{{ record_consumed_watermark('int_funnel_step_occurrences', 'delete') }}"],
) }}
-- depends_on: {{ ref('int_incremental_watermarks') }}
-- depends_on: {{ ref('int_funnel_changed_days') }}
-- depends_on: {{ ref('int_funnel_step_filters') }}
-- depends_on: {{ ref('int_funnel_interruptions') }}
-- depends_on: {{ ref('int_funnel_exclusions') }}
-- depends_on: {{ ref('int_activities_sessionized') }}
{%- set since = funnel_occurrences_recompute_since() %}
{%- set max_steps = funnel_max_steps() %}
{%- set wait_hours = var('alert_transition_hours', 24) | int %}
{%- set tz_sql = "'" ~ journeys_reporting_timezone() ~ "'" %}
{#- a daily run recomputes each re-cut person's rows from its recompute_from_date on -#}
{%- set from_change = recomputes_from_change(since) %}

{{- require_funnel_inputs_current('int_funnel_step_occurrences', ['int_funnel_step_events', 'int_funnel_attempts']) }}
with definitions as (
    select
        funnel_name,
        step_count
    from {{ ref('int_funnel_definitions') }}
    where funnel_order <> 'unordered'
),

step_names as (
    select distinct
        funnel_name,
        step_index
    from {{ ref('int_funnel_step_matchers') }}
),

{%- if from_change %}

recompute as (
    {{ funnel_occurrences_recompute_from(since) }}
),
{%- endif %}

events as (
    select distinct
        e.funnel_name,
        e.unit_id,
        e.event_rank,
        e.occurred_at,
        e.channel
    from {{ ref('int_funnel_step_events') }} as e
    {%- if from_change %}
    -- the step-i events of the days recomputed and the later events that fill step i + 1
    inner join recompute as r
        on
            e.person_id = r.person_id
            and e.funnel_name = r.funnel_name
            and e.occurred_at >= {{ dbt.dateadd('day', -2, 'r.entered_from') }}
    {%- endif %}
    where true {{ persons_recompute_filter(since, 'e.person_id') }}
),

-- every attempt's step-i event (i < step_count) and the event that filled step i + 1, if any
attempt_links as (
    select
        a.funnel_name,
        a.person_id,
        a.unit_id,
        s.step_index as from_step_index,
        case s.step_index
            {%- for k in range(1, max_steps) %} when {{ k }} then a.step_{{ k }}_rank{% endfor %}
        end as from_rank,
        case s.step_index
            {%- for k in range(1, max_steps) %} when {{ k }} then a.step_{{ k + 1 }}_rank{% endfor %}
        end as to_rank
    from {{ ref('int_funnel_attempts') }} as a
    inner join definitions as d on a.funnel_name = d.funnel_name
    {%- if from_change %}
    -- a superset: a step event of a local day from recompute_from_date on is at most a day (and a
    -- time zone) before that day's start
    inner join recompute as r
        on
            a.person_id = r.person_id
            and a.funnel_name = r.funnel_name
            and a.window_ends_at >= {{ dbt.dateadd('day', -2, 'r.entered_from') }}
    {%- endif %}
    inner join step_names as s
        on
            a.funnel_name = s.funnel_name
            and s.step_index < d.step_count
    where true {{ persons_recompute_filter(since, 'a.person_id') }}
),

-- one row per step-i event: attempts that share it agree on the next event, but only those whose
-- window still covers it carry it, so any attempt counts
occurrences as (
    select
        l.funnel_name,
        l.person_id,
        l.unit_id,
        l.from_step_index,
        f.occurred_at as reached_at,
        f.channel,
        max(
            case
                when t.occurred_at <= {{ dbt.dateadd('hour', wait_hours, 'f.occurred_at') }} then 1 else 0
            end
        ) as converted_any_channel,
        max(
            case
                when
                    t.occurred_at <= {{ dbt.dateadd('hour', wait_hours, 'f.occurred_at') }}
                    and t.channel = f.channel
                    then 1
                else 0
            end
        ) as converted_same_channel
    from attempt_links as l
    inner join events as f
        on
            l.funnel_name = f.funnel_name
            and l.unit_id = f.unit_id
            and l.from_rank = f.event_rank
    left join events as t
        on
            l.funnel_name = t.funnel_name
            and l.unit_id = t.unit_id
            and l.to_rank = t.event_rank
    group by l.funnel_name, l.person_id, l.unit_id, l.from_step_index, f.occurred_at, f.channel
),

-- the shop's local business day step i was reached
local_days as (
    select
        *,
        cast({{ utc_to_local_timestamp('reached_at', tz_sql) }} as date) as period_date
    from occurrences
)

-- a unit counts once per day and channel: converted if any of its step-i events that day converted
select
    o.funnel_name,
    o.person_id,
    o.unit_id,
    o.from_step_index,
    o.channel,
    o.period_date,
    max(o.converted_any_channel) as converted_any_channel,
    max(o.converted_same_channel) as converted_same_channel,
    {{ identity_run_started_at() }} as loaded_at
from local_days as o
{%- if from_change %}
inner join recompute as r
    on
        o.person_id = r.person_id
        and o.funnel_name = r.funnel_name
        and o.period_date >= r.recompute_from_date
{%- endif %}
group by o.funnel_name, o.person_id, o.unit_id, o.from_step_index, o.channel, o.period_date
