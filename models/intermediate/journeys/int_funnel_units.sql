{#- One row per funnel and counting unit (person, or session for count_by: session): the unit counts at
    the furthest step reached over all its attempts. Its best attempt (furthest step, then earliest
    entry) gives the entry time and the step times; status is converted when the last step was
    reached, in_progress while any attempt's window is still open at the as-of time (status_as_of),
    else dropped.
    Incremental (daily runs), per person: the persons int_activities_sessionized re-cut since this
    model's watermark, and those of the units held in progress whose last window (open_until) has
    ended by the new as-of time (funnel_units_recompute_condition in
    macros/journeys/funnels_incremental.sql); the recomputed rows are appended and the post-hook deletes
    the rows they replace. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    post_hook=["{{ delete_replaced_funnel_units() }}",
        "{{ record_consumed_watermark('int_funnel_units', 'insert', ref('int_activities_sessionized'),
            relations_fingerprint(funnel_config_relations())) }}",
        "{{ record_consumed_watermark('int_funnel_units', 'delete') }}"],
) }}
-- depends_on: {{ ref('int_incremental_watermarks') }}
-- depends_on: {{ ref('int_activities_sessionized') }}
-- depends_on: {{ ref('int_funnel_definitions') }}
-- depends_on: {{ ref('int_funnel_step_matchers') }}
-- depends_on: {{ ref('int_funnel_step_filters') }}
-- depends_on: {{ ref('int_funnel_interruptions') }}
-- depends_on: {{ ref('int_funnel_exclusions') }}
-- depends_on: {{ ref('activities') }}
{%- set since = persons_recompute_since('int_funnel_units', funnel_config_relations()) %}
{%- set max_steps = funnel_max_steps() %}

{{- require_funnel_inputs_current('int_funnel_units', ['int_funnel_attempts']) }}
with attempts as (
    select
        *,
        row_number() over (
            partition by funnel_name, unit_id order by reached_step desc, entered_at asc, entry_rank asc
        ) as preference
    {%- if since is none or since == 'all' %}
    from {{ ref('int_funnel_attempts') }}
    {%- else %}
    from {{ ref('int_funnel_attempts') }} as a
    where {{ funnel_units_recompute_condition(since, 'a') }}
    {%- endif %}
),

per_unit as (
    select
        funnel_name,
        unit_id,
        count(*) as attempt_count,
        max(window_ends_at) as open_until
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
        when u.open_until > {{ journeys_as_of() }} then 'in_progress'
        else 'dropped'
    end as status,
    u.attempt_count,
    u.open_until,
    {{ journeys_as_of() }} as status_as_of,
    {{ identity_run_started_at() }} as loaded_at
    {%- for k in range(1, max_steps + 1) %},
    a.step_{{ k }}_rank
{%- endfor %}
from attempts as a
inner join per_unit as u on a.funnel_name = u.funnel_name and a.unit_id = u.unit_id
where a.preference = 1
