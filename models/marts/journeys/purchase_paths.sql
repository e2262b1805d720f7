-- The most common sequences of channels that lead to a purchase: the paths of int_purchase_paths (one
-- per purchase, kept up to date per person in daily runs), counted. A purchase's path is the channels
-- of the person's sessions since their previous purchase and at most var path_lookback_days (default
-- 30) before it, up to and including the purchase's own session, in order, with repeats of one channel
-- in a row collapsed ("web > email > store").
with counted as (
    select
        channel_path,
        max(path_length) as path_length,
        count(*) as purchases,
        count(distinct person_id) as persons,
        cast(coalesce(sum(revenue), 0) as decimal(18, 2)) as revenue
    from {{ ref('int_purchase_paths') }}
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
