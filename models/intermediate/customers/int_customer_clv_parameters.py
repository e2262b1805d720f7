"""BG/NBD and Gamma-Gamma parameters fitted by maximum likelihood on every buyer's purchase days.

One row per (model, parameter); a model that could not be fitted has one row with a null value and a
status (insufficient_data / degenerate). Every row carries the calibration length and whether the fit
is reliable on it (config clv_min_history_days, from var customers_clv_min_history_days). The
likelihoods live in orchestration.clv (pytest reproduces the published CDNOW estimates there);
dbt-duckdb runs this in-process.
"""

import pandas as pd

from orchestration.clv import fit_parameters
from orchestration.clv.scoring import MIN_HISTORY_DAYS

SUMMARY_COLUMNS = "person_id, frequency, recency_days, tenure_days, repeat_average_value, is_known_person"


def model(dbt, session):
    dbt.config(materialized="table")
    min_history_days = int(dbt.config.get("clv_min_history_days") or MIN_HISTORY_DAYS)
    # only the columns the fit reads cross from DuckDB to pandas
    summary = dbt.ref("int_customer_orders").select(SUMMARY_COLUMNS).df()
    as_of = dbt.ref("int_customer_as_of").df()["as_of_date"]
    summary["as_of_date"] = pd.to_datetime(as_of.max() if len(as_of) else None)
    params = fit_parameters(summary, min_history_days=min_history_days)
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
            "calibration_days": "int64",
            "is_reliable": "boolean",
            "warning": "string",
        }
    )
