"""BG/NBD and Gamma-Gamma parameters fitted by maximum likelihood on every buyer's purchase days.

One row per (model, parameter); a model that could not be fitted has one row with a null value and a
status (insufficient_data / degenerate). The likelihoods live in orchestration.clv (pytest reproduces
the published CDNOW estimates there); dbt-duckdb runs this in-process.
"""

import pandas as pd

from orchestration.clv import fit_parameters


def model(dbt, session):
    dbt.config(materialized="table")
    summary = dbt.ref("int_customer_orders").df()
    as_of = dbt.ref("int_customer_as_of").df()["as_of_date"]
    summary["as_of_date"] = pd.to_datetime(as_of.max() if len(as_of) else None)
    params = fit_parameters(summary)
    # fixed column types even when empty (a zero-row fit would otherwise be typed from nulls)
    return params.astype(
        {
            "model": "string",
            "parameter": "string",
            "value": "float64",
            "customers_fitted": "int64",
            "log_likelihood": "float64",
            "converged": "boolean",
            "status": "string",
            "time_unit": "string",
            "as_of_date": "datetime64[us]",
        }
    )
