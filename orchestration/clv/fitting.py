"""Shared optimiser: L-BFGS-B on log-parameters (keeps every parameter positive without bounds)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize


def minimise_on_log_scale(objective, theta0, starts: int = 3) -> tuple[np.ndarray, dict]:
    """Minimise objective(theta) where theta = log(params); a few starts guard against flat regions.

    Non-finite objective values (overflow far from the optimum) are mapped to a large number so the
    line search backs off instead of failing.
    """

    def safe(theta):
        value = objective(theta)
        return float(value) if np.isfinite(value) else 1e100

    theta0 = np.asarray(theta0, dtype=float)
    best = None
    for shift in np.linspace(0.0, -1.5, starts):
        res = minimize(
            safe,
            theta0 + shift,
            method="L-BFGS-B",
            bounds=[(-15.0, 15.0)] * theta0.size,  # exp(+-15): far outside any plausible value
            options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
        )
        if best is None or res.fun < best.fun:
            best = res
    info = {
        "converged": bool(best.success),
        "iterations": int(best.nit),
        "message": str(best.message),
        "objective": float(best.fun),
    }
    return best.x, info
