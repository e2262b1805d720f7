{{ config(enabled=customers_enabled()) }}

{#- One row per consent event behind the profile's consent columns.
    Sources: loyalty members and canonical customers (consent_* flags per record version; an event is
    a version whose flag differs from the record's previous statement, so a CRM re-exporting a stale
    flag with an unrelated change does not re-grant consent), the Mailchimp audience (opt-in /
    confirmation = granted, unsubscribe = withdrawn), Mailchimp activity unsubscribes and canonical
    subscribe/unsubscribe events, and Shopify's "Accepts Marketing = yes" (a ticked box is an explicit
    opt-in; an unticked one is not an explicit refusal, so it is not an event).
    Effective event per person and purpose: the latest; at the same instant a withdrawal wins. -#}

with

identifiers as (

    select identifier_type, identifier_value, person_id
    from {{ ref('person_identifiers') }}
    where not coalesce(is_blocked, false)

),

{%- for src, model, key_col, key_type in [
    ('loyalty_members', 'stg_loyalty__members', 'loyalty_id', 'loyalty_id'),
    ('canonical_customers', 'stg_canonical__customers', 'customer_id', 'customer_id'),
] %}

{{ src }}_versions as (

    -- one read of the staging table, one row per record version: resolved to
    -- its person (identifier values are unique per type, so the joins keep one row per version) and
    -- given each purpose's previous statement in the record (the previous non-null flag), all before
    -- the unpivot, so the joins and the window run once per version instead of once per purpose
    select
        coalesce(by_key.person_id, by_email.person_id) as person_id,
        -- the record's key is an identifier: its public hash, never the clear value (once per version,
        -- not per purpose)
        {{ identifier_hash("'" ~ key_type ~ "'", 'records.' ~ key_col) }} as record_key,
        records.updated_at as consented_at,
        {%- for purpose in ['email', 'sms', 'push', 'profiling'] %}
        records.consent_{{ purpose }},
        {{ customers_previous_non_null("records.consent_" ~ purpose, "record_history") }} as previous_{{ purpose }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref(model) }} as records
    left join identifiers as by_key
        on by_key.identifier_type = '{{ key_type }}' and by_key.identifier_value = records.{{ key_col }}
    left join identifiers as by_email
        on by_email.identifier_type = 'email' and by_email.identifier_value = records.email
    where records.updated_at is not null
    window record_history as (partition by records.{{ key_col }} order by records.updated_at)

),

{{ src }}_events as (

    -- an event is a purpose's flag that differs from the record's previous statement of it
    select
        person_id,
        consent_purpose,
        case when is_granted then 'granted' else 'withdrawn' end as consent_state,
        consented_at,
        '{{ src }}' as source,
        concat('{{ src }}:', record_key) as record_id
    from (
        select
            versions.person_id,
            versions.record_key,
            versions.consented_at,
            purposes.consent_purpose,
            case purposes.consent_purpose
                {%- for purpose in ['email', 'sms', 'push', 'profiling'] %}
                when '{{ purpose }}' then versions.consent_{{ purpose }}
                {%- endfor %}
            end as is_granted,
            case purposes.consent_purpose
                {%- for purpose in ['email', 'sms', 'push', 'profiling'] %}
                when '{{ purpose }}' then versions.previous_{{ purpose }}
                {%- endfor %}
            end as previous_is_granted
        from {{ src }}_versions as versions
        cross join (values ('email'), ('sms'), ('push'), ('profiling')) as purposes (consent_purpose)
    ) as statements
    where is_granted is not null
        and (previous_is_granted is null or previous_is_granted != is_granted)

),
{%- endfor %}

mailchimp_statements as (

    -- one read of the audience, each member resolved to its person once: the
    -- opt-in / confirmation of every member and the unsubscribe of the unsubscribed ones
    select *
    from (
        select
            identifiers.person_id,
            members.email,
            members.record_id as member_record_id,
            states.consent_state,
            case
                when states.consent_state = 'granted' then coalesce(members.confirm_at, members.optin_at)
                when members.status = 'unsubscribed' then coalesce(members.unsubscribed_at, members.last_changed_at)
            end as consented_at
        from {{ ref('stg_mailchimp__members') }} as members
        left join identifiers
            on identifiers.identifier_type = 'email' and identifiers.identifier_value = members.email
        cross join (values ('granted'), ('withdrawn')) as states (consent_state)
    ) as statements
    where consented_at is not null

),

mailchimp_events as (

    select
        person_id,
        'email' as consent_purpose,
        consent_state,
        consented_at,
        'mailchimp_audience' as source,
        -- never the clear address nor the member's Mailchimp id: the hash of the address, as the
        -- member's email_subscribe activity's id in journeys.activities
        concat('mailchimp_audience:', member_record_id) as record_id
    from mailchimp_statements

),

shopify_events as (

    select
        identifiers.person_id,
        'email' as consent_purpose,
        'granted' as consent_state,
        o.ordered_at as consented_at,
        'shopify_orders' as source,
        concat('shopify_orders:', o.order_id) as record_id
    from {{ ref('stg_shopify__orders') }} as o
    left join identifiers
        on identifiers.identifier_type = 'email' and identifiers.identifier_value = o.email
    where o.accepts_marketing and o.ordered_at is not null

),

activity_events as (

    -- audience subscriptions are read from the audience itself above; these are the tools' events
    select
        person_id,
        'email' as consent_purpose,
        case when activity = 'email_unsubscribe' then 'withdrawn' else 'granted' end as consent_state,
        occurred_at as consented_at,
        source,
        activity_id as record_id
    from {{ ref('activities') }}
    -- the range is the IN list's hull: a range is pushed into DuckDB's scan as a filter (an IN list
    -- only prunes row groups), so the other columns are read for the few matching rows alone
    where activity between 'email_subscribe' and 'email_unsubscribe'
        and activity in ('email_subscribe', 'email_unsubscribe')
        and (activity = 'email_unsubscribe' or source != 'mailchimp_audience')

),

all_events as (

    select * from loyalty_members_events
    union all
    select * from canonical_customers_events
    union all
    select * from mailchimp_events
    union all
    select * from shopify_events
    union all
    select * from activity_events

),

distinct_events as (

    -- the same statement can arrive twice (e.g. a re-delivered file): keep one
    select distinct * from all_events
    where person_id is not null and consented_at is not null

),

ranked as (

    select
        *,
        row_number() over (
            partition by person_id, consent_purpose
            order by consented_at desc,
                case when consent_state = 'withdrawn' then 0 else 1 end,
                source, record_id
        ) as recency_rank
    from distinct_events

)

select
    {{ hash_key(['person_id', 'consent_purpose', 'consent_state', 'consented_at', 'source', 'record_id']) }}
        as consent_event_id,
    person_id,
    consent_purpose,
    consent_state,
    consented_at,
    source,
    record_id,
    recency_rank = 1 as is_effective
from ranked
