{#- Timestamp parsing per export format; every result is a naive timestamp in UTC. -#}

{#- GA4 event_timestamp: microseconds since the epoch (UTC), as text. -#}
{% macro timestamp_from_micros(expr) -%}
    {{ return(adapter.dispatch('timestamp_from_micros', 'omni_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__timestamp_from_micros(expr) -%}
    timestamp_micros(try_cast({{ expr }} as bigint))
{%- endmacro %}

{% macro duckdb__timestamp_from_micros(expr) -%}
    make_timestamp(try_cast({{ expr }} as bigint))
{%- endmacro %}

{#- Delighted: Unix seconds (UTC), as text. -#}
{% macro timestamp_from_unix_seconds(expr) -%}
    {{ return(adapter.dispatch('timestamp_from_unix_seconds', 'omni_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__timestamp_from_unix_seconds(expr) -%}
    timestamp_seconds(try_cast({{ expr }} as bigint))
{%- endmacro %}

{% macro duckdb__timestamp_from_unix_seconds(expr) -%}
    make_timestamp(try_cast({{ expr }} as bigint) * 1000000)
{%- endmacro %}

{#- Text with a UTC offset to UTC: Shopify/Zendesk '2021-05-13 11:01:12 +0200', ISO 8601
    '2026-10-03T09:12:44+02:00', '...Z', '...123-05:00'. Text without an offset is taken as UTC already
    (Mailchimp writes naive UTC). -#}
{% macro timestamp_from_offset_text(expr) -%}
    {{ return(adapter.dispatch('timestamp_from_offset_text', 'omni_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__timestamp_from_offset_text(expr) -%}
    {#- Spark's to_timestamp honours an offset and yields session-zone time; shift that to UTC. -#}
    to_utc_timestamp(
        to_timestamp(regexp_replace(trim({{ expr }}), ' ([+-][0-9]{2}):?([0-9]{2})$', '$1:$2')),
        current_timezone()
    )
{%- endmacro %}

{% macro duckdb__timestamp_from_offset_text(expr) -%}
    {%- set normalised = "regexp_replace(trim(" ~ expr ~ "), ' ?([+-][0-9]{2}):?([0-9]{2})$', '\\1:\\2')" -%}
    case
        when regexp_matches(trim({{ expr }}), '([+-][0-9]{2}:?[0-9]{2}|Z)$')
            then try_cast({{ normalised }} as timestamptz) at time zone 'UTC'
        else try_cast(trim({{ expr }}) as timestamp)
    end
{%- endmacro %}

{#- Naive text that is UTC by the tool's convention (Mailchimp 'YYYY-MM-DD HH:MM:SS'). -#}
{% macro timestamp_from_utc_text(expr) -%}
    {{ dbt.safe_cast("trim(" ~ expr ~ ")", dbt.type_timestamp()) }}
{%- endmacro %}

{#- A wall-clock date + time in a named IANA zone to UTC (Square tills). date_format is strptime style. -#}
{% macro timestamp_from_local(date_expr, time_expr, tz_expr, date_format='%m/%d/%Y') -%}
    {{ return(adapter.dispatch('timestamp_from_local', 'omni_warehouse')(date_expr, time_expr, tz_expr, date_format)) }}
{%- endmacro %}

{% macro default__timestamp_from_local(date_expr, time_expr, tz_expr, date_format) -%}
    {{ local_to_utc_timestamp(
        "to_timestamp(concat(trim(" ~ date_expr ~ "), ' ', trim(" ~ time_expr ~ ")), 'MM/dd/yyyy HH:mm:ss')",
        tz_expr
    ) }}
{%- endmacro %}

{% macro duckdb__timestamp_from_local(date_expr, time_expr, tz_expr, date_format) -%}
    {%- set text = "concat(trim(" ~ date_expr ~ "), ' ', trim(" ~ time_expr ~ "))" -%}
    {%- set wall_clock -%}
        coalesce(
            try_strptime({{ text }}, '{{ date_format }} %H:%M:%S'),
            try_strptime({{ text }}, '{{ date_format }} %H:%M'),
            try_cast({{ text }} as timestamp)
        )
    {%- endset -%}
    {{ local_to_utc_timestamp(wall_clock, tz_expr) }}
{%- endmacro %}

{#- Naive UTC timestamp -> naive wall-clock timestamp in the zone tz_expr (SQL: a column or a literal). -#}
{% macro utc_to_local_timestamp(expr, tz_expr) -%}
    {{ return(adapter.dispatch('utc_to_local_timestamp', 'omni_warehouse')(expr, tz_expr)) }}
{%- endmacro %}

{% macro default__utc_to_local_timestamp(expr, tz_expr) -%}
    from_utc_timestamp({{ expr }}, {{ tz_expr }})
{%- endmacro %}

{% macro duckdb__utc_to_local_timestamp(expr, tz_expr) -%}
    cast((({{ expr }}) at time zone 'UTC') at time zone {{ tz_expr }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- Naive wall-clock timestamp in the zone tz_expr -> naive UTC timestamp. -#}
{% macro local_to_utc_timestamp(expr, tz_expr) -%}
    {{ return(adapter.dispatch('local_to_utc_timestamp', 'omni_warehouse')(expr, tz_expr)) }}
{%- endmacro %}

{% macro default__local_to_utc_timestamp(expr, tz_expr) -%}
    to_utc_timestamp({{ expr }}, {{ tz_expr }})
{%- endmacro %}

{% macro duckdb__local_to_utc_timestamp(expr, tz_expr) -%}
    cast((({{ expr }}) at time zone {{ tz_expr }}) at time zone 'UTC' as {{ dbt.type_timestamp() }})
{%- endmacro %}
