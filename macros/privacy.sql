{#- A URL as the public marts carry it (journeys.activities.properties): the value of Mailchimp's
    `mc_eid` parameter (the member's EUID, identifier type esp_member_id) and anything shaped like an
    e-mail address (also with a percent-encoded @: a shop that puts the address in a link) are replaced
    by `redacted`. Staging keeps the clear URL: identity reads the EUID there. Plain replacements, no
    back-references, so the pattern means the same on Spark. -#}
{% macro redact_url(url) -%}
    {{ regexp_replace_all(
        regexp_replace_all(url, 'mc_eid=[^&#]*', 'mc_eid=redacted'),
        email_pattern(at='(@|%40)'), 'redacted') }}
{%- endmacro %}

{#- Anything that looks like an e-mail address (`at`: what stands for the @). No quote, backslash, comma
    or space in it, so it stops at CSV, JSON and URL delimiters. The URL redaction above and the quality
    marts' tokens (macros/quality/quality_redaction.sql) use it. -#}
{% macro email_pattern(at='@') -%}
    {{ return("[A-Za-z0-9._%+-]+" ~ at ~ "[A-Za-z0-9-]+([.][A-Za-z0-9-]+)*[.][A-Za-z]{2,}") }}
{%- endmacro %}
