"""Per buyer: expected purchase days in the next 90 and 365 days, probability alive, expected order
value and expected 365-day value, from the fitted parameters in int_customer_clv_parameters, and
whether those parameters are reliable (is_reliable)."""

from orchestration.clv import score

SUMMARY_COLUMNS = "person_id, frequency, recency_days, tenure_days, repeat_average_value"


def model(dbt, session):
    dbt.config(materialized="table")
    summary = dbt.ref("int_customer_orders").select(SUMMARY_COLUMNS).df()
    parameters = dbt.ref("int_customer_clv_parameters").df()
    scores = score(summary, parameters)
    return scores.astype({"person_id": "string", "is_reliable": "boolean"})
