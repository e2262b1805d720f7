-- One row per funnel and counting unit (person, or session for count_by: session): the furthest step
-- over all its attempts, when it entered and converted, and its status. Semantics: docs/funnels.md.
with units as (
    select * from {{ ref('int_funnel_units') }}
),

definitions as (
    select
        funnel_name,
        breakdown_by,
        breakdown_property,
        breakdown_attribution
    from {{ ref('int_funnel_definitions') }}
),

steps as (
    select
        funnel_name,
        unit_id,
        step_index,
        step_name,
        channel,
        properties
    from {{ ref('int_funnel_unit_steps') }}
),

attributes as (
    select * from {{ ref('int_journeys_person_attributes') }}
)

select
    u.funnel_name,
    u.count_by,
    u.unit_id,
    u.person_id,
    u.session_id,
    cast(u.entered_at as date) as entry_date,
    coalesce(
        case d.breakdown_by
            when 'none' then '(all)'
            when 'first_touch_channel' then pa.first_touch_channel
            when 'segment' then pa.segment
            -- last_step attribution falls back to the first step where the last has no single event
            when 'channel'
                then
                    case
                        when d.breakdown_attribution = 'last_step' then coalesce(last_step.channel, first_step.channel)
                        else first_step.channel
                    end
            when 'property' then
                case
                    when d.breakdown_attribution = 'last_step' and last_step.properties is not null
                        then {{ json_property_by_key('last_step.properties', 'd.breakdown_property') }}
                    else {{ json_property_by_key('first_step.properties', 'd.breakdown_property') }}
                end
        end,
        '(unknown)'
    ) as breakdown_value,
    u.furthest_step_index,
    last_step.step_name as furthest_step_name,
    u.step_count,
    u.entered_at,
    u.last_step_at,
    u.converted_at,
    u.window_ends_at,
    u.status,
    u.attempt_count
from units as u
inner join definitions as d on u.funnel_name = d.funnel_name
left join steps as first_step
    on
        u.funnel_name = first_step.funnel_name
        and u.unit_id = first_step.unit_id
        and first_step.step_index = 1
left join steps as last_step
    on
        u.funnel_name = last_step.funnel_name
        and u.unit_id = last_step.unit_id
        and u.furthest_step_index = last_step.step_index
left join attributes as pa on u.person_id = pa.person_id
