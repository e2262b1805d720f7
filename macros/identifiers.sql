{#- Identifier normalisation. The demo's ground truth and every identity model rely on these exact
    forms: e-mail trimmed + lower-cased, phone in E.164, ids trimmed with empty -> null. -#}

{% macro normalize_id(expr) -%}
    nullif(trim(cast({{ expr }} as {{ dbt.type_string() }})), '')
{%- endmacro %}

{#- Something@something, otherwise null: a name or "n/a" typed into an e-mail field is not an identifier. -#}
{% macro normalize_email(expr) -%}
    case
        when {{ regexp_like("lower(trim(" ~ expr ~ "))", "^[^@ ]+@[^@ ]+[.][^@ ]+$") }}
            then lower(trim({{ expr }}))
    end
{%- endmacro %}

{#- Per-country dialling facts for national numbers: calling code, whether a trunk 0 prefixes national
    numbers, and the allowed length of the national significant number. -#}
{% macro phone_country_rules() -%}
    {{ return({
        'DK': {'code': '45', 'trunk': false, 'min': 8, 'max': 8},
        'NO': {'code': '47', 'trunk': false, 'min': 8, 'max': 8},
        'SE': {'code': '46', 'trunk': true, 'min': 7, 'max': 9},
        'FI': {'code': '358', 'trunk': true, 'min': 5, 'max': 10},
        'DE': {'code': '49', 'trunk': true, 'min': 6, 'max': 11},
        'NL': {'code': '31', 'trunk': true, 'min': 9, 'max': 9},
        'GB': {'code': '44', 'trunk': true, 'min': 9, 'max': 10},
        'FR': {'code': '33', 'trunk': true, 'min': 9, 'max': 9},
        'US': {'code': '1', 'trunk': false, 'min': 10, 'max': 10},
        'CA': {'code': '1', 'trunk': false, 'min': 10, 'max': 10},
    }) }}
{%- endmacro %}

{#- Phone to E.164 (+<country code><number>) or null when it cannot be one.
    International forms: '+45 20123456', '0045 20 12 34 56', '+46 (0)70 123 45 67'.
    National forms use the country (default var default_phone_country): '20 12 34 56' in DK,
    '070-123 45 67' in SE (trunk 0 dropped). Too short / too long / no digits -> null. -#}
{% macro normalize_phone(expr, country=none) -%}
    {%- set country = (country or var('default_phone_country', 'DK')) | upper -%}
    {%- set rules = phone_country_rules() -%}
    {%- if country not in rules -%}
        {{ exceptions.raise_compiler_error("normalize_phone: no dialling rules for country '" ~ country ~ "'") }}
    {%- endif -%}
    {%- set rule = rules[country] -%}
    {#- '(0)' is the optional trunk shown inside international numbers; drop it before keeping digits. -#}
    {%- set cleaned = "replace(trim(cast(" ~ expr ~ " as " ~ dbt.type_string() ~ ")), '(0)', '')" -%}
    {%- set digits = regexp_replace_all(cleaned, '[^0-9]', '') -%}
    {%- set is_plus = "(" ~ cleaned ~ " like '+%')" -%}
    {%- set is_00 = "(" ~ digits ~ " like '00%')" -%}
    {%- set national = (digits ~ " like '0%'") if rule.trunk else "true" -%}
    {%- set national_number = ("substr(" ~ digits ~ ", 2)") if rule.trunk else digits -%}
    case
        when {{ is_plus }} and length({{ digits }}) between 8 and 15 and {{ digits }} not like '0%'
            then concat('+', {{ digits }})
        when {{ is_plus }} then null
        when {{ is_00 }} and length({{ digits }}) between 10 and 17
            then concat('+', substr({{ digits }}, 3))
        when {{ is_00 }} then null
        {# the country code typed without + or 00 ('4520123456' in DK) #}
        when {{ digits }} like '{{ rule.code }}%'
            and length({{ digits }}) between {{ rule.code | length + rule.min }} and {{ rule.code | length + rule.max }}
            and length({{ digits }}) > {{ rule.max }}
            then concat('+', {{ digits }})
        when {{ national }}
            and length({{ national_number }}) between {{ rule.min }} and {{ rule.max }}
            and {{ national_number }} not like '0%'
            then concat('+{{ rule.code }}', {{ national_number }})
    end
{%- endmacro %}

{#- A phone written in national form is read with the record's own country (a column holding ISO
    codes like SE, DK) when the export has one; unknown or empty countries fall back to
    var('default_phone_country'). -#}
{% macro normalize_phone_for_country(expr, country_expr) -%}
    case upper(trim({{ country_expr }}))
    {%- for country in phone_country_rules() %}
        when '{{ country }}' then {{ normalize_phone(expr, country) }}
    {%- endfor %}
        else {{ normalize_phone(expr) }}
    end
{%- endmacro %}

{#- A phone from an export that carries no country: read with var('default_phone_country') first, then
    with each of var('identity_phone_fallback_countries') in turn (an SE '070-123 45 67' cannot be a DK
    number, so it is read as SE). -#}
{% macro normalize_phone_any_market(expr) -%}
    coalesce(
        {{ normalize_phone(expr) }}
        {%- for country in var('identity_phone_fallback_countries', []) %},
        {{ normalize_phone(expr, country) }}
        {%- endfor %}
    )
{%- endmacro %}
