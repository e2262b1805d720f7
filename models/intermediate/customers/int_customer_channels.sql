{{ config(enabled=customers_enabled()) }}

{#- Channels per person: every channel ever used, and the preferred channel. Preferred = the channel
    where the person bought most over the last `customers_preferred_channel_days` (180) days; ties by
    most engagements there (activities the person did: outbound sends and bounces do not count), then
    by the most recent engagement, then alphabetically, so the choice is always deterministic. -#}

{%- set days = customers_setting('customers_preferred_channel_days') -%}

with

as_of as (

    select
        as_of_date,
        cast({{ dbt.dateadd('day', 1 - days, 'as_of_date') }} as date) as window_start
    from {{ ref('int_customer_as_of') }}

),

per_channel as (

    select
        a.person_id,
        a.channel,
        sum(case when cast(a.occurred_at as date) >= as_of.window_start
            and a.activity in ('purchase', 'store_purchase') then 1 else 0 end) as purchases_in_window,
        sum(case when cast(a.occurred_at as date) >= as_of.window_start
            and a.activity not in ('email_sent', 'push_sent', 'email_bounce') then 1 else 0 end) as engagements_in_window,
        max(case when cast(a.occurred_at as date) >= as_of.window_start
            and a.activity not in ('email_sent', 'push_sent', 'email_bounce') then a.occurred_at end) as last_engaged_at
    from {{ ref('activities') }} as a
    cross join as_of
    where cast(a.occurred_at as date) <= as_of.as_of_date
        and a.channel is not null
    group by a.person_id, a.channel

),

ranked as (

    select
        *,
        row_number() over (
            partition by person_id
            order by purchases_in_window desc, engagements_in_window desc, last_engaged_at desc nulls last, channel
        ) as preference_rank
    from per_channel

)

select
    person_id,
    {{ dbt.listagg('channel', "','", 'order by channel') }} as channels_used,
    cast(count(*) as integer) as channel_count,
    max(case when preference_rank = 1 and engagements_in_window > 0 then channel end) as preferred_channel
from ranked
group by person_id
