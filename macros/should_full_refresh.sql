{#- dbt's should_full_refresh (global project macro, overridden here), plus the daily-run rule: an
    incremental model rebuilds from scratch when the run has no partition window (a plain `dbt build`,
    no min_date var or OMNI_MIN_DATE), so nothing stale survives it; a model that holds the history of
    runs (meta keep_history: identity_quality, identity_merges) keeps appending. A model's own
    full_refresh config and the --full-refresh flag decide first, as in dbt.
    Decided here, at run time, rather than in each model's config: a config value computed from the
    window's environment variable made dbt re-parse every incremental model whenever the window moved,
    i.e. on every daily run (about 1.5 s of a run whose models take a few seconds). -#}
{% macro should_full_refresh() %}
    {%- set configured = config.get('full_refresh') -%}
    {%- if configured is not none -%}{% do return(configured) %}{%- endif -%}
    {%- if flags.FULL_REFRESH -%}{% do return(true) %}{%- endif -%}
    {%- set meta = config.get('meta') or {} -%}
    {% do return(config.get('materialized') == 'incremental'
        and not meta.get('keep_history', false)
        and incremental_min_date() is none) %}
{% endmacro %}
