"""Shared optimiser: L-BFGS-B on log-parameters (keeps every parameter positive without bounds)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize


def minimise_on_log_scale(objective, theta0, starts: int = 2) -> tuple[np.ndarray, dict]:
    """Minimise objective(theta) -> (value, gradient) where theta = log(params); a second start guards
    against flat regions.

    Non-finite values (overflow far from the optimum) are mapped to a large value with a zero gradient
    so the line search backs off instead of failing.
    """

    def safe(theta):
        value, grad = objective(theta)
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return 1e100, np.zeros_like(theta)
        return float(value), np.asarray(grad, dtype=float)

    theta0 = np.asarray(theta0, dtype=float)
    best = None
    for shift in np.linspace(0.0, -1.5, starts):
        res = minimize(
            safe,
            theta0 + shift,
            jac=True,
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


def collapse(weights, *columns) -> tuple[np.ndarray, ...]:
    """Identical customers contribute identical likelihood terms: fit on the distinct rows, weighted by
    how often each occurs (exact, and far fewer special-function calls on real purchase histories)."""
    stacked = np.column_stack([np.asarray(c, dtype=float) for c in columns])
    unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
    w = np.bincount(inverse.ravel(), weights=np.asarray(weights, dtype=float), minlength=len(unique))
    return (w, *(unique[:, i] for i in range(unique.shape[1])))
