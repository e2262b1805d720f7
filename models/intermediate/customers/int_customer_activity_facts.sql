{{ config(enabled=customers_enabled()) }}

{#- Everything the profile needs from journeys.activities that is one aggregate per person, from one
    scan of the activities (the profile build's cost is dominated by its passes over them): one
    aggregation per person and channel (every per-person aggregate is taken there and rolled up, so the
    channels used and the preferred channel come from the same pass; a separate per-person aggregate of
    the few rows the latest-value columns read was no faster and took 40% more memory), plus one narrow
    aggregation per session / campaign (distinct counts) over the 90-day window only. Units are grouped
    on a 64-bit hash instead of concatenated strings, and JSON properties are parsed only on the rows and
    days a column uses.
    Preferred channel = the channel where the person bought most over the last
    `customers_preferred_channel_days` (180) days; ties by most engagements there (activities the person
    did: outbound sends and bounces do not count), then by the most recent engagement, then
    alphabetically, so the choice is always deterministic; none without an engagement in the window.
    Activities after the as-of date are ignored so an `as_of_date` var replays history. -#}

{%- set outbound = "('email_sent', 'push_sent', 'email_bounce')" -%}
{%- set preferred_days = customers_setting('customers_preferred_channel_days') -%}
{#- the documented channel vocabulary (journeys.activities.channel), alphabetical: channels_used is
    decoded from one bit per channel; any other channel is listed by a small aggregate of its own -#}
{%- set channels = ['app', 'email', 'loyalty', 'service', 'store', 'survey', 'web'] -%}
{%- set channels_decoded -%}
    nullif(concat_ws(','
        {%- for ch in channels %}, case when (channel_bits & {{ 2 ** loop.index0 }}) != 0 then '{{ ch }}' end{% endfor -%}
    ), '')
{%- endset -%}
{%- set channel_list = "('" ~ channels | join("', '") ~ "')" -%}

with

as_of as (

    select
        *,
        cast({{ dbt.dateadd('day', 1 - preferred_days, 'as_of_date') }} as date) as preferred_window_start
    from {{ ref('int_customer_as_of') }}

),

activities as (

    select
        a.person_id,
        a.activity,
        a.channel,
        a.occurred_at,
        cast(a.occurred_at as date) as activity_date,
        {{ customers_time_key('a.occurred_at', 'a.activity_id') }} as time_key,
        -- the unit a distinct count counts, as a 64-bit hash (customers_unit_hash): a session is the
        -- tool's session id on its device, without one the device's day (rows with no device, e.g. a
        -- Shopify order on channel web, are not analytics sessions); a campaign is its campaign id.
        -- Only the 90-day window is counted, so older rows get no unit (and no JSON is read for them).
        case when cast(a.occurred_at as date) >= as_of.window_90d_start then
            case
                when a.device_id is not null then {{ customers_unit_hash([
                    'a.device_id',
                    "coalesce(a.session_id, cast(cast(a.occurred_at as date) as " ~ dbt.type_string() ~ "))",
                ]) }}
                when a.activity in ('email_sent', 'email_open', 'email_click') then {{ customers_unit_hash([
                    "coalesce(" ~ json_text('a.properties', '$.campaign_id') ~ ", a.activity_id)",
                ]) }}
            end
        end as unit_key,
        -- what the row says about its unit, as bits OR-ed per unit: 1 a web session, 2 a web session
        -- active in the last 30 days, 32 / 64 the same for app, 4 a campaign sent, 8 opened, 16 clicked
        -- (one bit_or per unit instead of a max date per kind; only the 90-day window has units, so 1 and
        -- 32 are the 90-day counts' bits). The channel is in the bits, not in the unit's group key: a
        -- session seen on web and app sets both channels' bits, so it still counts once per channel;
        -- a campaign counts once whatever the channel of its rows (distinct campaigns, as documented).
        case when a.device_id is not null then
            case a.channel when 'web' then 1 when 'app' then 32 else 0 end
            * case when cast(a.occurred_at as date) >= as_of.window_30d_start then 3 else 1 end
        else 0 end
        + case a.activity when 'email_sent' then 4 when 'email_open' then 8 when 'email_click' then 16 else 0 end
            as unit_flags,
        a.activity not in {{ outbound }} as is_touch,
        cast(a.occurred_at as date) >= as_of.preferred_window_start as in_preferred_window,
        case when a.activity = 'service_contact'
            and lower({{ json_text('a.properties', '$.satisfaction_score') }}) in ('good', 'bad')
            then lower({{ json_text('a.properties', '$.satisfaction_score') }}) end as satisfaction,
        case when a.activity = 'nps_response'
            then {{ dbt.safe_cast(json_text('a.properties', '$.score'), 'integer') }} end as nps_score,
        -- only the 7-day signal uses past-order views: the page URL is parsed for those days alone
        case when a.activity = 'page_view'
            and cast(a.occurred_at as date) >= as_of.window_7d_start
            and lower({{ json_text('a.properties', '$.page_location') }}) like '%order%'
            and lower({{ json_text('a.properties', '$.page_location') }}) not like '%checkout%'
            then 1 else 0 end as is_past_orders_view,
        as_of.window_90d_start
    from {{ ref('activities') }} as a
    cross join as_of
    where cast(a.occurred_at as date) <= as_of.as_of_date

),

units as (

    -- distinct sessions (web/app) and campaigns (e-mail) per person in the 90-day window: one row per
    -- unit with the OR of its rows' flags, so counting distinct units becomes a sum. Only these narrow
    -- rows are grouped at unit grain; every other aggregate is taken per person below.
    select
        person_id,
        unit_key,
        bit_or(unit_flags) as unit_flags
    from activities
    where unit_key is not null
    group by person_id, unit_key

),

unit_counts as (

    select
        person_id,
        {%- for ch, bit_90d, bit_30d in [('web', 1, 2), ('app', 32, 64)] %}
        sum(case when (unit_flags & {{ bit_30d }}) != 0 then 1 else 0 end) as {{ ch }}_sessions_30d,
        sum(case when (unit_flags & {{ bit_90d }}) != 0 then 1 else 0 end) as {{ ch }}_sessions_90d,
        {%- endfor %}
        sum(case when (unit_flags & 4) != 0 then 1 else 0 end) as emails_sent_90d,
        sum(case when (unit_flags & 8) != 0 then 1 else 0 end) as emails_opened_90d,
        sum(case when (unit_flags & 16) != 0 then 1 else 0 end) as emails_clicked_90d
    from units
    group by person_id

),

channel_facts as (

    -- every per-person aggregate taken per person and channel first (min/max/sum and latest-value
    -- pairs roll up exactly), together with the channel's own counts for the preferred channel
    select
        person_id,
        channel,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        -- touches are what the person did: outbound sends and bounces are not their touch
        min(case when is_touch then time_key end) as first_touch_key,
        max(case when is_touch then time_key end) as last_touch_key,
        max(case when activity = 'login' then occurred_at end) as last_login_at,
        max(case when activity = 'email_click' then occurred_at end) as last_email_click_at,
        sum(case when activity = 'service_contact' then 1 else 0 end) as service_contacts,
        sum(case when activity = 'service_contact' and activity_date >= window_90d_start then 1 else 0 end) as service_contacts_90d,
        max(case when activity = 'service_contact' then occurred_at end) as last_service_contact_at,
        max_by(satisfaction, case when satisfaction is not null then time_key end) as last_satisfaction,
        max(case when satisfaction is not null then time_key end) as last_satisfaction_key,
        max_by(nps_score, case when nps_score is not null then time_key end) as latest_nps_score,
        max(case when nps_score is not null then time_key end) as latest_nps_key,
        max(case when nps_score is not null then occurred_at end) as latest_nps_at,
        max(case when activity in ('purchase', 'store_purchase', 'checkout_complete') then occurred_at end) as last_purchase_signal_at,
        max(case when activity in ('add_to_cart', 'begin_checkout') then occurred_at end) as last_cart_at,
        max(case when is_past_orders_view = 1 then occurred_at end) as last_past_orders_view_at,
        sum(case when in_preferred_window and activity in ('purchase', 'store_purchase') then 1 else 0 end) as purchases_in_window,
        sum(case when in_preferred_window and is_touch then 1 else 0 end) as engagements_in_window,
        max(case when in_preferred_window and is_touch then occurred_at end) as last_engaged_at
    from activities
    group by person_id, channel

),

person_facts as (

    select
        person_id,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        min_by(channel, first_touch_key) as first_touch_channel,
        max_by(channel, last_touch_key) as last_touch_channel,
        max(last_login_at) as last_login_at,
        max(last_email_click_at) as last_email_click_at,
        sum(service_contacts) as service_contacts,
        sum(service_contacts_90d) as service_contacts_90d,
        max(last_service_contact_at) as last_service_contact_at,
        max_by(last_satisfaction, last_satisfaction_key) as last_satisfaction,
        max_by(latest_nps_score, latest_nps_key) as latest_nps_score,
        max(latest_nps_at) as latest_nps_at,
        max(last_purchase_signal_at) as last_purchase_signal_at,
        max(last_cart_at) as last_cart_at,
        max(last_past_orders_view_at) as last_past_orders_view_at,
        -- channels (a null channel is no channel): one bit per vocabulary channel, decoded below (an
        -- ordered string aggregate per person costs several times more)
        bit_or(case channel
            {%- for ch in channels %} when '{{ ch }}' then {{ 2 ** loop.index0 }}{% endfor %} else 0 end) as channel_bits,
        count(channel) as channel_count,
        -- the preferred channel: the smallest key among the channels with an engagement in the window
        -- (a channel with purchases there has engagements there, so no buying channel is left out;
        -- without any engagement there is no preference). One aggregate instead of a window over the
        -- person's channels (0.9 s of 12.4 at 1.2M persons)
        min_by(channel, case when engagements_in_window > 0 and channel is not null then {{ customers_sort_key([
            '-purchases_in_window',
            '-engagements_in_window',
            '-' ~ customers_time_key('last_engaged_at', "''"),
            'channel',
        ]) }} end) as preferred_channel
    from channel_facts
    group by person_id

),

other_channels as (

    -- channels outside the vocabulary (none when the sources keep to it), listed the usual way
    select
        person_id,
        {{ dbt.listagg('channel', "','", 'order by channel') }} as channels
    from channel_facts
    where channel not in {{ channel_list }}
    group by person_id

),

facts as (

    select
        person_facts.*,
        other_channels.channels as other_channels,
        {%- for c in ['web_sessions_30d', 'web_sessions_90d', 'app_sessions_30d', 'app_sessions_90d', 'emails_sent_90d', 'emails_opened_90d', 'emails_clicked_90d'] %}
        coalesce(unit_counts.{{ c }}, 0) as {{ c }}{{ "," if not loop.last }}
        {%- endfor %}
    from person_facts
    left join other_channels on person_facts.person_id = other_channels.person_id
    left join unit_counts on person_facts.person_id = unit_counts.person_id

)

select
    person_id,
    first_seen_at,
    last_seen_at,
    first_touch_channel,
    last_touch_channel,
    case
        when other_channels is null then {{ channels_decoded }}
        when channel_bits = 0 then other_channels
        else {{ customers_merge_sorted_lists(channels_decoded, 'other_channels') }}
    end as channels_used,
    cast(channel_count as integer) as channel_count,
    preferred_channel,
    cast(web_sessions_30d as integer) as web_sessions_30d,
    cast(web_sessions_90d as integer) as web_sessions_90d,
    cast(app_sessions_30d as integer) as app_sessions_30d,
    cast(app_sessions_90d as integer) as app_sessions_90d,
    last_login_at,
    cast(emails_sent_90d as integer) as emails_sent_90d,
    -- rates over the campaigns sent in the window; an open/click of an older campaign can push the
    -- count above the sends, hence the cap
    cast(case when emails_sent_90d > 0 then least(1.0, emails_opened_90d * 1.0 / emails_sent_90d) end as double)
        as email_open_rate_90d,
    cast(case when emails_sent_90d > 0 then least(1.0, emails_clicked_90d * 1.0 / emails_sent_90d) end as double)
        as email_click_rate_90d,
    cast(service_contacts as integer) as service_contacts,
    cast(service_contacts_90d as integer) as service_contacts_90d,
    last_service_contact_at,
    last_satisfaction,
    cast(latest_nps_score as integer) as latest_nps_score,
    case
        when latest_nps_score >= 9 then 'promoter'
        when latest_nps_score >= 7 then 'passive'
        when latest_nps_score >= 0 then 'detractor'
    end as latest_nps_category,
    latest_nps_at,
    coalesce(cast(last_email_click_at as date) >= as_of.window_7d_start, false) as signal_clicked_email_7d,
    -- a cart or checkout in the last 7 days with no purchase since
    coalesce(
        cast(last_cart_at as date) >= as_of.window_7d_start
        and (last_purchase_signal_at is null or last_purchase_signal_at < last_cart_at),
        false
    ) as signal_abandoned_cart_7d,
    coalesce(cast(last_past_orders_view_at as date) >= as_of.window_7d_start, false) as signal_viewed_past_orders_7d,
    last_purchase_signal_at
from facts
cross join as_of
