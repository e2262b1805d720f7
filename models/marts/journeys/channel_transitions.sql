-- From channel A to channel B: how many persons moved, how often, and how long it took.
select
    from_channel,
    to_channel,
    count(distinct person_id) as persons,
    count(*) as transitions,
    cast({{ journeys_median('seconds_between') }} as double) as median_seconds,
    cast(avg(seconds_between) as double) as mean_seconds
from {{ ref('int_channel_transitions') }}
group by from_channel, to_channel
