{{ config(enabled=customers_enabled()) }}

{#- One row per person (everyone in journeys.activities, plus persons known only by identifiers):
    hashed identifiers, consents, channels, engagement, orders, value, RFM, lifecycle, CLV, NPS and
    readiness signals, all as of int_customer_as_of. Rules are documented per column in
    _customers__models.yml; each part is computed in models/intermediate/customers. -#}

with

as_of as (

    select * from {{ ref('int_customer_as_of') }}

),

persons as (

    -- every person of journeys.activities and of identity.person_identifiers, once: the activity
    -- persons up to the as-of date are int_customer_activity_facts' rows and the identifier persons
    -- int_customer_identifiers' rows (both one row per person, so no distinct over all activities or
    -- identifiers). Persons seen only after the as-of date exist only in a replay with var as_of_date
    -- (by default the as-of date is the latest activity day): then a filtered scan adds them.
    select person_id from {{ ref('int_customer_activity_facts') }}
    union
    select person_id from {{ ref('int_customer_identifiers') }}
    {%- if var('as_of_date', none) %}
    union
    select a.person_id
    from {{ ref('activities') }} as a
    cross join as_of
    where cast(a.occurred_at as date) > as_of.as_of_date
    {%- endif %}

),

consents as (

    select
        person_id,
        {%- for p in ['email', 'sms', 'push', 'profiling'] %}
        max(case when consent_purpose = '{{ p }}' then consent_state end) as consent_{{ p }}_state,
        max(case when consent_purpose = '{{ p }}' then consented_at end) as consent_{{ p }}_at,
        max(case when consent_purpose = '{{ p }}' then source end) as consent_{{ p }}_source{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('customer_consents') }}
    where is_effective
    group by person_id

)

select
    persons.person_id,
    ids.primary_email_hash,
    ids.primary_phone_hash,
    ids.primary_customer_id_hash,
    ids.primary_loyalty_id_hash,
    {%- for c in ['email_count', 'phone_count', 'customer_id_count', 'loyalty_id_count', 'device_id_count', 'identifier_count'] %}
    cast(coalesce(ids.{{ c }}, 0) as integer) as {{ c }},
    {%- endfor %}
    {%- for p in ['email', 'sms', 'push', 'profiling'] %}
    coalesce(consents.consent_{{ p }}_state, 'unknown') as consent_{{ p }}_state,
    consents.consent_{{ p }}_at,
    consents.consent_{{ p }}_source,
    {%- endfor %}
    coalesce(facts.first_seen_at, ids.identifiers_first_seen_at) as first_seen_at,
    coalesce(facts.last_seen_at, ids.identifiers_last_seen_at) as last_seen_at,
    facts.channels_used,
    cast(coalesce(facts.channel_count, 0) as integer) as channel_count,
    facts.first_touch_channel,
    facts.last_touch_channel,
    facts.preferred_channel,
    {%- for c in ['web_sessions_30d', 'web_sessions_90d', 'app_sessions_30d', 'app_sessions_90d'] %}
    cast(coalesce(facts.{{ c }}, 0) as integer) as {{ c }},
    {%- endfor %}
    facts.last_login_at,
    cast(coalesce(facts.emails_sent_90d, 0) as integer) as emails_sent_90d,
    facts.email_open_rate_90d,
    facts.email_click_rate_90d,
    {%- for c in ['online_orders', 'store_orders', 'total_orders'] %}
    cast(coalesce(orders.{{ c }}, 0) as integer) as {{ c }},
    {%- endfor %}
    {%- for c in ['online_revenue', 'store_revenue', 'total_revenue'] %}
    cast(coalesce(orders.{{ c }}, 0) as decimal(18, 2)) as {{ c }},
    {%- endfor %}
    orders.average_order_value,
    orders.first_order_at,
    orders.last_order_at,
    interest.top_categories,
    cast(coalesce(facts.service_contacts, 0) as integer) as service_contacts,
    cast(coalesce(facts.service_contacts_90d, 0) as integer) as service_contacts_90d,
    facts.last_service_contact_at,
    facts.last_satisfaction,
    facts.latest_nps_score,
    facts.latest_nps_category,
    facts.latest_nps_at,
    value.days_since_last_order,
    value.recency_score,
    value.frequency_score,
    value.monetary_score,
    value.rfm_cell,
    coalesce(value.rfm_segment, 'no_orders') as rfm_segment,
    coalesce(value.lifecycle_stage, 'prospect') as lifecycle_stage,
    cast(clv.expected_purchases_90d as double) as clv_expected_purchases_90d,
    cast(clv.expected_purchases_365d as double) as clv_expected_purchases_365d,
    cast(clv.probability_alive as double) as clv_probability_alive,
    cast(clv.expected_order_value as decimal(18, 2)) as clv_expected_order_value,
    cast(clv.expected_value_365d as decimal(18, 2)) as clv_expected_value_365d,
    coalesce(clv.is_reliable, false) as clv_is_reliable,
    coalesce(facts.signal_clicked_email_7d, false) as signal_clicked_email_7d,
    interest.repeat_viewed_product_id is not null as signal_repeat_product_view_7d,
    interest.repeat_viewed_product_id,
    coalesce(facts.signal_abandoned_cart_7d, false) as signal_abandoned_cart_7d,
    coalesce(facts.signal_viewed_past_orders_7d, false) as signal_viewed_past_orders_7d,
    as_of.as_of_date
from persons
cross join as_of
left join {{ ref('int_customer_identifiers') }} as ids on persons.person_id = ids.person_id
left join consents on persons.person_id = consents.person_id
left join {{ ref('int_customer_activity_facts') }} as facts on persons.person_id = facts.person_id
left join {{ ref('int_customer_orders') }} as orders on persons.person_id = orders.person_id
left join {{ ref('int_customer_value') }} as value on persons.person_id = value.person_id
left join {{ ref('int_customer_product_interest') }} as interest on persons.person_id = interest.person_id
left join {{ ref('int_customer_clv') }} as clv on persons.person_id = clv.person_id
