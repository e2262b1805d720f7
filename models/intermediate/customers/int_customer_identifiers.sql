{{ config(enabled=customers_enabled()) }}

{#- Hashed primary identifiers and identifier counts per person, from identity.person_identifiers
    (blocked junk values excluded). Primary = the most recently seen value of the type, ties by the
    earliest first sighting, then by hash. Only the sha256 hash of `type:value` leaves this model.
    One row per person of person_identifiers, also for a person whose identifiers are all blocked
    (counts 0, no hashes): customer_profiles takes its persons from here instead of a second distinct
    over every identifier. -#}

with

identifiers as (

    select
        person_id,
        identifier_type,
        identifier_hash,
        first_seen_at,
        last_seen_at,
        not coalesce(is_blocked, false) as is_usable,
        -- latest sighting first; among equals the longest-known (negated age), then the hash
        {{ customers_sort_key([
            'last_seen_at',
            dbt.datediff('first_seen_at', "cast('2100-01-01' as timestamp)", 'second'),
            'identifier_hash',
        ]) }} as primary_key
    from {{ ref('person_identifiers') }}

)

select
    person_id,
    {%- for t in ['email', 'phone', 'customer_id', 'loyalty_id'] %}
    max_by(identifier_hash, primary_key) filter (where is_usable and identifier_type = '{{ t }}') as primary_{{ t }}_hash,
    {%- endfor %}
    {%- for t in ['email', 'phone', 'customer_id', 'loyalty_id'] %}
    cast(count(*) filter (where is_usable and identifier_type = '{{ t }}') as integer) as {{ t }}_count,
    {%- endfor %}
    cast(count(*) filter (where is_usable and identifier_type in ('ga_client_id', 'app_instance_id')) as integer)
        as device_id_count,
    cast(count(*) filter (where is_usable) as integer) as identifier_count,
    min(first_seen_at) filter (where is_usable) as identifiers_first_seen_at,
    max(last_seen_at) filter (where is_usable) as identifiers_last_seen_at
from identifiers
group by person_id
