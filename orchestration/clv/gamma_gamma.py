"""Gamma-Gamma model of spend per transaction (Fader and Hardie 2013; Colombo and Jiang 1999).

A customer's transaction values are Gamma(p, nu) around their own mean p/nu, with nu ~ Gamma(q, gamma)
across customers. A customer is summarised by x (repeat transactions, > 0) and m_x (their mean value);
the model assumes spend is independent of purchase frequency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from orchestration.clv.fitting import collapse, minimise_on_log_scale

PARAM_NAMES = ("p", "q", "gamma")


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float

    def as_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma}


def _arrays(x, m_x):
    x = np.asarray(x, dtype=float)
    m_x = np.asarray(m_x, dtype=float)
    if np.any(x <= 0) or np.any(m_x <= 0):
        raise ValueError("Gamma-Gamma is fitted on customers with x > 0 repeat purchases of positive value")
    return x, m_x


def log_likelihood(params, x, m_x) -> np.ndarray:
    """log f(m_x | p, q, gamma; x): the density of a customer's observed mean spend."""
    p, q, g = params
    x, m_x = _arrays(x, m_x)
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1.0) * np.log(m_x)
        + px * np.log(x)
        - (px + q) * np.log(g + m_x * x)
    )


def log_likelihood_gradient(params, x, m_x, weights) -> np.ndarray:
    """d(sum of weighted log-likelihoods)/d(log p, log q, log gamma), analytically."""
    p, q, g = params
    px = p * x
    log_gmx = np.log(g + m_x * x)
    common = digamma(px + q)
    d_p = x * (common - digamma(px) + np.log(m_x) + np.log(x) - log_gmx)
    d_q = common - digamma(q) + np.log(g) - log_gmx
    d_g = q / g - (px + q) / (g + m_x * x)
    grads = np.array([float(np.sum(weights * d)) for d in (d_p, d_q, d_g)])
    return grads * np.array([p, q, g])


def fit(x, m_x, weights=None) -> tuple[GammaGammaParams, dict]:
    """Maximum likelihood on log-parameters (analytic gradient); money is rescaled to mean 1 (gamma is
    a money scale)."""
    x, m_x = _arrays(x, m_x)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    w, x, m_x = collapse(w, x, m_x)
    scale = float(np.average(m_x, weights=w))
    ms = m_x / scale
    total = float(np.sum(w))

    def nll_and_grad(theta):
        params = np.exp(theta)
        value = -float(np.sum(w * log_likelihood(params, x, ms))) / total
        return value, -log_likelihood_gradient(params, x, ms, w) / total

    theta, info = minimise_on_log_scale(nll_and_grad, np.log([1.0, 1.0, 1.0]))
    p, q, g = np.exp(theta)
    info.pop("objective")
    params = GammaGammaParams(float(p), float(q), float(g * scale))
    info["log_likelihood"] = float(np.sum(w * log_likelihood((p, q, g * scale), x, m_x)))
    return params, info


def expected_average_value(params: GammaGammaParams, x, m_x, population_mean_fallback: bool = True):
    """E[mean transaction value | x, m_x]: a credibility-weighted mix of the customer's own mean and the
    population mean p*gamma/(q-1). Customers without repeat purchases get the population mean."""
    p, q, g = params.p, params.q, params.gamma
    x = np.asarray(x, dtype=float)
    m_x = np.asarray(m_x, dtype=float)
    population = p * g / (q - 1.0) if q > 1.0 else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        conditional = p * (g + x * m_x) / (p * x + q - 1.0)
    has_own = (x > 0) & (m_x > 0)
    if population_mean_fallback:
        return np.where(has_own, conditional, population)
    return np.where(has_own, conditional, np.nan)
