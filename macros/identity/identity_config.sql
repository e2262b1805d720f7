{#- Identity settings: each is a dbt var (set it in dbt_project.yml `vars:` or with --vars) with the
    default below, so every identity model reads one definition. -#}
{% macro identity_setting(name) -%}
    {%- set defaults = {
        'identity_max_rounds': 64,
        'identity_weak_types': [],
        'identity_device_types': ['ga_client_id', 'app_instance_id', 'card_fingerprint'],
        'identity_device_user_types': ['site_user_id', 'email', 'loyalty_id', 'pos_customer_id'],
        'identity_max_users_per_device': 1,
        'identity_max_per_person': {'customer_id': 1},
        'identity_strong_types': ['customer_id', 'loyalty_id', 'site_user_id', 'pos_customer_id',
                                  'esp_member_id', 'service_requester_id'],
        'identity_max_strong_ids_per_value': 10,
        'identity_max_linked_identifiers': 200,
    } -%}
    {%- if name not in defaults -%}
        {{ exceptions.raise_compiler_error("identity_setting: unknown setting '" ~ name ~ "'") }}
    {%- endif -%}
    {{ return(var(name, defaults[name])) }}
{%- endmacro %}

{#- 'a', 'b' -> SQL list literal for IN (...); an empty list gives a list that matches nothing. -#}
{% macro identity_sql_list(values) -%}
    {%- if values | length == 0 -%}
        (cast(null as {{ dbt.type_string() }}))
    {%- else -%}
        ({%- for v in values -%}'{{ v | replace("'", "''") }}'{{ ", " if not loop.last }}{%- endfor -%})
    {%- endif -%}
{%- endmacro %}

{#- Node key of an identifier: type:value (the graph's vertex name). -#}
{% macro identity_node_key(type_expr, value_expr) -%}
    concat({{ type_expr }}, ':', {{ value_expr }})
{%- endmacro %}

{#- An identifier's public hash (person_identifiers.identifier_hash): the sha256 of its node key. What
    the public marts carry instead of the clear value, also where an identifier is a record's key (a
    Mailchimp member's e-mail, a loyalty member's card number) or an activity's device. -#}
{% macro identifier_hash(type_expr, value_expr) -%}
    {{ identity_sha256(identity_node_key(type_expr, value_expr)) }}
{%- endmacro %}

{#- sha256 hex of a string (public hashed identifiers). -#}
{% macro identity_sha256(expr) -%}
    {{ return(adapter.dispatch('identity_sha256', 'omni_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__identity_sha256(expr) -%}
    sha2(cast({{ expr }} as {{ dbt.type_string() }}), 256)
{%- endmacro %}

{% macro duckdb__identity_sha256(expr) -%}
    sha256(cast({{ expr }} as {{ dbt.type_string() }}))
{%- endmacro %}

{#- Opaque person id: p_ + 20 hex characters of a hash. -#}
{% macro identity_person_id(expr) -%}
    concat('p_', substr({{ dbt.hash(expr) }}, 1, 20))
{%- endmacro %}

{#- The time this dbt invocation started, as a SQL timestamp literal (UTC). -#}
{% macro identity_run_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
