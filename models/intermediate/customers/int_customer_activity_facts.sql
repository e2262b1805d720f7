{{ config(enabled=customers_enabled()) }}

{#- Everything the profile needs from journeys.activities that is one aggregate per person: one
    per-person aggregation plus one narrow aggregation per session / campaign (distinct counts) over the
    90-day window only, since the profile build's cost is dominated by the passes over the activities.
    Units are grouped on a 64-bit hash instead of concatenated strings, and JSON properties are parsed
    only on the rows and days a column uses.
    Activities after the as-of date are ignored so an `as_of_date` var replays history. -#}

{%- set outbound = "('email_sent', 'push_sent', 'email_bounce')" -%}

with

as_of as (

    select * from {{ ref('int_customer_as_of') }}

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
        a.device_id is not null as is_session,
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
        as_of.window_7d_start,
        as_of.window_30d_start,
        as_of.window_90d_start
    from {{ ref('activities') }} as a
    cross join as_of
    where cast(a.occurred_at as date) <= as_of.as_of_date

),

units as (

    -- distinct sessions (web/app) and campaigns (e-mail) per person in the 90-day window: one row per
    -- unit with the last day it was active, so counting distinct units becomes a sum. Only these narrow
    -- rows are grouped at unit grain; every other aggregate is taken per person below.
    select
        person_id,
        channel,
        unit_key,
        max(case when is_session then activity_date end) as session_last_date,
        max(case when activity = 'email_sent' then activity_date end) as sent_last_date,
        max(case when activity = 'email_open' then activity_date end) as opened_last_date,
        max(case when activity = 'email_click' then activity_date end) as clicked_last_date,
        max(window_30d_start) as window_30d_start,
        max(window_90d_start) as window_90d_start
    from activities
    where unit_key is not null
    group by person_id, channel, unit_key

),

unit_counts as (

    select
        person_id,
        {%- for ch in ['web', 'app'] %}
        {%- for days in [30, 90] %}
        sum(case when channel = '{{ ch }}' and session_last_date >= window_{{ days }}d_start then 1 else 0 end) as {{ ch }}_sessions_{{ days }}d,
        {%- endfor %}
        {%- endfor %}
        sum(case when sent_last_date >= window_90d_start then 1 else 0 end) as emails_sent_90d,
        sum(case when opened_last_date >= window_90d_start then 1 else 0 end) as emails_opened_90d,
        sum(case when clicked_last_date >= window_90d_start then 1 else 0 end) as emails_clicked_90d
    from units
    group by person_id

),

person_facts as (

    select
        person_id,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        -- touches are what the person did: outbound sends and bounces are not their touch
        min_by(channel, case when activity not in {{ outbound }} then time_key end) as first_touch_channel,
        max_by(channel, case when activity not in {{ outbound }} then time_key end) as last_touch_channel,
        max(case when activity = 'login' then occurred_at end) as last_login_at,
        max(case when activity = 'email_click' then occurred_at end) as last_email_click_at,
        sum(case when activity = 'service_contact' then 1 else 0 end) as service_contacts,
        sum(case when activity = 'service_contact' and activity_date >= window_90d_start then 1 else 0 end) as service_contacts_90d,
        max(case when activity = 'service_contact' then occurred_at end) as last_service_contact_at,
        max_by(satisfaction, case when satisfaction is not null then time_key end) as last_satisfaction,
        max_by(nps_score, case when nps_score is not null then time_key end) as latest_nps_score,
        max(case when nps_score is not null then occurred_at end) as latest_nps_at,
        max(case when activity in ('purchase', 'store_purchase', 'checkout_complete') then occurred_at end) as last_purchase_signal_at,
        max(case when activity in ('add_to_cart', 'begin_checkout') then occurred_at end) as last_cart_at,
        max(case when is_past_orders_view = 1 then occurred_at end) as last_past_orders_view_at,
        max(window_7d_start) as window_7d_start
    from activities
    group by person_id

),

facts as (

    select
        person_facts.*,
        {%- for c in ['web_sessions_30d', 'web_sessions_90d', 'app_sessions_30d', 'app_sessions_90d', 'emails_sent_90d', 'emails_opened_90d', 'emails_clicked_90d'] %}
        coalesce(unit_counts.{{ c }}, 0) as {{ c }}{{ "," if not loop.last }}
        {%- endfor %}
    from person_facts
    left join unit_counts on person_facts.person_id = unit_counts.person_id

)

select
    person_id,
    first_seen_at,
    last_seen_at,
    first_touch_channel,
    last_touch_channel,
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
    coalesce(cast(last_email_click_at as date) >= window_7d_start, false) as signal_clicked_email_7d,
    -- a cart or checkout in the last 7 days with no purchase since
    coalesce(
        cast(last_cart_at as date) >= window_7d_start
        and (last_purchase_signal_at is null or last_purchase_signal_at < last_cart_at),
        false
    ) as signal_abandoned_cart_7d,
    coalesce(cast(last_past_orders_view_at as date) >= window_7d_start, false) as signal_viewed_past_orders_7d,
    last_purchase_signal_at
from facts
