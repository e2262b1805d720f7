{#- Stable person ids. The previous run's identifier -> person map is this model's own last state
    ({{ this }} is still the old table while the new one is built). Rules:
      - every previous person goes to the component holding most of its identifiers (ties: smaller
        component key); the rest of its identifiers are split off;
      - a component keeps the oldest previous person that went to it (created first, then first seen,
        then id), so on a merge the oldest id survives;
      - a component with none gets a new id p_<hash of its smallest key>, salted with the run when
        that id was held in the previous run.
    previous_person_id lets identity_merges record what changed in this run; attribution_changed marks
    identifiers whose person, known flag or exclusion changed (or that are new), and
    attribution_changed_at keeps the start of the run that last changed them, so incremental journeys
    models re-attribute only the records that carry identifiers changed since they last ran (also
    after a run that failed between this model and them). -#}
{%- set previous_relation = adapter.get_relation(this.database, this.schema, this.identifier) if execute else none -%}
{%- set device_types = identity_setting('identity_device_types') -%}

with components as (
    select
        c.node_key,
        c.component_key,
        c.component_size,
        n.identifier_type,
        n.first_seen_at,
        n.is_device,
        n.blocked_reason is not null as is_blocked,
        g.node_key is not null as is_excluded
    from {{ ref('int_identity_components') }} c
    join {{ ref('int_identity_nodes') }} n on c.node_key = n.node_key
    left join (select distinct node_key from {{ ref('int_identity_guardrail_audit') }}) g
        on c.node_key = g.node_key
),

previous as (
    {%- if previous_relation is not none %}
    {%- set has_flags = relation_has_column(previous_relation, 'is_known_person') %}
    {%- set has_changed_at = relation_has_column(previous_relation, 'attribution_changed_at') %}
    select
        node_key,
        person_id as previous_person_id,
        person_created_at as previous_created_at,
        {{ 'is_known_person' if has_flags else 'cast(null as boolean)' }} as previous_is_known_person,
        {{ 'is_excluded' if has_flags else 'cast(null as boolean)' }} as previous_is_excluded,
        {{ 'attribution_changed_at' if has_changed_at else 'cast(null as ' ~ dbt.type_timestamp() ~ ')' }}
            as previous_attribution_changed_at
    from {{ previous_relation }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as node_key,
        cast(null as {{ dbt.type_string() }}) as previous_person_id,
        cast(null as {{ dbt.type_timestamp() }}) as previous_created_at,
        cast(null as boolean) as previous_is_known_person,
        cast(null as boolean) as previous_is_excluded,
        cast(null as {{ dbt.type_timestamp() }}) as previous_attribution_changed_at
    where 1 = 0
    {%- endif %}
),

joined as (
    select
        c.*,
        p.previous_person_id,
        p.previous_created_at,
        p.previous_is_known_person,
        p.previous_is_excluded,
        p.previous_attribution_changed_at
    from components c
    left join previous p on c.node_key = p.node_key
),

previous_persons as (
    select
        previous_person_id,
        min(previous_created_at) as created_at,
        min(first_seen_at) as first_seen_at
    from joined
    where previous_person_id is not null
    group by previous_person_id
),

person_overlaps as (
    select previous_person_id, component_key, count(*) as overlap_identifiers
    from joined
    where previous_person_id is not null
    group by previous_person_id, component_key
),

destination as (
    select previous_person_id, component_key
    from (
        select
            o.*,
            row_number() over (
                partition by o.previous_person_id
                order by o.overlap_identifiers desc, o.component_key
            ) as rank_in_person
        from person_overlaps o
    ) ranked
    where rank_in_person = 1
),

survivors as (
    select component_key, person_id, created_at
    from (
        select
            d.component_key,
            d.previous_person_id as person_id,
            p.created_at,
            row_number() over (
                partition by d.component_key
                order by p.created_at, p.first_seen_at, d.previous_person_id
            ) as rank_in_component
        from destination d
        join previous_persons p on d.previous_person_id = p.previous_person_id
    ) ranked
    where rank_in_component = 1
),

all_components as (
    select distinct component_key from components
),

fresh as (
    select
        a.component_key,
        case
            when p.previous_person_id is null then {{ identity_person_id('a.component_key') }}
            else {{ identity_person_id("concat(a.component_key, '|', '" ~ invocation_id ~ "')") }}
        end as person_id
    from all_components a
    left join survivors s on a.component_key = s.component_key
    -- any id held in the previous run, even by a person whose identifiers are all gone (a retired
    -- id may come back for the same smallest identifier; identity_merges keeps its history)
    left join (select distinct previous_person_id from previous) p
        on {{ identity_person_id('a.component_key') }} = p.previous_person_id
    where s.component_key is null
),

assigned as (
    select component_key, person_id, created_at from survivors
    union all
    select component_key, person_id, {{ identity_run_started_at() }} from fresh
),

-- known: the component holds a usable identifier other than a device id
known as (
    select component_key, max(case when not is_device and not is_excluded then 1 else 0 end) = 1 as is_known_person
    from components
    group by component_key
),

attributed as (
    select
        j.node_key,
        j.identifier_type,
        j.component_key,
        j.component_size,
        a.person_id,
        a.created_at as person_created_at,
        k.is_known_person,
        j.is_device,
        j.is_blocked,
        j.is_excluded,
        j.previous_person_id,
        j.previous_attribution_changed_at,
        (
            j.previous_person_id is null
            or j.previous_person_id <> a.person_id
            or j.previous_is_known_person is null
            or j.previous_is_known_person <> k.is_known_person
            or j.previous_is_excluded is null
            or j.previous_is_excluded <> j.is_excluded
        ) as attribution_changed
    from joined j
    join assigned a on j.component_key = a.component_key
    join known k on j.component_key = k.component_key
)

select
    node_key,
    identifier_type,
    component_key,
    component_size,
    person_id,
    person_created_at,
    is_known_person,
    is_device,
    is_blocked,
    is_excluded,
    previous_person_id,
    attribution_changed,
    case
        when attribution_changed then {{ identity_run_started_at() }}
        else previous_attribution_changed_at
    end as attribution_changed_at
from attributed
