{#- Helpers of the journeys capability (sessions, funnels, alerts). Portable: DuckDB and Spark. -#}

{#- Highest number of steps a funnel may have. The funnel SQL unrolls one join per step up to this number;
    orchestration/funnels/definitions.py MAX_STEPS rejects longer funnels with the same limit. -#}
{% macro funnel_max_steps() -%}
    {{ return(var('funnel_max_steps', 10) | int) }}
{%- endmacro %}

{#- The data's as-of time: var as_of (an ISO timestamp) if given, else the latest activity. Windows that
    end after it are still open. -#}
{% macro journeys_as_of() -%}
    {%- if var('as_of', none) -%}
        cast('{{ var("as_of") }}' as {{ dbt.type_timestamp() }})
    {%- else -%}
        (select max(occurred_at) from {{ ref('activities') }})
    {%- endif -%}
{%- endmacro %}

{#- Text of a top-level property of a JSON object whose key is itself data (a column), not a literal. -#}
{% macro json_property_by_key(json_expr, key_expr) -%}
    {{ return(adapter.dispatch('json_property_by_key', 'omni_warehouse')(json_expr, key_expr)) }}
{%- endmacro %}

{% macro default__json_property_by_key(json_expr, key_expr) -%}
    get_json_object({{ json_expr }}, concat('$.', {{ key_expr }}))
{%- endmacro %}

{% macro duckdb__json_property_by_key(json_expr, key_expr) -%}
    json_extract_string({{ json_expr }}, '$."' || {{ key_expr }} || '"')
{%- endmacro %}

{#- Exact median (DuckDB) / percentile (Spark). -#}
{% macro journeys_median(expr) -%}
    {{ return(adapter.dispatch('journeys_median', 'omni_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__journeys_median(expr) -%}
    percentile({{ expr }}, 0.5)
{%- endmacro %}

{% macro duckdb__journeys_median(expr) -%}
    quantile_cont({{ expr }}, 0.5)
{%- endmacro %}

{#- Seconds from one timestamp to another, fractional seconds dropped. -#}
{% macro seconds_between(start_ts, end_ts) -%}
    {{ dbt.datediff(start_ts, end_ts, 'second') }}
{%- endmacro %}

{#- Standard normal CDF, Abramowitz & Stegun 26.2.17 (absolute error < 7.5e-8): portable where no erf(). -#}
{% macro normal_cdf(z) -%}
    (case when ({{ z }}) is null then null else
        (case when ({{ z }}) >= 0 then 1.0 else 0.0 end)
        + (case when ({{ z }}) >= 0 then -1.0 else 1.0 end)
          * exp(-0.5 * ({{ z }}) * ({{ z }})) / sqrt(2 * pi())
          * (0.319381530 * (1.0 / (1.0 + 0.2316419 * abs({{ z }})))
             - 0.356563782 * power(1.0 / (1.0 + 0.2316419 * abs({{ z }})), 2)
             + 1.781477937 * power(1.0 / (1.0 + 0.2316419 * abs({{ z }})), 3)
             - 1.821255978 * power(1.0 / (1.0 + 0.2316419 * abs({{ z }})), 4)
             + 1.330274429 * power(1.0 / (1.0 + 0.2316419 * abs({{ z }})), 5))
    end)
{%- endmacro %}

{#- Whether customers.customer_profiles is part of the project (it is gated by the customers capability's
    var customers_enabled). Decided at parse time, so the ref in the enabled branch is a real dependency.
    Without profiles, first-touch channel is derived from sessions, and segment and consent are unknown. -#}
{% macro journeys_use_profiles() -%}
    {{ return(customers_enabled()) }}
{%- endmacro %}

{#- journeys.activities.device_id: the device's public hash, never the tool's clear id. A device on an
    app activity is an app_instance_id, any other a ga_client_id (as staging observes them: GA4 by
    platform, the CRM's anonymous_id by channel), so the hash is that identifier's
    identity.person_identifiers.identifier_hash and identity_edges' hash. -#}
{% macro journeys_device_id(channel, device_id) -%}
    case when {{ device_id }} is not null then {{ identifier_hash(
        "case when " ~ channel ~ " = 'app' then 'app_instance_id' else 'ga_client_id' end", device_id) }} end
{%- endmacro %}

{#- journeys.activities.session_id: a hash of the tool's session id (GA4's carries the device's clear id). -#}
{% macro journeys_session_id(session_id) -%}
    {{ dbt.hash(session_id) }}
{%- endmacro %}

{#- journeys.activities' column `column` of int_activities_unioned's row `alias`: what the mart publishes -#}
{% macro journeys_published(alias, column) -%}
    {%- if column == 'device_id' -%}
    {{ journeys_device_id(alias ~ '.channel', alias ~ '.device_id') }}
    {%- elif column == 'session_id' -%}
    {{ journeys_session_id(alias ~ '.session_id') }}
    {%- else -%}
    {{ alias }}.{{ column }}
    {%- endif -%}
{%- endmacro %}

{#- What a session is cut by (int_activities_sessionized): web and app activities by device, every other
    channel (and a web or app activity without a device) per channel. `alias` is the activity relation. -#}
{% macro session_scope_of(alias) -%}
    case
        when {{ alias }}.channel in ('web', 'app') and {{ alias }}.device_id is not null
            then 'device:' || {{ alias }}.device_id
        else 'channel:' || {{ alias }}.channel
    end
{%- endmacro %}
