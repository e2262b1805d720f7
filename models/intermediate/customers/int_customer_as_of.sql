{{ config(enabled=customers_enabled()) }}

{#- The single "as of" date of every customers model: the latest activity day in the data, so a
    rebuild on the same data gives the same profiles; the var `as_of_date` (YYYY-MM-DD) overrides.
    Window starts are inclusive: the 7-day window is the as-of day and the six days before it. -#}

with

as_of as (

    select
    {%- if var('as_of_date', none) %}
        cast('{{ var("as_of_date") }}' as date) as as_of_date
    {%- else %}
        cast(max(occurred_at) as date) as as_of_date
    from {{ ref('activities') }}
    {%- endif %}

)

select
    as_of_date,
    {%- for days in [7, 30, 90, 180, 365] %}
    cast({{ dbt.dateadd('day', 1 - days, 'as_of_date') }} as date) as window_{{ days }}d_start{{ "," if not loop.last }}
    {%- endfor %}
from as_of
