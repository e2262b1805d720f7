"""Per buyer: expected purchase days in the next 90 and 365 days, probability alive, expected order
value and expected 365-day value, from the fitted parameters in int_customer_clv_parameters."""

from orchestration.clv import score


def model(dbt, session):
    dbt.config(materialized="table")
    summary = dbt.ref("int_customer_orders").df()
    parameters = dbt.ref("int_customer_clv_parameters").df()
    scores = score(summary, parameters)
    return scores.astype({"person_id": "string"})
