{#- Incremental on daily runs (window set): recomputes the receipts of every transaction with an item
    line stg_square__items wrote since this table's newest ingested_at (the newest of its lines'), so a
    line re-delivered or added later changes its receipt as a rebuild would (delete+insert on
    transaction_id: a sale and its refund share it), and of every receipt whose item line vanished
    from a re-delivered export in this or an earlier run (logged by stg_square__items: macros/staging/vanished_records.sql;
    a receipt left without lines is deleted with its transaction's other rows). A change of this SQL needs a full refresh. -#}
{{ config(
    unique_key='transaction_id',
    post_hook="{{ staging_delete_records_left_empty('square_items', 'receipt_id', ref('stg_square__items'), 'transaction_id') }}",
) }}
-- depends_on: {{ ref('stg_lake__removed_records') }}

with

items as (

    select * from {{ ref('stg_square__items') }}

),
{%- if incremental_window_active() %}

changed_transactions as (

    -- a receipt sums its item lines: every receipt of a transaction with a line written since is recomputed
    select distinct transaction_id from items
    {{ staging_new_lake_rows_filter('ingested_at') }}
    {%- if staging_logged_any('square_items', all_runs=true) %}
    union
    -- the transactions of receipts whose item line vanished (removed, or re-read from an older file)
    select transaction_id from {{ this }}
    where receipt_id in ({{ staging_logged_this_run('square_items', 'record_id', all_runs=true) }})
    {%- endif %}

),
{%- endif %}

receipts as (

    -- one receipt per transaction and event type: a refund reuses the sale's Transaction ID
    select
        {{ square_receipt_id() }} as receipt_id,
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
        sum(tax) as tax,
        max(ingested_at) as ingested_at
    from items
    where transaction_id is not null
        {%- if incremental_window_active() %}
        and transaction_id in (select transaction_id from changed_transactions)
        {%- endif %}
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
