{#- Drop-off alerts, ordered and strict funnels only (unordered steps have no transition order).

    Grain: funnel, step transition i -> i + 1, channel of the step-i event ('(all)' for every channel),
    local business day step i was reached. Semantics and the stated test: docs/funnels.md, section Alerts.

    - Periods are the shop's local business days, the same days as the daily partitions: reached_at
      (UTC) is converted to var reporting_timezone (OMNI_TIMEZONE, default Europe/Copenhagen) and its
      date is period_date; a day closes at the local midnight that ends it.
    - A channel series measures that channel's own conversion: in a per-channel row the unit converts
      only when step i + 1 happened in the same channel as step i (var alert_channel_conversion:
      same_channel); a purchase completed in another channel is a rescue, counted in the '(all)' row
      (any channel, the cross-channel view). alert_channel_conversion: any_channel makes every row
      accept any channel (funnels designed to cross channels).

    - Occurrences, not best attempts: every step-i event some (non-voided) attempt reached counts, so a
      unit that fails on the incident day and buys a week later still counts as a failure on that day.
      A unit counts once per day and channel: converted when any of its step-i events that day reached
      step i + 1 within var alert_transition_hours (24) and inside the attempt's window. Counted per day
      by int_funnel_step_occurrences and int_funnel_transition_days, which daily runs update for the
      days that changed; this model reads those counts (a few rows per series and day) and recomputes
      the statistics below over all of them.
    - Closed days only: the day's local end (next local midnight, in UTC) + the shorter of the wait and
      the funnel window <= as-of.
    - Baseline: the var alert_baseline_days (28) days before, same transition and channel, without the
      days already flagged (var alert_baseline_passes rounds: round r drops the days flagged in round
      r - 1, so a multi-day incident does not dilute its own baseline).
    - Test: one-sided exact binomial, P(X <= converted) for X ~ Binomial(units, p0) with p0 the pooled
      (null-hypothesis) rate (converted + baseline_converted) / (units + baseline_units); summed term
      by term while units <= var alert_exact_max_units (1000), above that the normal approximation with
      a continuity correction. Flagged when p_value < var alert_alpha (0.001), the day is below the
      baseline, and the day and the baseline each have >= var alert_min_volume (5) units
      (flag_reason 'significant_drop').
    - Sustained drop: the day right after a flagged day of the same series is flagged as a continuation
      when its own p_value (its own units vs its own baseline, never pooled with the flagged day) is below
      var alert_continuation_alpha (0.01), it is below the baseline and has the volume; at most var
      alert_continuation_days (3) continuation days in a row (unrolled, no recursion). Continuation
      days leave later baselines like flagged days. Added false-alarm rate per series-day: at most
      P(previous day flagged) x alert_continuation_alpha (docs/funnels.md, Alerts). -#}
{%- set max_steps = funnel_max_steps() -%}
{%- set wait_hours = var('alert_transition_hours', 24) | int -%}
{%- set baseline_days = var('alert_baseline_days', 28) | int -%}
{%- set passes = var('alert_baseline_passes', 3) | int -%}
{%- set exact_max = var('alert_exact_max_units', 1000) | int -%}
{%- set alpha = var('alert_alpha', 0.001) | float -%}
{%- set min_volume = var('alert_min_volume', 5) | int -%}
{%- set continuation_alpha = var('alert_continuation_alpha', 0.01) | float -%}
{%- set continuation_days = var('alert_continuation_days', 3) | int -%}
{#- columns each pass carries; chain_position: 0 on a significant drop, k on the k-th continuation day
    in a row, null when not flagged -#}
{%- set series_columns = [
    'funnel_name', 'from_step_index', 'channel', 'period_date', 'day_number', 'units', 'converted',
    'baseline_units', 'baseline_converted', 'z_score', 'p_value', 'is_continuation_candidate'
] -%}
{%- set tz_sql = "'" ~ journeys_reporting_timezone() ~ "'" -%}  {#- the zone as a SQL literal -#}
{%- set channel_conversion = var('alert_channel_conversion', 'same_channel') -%}
{%- if channel_conversion not in ('same_channel', 'any_channel') -%}
    {{ exceptions.raise_compiler_error(
        "var alert_channel_conversion must be same_channel or any_channel, got '" ~ channel_conversion ~ "'"
    ) }}
{%- endif %}

with definitions as (
    select
        funnel_name,
        window_seconds,
        step_count
    from {{ ref('int_funnel_definitions') }}
    where funnel_order <> 'unordered'
),

step_names as (
    select distinct
        funnel_name,
        step_index,
        step_name
    from {{ ref('int_funnel_step_matchers') }}
),

-- the daily counts (int_funnel_transition_days, kept up to date day by day), closed days only: every
-- unit reaching step i that local day has had its full wait by the as-of time (UTC). A channel's row
-- counts its own conversion (alert_channel_conversion), '(all)' any channel's
daily as (
    select
        c.funnel_name,
        c.from_step_index,
        c.channel,
        c.period_date,
        {{ dbt.datediff("cast('1970-01-01' as date)", 'c.period_date', 'day') }} as day_number,
        c.units,
        c.converted_{{ channel_conversion }} as converted
    from {{ ref('int_funnel_transition_days') }} as c
    inner join definitions as d on c.funnel_name = d.funnel_name
    where
        {{ dbt.dateadd(
            'second',
            'least(d.window_seconds, ' ~ wait_hours ~ ' * 3600)',
            local_to_utc_timestamp(
                dbt.dateadd('day', 1, 'cast(c.period_date as ' ~ dbt.type_timestamp() ~ ')'), tz_sql
            )
        ) }} <= {{ journeys_as_of() }}
),

-- log C(units, k) for k = 0 .. converted (exact test's terms), only for days small enough to sum
series as (
    select generated_number - 1 as k
    from ({{ dbt.generate_series(exact_max + 1) }}) as g
),

log_choose as (
    select
        d.funnel_name,
        d.from_step_index,
        d.channel,
        d.period_date,
        d.units,
        s.k,
        -- ln C(n, k) = sum over j < k of ln((n - j) / (j + 1))
        coalesce(sum(case when s.k < d.units then ln(cast(d.units - s.k as double) / (s.k + 1)) end) over (
            partition by d.funnel_name, d.from_step_index, d.channel, d.period_date
            order by s.k
            rows between unbounded preceding and 1 preceding
        ), 0) as ln_choose
    from daily as d
    inner join series as s on s.k <= d.converted
    where d.units <= {{ exact_max }}
),

pass_0 as (
    select
        *,
        false as is_flagged
    from daily
)
{%- for r in range(1, passes + 1) %},

-- round {{ r }}: baseline without the days flagged in round {{ r - 1 }}
baseline_{{ r }} as (
    select
        funnel_name,
        from_step_index,
        channel,
        period_date,
        day_number,
        units,
        converted,
        sum(case when is_flagged then 0 else units end) over baseline_days as baseline_units,
        sum(case when is_flagged then 0 else converted end) over baseline_days as baseline_converted
    from pass_{{ r - 1 }}
    window baseline_days as (
        partition by funnel_name, from_step_index, channel
        order by day_number
        range between {{ baseline_days }} preceding and 1 preceding
    )
),

null_rate_{{ r }} as (
    select
        *,
        cast(converted + coalesce(baseline_converted, 0) as double)
        / (units + coalesce(baseline_units, 0)) as p0
    from baseline_{{ r }}
),

exact_{{ r }} as (
    select
        c.funnel_name,
        c.from_step_index,
        c.channel,
        c.period_date,
        sum(exp(c.ln_choose + c.k * ln(n.p0) + (c.units - c.k) * ln(1 - n.p0))) as p_exact
    from log_choose as c
    inner join null_rate_{{ r }} as n
        on
            c.funnel_name = n.funnel_name
            and c.from_step_index = n.from_step_index
            and c.channel = n.channel
            and c.period_date = n.period_date
    where n.p0 > 0 and n.p0 < 1
    group by c.funnel_name, c.from_step_index, c.channel, c.period_date
),

tested_{{ r }} as (
    select
        n.*,
        -- normal approximation of the same test, with a continuity correction
        (n.converted + 0.5 - n.units * n.p0) / nullif(sqrt(n.units * n.p0 * (1 - n.p0)), 0) as z_score,
        case
            when n.baseline_units is null or n.baseline_units = 0 then null
            -- every unit converted, or none ever did: the day cannot be lower
            when n.p0 >= 1 or n.p0 <= 0 then 1.0
            when n.units <= {{ exact_max }} then least(e.p_exact, 1.0)
            else {{ normal_cdf('(n.converted + 0.5 - n.units * n.p0) / sqrt(n.units * n.p0 * (1 - n.p0))') }}
        end as p_value
    from null_rate_{{ r }} as n
    left join exact_{{ r }} as e
        on
            n.funnel_name = e.funnel_name
            and n.from_step_index = e.from_step_index
            and n.channel = e.channel
            and n.period_date = e.period_date
),

-- the day's own test at both levels: a significant drop starts a chain (position 0); a candidate may
-- continue one
chain_{{ r }}_0 as (
    select
        *,
        case when is_below_baseline and p_value < {{ alpha }} then 0 end as chain_position,
        coalesce(is_below_baseline and p_value < {{ continuation_alpha }}, false) as is_continuation_candidate
    from (
        select
            *,
            coalesce(
                units >= {{ min_volume }}
                and baseline_units >= {{ min_volume }}
                and cast(converted as double) / units
                < cast(baseline_converted as double) / nullif(baseline_units, 0),
                false
            ) as is_below_baseline
        from tested_{{ r }}
    ) as t
)
{%- for k in range(1, continuation_days + 1) %},

-- continuation step {{ k }}: a candidate whose previous calendar day is flagged (chains grow by one day a step)
chain_{{ r }}_{{ k }} as (
    select
        {{ series_columns | join(',\n        ') }},
        coalesce(
            chain_position,
            case
                when is_continuation_candidate and previous_day_number = day_number - 1
                    then previous_position + 1
            end
        ) as chain_position
    from (
        select
            *,
            lag(day_number) over series_days as previous_day_number,
            lag(chain_position) over series_days as previous_position
        from chain_{{ r }}_{{ k - 1 }}
        window series_days as (partition by funnel_name, from_step_index, channel order by day_number)
    ) as l
)
{%- endfor %},

pass_{{ r }} as (
    select
        *,
        chain_position is not null as is_flagged
    from chain_{{ r }}_{{ continuation_days }}
)
{%- endfor %},

-- the level that applies to each day: the continuation level right after a flagged day whose chain can
-- still grow
scored as (
    select
        *,
        coalesce(
            lag(day_number) over series_days = day_number - 1
            and lag(chain_position) over series_days < {{ continuation_days }},
            false
        ) as follows_flagged_day
    from pass_{{ passes }}
    window series_days as (partition by funnel_name, from_step_index, channel order by day_number)
)

select
    s.funnel_name,
    s.from_step_index,
    f.step_name as from_step_name,
    s.from_step_index + 1 as to_step_index,
    t.step_name as to_step_name,
    s.channel,
    s.period_date,
    cast(s.units as {{ dbt.type_bigint() }}) as units,
    cast(s.converted as {{ dbt.type_bigint() }}) as converted,
    cast(s.converted as double) / s.units as conversion,
    cast(s.baseline_units as {{ dbt.type_bigint() }}) as baseline_units,
    cast(s.baseline_converted as {{ dbt.type_bigint() }}) as baseline_converted,
    cast(s.baseline_converted as double) / nullif(s.baseline_units, 0) as baseline_conversion,
    s.z_score,
    s.p_value,
    s.is_flagged,
    -- had nothing converted, would the day have been flagged? (enough volume to see a total collapse, at
    -- the level that applies to the day)
    coalesce(
        s.units >= {{ min_volume }}
        and s.baseline_units >= {{ min_volume }}
        and s.baseline_converted > 0
        and power(1 - cast(s.baseline_converted as double) / (s.units + s.baseline_units), s.units)
        < case when s.follows_flagged_day then {{ continuation_alpha }} else {{ alpha }} end,
        false
    ) as is_detectable,
    case
        when s.chain_position = 0 then 'significant_drop'
        when s.chain_position > 0 then 'continuation'
    end as flag_reason
from scored as s
inner join step_names as f on s.funnel_name = f.funnel_name and s.from_step_index = f.step_index
inner join step_names as t on s.funnel_name = t.funnel_name and s.from_step_index + 1 = t.step_index
