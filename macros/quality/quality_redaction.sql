{#- Privacy of the quality marts: quarantine_rows and gate_results are read by BI from the serving
    database, so they carry no clear e-mail or phone (README "Privacy"). Each one becomes a stable
    pseudonym, <email:h> or <phone:h>, h = the first 12 hex characters of the sha256 of the trimmed,
    lower-cased value: the same value gives the same token in every row, column and run. The lake's
    quarantine Parquet files keep the rejected rows exactly as delivered, for operators.

    - E-mails are found by a pattern, in every text column (quality_redact_emails).
    - Phones are not (a pattern for phones also hits prices, ids and dates): they are found by the name
      of their column (quality_identifier_kind), and the value of such a column is replaced where it
      occurs in the row's other texts (quality_redact_values). A value shorter than
      quality_redact_min_length characters is tokenised in its own column only: replaced inside other
      texts it would hit unrelated digits, and no phone the project reads is that short (normalize_phone's
      shortest is Finland's 0 + 5 digits).
    - The raw text of a malformed row has no columns to go by: every run of 6 or more digits in it
      (with an optional + or parenthesis, up to two separators between digits) becomes <digits:h>
      (quality_redact_digit_runs).
    - A failing sample in gate_results of a column named like that, or of a column of clear identifiers
      of any type (identifier_value), is tokenised value by value (quality_redact_sample). -#}

{#- A phone-like run in an unparsed line: optional + or (, then 6 to 20 digits with at most two
    separators (space ( ) . -) between two digits: '+46 (0)70 123 45 67', '20 12 34 56'. -#}
{% macro quality_digit_run_pattern() -%}
    {{ return("[+(]?[0-9]([ ().-]{0,2}[0-9]){5,19}") }}
{%- endmacro %}

{% macro quality_redact_min_length() -%}
    {{ return(var('quality_redact_min_length', 6)) }}
{%- endmacro %}

{#- Column names (snake_case, as the lake names them) that hold an e-mail or a phone: a name part that
    says so (email, e_mail, mail, phone, telephone, tel, mobile, cell, sms, msisdn, fax), unless another
    part says the column is about the identifier, not the identifier (consent_sms, accepts_email,
    email_client, unique_email_id, email_hash). One regular expression each, for Jinja (the lake's
    column names) and for SQL (gate_results.column_name, which may list several columns). -#}
{% macro quality_identifier_name_pattern() -%}
    {{ return(var('quality_identifier_name_pattern',
        '(^|[^a-z0-9])([a-z]*email[a-z]*|mail|[a-z]*phone[a-z]*|tel|mobile|mobil|cell|sms|msisdn|fax)([^a-z0-9]|$)')) }}
{%- endmacro %}

{% macro quality_identifier_exclude_pattern() -%}
    {{ return(var('quality_identifier_exclude_pattern',
        '(^|[^a-z0-9])(consent|consents|opt|optin|optout|subscribed|subscription|accepts|marketing'
        ~ '|verified|confirmed|status|type|client|rating|region|country|id|count|flag|signup|hash|hashed'
        ~ '|sha256|domain|format|bounce|bounced|enabled)([^a-z0-9]|$)')) }}
{%- endmacro %}

{#- Columns that hold clear identifiers of any type (identity.person_identifiers.identifier_value, whose
    failing samples a mart suite may report): tokens <identifier:h>. -#}
{% macro quality_identifier_value_columns() -%}
    {{ return(var('quality_identifier_value_columns', ['identifier_value'])) }}
{%- endmacro %}

{#- 'email', 'phone' or 'identifier' for a column name that holds one, else none (compile time). -#}
{% macro quality_identifier_kind(column_name) -%}
    {%- set name = column_name | lower | trim -%}
    {%- if name in quality_identifier_value_columns() -%}
        {{ return('identifier') }}
    {%- elif modules.re.search(quality_identifier_name_pattern(), name)
        and not modules.re.search(quality_identifier_exclude_pattern(), name) -%}
        {{ return('email' if 'mail' in name else 'phone') }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{#- The same rule in SQL, on a text of comma-separated column names (gate_results.column_name): the
    kind of the first of its columns in the order email, identifier, phone, or null when none is one. -#}
{% macro quality_identifier_kind_sql(expr) -%}
    {{ return(adapter.dispatch('quality_identifier_kind_sql', 'omni_warehouse')(expr)) }}
{%- endmacro %}

{% macro quality__column_kind(name) -%}
    case
        when {{ name }} in ('{{ quality_identifier_value_columns() | join("', '") }}') then 'identifier'
        when {{ regexp_like(name, quality_identifier_name_pattern()) }}
            and not {{ regexp_like(name, quality_identifier_exclude_pattern()) }}
            then case when {{ name }} like '%mail%' then 'email' else 'phone' end
    end
{%- endmacro %}

{% macro default__quality_identifier_kind_sql(expr) -%}
    array_min(transform(split(lower({{ expr }}), ','), c -> {{ quality__column_kind('trim(c)') }}))
{%- endmacro %}

{% macro duckdb__quality_identifier_kind_sql(expr) -%}
    list_min(list_transform(string_split(lower({{ expr }}), ','), lambda c: {{ quality__column_kind('trim(c)') }}))
{%- endmacro %}

{#- The token of a value: <kind:first 12 hex of sha256(lower(trim(value)))>; null stays null (DuckDB's
    concat skips a null argument, hence the case).
    kind_sql is a SQL expression ('email' quoted, or a column). -#}
{% macro quality_pseudonym(kind_sql, expr) -%}
    case when {{ expr }} is not null then
        concat('<', {{ kind_sql }}, ':', substr({{ identity_sha256("lower(trim(" ~ expr ~ "))") }}, 1, 12), '>')
    end
{%- endmacro %}

{#- Every e-mail address in a text replaced by its token. -#}
{% macro quality_redact_emails(expr) -%}
    {{ quality_redact_matches(expr, email_pattern(), "'email'") }}
{%- endmacro %}

{#- Every phone-like digit run of an unparsed line replaced by its token. -#}
{% macro quality_redact_digit_runs(expr) -%}
    {{ quality_redact_matches(expr, quality_digit_run_pattern(), "'digits'") }}
{%- endmacro %}

{#- Every match of a pattern replaced by the token of the matched text. Each match is wrapped as
    chr(1) chr(2) match chr(1) and the text split on chr(1): the pieces that start with chr(2) are the
    matches, replaced one by one (a replace() per distinct match would also hit a shorter match inside
    a longer one). chr(1) and chr(2) in the text itself are removed first. A token already in the text
    matches as a whole and is kept (the digits of its hash are not a digit run). -#}
{% macro quality_redact_matches(expr, pattern, kind_sql) -%}
    {%- set pattern = "<(email|phone|identifier|digits):[0-9a-f]{12}>|" ~ pattern -%}
    {{ return(adapter.dispatch('quality_redact_matches', 'omni_warehouse')(expr, pattern, kind_sql)) }}
{%- endmacro %}

{% macro quality__match_piece(piece, kind_sql) -%}
    case
        when {{ piece }} not like concat(chr(2), '%') then {{ piece }}
        when {{ piece }} like concat(chr(2), '<%') then substr({{ piece }}, 2)
        else {{ quality_pseudonym(kind_sql, "substr(" ~ piece ~ ", 2)") }}
    end
{%- endmacro %}

{% macro default__quality_redact_matches(expr, pattern, kind_sql) -%}
    array_join(transform(
        split(
            regexp_replace(
                replace(replace({{ expr }}, chr(1), ''), chr(2), ''),
                '({{ pattern }})', concat(chr(1), chr(2), '$1', chr(1))
            ),
            chr(1)
        ),
        piece -> {{ quality__match_piece('piece', kind_sql) }}
    ), '')
{%- endmacro %}

{% macro duckdb__quality_redact_matches(expr, pattern, kind_sql) -%}
    array_to_string(list_transform(
        string_split(
            regexp_replace(
                replace(replace({{ expr }}, chr(1), ''), chr(2), ''),
                '({{ pattern }})', chr(1) || chr(2) || '\1' || chr(1), 'g'
            ),
            chr(1)
        ),
        lambda piece: {{ quality__match_piece('piece', kind_sql) }}
    ), '')
{%- endmacro %}

{#- A text with each given value replaced by its token, longest value first (a value inside a longer
    one is not cut out of it); values shorter than quality_redact_min_length are left alone.
    values: a list of (kind, SQL expression) pairs, kind 'email' or 'phone'. -#}
{% macro quality_redact_values(expr, values) -%}
    {%- if not values -%}
        {{ return(expr) }}
    {%- endif -%}
    {{ return(adapter.dispatch('quality_redact_values', 'omni_warehouse')(expr, values)) }}
{%- endmacro %}

{% macro quality__value_structs(values, struct_fn) -%}
    {%- set items = [] -%}
    {%- for kind, value in values -%}
        {%- set v = "trim(cast(" ~ value ~ " as " ~ dbt.type_string() ~ "))" -%}
        {%- do items.append(struct_fn("0 - length(" ~ v ~ ")", v, quality_pseudonym("'" ~ kind ~ "'", v))) -%}
    {%- endfor -%}
    {{ return(items) }}
{%- endmacro %}

{% macro quality__spark_struct(order, v, token) -%}
    {{ return("named_struct('o', " ~ order ~ ", 'v', " ~ v ~ ", 't', " ~ token ~ ")") }}
{%- endmacro %}

{% macro quality__duckdb_struct(order, v, token) -%}
    {{ return("{'o': " ~ order ~ ", 'v': " ~ v ~ ", 't': " ~ token ~ "}") }}
{%- endmacro %}

{% macro default__quality_redact_values(expr, values) -%}
    aggregate(
        array_sort(filter(
            array({{ quality__value_structs(values, quality__spark_struct) | join(', ') }}),
            e -> length(e.v) >= {{ quality_redact_min_length() }}
        )),
        {{ expr }},
        (acc, e) -> replace(acc, e.v, e.t)
    )
{%- endmacro %}

{% macro duckdb__quality_redact_values(expr, values) -%}
    list_reduce(
        list_sort(list_filter(
            [{{ quality__value_structs(values, quality__duckdb_struct) | join(', ') }}],
            lambda e: length(e.v) >= {{ quality_redact_min_length() }}
        )),
        lambda acc, e: replace(acc, e.v, e.t),
        {{ expr }}
    )
{%- endmacro %}

{#- gate_results.failing_sample of an e-mail or phone column with every value tokenised. The runner
    writes a JSON array of {"value": v, "at": "file#row"} objects (raw partitions; marts without
    "at"), or of plain values; anything else in it (the rows of a compound check) is tokenised whole. -#}
{% macro quality_redact_sample(expr, kind_sql) -%}
    {{ return(adapter.dispatch('quality_redact_sample', 'omni_warehouse')(expr, kind_sql)) }}
{%- endmacro %}

{% macro default__quality_redact_sample(expr, kind_sql) -%}
    case
        when {{ expr }} like '[{"value"%' then to_json(transform(
            from_json({{ expr }}, 'array<struct<value:string,at:string>>'),
            e -> named_struct('value', {{ quality_pseudonym(kind_sql, 'e.value') }}, 'at', e.at)
        ))
        else to_json(transform(from_json({{ expr }}, 'array<string>'), v -> {{ quality_pseudonym(kind_sql, 'v') }}))
    end
{%- endmacro %}

{% macro duckdb__quality_redact_sample(expr, kind_sql) -%}
    case
        when {{ expr }} like '[{"value"%' then cast(to_json(list_transform(
            from_json({{ expr }}, '[{"value": "VARCHAR", "at": "VARCHAR"}]'),
            lambda e: {'value': {{ quality_pseudonym(kind_sql, 'e.value') }}, 'at': e.at}
        )) as {{ dbt.type_string() }})
        else cast(to_json(list_transform(
            from_json({{ expr }}, '["VARCHAR"]'), lambda v: {{ quality_pseudonym(kind_sql, 'v') }}
        )) as {{ dbt.type_string() }})
    end
{%- endmacro %}

{#- Generic test: no text matching the e-mail pattern is left in the column. -#}
{% test quality_no_clear_email(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ regexp_like(column_name, email_pattern()) }}
{% endtest %}
