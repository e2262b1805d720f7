"""The CLV models reproduce the published CDNOW estimates and behave as the theory says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orchestration.clv import bgnbd, gamma_gamma
from orchestration.clv.scoring import fit_parameters, score

CDNOW = Path(__file__).parent / "fixtures" / "cdnow" / "cdnow_customers_summary_with_transactions.csv"


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    df = pd.read_csv(CDNOW)
    assert len(df) == 2357 and int((df["x"] > 0).sum()) == 946
    return df


@pytest.fixture(scope="module")
def bg_fit(cdnow):
    return bgnbd.fit(cdnow["x"], cdnow["t_x"], cdnow["T"])


def test_bgnbd_reproduces_fader_hardie_lee_2005(bg_fit):
    params, info = bg_fit
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert getattr(params, name) == pytest.approx(value, rel=0.01), name
    assert info["converged"]
    assert info["log_likelihood"] == pytest.approx(-9582.4, abs=0.1)  # the paper's LL


def test_bgnbd_conditional_expectation_of_customer_1(bg_fit):
    # The paper's worked example: x=2, t_x=30.43, T=38.86 -> 1.226 purchases in the next 39 weeks.
    params, _ = bg_fit
    assert bgnbd.expected_purchases(params, 39, [2], [30.43], [38.86])[0] == pytest.approx(1.226, abs=0.002)


def test_gamma_gamma_reproduces_fader_hardie(cdnow):
    repeat = cdnow[cdnow["x"] > 0]
    params, info = gamma_gamma.fit(repeat["x"], repeat["zbar"])
    for name, value in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert getattr(params, name) == pytest.approx(value, rel=0.01), name
    assert info["converged"]
    # population mean spend p*gamma/(q-1) is about $35 in the note
    assert params.p * params.gamma / (params.q - 1) == pytest.approx(35.2, abs=0.2)


def test_fit_is_unit_free(cdnow):
    # alpha is a time scale and gamma a money scale: days instead of weeks multiplies alpha by 7.
    p_weeks, _ = bgnbd.fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    p_days, _ = bgnbd.fit(cdnow["x"], cdnow["t_x"] * 7, cdnow["T"] * 7)
    assert p_days.alpha == pytest.approx(p_weeks.alpha * 7, rel=1e-3)
    assert p_days.r == pytest.approx(p_weeks.r, rel=1e-3)


def test_probability_alive_theory(bg_fit):
    params, _ = bg_fit
    # no repeat purchase: nobody has had the chance to drop out
    assert bgnbd.probability_alive(params, [0], [0], [38.86])[0] == 1.0
    # same frequency, a longer silence since the last purchase -> less likely alive
    p = bgnbd.probability_alive(params, [5, 5], [35.0, 10.0], [38.86, 38.86])
    assert p[0] > p[1] and 0 < p[1] < 1


def test_expected_purchases_grow_with_horizon_and_frequency(bg_fit):
    params, _ = bg_fit
    e90, e365 = (bgnbd.expected_purchases(params, t, [3, 6], [30, 30], [38.86] * 2) for t in (13, 52))
    assert np.all(e365 > e90) and e90[1] > e90[0]


def test_gamma_gamma_shrinks_towards_population_mean():
    params = gamma_gamma.GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
    population = params.p * params.gamma / (params.q - 1)
    few, many = gamma_gamma.expected_average_value(params, [1, 50], [100.0, 100.0])
    assert population < few < many < 100.0
    assert gamma_gamma.expected_average_value(params, [0], [0.0])[0] == pytest.approx(population)


def _summary_from_cdnow(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": df["ID"].astype(str),
            "frequency": df["x"],
            "recency_days": df["t_x"] * 7,
            "tenure_days": df["T"] * 7,
            "repeat_average_value": df["zbar"].where(df["x"] > 0),
            "as_of_date": pd.Timestamp("1997-09-30"),
        }
    )


def test_scoring_pipeline_on_cdnow(cdnow):
    summary = _summary_from_cdnow(cdnow)
    params = fit_parameters(summary)
    assert set(params["status"]) == {"fitted"}
    alpha = params.query("model == 'bg_nbd' and parameter == 'alpha'")["value"].iloc[0]
    assert alpha == pytest.approx(4.414 * 7, rel=0.01)
    scores = score(summary, params)
    assert len(scores) == len(summary) and scores["person_id"].is_unique
    assert scores[["expected_purchases_90d", "probability_alive", "expected_value_365d"]].notna().all().all()
    assert (scores["expected_purchases_365d"] >= scores["expected_purchases_90d"]).all()
    assert scores["probability_alive"].between(0, 1).all()


def test_too_little_data_yields_status_and_null_scores(cdnow):
    summary = _summary_from_cdnow(cdnow.head(12))
    params = fit_parameters(summary)
    assert set(params["status"]) == {"insufficient_data"} and params["value"].isna().all()
    scores = score(summary, params)
    assert len(scores) == 12 and scores["expected_value_365d"].isna().all()


def test_empty_summary_does_not_fail():
    empty = _summary_from_cdnow(pd.read_csv(CDNOW).head(0))
    params = fit_parameters(empty)
    assert len(params) == 2 and len(score(empty, params)) == 0


def _numeric_gradient(f, theta, h=1e-6):
    return np.array([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in np.eye(len(theta))])


def test_analytic_gradients_match_finite_differences(cdnow):
    x, t_x, T = (cdnow[c].to_numpy(dtype=float) for c in ("x", "t_x", "T"))
    w = np.ones_like(x)
    theta = np.log([0.3, 5.0, 0.8, 2.5])
    analytic = bgnbd.log_likelihood_gradient(np.exp(theta), x, t_x, T, w)
    numeric = _numeric_gradient(lambda th: np.sum(bgnbd.log_likelihood(np.exp(th), x, t_x, T)), theta)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-3)

    repeat = cdnow[cdnow["x"] > 0]
    xr, m = repeat["x"].to_numpy(dtype=float), repeat["zbar"].to_numpy(dtype=float)
    theta = np.log([5.0, 3.0, 12.0])
    analytic = gamma_gamma.log_likelihood_gradient(np.exp(theta), xr, m, np.ones_like(xr))
    numeric = _numeric_gradient(lambda th: np.sum(gamma_gamma.log_likelihood(np.exp(th), xr, m)), theta)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-3)


def test_duplicate_customers_fit_as_weights(cdnow):
    # fitting the data twice over must give the same estimates (collapsed to weights internally)
    doubled = pd.concat([cdnow, cdnow])
    once, _ = bgnbd.fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    twice, info = bgnbd.fit(doubled["x"], doubled["t_x"], doubled["T"])
    assert twice.r == pytest.approx(once.r, rel=1e-4) and twice.b == pytest.approx(once.b, rel=1e-4)
    assert info["log_likelihood"] == pytest.approx(2 * -9582.4, abs=0.5)


def test_parameters_record_calibration_length_and_reliability(cdnow):
    summary = _summary_from_cdnow(cdnow)
    params = fit_parameters(summary)
    # CDNOW calibrates on 39 weeks (median buyer tenure 32 weeks): long enough, every row says so
    assert set(params["calibration_days"]) == {int(summary["tenure_days"].median())} and params["is_reliable"].all()
    assert params["warning"].isna().all()
    assert score(summary, params)["is_reliable"].all()


def test_short_history_is_fitted_but_flagged_unreliable(cdnow):
    # the same buyers seen for 4 weeks only (the default demo's situation): still fitted and scored, but
    # every parameter row and every score says the figures are extrapolations
    short = cdnow.assign(T=cdnow["T"].clip(upper=4.0), t_x=cdnow["t_x"].clip(upper=4.0))
    summary = _summary_from_cdnow(short)
    params = fit_parameters(summary)
    assert (params["calibration_days"] == 28).all() and not params["is_reliable"].any()
    assert params["warning"].str.contains("28 days").all()
    scores = score(summary, params)
    assert not scores["is_reliable"].any() and scores["expected_purchases_90d"].notna().all()
    # the threshold is a parameter (dbt var customers_clv_min_history_days)
    assert fit_parameters(summary, min_history_days=28)["is_reliable"].all()


def test_unfitted_models_are_never_reliable(cdnow):
    params = fit_parameters(_summary_from_cdnow(cdnow.head(12)))
    assert not params["is_reliable"].any() and params["warning"].str.contains("insufficient_data").all()


def test_anonymous_one_order_persons_are_scored_not_fitted(cdnow):
    # anonymous till receipts are persons of one order each: they must not pull the fit towards one-time buyers
    known = _summary_from_cdnow(cdnow).assign(is_known_person=True)
    receipts = known.head(600).assign(
        person_id=[f"receipt-{i}" for i in range(600)], frequency=0, recency_days=0, repeat_average_value=None,
        is_known_person=False,
    )  # fmt: skip
    both = pd.concat([known, receipts], ignore_index=True)
    fitted = fit_parameters(both)
    assert fitted["value"].tolist() == pytest.approx(fit_parameters(known)["value"].tolist(), rel=1e-9)
    assert set(fitted["customers_fitted"]) <= {len(known), int((known["frequency"] > 0).sum())}
    assert len(score(both, fitted)) == len(both)
