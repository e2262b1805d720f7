"""BG/NBD model of repeat purchasing (Fader, Hardie and Lee 2005, "Counting your customers the easy way").

While alive a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha); after every
purchase they drop out with probability p ~ Beta(a, b). A customer is summarised by
x (repeat purchases), t_x (time of the last purchase after the first) and T (time since the first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, digamma, gammaln, hyp2f1

from orchestration.clv.fitting import collapse, minimise_on_log_scale

PARAM_NAMES = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}


def _arrays(x, t_x, T):
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    T = np.asarray(T, dtype=float)
    if np.any(x < 0) or np.any(t_x < 0) or np.any(T < t_x):
        raise ValueError("BG/NBD needs x >= 0 and 0 <= t_x <= T")
    return x, t_x, T


def _log_dropout_term(x, t_x, T, r, alpha, a, b):
    """log of a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x) for x > 0; -inf where x == 0.

    This is the weight of "dropped out after the last purchase" against "still alive at T".
    """
    out = np.full_like(x, -np.inf)
    rep = x > 0
    xr = x[rep]
    out[rep] = np.log(a) - np.log(b + xr - 1.0) + (r + xr) * (np.log(alpha + T[rep]) - np.log(alpha + t_x[rep]))
    return out


def log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood (eq. 6 of the paper, written on the log scale to avoid overflow)."""
    r, alpha, a, b = params
    x, t_x, T = _arrays(x, t_x, T)
    # alive at T:  Gamma(r+x)/Gamma(r) alpha^r B(a,b+x)/B(a,b) / (alpha+T)^(r+x)
    base = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    alive = -(r + x) * np.log(alpha + T)
    # dropped after the last purchase: the same with (alpha+t_x) and a/(b+x-1)
    dropped = alive + _log_dropout_term(x, t_x, T, r, alpha, a, b)
    return base + np.logaddexp(alive, dropped)


def log_likelihood_gradient(params, x, t_x, T, weights) -> np.ndarray:
    """d(sum of weighted log-likelihoods)/d(log r, log alpha, log a, log b), analytically.

    LL = A + log(exp(B) + exp(C)): A the common part, B "alive at T", C "dropped after t_x"; with
    pi = exp(C) / (exp(B) + exp(C)), dLL = dA + (1 - pi) dB + pi dC.
    """
    r, alpha, a, b = params
    rep = x > 0
    B = -(r + x) * np.log(alpha + T)
    C = B + _log_dropout_term(x, t_x, T, r, alpha, a, b)
    pi = np.where(rep, np.exp(C - np.logaddexp(B, C)), 0.0)
    log_at = np.log(alpha + T)
    log_atx = np.log(alpha + t_x)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - (1 - pi) * log_at - pi * log_atx
    d_alpha = r / alpha - (1 - pi) * (r + x) / (alpha + T) - pi * (r + x) / (alpha + t_x)
    d_a = digamma(a + b) - digamma(a + b + x) + pi / a
    safe_bx = np.where(rep, b + x - 1.0, 1.0)
    d_b = digamma(b + x) - digamma(a + b + x) - digamma(b) + digamma(a + b) - pi / safe_bx
    grads = np.array([w_sum(weights, d) for d in (d_r, d_alpha, d_a, d_b)])
    return grads * np.array([r, alpha, a, b])


def w_sum(weights, values) -> float:
    # not np.dot: BLAS threads spin badly on a busy machine, an elementwise sum is as fast here
    return float(np.sum(weights * values))


def fit(x, t_x, T, weights=None) -> tuple[BgNbdParams, dict]:
    """Maximum likelihood on log-parameters with L-BFGS-B and the analytic gradient.

    Time is rescaled so the longest observation window is 10 units (alpha is a time scale, so
    alpha_true = alpha_scaled * scale) which keeps the optimiser well conditioned whatever the unit.
    """
    x, t_x, T = _arrays(x, t_x, T)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    w, x, t_x, T = collapse(w, x, t_x, T)
    scale = float(T.max()) / 10.0 if T.size and T.max() > 0 else 1.0
    ts_x, tT = t_x / scale, T / scale
    total = float(np.sum(w))

    def nll_and_grad(theta):
        params = np.exp(theta)
        value = -w_sum(w, log_likelihood(params, x, ts_x, tT)) / total
        return value, -log_likelihood_gradient(params, x, ts_x, tT, w) / total

    theta, info = minimise_on_log_scale(nll_and_grad, np.log([1.0, 1.0, 1.0, 1.0]))
    r, alpha, a, b = np.exp(theta)
    info.pop("objective")
    # report the likelihood in the caller's time unit (rescaling time shifts it by a constant)
    info["log_likelihood"] = w_sum(w, log_likelihood((r, alpha * scale, a, b), x, t_x, T))
    return BgNbdParams(float(r), float(alpha * scale), float(a), float(b)), info


def probability_alive(params: BgNbdParams, x, t_x, T) -> np.ndarray:
    """P(still active at T | x, t_x, T) (eq. 13)."""
    x, t_x, T = _arrays(x, t_x, T)
    d = _log_dropout_term(x, t_x, T, params.r, params.alpha, params.a, params.b)
    return 1.0 / (1.0 + np.exp(d))


def expected_purchases(params: BgNbdParams, t: float, x, t_x, T) -> np.ndarray:
    """E[purchases in (T, T+t] | x, t_x, T] (eq. 10)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, t_x, T = _arrays(x, t_x, T)
    if t <= 0:
        return np.zeros_like(x)
    z = t / (alpha + T + t)
    hyp = hyp2f1(r + x, b + x, a + b + x - 1.0, z)
    growth = 1.0 - np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t))) * hyp
    numerator = (a + b + x - 1.0) / (a - 1.0) * growth
    d = _log_dropout_term(x, t_x, T, r, alpha, a, b)
    return numerator / (1.0 + np.exp(d))


def expected_purchases_new_customer(params: BgNbdParams, t) -> np.ndarray:
    """E[X(t)] for a customer just acquired (eq. 9): used to sanity-check fits."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    t = np.asarray(t, dtype=float)
    hyp = hyp2f1(r, b, a + b - 1.0, t / (alpha + t))
    return (a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + t)) ** r * hyp)
