"""Fit BG/NBD + Gamma-Gamma on a purchase summary and score every buyer: what the dbt Python models call.

Input summary (one row per person who bought; times in days, see int_customer_orders):
  person_id, frequency (repeat purchase days), recency_days (t_x), tenure_days (T),
  repeat_average_value (mean value of the repeat purchase days; null when frequency = 0), as_of_date,
  optionally is_known_person (false rows are scored but not fitted on).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestration.clv import bgnbd, gamma_gamma

# Below these counts a maximum-likelihood fit is noise; the profile then carries no CLV instead of
# a confident-looking wrong one.
MIN_BUYERS = 30
MIN_REPEAT_BUYERS = 10
# The population parameters are estimated on at most this many buyers (a fixed-seed sample, drawn
# after sorting by person so reruns on the same data agree): sampling error at 20,000 is far below
# the models' own misfit, and it bounds the fit's time on a large warehouse. Everyone is scored.
MAX_FIT_BUYERS = 20_000
# BG/NBD tells a slow buyer from one who has left only when the history covers several purchase cycles
# and some buyers' silences are long enough to look like dropout. On a shorter history the fit still
# runs, but P(alive) stays near 1 and the 365-day figures are extrapolations: the parameters relation
# says so (is_reliable = false, warning) and so does every profile (clv_is_reliable). 180 days is the
# default minimum (the CDNOW benchmark calibrates on 273 days); dbt var customers_clv_min_history_days.
MIN_HISTORY_DAYS = 180

PARAMETER_COLUMNS = [
    "model", "parameter", "value", "customers_fitted", "log_likelihood", "converged", "status",
    "time_unit", "as_of_date", "calibration_days", "is_reliable", "warning",
]  # fmt: skip
SCORE_COLUMNS = [
    "person_id", "expected_purchases_90d", "expected_purchases_365d", "probability_alive",
    "expected_order_value", "expected_value_365d", "is_reliable",
]  # fmt: skip


def _as_of(summary: pd.DataFrame):
    return summary["as_of_date"].max() if len(summary) else None


def _reliability(status: str, calibration_days: int, min_history_days: int) -> tuple[bool, str | None]:
    if status != "fitted":
        return False, f"model not usable: {status}"
    if calibration_days < min_history_days:
        return False, (
            f"history of {calibration_days} days is shorter than the {min_history_days} days needed to tell "
            "slow buyers from lost ones: predictions are extrapolations"
        )
    return True, None


def fit_parameters(
    summary: pd.DataFrame, max_fit_buyers: int = MAX_FIT_BUYERS, min_history_days: int = MIN_HISTORY_DAYS
) -> pd.DataFrame:
    """One row per (model, parameter). Models that cannot be fitted get one row with a null value and a
    status saying why, so the relation always says what happened. Every row carries the calibration
    length (the median buyer tenure, days) and whether the fit is reliable on it."""
    if "is_known_person" in summary:
        # anonymous receipts are persons of one order each, not customers: fitting on them would pull
        # the purchase-rate and dropout estimates towards one-time buyers (they are still scored)
        summary = summary[summary["is_known_person"].fillna(True).astype(bool)]
    as_of = _as_of(summary)
    # the typical buyer's observed history (median tenure): a few old orders imported into a young
    # warehouse do not make its history long
    calibration_days = int(summary["tenure_days"].median()) if len(summary) else 0
    rows: list[dict] = []
    if len(summary) > max_fit_buyers:
        ordered = summary.sort_values("person_id", kind="stable")
        summary = ordered.sample(n=max_fit_buyers, random_state=20050101)

    def add(model, params, n, info, status):
        names = bgnbd.PARAM_NAMES if model == "bg_nbd" else gamma_gamma.PARAM_NAMES
        reliable, warning = _reliability(status, calibration_days, min_history_days)
        for name in names if params is not None else [None]:
            rows.append(
                {
                    "model": model,
                    "parameter": name,
                    "value": None if params is None else float(params.as_dict()[name]),
                    "customers_fitted": int(n),
                    "log_likelihood": None if info is None else info["log_likelihood"],
                    "converged": None if info is None else info["converged"],
                    "status": status,
                    "time_unit": "day",
                    "as_of_date": as_of,
                    "calibration_days": calibration_days,
                    "is_reliable": reliable,
                    "warning": warning,
                }
            )

    x = summary["frequency"].to_numpy(dtype=float)
    t_x = summary["recency_days"].to_numpy(dtype=float)
    T = summary["tenure_days"].to_numpy(dtype=float)
    repeat = (x > 0) & summary["repeat_average_value"].fillna(0).gt(0).to_numpy()

    if len(summary) < MIN_BUYERS or int((x > 0).sum()) < MIN_REPEAT_BUYERS:
        add("bg_nbd", None, len(summary), None, "insufficient_data")
    else:
        params, info = bgnbd.fit(x, t_x, T)
        add("bg_nbd", params, len(summary), info, "fitted" if info["converged"] else "not_converged")

    if int(repeat.sum()) < MIN_REPEAT_BUYERS:
        add("gamma_gamma", None, int(repeat.sum()), None, "insufficient_data")
    else:
        m_x = summary["repeat_average_value"].to_numpy(dtype=float)[repeat]
        params, info = gamma_gamma.fit(x[repeat], m_x)
        status = "fitted" if info["converged"] else "not_converged"
        if params.q <= 1.0:  # population mean spend p*gamma/(q-1) undefined: do not score with it
            status = "degenerate"
        add("gamma_gamma", params, int(repeat.sum()), info, status)

    return pd.DataFrame(rows, columns=PARAMETER_COLUMNS)


def _params(parameters: pd.DataFrame, model: str):
    rows = parameters[(parameters["model"] == model) & parameters["status"].isin(["fitted", "not_converged"])]
    values = {r.parameter: float(r.value) for r in rows.itertuples() if r.value is not None}
    if model == "bg_nbd" and set(values) == set(bgnbd.PARAM_NAMES):
        return bgnbd.BgNbdParams(**values)
    if model == "gamma_gamma" and set(values) == set(gamma_gamma.PARAM_NAMES):
        return gamma_gamma.GammaGammaParams(**values)
    return None


def score(summary: pd.DataFrame, parameters: pd.DataFrame) -> pd.DataFrame:
    """Per buyer: expected purchase days in the next 90 / 365 days, P(alive), expected order value and
    expected (undiscounted) value over 365 days. Nulls where a model could not be fitted."""
    out = pd.DataFrame({"person_id": summary["person_id"].astype(str)})
    n = len(summary)
    nulls = np.full(n, np.nan)
    bg = _params(parameters, "bg_nbd")
    gg = _params(parameters, "gamma_gamma")
    x = summary["frequency"].to_numpy(dtype=float)
    if bg is not None and n:
        t_x = summary["recency_days"].to_numpy(dtype=float)
        T = summary["tenure_days"].to_numpy(dtype=float)
        out["expected_purchases_90d"] = bgnbd.expected_purchases(bg, 90.0, x, t_x, T)
        out["expected_purchases_365d"] = bgnbd.expected_purchases(bg, 365.0, x, t_x, T)
        out["probability_alive"] = bgnbd.probability_alive(bg, x, t_x, T)
    else:
        out["expected_purchases_90d"] = nulls
        out["expected_purchases_365d"] = nulls
        out["probability_alive"] = nulls
    if gg is not None and n:
        m_x = summary["repeat_average_value"].fillna(0).to_numpy(dtype=float)
        out["expected_order_value"] = gamma_gamma.expected_average_value(gg, x, m_x)
    else:
        out["expected_order_value"] = nulls
    out["expected_value_365d"] = out["expected_purchases_365d"] * out["expected_order_value"]
    # the row's figures are trustworthy only when both fits are (status fitted, history long enough)
    reliable = (
        "is_reliable" in parameters and bool(len(parameters)) and bool(parameters["is_reliable"].fillna(False).all())
    )
    out["is_reliable"] = np.full(n, reliable and bg is not None and gg is not None)
    # hyp2f1 can lose precision for extreme inputs: never publish a non-finite or negative number
    for col in SCORE_COLUMNS[1:-1]:
        v = out[col].to_numpy(dtype=float)
        out[col] = np.where(np.isfinite(v) & (v >= 0), v, np.nan)
    return out[SCORE_COLUMNS]
