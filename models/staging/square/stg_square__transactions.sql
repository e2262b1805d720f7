with

items as (

    select * from {{ ref('stg_square__items') }}

),

receipts as (

    -- one receipt per transaction and event type: a refund reuses the sale's Transaction ID
    select
        case
            when event_type = 'refund' then concat(transaction_id, ':refund')
            else transaction_id
        end as receipt_id,
        transaction_id,
        coalesce(event_type, 'payment') as event_type,
        min(occurred_at) as occurred_at,
        max(location) as location,
        max(pos_customer_id) as pos_customer_id,
        max(loyalty_id) as loyalty_id,
        max(card_fingerprint) as card_fingerprint,
        max(card_brand) as card_brand,
        max(currency) as currency,
        count(*) as item_lines,
        sum(quantity) as quantity,
        sum(gross_sales) as gross_sales,
        sum(discounts) as discounts,
        sum(net_sales) as net_sales,
        sum(tax) as tax
    from items
    where transaction_id is not null
    group by 1, 2, 3

),

final as (

    select
        *,
        event_type = 'refund' as is_refund,
        -- what the till collected; refunds are negative whichever sign the export used
        cast(
            case
                when event_type = 'refund' then -abs(coalesce(net_sales, 0) + coalesce(tax, 0))
                else coalesce(net_sales, 0) + coalesce(tax, 0)
            end as decimal(18, 2)
        ) as total_amount
    from receipts

)

select * from final
