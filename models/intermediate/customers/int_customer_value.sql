{{ config(enabled=customers_enabled()) }}

{#- RFM scores, RFM segment and lifecycle stage of every buyer (persons without orders are
    `prospect` in customer_profiles). Rules and thresholds: _customers__intermediate.yml. -#}

{%- set recency = customers_setting('customers_rfm_recency_days') -%}
{%- set frequency = customers_setting('customers_rfm_frequency_orders') -%}
{%- set monetary = customers_setting('customers_rfm_monetary') -%}

with

as_of as (

    select * from {{ ref('int_customer_as_of') }}

),

orders as (

    select
        o.person_id,
        o.total_orders,
        o.total_revenue,
        {{ dbt.datediff('cast(o.last_order_at as date)', 'as_of.as_of_date', 'day') }} as days_since_last_order
    from {{ ref('int_customer_orders') }} as o
    cross join as_of

),

scored as (

    select
        *,
        {{ customers_score_5('days_since_last_order', recency, higher_is_better=false) }} as recency_score,
        {{ customers_score_5('total_orders', frequency) }} as frequency_score,
        {{ customers_score_5('total_revenue', monetary) }} as monetary_score
    from orders

)

select
    person_id,
    cast(days_since_last_order as integer) as days_since_last_order,
    cast(recency_score as integer) as recency_score,
    cast(frequency_score as integer) as frequency_score,
    cast(monetary_score as integer) as monetary_score,
    concat(
        cast(recency_score as {{ dbt.type_string() }}),
        cast(frequency_score as {{ dbt.type_string() }}),
        cast(monetary_score as {{ dbt.type_string() }})
    ) as rfm_cell,
    case
        when recency_score >= 4 and frequency_score >= 4 then 'champions'
        when recency_score = 3 and frequency_score >= 4 then 'loyal_customers'
        when recency_score >= 4 and frequency_score >= 2 then 'potential_loyalists'
        when recency_score >= 4 then 'new_customers'
        when recency_score = 3 and frequency_score >= 2 then 'need_attention'
        when recency_score = 3 then 'about_to_sleep'
        when recency_score = 1 and frequency_score >= 4 then 'cant_lose_them'
        when frequency_score >= 3 then 'at_risk'
        when recency_score = 2 then 'hibernating'
        else 'lost'
    end as rfm_segment,
    case
        when days_since_last_order > {{ customers_setting('customers_lost_after_days') }} then 'lost'
        when days_since_last_order > {{ customers_setting('customers_lapsing_after_days') }} then 'lapsing'
        when total_orders >= {{ customers_setting('customers_loyal_min_orders') }} then 'loyal'
        when total_orders >= 2 then 'repeat'
        else 'first_purchase'
    end as lifecycle_stage
from scored
