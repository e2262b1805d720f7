{#- One row per purchase (online or in a store) with its channel path: the channels of the person's
    sessions that started after their previous purchase and at most var path_lookback_days (default 30)
    before it, up to and including the purchase's own session, in order, with repeats of one channel in a
    row collapsed ("web > email > store"). journeys.purchase_paths counts the paths.
    Incremental (daily runs), per person like journeys.sessions: a purchase's path depends only on its
    person's sessions and purchases, so only the purchases of the persons int_activities_sessionized
    re-cut since this model's watermark are recomputed, from the earliest activity re-cut on
    (journeys_changed_from: an earlier purchase's sessions and previous purchase have not changed);
    every purchase after a change of path_lookback_days. The pre-hook deletes those rows and those of
    persons left without activity, the recomputed rows are appended. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_person_rows_from_change('int_purchase_paths', 'purchased_at',
        fingerprint=purchase_paths_fingerprint) }}",
    post_hook=["{{ record_consumed_watermark('int_purchase_paths', 'insert', ref('int_activities_sessionized'),
            purchase_paths_fingerprint()) }}",
        "{{ record_consumed_watermark('int_purchase_paths', 'delete') }}"],
) }}
-- depends_on: {{ ref('int_incremental_watermarks') }}
{%- set since = persons_recompute_since('int_purchase_paths', fingerprint=purchase_paths_fingerprint) %}
{%- set lookback_days = var('path_lookback_days', 30) | int %}
{%- set from_change = recomputes_from_change(since) %}
{{- require_inputs_current('int_purchase_paths', ['sessions'], 'sessions') }}

with
{%- if from_change %}
changed as (
    {{ journeys_changed_from(since, 'int_purchase_paths') }}
),
{%- endif %}

sessions as (
    select
        s.session_id,
        s.person_id,
        s.channel,
        s.started_at
    from {{ ref('sessions') }} as s
    {%- if from_change %}
    inner join changed as c
        on
            s.person_id = c.person_id
            and s.started_at >= {{ dbt.dateadd('day', -1 * lookback_days, 'c.changed_from') }}
    {%- endif %}
),

all_purchases as (
    select
        activity_id as purchase_id,
        person_id,
        session_id as purchase_session_id,
        occurred_at as purchased_at,
        revenue,
        lag(occurred_at) over (partition by person_id order by occurred_at, activity_id) as previous_purchase_at
    from {{ ref('int_activities_sessionized') }}
    where activity in ('purchase', 'store_purchase') {{ persons_recompute_filter(since) }}
),

purchases as (
    select p.*
    from all_purchases as p
    {%- if from_change %}
    inner join changed as c on p.person_id = c.person_id and p.purchased_at >= c.changed_from
    {%- endif %}
),

touches as (
    select
        p.purchase_id,
        p.person_id,
        p.purchased_at,
        p.revenue,
        s.channel,
        s.started_at,
        s.session_id
    from purchases as p
    inner join sessions as s
        on
            p.person_id = s.person_id
            and p.purchased_at >= s.started_at
            and s.started_at >= {{ dbt.dateadd('day', -1 * lookback_days, 'p.purchased_at') }}
            and (
                p.previous_purchase_at is null or p.previous_purchase_at < s.started_at
                or p.purchase_session_id = s.session_id
            )
),

collapsed as (
    select
        *,
        lag(channel) over (partition by purchase_id order by started_at, session_id) as previous_channel
    from touches
)

select
    purchase_id,
    max(person_id) as person_id,
    max(purchased_at) as purchased_at,
    max(revenue) as revenue,
    {{ dbt.listagg('channel', "' > '", 'order by started_at, session_id') }} as channel_path,
    count(*) as path_length,
    {{ identity_run_started_at() }} as loaded_at
from collapsed
where previous_channel is null or previous_channel <> channel
group by purchase_id
