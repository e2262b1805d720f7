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

{#- Text with a UTC offset to UTC; every shape the ingestion checks accept (orchestration/ingestion/checks.py):
    Shopify/Zendesk '2021-05-13 11:01:12 +0200' (also +02 and +02:00, PostgreSQL's text), Zendesk
    '01 Mar 2024 10:15:00 +0100', ISO 8601 '2026-10-03T09:12:44+02:00', '...+02', '...+0200', '...Z',
    '...123-05:00', '2026-10-03T09:12+02:00'. Text without an offset is taken as UTC already (Mailchimp
    writes naive UTC, Zendesk API syncs too); text with a zone none of these read is null, never naive. -#}
{% macro timestamp_from_offset_text(expr) -%}
    {{ return(adapter.dispatch('timestamp_from_offset_text', 'omni_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__timestamp_from_offset_text(expr) -%}
    {%- set text = "trim(" ~ expr ~ ")" -%}
    {#- Zendesk's 'dd Mon yyyy ...' becomes 'yyyy-m-dd ...' (month names in English, any case, as DuckDB's %b) -#}
    {%- set named = "'^([0-9]{1,2}) +([A-Za-z]{3}) +([0-9]{4}) +(.*)$'" -%}
    {%- set month_at = "instr('|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|', concat('|', lower(regexp_extract("
        ~ text ~ ", " ~ named ~ ", 2)), '|'))" -%}
    {%- set iso_text -%}
        case
            when {{ text }} rlike {{ named }} and {{ month_at }} > 0
                then concat(
                    regexp_extract({{ text }}, {{ named }}, 3), '-', cast(({{ month_at }} + 3) div 4 as string), '-',
                    regexp_extract({{ text }}, {{ named }}, 1), ' ', regexp_extract({{ text }}, {{ named }}, 4)
                )
            else {{ text }}
        end
    {%- endset -%}
    {#- Spark's cast reads Z, +hh, +hhmm and +hh:mm, after a space or not, but no offset after hh:mm
        without seconds: add ':00'. It honours the offset and yields session-zone time; shift that to UTC. -#}
    to_utc_timestamp(
        try_cast(regexp_replace(
            {{ iso_text }},
            '^([0-9]{4}-[0-9]{1,2}-[0-9]{1,2}[T ] *[0-9]{1,2}:[0-9]{1,2})( *(Z|[+-][0-9]{2}(:?[0-9]{2})?))$',
            '$1:00$2'
        ) as timestamp),
        current_timezone()
    )
{%- endmacro %}

{% macro duckdb__timestamp_from_offset_text(expr) -%}
    {%- set text = "trim(" ~ expr ~ ")" -%}
    {#- The checks' own readers: the ISO shape (iso_offset, zendesk) read by DuckDB's cast, which takes
        +hh, +hhmm, +hh:mm and Z (but no space before them), then strptime's %z (shopify, zendesk), which
        takes +hh, +hhmm and +hh:mm after a space. Text with anything but digits after its time has a
        zone and never reaches the naive cast, which would drop the offset. -#}
    case
        when regexp_matches({{ text }}, ':\d{1,2}(\.\d*)?\s*[^\d\s.:]')
            then coalesce(
                case
                    when regexp_full_match(
                        {{ text }}, '\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s?(Z|[+-]\d{2}(:?\d{2})?)'
                    ) then try_cast({{ text }} as timestamptz)
                end,
                try_strptime({{ text }}, ['%Y-%m-%d %H:%M:%S %z', '%d %b %Y %H:%M:%S %z'])
            ) at time zone 'UTC'
        else try_cast({{ text }} as timestamp)
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
