-- The most common sequences of channels that lead to a purchase. For each purchase (online or in a
-- store) the path is the channels of the person's sessions that started after their previous purchase
-- and at most var path_lookback_days (default 30) before it, up to and including the purchase's own
-- session, in order, with repeats of one channel in a row collapsed ("web > email > store").
with sessions as (
    select
        session_id,
        person_id,
        channel,
        started_at
    from {{ ref('sessions') }}
),

purchases as (
    select
        activity_id as purchase_id,
        person_id,
        session_id as purchase_session_id,
        occurred_at as purchased_at,
        revenue,
        lag(occurred_at) over (partition by person_id order by occurred_at, activity_id) as previous_purchase_at
    from {{ ref('int_activities_sessionized') }}
    where activity in ('purchase', 'store_purchase')
),

touches as (
    select
        p.purchase_id,
        p.person_id,
        p.revenue,
        s.channel,
        s.started_at,
        s.session_id
    from purchases as p
    inner join sessions as s
        on
            p.person_id = s.person_id
            and p.purchased_at >= s.started_at
            and s.started_at >= {{ dbt.dateadd('day', -1 * (var('path_lookback_days', 30) | int), 'p.purchased_at') }}
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
),

paths as (
    select
        purchase_id,
        max(person_id) as person_id,
        max(revenue) as revenue,
        {{ dbt.listagg('channel', "' > '", 'order by started_at, session_id') }} as channel_path,
        count(*) as path_length
    from collapsed
    where previous_channel is null or previous_channel <> channel
    group by purchase_id
),

counted as (
    select
        channel_path,
        max(path_length) as path_length,
        count(*) as purchases,
        count(distinct person_id) as persons,
        cast(coalesce(sum(revenue), 0) as decimal(18, 2)) as revenue
    from paths
    group by channel_path
)

select
    channel_path,
    path_length,
    path_length > 1 as is_cross_channel,
    purchases,
    persons,
    revenue,
    cast(purchases as double) / sum(purchases) over () as share_of_purchases,
    row_number() over (order by purchases desc, channel_path asc) as path_rank
from counted
