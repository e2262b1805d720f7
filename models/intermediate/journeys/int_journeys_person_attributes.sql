-- Person attributes funnels break down by and drop-offs report: first-touch channel, segment and
-- whether the person may be contacted by e-mail. From customers.customer_profiles when the customers
-- capability is enabled (var customers_enabled); otherwise first-touch channel is the channel of the
-- person's first session and segment / e-mail consent are null (unknown).
{%- if journeys_use_profiles() %}
select
    person_id,
    first_touch_channel,
    rfm_segment as segment,
    consent_email_state = 'granted' as may_contact_email
from {{ ref('customer_profiles') }}
{%- else %}
select
    person_id,
    min(case when session_order = 1 then channel end) as first_touch_channel,
    cast(null as {{ dbt.type_string() }}) as segment,
    cast(null as boolean) as may_contact_email
from (
    select
        person_id,
        channel,
        row_number() over (partition by person_id order by started_at, session_id) as session_order
    from {{ ref('sessions') }}
) as s
group by person_id
{%- endif %}
