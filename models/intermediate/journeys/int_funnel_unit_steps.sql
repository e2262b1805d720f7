{#- The steps of each unit's best attempt, one row per step reached, with the event that filled it (for
    unordered funnels only the entry event is known, later steps have no single event).
    Incremental (daily runs), per person: a unit's best attempt (furthest step, then earliest entry) and
    its events and their properties are its person's activities, not the as-of time (only the unit's
    status in int_funnel_units is), so only the persons int_activities_sessionized re-cut since this
    model's watermark are recomputed, whole; the pre-hook deletes their rows and those of persons
    without activity any more, and every row after a change of the funnel configuration. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ delete_person_rows_from_change('int_funnel_unit_steps',
        config_relations=funnel_config_relations()) }}",
    post_hook=["{{ record_consumed_watermark('int_funnel_unit_steps', 'insert', ref('int_activities_sessionized'),
            relations_fingerprint(funnel_config_relations())) }}",
        "{{ record_consumed_watermark('int_funnel_unit_steps', 'delete') }}"],
) }}
-- depends_on: {{ ref('int_incremental_watermarks') }}
-- depends_on: {{ ref('int_funnel_definitions') }}
-- depends_on: {{ ref('int_funnel_step_filters') }}
-- depends_on: {{ ref('int_funnel_interruptions') }}
-- depends_on: {{ ref('int_funnel_exclusions') }}
{%- set since = persons_recompute_since('int_funnel_unit_steps', funnel_config_relations()) %}
{%- set max_steps = funnel_max_steps() %}

{{- require_funnel_inputs_current('int_funnel_unit_steps', ['int_funnel_units', 'int_funnel_step_events']) }}
with units as (
    select * from {{ ref('int_funnel_units') }}
    where true {{ persons_recompute_filter(since) }}
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
    where true {{ persons_recompute_filter(since) }}
),

activities as (
    select
        activity_id,
        properties
    from {{ ref('int_activities_sessionized') }}
    where true {{ persons_recompute_filter(since) }}
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
    ) }} as seconds_from_previous,
    {{ identity_run_started_at() }} as loaded_at
from unit_steps as us
left join events as e
    on
        us.funnel_name = e.funnel_name
        and us.unit_id = e.unit_id
        and us.event_rank = e.event_rank
left join activities as a on e.activity_id = a.activity_id
