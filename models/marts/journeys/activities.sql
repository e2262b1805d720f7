{#- Every interaction stitched to a person. A record's person is the person of its identifiers,
    preferring usable identifiers (not blocked or capped), then known persons, then the smallest id,
    so an anonymous device joins its person as soon as any identifier links it. Blocked and capped
    non-device values never attribute (a junk e-mail must not collect strangers' orders); a capped
    device still gives its own anonymous person. A record with no identifier at all gets a person of
    its own.
    Incremental (daily runs, var min_date set): only activities that int_activities_unioned wrote since
    this model last consumed it (loaded_at after the watermark this model records in
    int_incremental_watermarks, committed with its rows, so a failed run loses nothing), that occurred
    since the window start (min_date - lookback_days), whose record's own identifiers were (re)loaded
    (int_identifier_observations.loaded_at: a ticket given to another requester), or whose record or
    device carries an identifier whose attribution changed since this model last ran
    (int_identity_person_ids.attribution_changed_at after the run of its watermark: a run that failed
    between identity and this model loses nothing) are re-stitched (delete+insert on activity_id); every other
    row keeps the person it had, which is the person a full refresh would give it. Without a watermark
    (first daily run, rebuilt watermarks) the new or changed activities are found by comparing every
    row of int_activities_unioned with the row held. An activity whose record vanished from a
    re-delivered export (logged in stg_lake__removed_records since this model's last run) and that
    int_activities_unioned did not write again is deleted by the first post-hook; without a watermark
    every held activity missing from int_activities_unioned is (macros/journeys/removed_activities.sql). -#}
-- depends_on: {{ ref('int_incremental_watermarks') }}
-- depends_on: {{ ref('stg_lake__removed_records') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='activity_id',
    on_schema_change='fail',
    post_hook=["{{ delete_removed_journey_activities() }}",
        "{{ record_consumed_watermark('activities', 'insert') }}",
        "{{ record_consumed_watermark('activities', 'delete') }}"],
) }}
{%- set window = incremental_window_active() %}
{%- set consumed = consumed_watermark('activities', window) %}

with

{%- if window %}
{{ restitched_activities_ctes(consumed.run_started_at if consumed else none) }}
{%- endif %}

activities as (
    select u.*
    from {{ ref('int_activities_unioned') }} u
    {%- if window %}
    {%- if not consumed %}
    left join {{ this }} t on u.activity_id = t.activity_id
    {%- endif %}
    {{ restitched_activities_joins('u') }}
    where {{ 'u.loaded_at > ' ~ consumed.watermark if consumed else 't.activity_id is null' }}
        or {{ restitched_activities_condition('u') }}
        {%- if not consumed %}
        {%- for column in activity_content_columns() %}
        or {{ journeys_published('u', column) }} is distinct from t.{{ column }}
        {%- endfor %}
        {%- endif %}
    {%- endif %}
),

observations as (
    select distinct
        o.source,
        o.record_id,
        {{ identity_node_key('o.identifier_type', 'o.identifier_value') }} as node_key
    from {{ ref('int_identifier_observations') }} o
    {%- if window %}
    -- a daily run: only the records it re-stitches (not a key per observation of the whole history)
    join (select distinct source, record_id from activities) a on o.source = a.source and o.record_id = a.record_id
    {%- endif %}
    where o.identifier_type is not null and o.identifier_value is not null
),

candidates as (
    select
        a.activity_id,
        p.person_id,
        p.is_known_person,
        row_number() over (
            partition by a.activity_id
            order by
                case when p.is_excluded then 1 else 0 end,
                case when p.is_known_person then 0 else 1 end,
                p.person_id
        ) as preference
    from activities a
    join observations o on a.source = o.source and a.record_id = o.record_id
    join {{ ref('int_identity_person_ids') }} p on o.node_key = p.node_key
    where not p.is_excluded or p.is_device
),

-- a device id on the activity that staging did not also emit as an observation
device_persons as (
    {%- for device_type in identity_setting('identity_device_types') %}
    select a.activity_id, p.person_id, p.is_known_person
    from activities a
    join {{ ref('int_identity_person_ids') }} p
        on p.node_key = {{ identity_node_key("'" ~ device_type ~ "'", 'a.device_id') }}
    where a.device_id is not null
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

device_best as (
    select activity_id, min(person_id) as person_id, max(case when is_known_person then 1 else 0 end) = 1 as is_known_person
    from device_persons
    group by activity_id
)

select
    a.activity_id,
    a.source,
    a.record_id,
    a.occurred_at,
    a.activity,
    a.channel,
    -- hashes: the clear device id (and GA4's session id, which carries it) stay in the models before
    {{ journeys_published('a', 'device_id') }} as device_id,
    {{ journeys_published('a', 'session_id') }} as session_id,
    a.revenue,
    a.currency,
    a.product_id,
    a.product_category,
    a.properties,
    coalesce(c.person_id, d.person_id, {{ identity_person_id("concat('activity:', a.activity_id)") }}) as person_id,
    coalesce(c.is_known_person, d.is_known_person, false) as is_known_person
from activities a
left join candidates c on a.activity_id = c.activity_id and c.preference = 1
left join device_best d on a.activity_id = d.activity_id
