-- One row per move of a person from a session in one channel to their next session in another channel
-- (person-step grain). Sessions are ordered by start; a move within one channel is not a transition.
with sessions as (
    select
        session_id,
        person_id,
        channel,
        started_at,
        ended_at
    from {{ ref('sessions') }}
),

ordered as (
    select
        *,
        lead(session_id) over (partition by person_id order by started_at, session_id) as next_session_id,
        lead(channel) over (partition by person_id order by started_at, session_id) as next_channel,
        lead(started_at) over (partition by person_id order by started_at, session_id) as next_started_at
    from sessions
)

select
    person_id,
    session_id as from_session_id,
    next_session_id as to_session_id,
    channel as from_channel,
    next_channel as to_channel,
    ended_at as from_ended_at,
    next_started_at as to_started_at,
    -- overlapping sessions (browsing the app while in a store) count as an immediate move
    case
        when next_started_at < ended_at then 0
        else {{ seconds_between('ended_at', 'next_started_at') }}
    end as seconds_between
from ordered
where next_session_id is not null and next_channel <> channel
