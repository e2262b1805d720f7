{#- Incremental on daily runs (window set): recomputes the receipts of every transaction with an item
    line stg_square__items wrote since this table's newest ingested_at (the newest of its lines'), so a
    line re-delivered or added later changes its receipt as a rebuild would (delete+insert on
    transaction_id: a sale and its refund share it), and of every transaction with a receipt whose item
    line vanished from a re-delivered export (removed from stg_square__items, or re-read there from an
    older file: macros/staging/vanished_records.sql) since this table's newest loaded_at (the last run
    that wrote it), not every receipt ever logged. The pre-hook first deletes the held receipts of those
    transactions and the logged receipts, so a receipt left without lines is gone too. A change of this
    SQL needs a full refresh. -#}
{{ config(
    unique_key='transaction_id',
    pre_hook="{{ staging_delete_rederived_records(ref('stg_square__items'), 'square_items', 'transaction_id',
        record_id=square_receipt_id(), record_column='receipt_id') }}",
) }}
-- depends_on: {{ ref('stg_lake__removed_records') }}

with

items as (

    select * from {{ ref('stg_square__items') }}

),
{%- if incremental_window_active() %}

changed_transactions as (

    -- a receipt sums its item lines: every receipt of a transaction with a line written since, or with
    -- a logged receipt, is recomputed from all the transaction's lines
    select distinct transaction_id from items
    {{ staging_rederived_records_filter('square_items', 'transaction_id', record_id=square_receipt_id()) }}

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
        ) as total_amount,
        {{ identity_run_started_at() }} as loaded_at
    from receipts

)

select * from final
