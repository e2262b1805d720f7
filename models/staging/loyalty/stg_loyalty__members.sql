with

source as (

    select * from {{ source('lake', 'loyalty_members') }}

),

latest as (

    -- one row per member change; re-delivered changes keep their latest copy
    select
        *,
        {{ latest_first(['trim(member_id)', 'trim(updated_at)']) }} as version_rank
    from source
    where {{ normalize_id('member_id') }} is not null

),

renamed as (

    select
        {{ hash_key(['trim(member_id)', 'trim(updated_at)']) }} as member_version_id,
        {{ normalize_id('member_id') }} as loyalty_id,
        {{ timestamp_from_offset_text('updated_at') }} as updated_at,
        {{ timestamp_from_offset_text('joined_at') }} as joined_at,
        {{ normalize_email('email') }} as email,
        {{ normalize_phone_for_country('phone', 'country') }} as phone,
        {{ normalize_id('first_name') }} as first_name,
        {{ normalize_id('last_name') }} as last_name,
        {{ dbt.safe_cast('trim(birth_date)', 'date') }} as birth_date,
        {{ normalize_id('postcode') }} as postcode,
        {{ normalize_id('city') }} as city,
        upper({{ normalize_id('country') }}) as country,
        {{ normalize_id('home_store') }} as home_store,
        lower({{ normalize_id('tier') }}) as tier,
        {{ parse_bool('consent_email') }} as consent_email,
        {{ parse_bool('consent_sms') }} as consent_sms,
        {{ parse_bool('consent_push') }} as consent_push,
        {{ parse_bool('consent_profiling') }} as consent_profiling,
        _landing_date as landing_date,
        _ingested_at as ingested_at
    from latest
    where version_rank = 1

),

final as (

    select
        *,
        row_number() over (
            partition by loyalty_id order by updated_at desc nulls last, landing_date desc
        ) = 1 as is_current
    from renamed

)

select * from final
