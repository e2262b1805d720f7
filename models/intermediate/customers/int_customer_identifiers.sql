{{ config(enabled=customers_enabled()) }}

{#- Hashed primary identifiers and identifier counts per person, from identity.person_identifiers
    (blocked junk values excluded). Primary = the most recently seen value of the type, ties by the
    earliest first sighting, then by hash. Only the sha256 hash of `type:value` leaves this model. -#}

with

identifiers as (

    select
        person_id,
        identifier_type,
        identifier_hash,
        first_seen_at,
        last_seen_at,
        -- latest sighting first; among equals the longest-known (negated age), then the hash
        {{ customers_sort_key([
            'last_seen_at',
            dbt.datediff('first_seen_at', "cast('2100-01-01' as timestamp)", 'second'),
            'identifier_hash',
        ]) }} as primary_key
    from {{ ref('person_identifiers') }}
    where not coalesce(is_blocked, false)

)

select
    person_id,
    {%- for t in ['email', 'phone', 'customer_id', 'loyalty_id'] %}
    max_by(case when identifier_type = '{{ t }}' then identifier_hash end,
        case when identifier_type = '{{ t }}' then primary_key end) as primary_{{ t }}_hash,
    {%- endfor %}
    {%- for t in ['email', 'phone', 'customer_id', 'loyalty_id'] %}
    cast(sum(case when identifier_type = '{{ t }}' then 1 else 0 end) as integer) as {{ t }}_count,
    {%- endfor %}
    cast(sum(case when identifier_type in ('ga_client_id', 'app_instance_id') then 1 else 0 end) as integer) as device_id_count,
    cast(count(*) as integer) as identifier_count,
    min(first_seen_at) as identifiers_first_seen_at,
    max(last_seen_at) as identifiers_last_seen_at
from identifiers
group by person_id
