{#- One row per funnel attempt: every step-1 event starts one (for unordered funnels, every event of any
    step). Semantics in docs/funnels.md. The number of steps is data: the chain below is unrolled up to
    funnel_max_steps() and each funnel stops at its own step_count.
    Incremental (daily runs), per person, like int_funnel_step_events: every input of a unit's attempts
    (its step events, interrupting and excluding activities) is its person's activities. Of a re-cut
    person, only the attempts whose window ends at or after its changed_from (journeys_changed_from,
    macros/journeys/funnels_incremental.sql) are recomputed: an attempt reads only events, interruptions
    and exclusions from its entry to its window's end (a link's first later candidate past the window
    is not taken), so one whose window ended before changed_from is unchanged. A recomputed attempt
    entered at most the funnel's window before changed_from, and reads only later rows (a suffix of
    the unit's events by rank: ranks follow time and are kept across runs). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ delete_person_rows_from_change('int_funnel_attempts', 'window_ends_at',
        funnel_config_relations()) }}",
    post_hook=["{{ record_consumed_watermark('int_funnel_attempts', 'insert', ref('int_activities_sessionized'),
            relations_fingerprint(funnel_config_relations())) }}",
        "{{ record_consumed_watermark('int_funnel_attempts', 'delete') }}"],
) }}
-- depends_on: {{ ref('int_incremental_watermarks') }}
-- depends_on: {{ ref('int_funnel_definitions') }}
-- depends_on: {{ ref('int_funnel_step_matchers') }}
-- depends_on: {{ ref('int_funnel_step_filters') }}
-- depends_on: {{ ref('int_funnel_interruptions') }}
-- depends_on: {{ ref('int_funnel_exclusions') }}
-- depends_on: {{ ref('int_activities_sessionized') }}
{%- set since = persons_recompute_since('int_funnel_attempts', funnel_config_relations()) %}
{%- set max_steps = funnel_max_steps() %}
{%- set from_change = recomputes_from_change(since) %}

{{- require_funnel_inputs_current('int_funnel_attempts', ['int_funnel_step_events']) }}
with definitions as (
    select
        funnel_name, step_count, window_seconds, funnel_order, count_by, interruption_scope,
        entry_start, entry_end
    from {{ ref('int_funnel_definitions') }}
),
{%- if from_change %}

-- each re-cut person's changed_from, and the earliest activity any of its recomputed attempts reads
-- (interrupting and excluding activities earlier than an attempt's entry are not read by it)
changed as (
    select
        c.person_id,
        c.changed_from,
        {{ dbt.dateadd('second', '-1 * w.max_window_seconds', 'c.changed_from') }} as activities_from
    from ({{ journeys_changed_from(since, 'int_funnel_attempts') }}) as c
    cross join (select max(window_seconds) as max_window_seconds from definitions) as w
),
{%- endif %}

events as (
    select
        e.funnel_name, e.unit_id, e.person_id, e.session_id, e.activity_id, e.occurred_at, e.channel,
        e.step_index, e.event_rank,
        d.step_count, d.window_seconds, d.funnel_order, d.count_by, d.interruption_scope,
        d.entry_start, d.entry_end
    from {{ ref('int_funnel_step_events') }} as e
    inner join definitions as d on e.funnel_name = d.funnel_name
    {%- if from_change %}
    -- the entries of the attempts recomputed and every later event: window_ends_at as computed below, so
    -- that the pre-hook's split is exact on every engine (Spark's dateadd drops fractions of a second)
    inner join changed as c
        on
            e.person_id = c.person_id
            and {{ dbt.dateadd('second', 'd.window_seconds', 'e.occurred_at') }} >= c.changed_from
    {%- endif %}
),

-- ordered and strict: for every event at step k, the earliest later event (by event_rank) that can
-- fill step k + 1. Candidate rows sort before marker rows of the same event, so "1 following" never
-- lets an event fill two steps.
link_rows as (
    select funnel_name, unit_id, step_index as link, event_rank, 1 as is_marker, occurred_at
    from events
    where funnel_order <> 'unordered' and step_index < step_count
    union all
    select funnel_name, unit_id, step_index - 1 as link, event_rank, 0 as is_marker, occurred_at
    from events
    where funnel_order <> 'unordered' and step_index > 1
),

link_windows as (
    select
        funnel_name, unit_id, link, event_rank, is_marker, occurred_at,
        -- ranks follow time, so the smallest later candidate rank and time belong to one event
        min(case when is_marker = 0 then event_rank end) over following_rows as next_rank,
        min(case when is_marker = 0 then occurred_at end) over following_rows as next_at
    from link_rows
    window following_rows as (
        partition by funnel_name, unit_id, link
        order by event_rank, is_marker
        rows between 1 following and unbounded following
    )
),

-- strict: the first interrupting activity strictly after each step event (same channel or any channel
-- per interruption_scope; which activities interrupt comes from funnel_interruptions, null = any)
strict_units as (
    select distinct funnel_name, unit_id, count_by, interruption_scope
    from events
    where funnel_order = 'strict'
),

interruption_rows as (
    select
        funnel_name, unit_id,
        case when interruption_scope = 'same_channel' then channel else '*' end as scope_key,
        event_rank, step_index, occurred_at, 1 as kind,
        cast(null as {{ dbt.type_timestamp() }}) as interrupt_at
    from events
    where funnel_order = 'strict' and step_index < step_count
    union all
    select
        u.funnel_name, u.unit_id,
        case when u.interruption_scope = 'same_channel' then a.channel else '*' end as scope_key,
        cast(null as {{ dbt.type_bigint() }}) as event_rank, cast(null as {{ dbt.type_int() }}) as step_index,
        a.occurred_at, 0 as kind, a.occurred_at as interrupt_at
    from {{ ref('int_activities_sessionized') }} as a
    inner join strict_units as u
        on u.unit_id = case when u.count_by = 'session' then a.session_id else a.person_id end
    inner join {{ ref('int_funnel_interruptions') }} as i
        on i.funnel_name = u.funnel_name
        and (i.activity is null or i.activity = a.activity)
    {%- if from_change %}
    inner join changed as c on a.person_id = c.person_id and a.occurred_at >= c.activities_from
    {%- endif %}
),

interruptions as (
    select funnel_name, unit_id, step_index, event_rank, next_interrupt_at
    from (
        select
            funnel_name, unit_id, step_index, event_rank, kind,
            -- activities at the step's own timestamp sort before it, so only later ones count
            min(interrupt_at) over (
                partition by funnel_name, unit_id, scope_key
                order by occurred_at, kind
                rows between 1 following and unbounded following
            ) as next_interrupt_at
        from interruption_rows
    ) as w
    where kind = 1
),

links as (
    select
        l.funnel_name, l.unit_id, l.link, l.event_rank,
        case when i.next_interrupt_at < l.next_at then null else l.next_rank end as next_rank,
        case when i.next_interrupt_at < l.next_at then null else l.next_at end as next_at
    from link_windows as l
    left join interruptions as i
        on l.funnel_name = i.funnel_name
        and l.unit_id = i.unit_id
        and l.link = i.step_index
        and l.event_rank = i.event_rank
    where l.is_marker = 1
),

entries as (
    select
        funnel_name, unit_id, person_id, session_id, count_by, funnel_order, step_count,
        event_rank as entry_rank,
        occurred_at as entered_at,
        {{ dbt.dateadd('second', 'window_seconds', 'occurred_at') }} as window_ends_at
    from events
    where
        step_index = 1
        and funnel_order <> 'unordered'
        and (entry_start is null or cast(occurred_at as date) >= entry_start)
        and (entry_end is null or cast(occurred_at as date) <= entry_end)
),

ordered_attempts as (
    select
        en.funnel_name, en.unit_id, en.person_id, en.session_id, en.count_by, en.funnel_order,
        en.step_count, en.entry_rank, en.entered_at, en.window_ends_at,
        en.entry_rank as step_1_rank,
        en.entered_at as step_1_at
        {%- for k in range(2, max_steps + 1) %},
        l{{ k }}.next_rank as step_{{ k }}_rank,
        l{{ k }}.next_at as step_{{ k }}_at
        {%- endfor %}
    from entries as en
    {%- for k in range(2, max_steps + 1) %}
    left join links as l{{ k }}
        on l{{ k }}.funnel_name = en.funnel_name
        and l{{ k }}.unit_id = en.unit_id
        and l{{ k }}.link = {{ k - 1 }}
        and l{{ k }}.event_rank = {{ 'en.entry_rank' if k == 2 else 'l' ~ (k - 1) ~ '.next_rank' }}
        -- the window is inclusive: an event exactly at window_ends_at still counts
        and l{{ k }}.next_at <= en.window_ends_at
    {%- endfor %}
),

-- unordered: from every event of any step (its entry), the first time each step is done at or after
-- it; steps done by window_ends_at count. Validation guarantees an event fills at most one step.
unordered_rows as (
    select
        funnel_name, unit_id, person_id, session_id, count_by, funnel_order, step_count,
        event_rank as entry_rank,
        occurred_at as entered_at,
        {{ dbt.dateadd('second', 'window_seconds', 'occurred_at') }} as window_ends_at,
        entry_start, entry_end
        {%- for j in range(1, max_steps + 1) %},
        min(case when step_index = {{ j }} then occurred_at end) over (
            partition by funnel_name, unit_id order by event_rank
            rows between current row and unbounded following
        ) as first_at_{{ j }}
        {%- endfor %}
    from events
    where funnel_order = 'unordered'
),

unordered_attempts as (
    select
        funnel_name, unit_id, person_id, session_id, count_by, funnel_order, step_count,
        entry_rank, entered_at, window_ends_at,
        0
        {%- for j in range(1, max_steps + 1) %}
        + case when first_at_{{ j }} <= window_ends_at then 1 else 0 end
        {%- endfor %} as reached_step,
        greatest(
            {%- for j in range(1, max_steps + 1) %}
            case when first_at_{{ j }} <= window_ends_at then first_at_{{ j }} else entered_at end
            {{- "," if not loop.last }}
            {%- endfor %}
        ) as last_step_at
    from unordered_rows
    where
        (entry_start is null or cast(entered_at as date) >= entry_start)
        and (entry_end is null or cast(entered_at as date) <= entry_end)
),

ordered_reached as (
    select
        *,
        case
            {%- for k in range(max_steps, 1, -1) %}
            when step_{{ k }}_at is not null then {{ k }}
            {%- endfor %}
            else 1
        end as reached_step
    from ordered_attempts
),

exclusion_events as (
    select
        x.funnel_name, x.after_step, x.before_step,
        case when d.count_by = 'session' then a.session_id else a.person_id end as unit_id,
        a.occurred_at
    from {{ ref('int_activities_sessionized') }} as a
    inner join {{ ref('int_funnel_exclusions') }} as x
        on a.activity = x.activity
        and (x.channel is null or a.channel = x.channel)
    inner join definitions as d on x.funnel_name = d.funnel_name
    {%- if from_change %}
    inner join changed as c on a.person_id = c.person_id and a.occurred_at >= c.activities_from
    {%- endif %}
),

-- an exclusion event strictly after step `after_step` and strictly before step `before_step` (or, when
-- that step was not reached, up to the window's end) voids the attempt
voided as (
    select distinct o.funnel_name, o.unit_id, o.entry_rank
    from ordered_reached as o
    inner join exclusion_events as x
        on o.funnel_name = x.funnel_name
        and o.unit_id = x.unit_id
        and x.occurred_at > o.entered_at
        and x.occurred_at <= o.window_ends_at
    where
        x.occurred_at > case x.after_step
            {%- for k in range(1, max_steps + 1) %} when {{ k }} then o.step_{{ k }}_at{% endfor %} end
        and (
            x.occurred_at < case x.before_step
                {%- for k in range(1, max_steps + 1) %} when {{ k }} then o.step_{{ k }}_at{% endfor %} end
            or case x.before_step
                {%- for k in range(1, max_steps + 1) %} when {{ k }} then o.step_{{ k }}_at{% endfor %} end is null
        )
),

ordered_final as (
    select
        o.funnel_name, o.unit_id, o.person_id, o.session_id, o.count_by, o.funnel_order, o.step_count,
        o.entry_rank, o.entered_at, o.window_ends_at, o.reached_step,
        case o.reached_step
            {%- for k in range(1, max_steps + 1) %} when {{ k }} then o.step_{{ k }}_at{% endfor %}
        end as last_step_at
        {%- for k in range(1, max_steps + 1) %},
        o.step_{{ k }}_rank
        {%- endfor %}
    from ordered_reached as o
    left join voided as v
        on o.funnel_name = v.funnel_name
        and o.unit_id = v.unit_id
        and o.entry_rank = v.entry_rank
    where v.entry_rank is null
)

-- loaded_at: the run that (re)computed the attempt (a kept attempt keeps its run's)
select
    *,
    {{ identity_run_started_at() }} as loaded_at
from ordered_final
union all
select
    funnel_name, unit_id, person_id, session_id, count_by, funnel_order, step_count,
    entry_rank, entered_at, window_ends_at, reached_step, last_step_at,
    entry_rank as step_1_rank
    {%- for k in range(2, max_steps + 1) %},
    cast(null as {{ dbt.type_bigint() }}) as step_{{ k }}_rank
    {%- endfor %},
    {{ identity_run_started_at() }} as loaded_at
from unordered_attempts
