{{ config(enabled=customers_enabled()) }}

{#- Product and category interest per person. Top categories weigh what was bought (3) above what was
    put in a cart (2) above what was viewed (1), ties alphabetical, top 3 kept. The repeat-view signal:
    one product viewed at least `customers_repeat_view_min` (3) times in the last 7 days with no purchase
    (online order, store receipt or GA4 checkout) after the first of those views. -#}

{%- set min_views = customers_setting('customers_repeat_view_min') -%}

with

as_of as (

    select * from {{ ref('int_customer_as_of') }}

),

activities as (

    select
        a.person_id,
        a.activity,
        a.occurred_at,
        a.product_id,
        a.product_category,
        cast(a.occurred_at as date) >= as_of.window_7d_start as in_last_7d
    from {{ ref('activities') }} as a
    cross join as_of
    where cast(a.occurred_at as date) <= as_of.as_of_date
        and (
            a.product_id is not null
            or a.product_category is not null
            or a.activity in ('purchase', 'store_purchase', 'checkout_complete')
        )

),

category_weights as (

    select
        person_id,
        product_category,
        sum(case
            when activity in ('purchase', 'store_purchase', 'checkout_complete') then 3
            when activity in ('add_to_cart', 'begin_checkout') then 2
            else 1
        end) as weight
    from activities
    where product_category is not null
    group by person_id, product_category

),

top_categories as (

    select
        person_id,
        -- the (at most 3) ranked categories put in order by their rank: cheaper than an ordered string
        -- aggregate per person
        concat_ws(','
            {%- for rank in [1, 2, 3] %}, max(case when category_rank = {{ rank }} then product_category end){% endfor -%}
        ) as top_categories
    from (
        select
            *,
            row_number() over (partition by person_id order by weight desc, product_category) as category_rank
        from category_weights
    ) as ranked
    where category_rank <= 3
    group by person_id

),

recent_views as (

    select
        person_id,
        product_id,
        count(*) as views,
        min(occurred_at) as first_view_at
    from activities
    where activity = 'product_view' and in_last_7d and product_id is not null
    group by person_id, product_id
    having count(*) >= {{ min_views }}

),

last_purchase as (

    select
        person_id,
        max(occurred_at) as last_purchase_at
    from activities
    where activity in ('purchase', 'store_purchase', 'checkout_complete')
    group by person_id

),

repeat_views as (

    select
        recent_views.person_id,
        -- the most viewed product (then the latest-starting, then by id) is the one to follow up
        max_by(
            recent_views.product_id,
            {{ customers_sort_key(['recent_views.views', 'recent_views.first_view_at', 'recent_views.product_id']) }}
        ) as repeat_viewed_product_id
    from recent_views
    left join last_purchase on recent_views.person_id = last_purchase.person_id
    where last_purchase.last_purchase_at is null or last_purchase.last_purchase_at < recent_views.first_view_at
    group by recent_views.person_id

),

persons as (

    select person_id from top_categories
    union
    select person_id from repeat_views

)

select
    persons.person_id,
    top_categories.top_categories,
    repeat_views.repeat_viewed_product_id
from persons
left join top_categories on persons.person_id = top_categories.person_id
left join repeat_views on persons.person_id = repeat_views.person_id
