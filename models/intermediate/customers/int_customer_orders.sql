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
        cast(a.occurred_at as date) as order_date,
        case when a.activity = 'purchase' then 'online' else 'store' end as channel_group,
        coalesce(a.revenue, 0) as revenue
    from {{ ref('activities') }} as a
    cross join as_of
    where a.activity in ('purchase', 'store_purchase', 'store_refund')
        and cast(a.occurred_at as date) <= as_of.as_of_date

),

per_person as (

    select
        person_id,
        sum(case when activity = 'purchase' then 1 else 0 end) as online_orders,
        sum(case when activity = 'store_purchase' then 1 else 0 end) as store_orders,
        -- gross order value (refunds excluded) is what average order value is taken over
        sum(case when activity = 'purchase' then revenue else 0 end) as online_order_value,
        sum(case when activity = 'store_purchase' then revenue else 0 end) as store_order_value,
        -- net revenue: store refunds carry negative revenue
        sum(case when channel_group = 'online' then revenue else 0 end) as online_revenue,
        sum(case when channel_group = 'store' then revenue else 0 end) as store_revenue,
        min(case when activity != 'store_refund' then occurred_at end) as first_order_at,
        max(case when activity != 'store_refund' then occurred_at end) as last_order_at
    from orders
    group by person_id

),

purchase_days as (

    select
        person_id,
        order_date,
        sum(revenue) as day_value
    from orders
    where activity != 'store_refund'
    group by person_id, order_date

),

numbered_days as (

    select
        *,
        min(order_date) over (partition by person_id) as first_order_date
    from purchase_days

),

clv_summary as (

    select
        numbered_days.person_id,
        count(*) - 1 as frequency,
        {{ dbt.datediff('min(numbered_days.order_date)', 'max(numbered_days.order_date)', 'day') }} as recency_days,
        {{ dbt.datediff('min(numbered_days.order_date)', 'max(as_of.as_of_date)', 'day') }} as tenure_days,
        -- the Gamma-Gamma input: mean value of the repeat purchase days (the first is excluded)
        avg(case when numbered_days.order_date > numbered_days.first_order_date then numbered_days.day_value end)
            as repeat_average_value
    from numbered_days
    cross join as_of
    group by numbered_days.person_id

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
    cast(clv_summary.repeat_average_value as double) as repeat_average_value
from per_person
inner join clv_summary on per_person.person_id = clv_summary.person_id
