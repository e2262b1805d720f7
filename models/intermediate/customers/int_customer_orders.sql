{{ config(enabled=customers_enabled()) }}

{#- One row per person with at least one order (online `purchase` or `store_purchase`) up to the
    as-of date: order counts and revenue per channel group, plus the purchase-day summary the CLV
    models are fitted on (BG/NBD counts purchase days, so two orders on one day are one purchase). -#}

with

as_of as (

    select * from {{ ref('int_customer_as_of') }}

),

orders as (

    select
        a.person_id,
        a.activity_id,
        a.activity,
        a.occurred_at,
        a.is_known_person,
        cast(a.occurred_at as date) as order_date,
        case when a.activity = 'purchase' then 'online' else 'store' end as channel_group,
        coalesce(a.revenue, 0) as revenue
    from {{ ref('activities') }} as a
    cross join as_of
    where a.activity in ('purchase', 'store_purchase', 'store_refund')
        and cast(a.occurred_at as date) <= as_of.as_of_date

),

order_days as (

    -- one row per person and order day (refund-only days included for revenue): the only grouping
    -- at a finer grain than the person, and only over order rows
    select
        person_id,
        order_date,
        sum(case when activity = 'purchase' then 1 else 0 end) as online_orders,
        sum(case when activity = 'store_purchase' then 1 else 0 end) as store_orders,
        -- gross order value (refunds excluded) is what average order value is taken over
        sum(case when activity = 'purchase' then revenue else 0 end) as online_order_value,
        sum(case when activity = 'store_purchase' then revenue else 0 end) as store_order_value,
        -- net revenue: store refunds carry negative revenue
        sum(case when channel_group = 'store' then revenue else 0 end) as store_revenue,
        min(case when activity != 'store_refund' then occurred_at end) as first_order_at,
        max(case when activity != 'store_refund' then occurred_at end) as last_order_at,
        -- the day's purchase value: BG/NBD counts purchase days, Gamma-Gamma averages their value
        sum(case when activity != 'store_refund' then revenue end) as day_value,
        max(case when is_known_person then 1 else 0 end) as is_known_person
    from orders
    group by person_id, order_date

),

per_person as (

    select
        person_id,
        sum(online_orders) as online_orders,
        sum(store_orders) as store_orders,
        sum(online_order_value) as online_order_value,
        sum(store_order_value) as store_order_value,
        sum(online_order_value) as online_revenue,
        sum(store_revenue) as store_revenue,
        min(first_order_at) as first_order_at,
        max(last_order_at) as last_order_at,
        -- purchase days are the days with an order (not a refund alone)
        count(first_order_at) - 1 as frequency,
        min(case when first_order_at is not null then order_date end) as first_order_date,
        max(case when first_order_at is not null then order_date end) as last_order_date,
        sum(day_value) as purchase_days_value,
        min_by(day_value, case when first_order_at is not null then order_date end) as first_day_value,
        max(is_known_person) = 1 as is_known_person
    from order_days
    group by person_id
    -- a person with refunds only has no purchase day: not a buyer
    having count(first_order_at) > 0

),

clv_summary as (

    select
        per_person.person_id,
        per_person.frequency,
        {{ dbt.datediff('per_person.first_order_date', 'per_person.last_order_date', 'day') }} as recency_days,
        {{ dbt.datediff('per_person.first_order_date', 'as_of.as_of_date', 'day') }} as tenure_days,
        -- the Gamma-Gamma input: mean value of the repeat purchase days (the first is excluded)
        case when per_person.frequency > 0 then
            cast(per_person.purchase_days_value - per_person.first_day_value as double) / per_person.frequency
        end as repeat_average_value
    from per_person
    cross join as_of

)

select
    per_person.person_id,
    cast(per_person.online_orders as integer) as online_orders,
    cast(per_person.store_orders as integer) as store_orders,
    cast(per_person.online_orders + per_person.store_orders as integer) as total_orders,
    cast(per_person.online_revenue as decimal(18, 2)) as online_revenue,
    cast(per_person.store_revenue as decimal(18, 2)) as store_revenue,
    cast(per_person.online_revenue + per_person.store_revenue as decimal(18, 2)) as total_revenue,
    cast(
        (per_person.online_order_value + per_person.store_order_value)
        / nullif(per_person.online_orders + per_person.store_orders, 0)
        as decimal(18, 2)
    ) as average_order_value,
    per_person.first_order_at,
    per_person.last_order_at,
    cast(clv_summary.frequency as integer) as frequency,
    cast(clv_summary.recency_days as integer) as recency_days,
    cast(clv_summary.tenure_days as integer) as tenure_days,
    cast(clv_summary.repeat_average_value as double) as repeat_average_value,
    -- false for an anonymous receipt (no identifier, or only a weak one such as a card fingerprint,
    -- which makes a person of its own): scored, but not fitted on (orchestration/clv)
    per_person.is_known_person
from per_person
inner join clv_summary on per_person.person_id = clv_summary.person_id
