{#- Daily counts of the drop-off alerts: one row per funnel (ordered or strict), step transition
    i -> i + 1, channel of the step-i event ('(all)' for every channel) and the shop's local business
    day step i was reached. units: units that reached step i that day (in that channel);
    converted_same_channel / converted_any_channel: those of them that reached step i + 1 within var
    alert_transition_hours, in the step-i event's channel / in any channel (the '(all)' row: any channel
    in both). journeys.dropoff_alerts picks one per var alert_channel_conversion and tests the closed days.
    Incremental (daily runs): the (funnel, day) pairs int_funnel_step_occurrences logged in
    int_funnel_changed_days since this model's watermark are deleted and recounted (pre-hook delete, then
    append), so a daily run reads the occurrences of the days that changed, not the whole history; every
    day without a watermark (macros/journeys/funnels_incremental.sql). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_funnel_days_to_recount() }}",
    post_hook=["{{ record_consumed_watermark('int_funnel_transition_days', 'insert', ref('int_funnel_changed_days')) }}",
        "{{ record_consumed_watermark('int_funnel_transition_days', 'delete') }}",
        "{{ prune_funnel_changed_days() }}"],
) }}
-- depends_on: {{ ref('int_incremental_watermarks') }}
-- depends_on: {{ ref('int_funnel_changed_days') }}
{%- set since = funnel_transition_days_since() %}

with occurrences as (
    select
        o.funnel_name,
        o.unit_id,
        o.from_step_index,
        o.channel,
        o.period_date,
        o.converted_any_channel,
        o.converted_same_channel
    from {{ ref('int_funnel_step_occurrences') }} as o
    {%- if since is not none and since != 'all' %}
    inner join ({{ funnel_days_to_recount(since) }}) as c
        on o.funnel_name = c.funnel_name and o.period_date = c.period_date
    {%- endif %}
),

-- the '(all)' row counts a unit once a day over its channels
all_channels as (
    select
        funnel_name,
        unit_id,
        from_step_index,
        period_date,
        max(converted_any_channel) as converted
    from occurrences
    group by funnel_name, unit_id, from_step_index, period_date
)

select
    funnel_name,
    from_step_index,
    channel,
    period_date,
    count(*) as units,
    sum(converted_same_channel) as converted_same_channel,
    sum(converted_any_channel) as converted_any_channel
from occurrences
group by funnel_name, from_step_index, channel, period_date
union all
select
    funnel_name,
    from_step_index,
    '(all)' as channel,
    period_date,
    count(*) as units,
    sum(converted) as converted_same_channel,
    sum(converted) as converted_any_channel
from all_channels
group by funnel_name, from_step_index, period_date
