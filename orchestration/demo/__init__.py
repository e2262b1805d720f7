"""Demo export generator: a seeded, vectorised simulation of a Danish/Swedish retailer's customers that
writes every channel's daily exports into the landing folder, plus the ground truth for evaluation.

    from orchestration.demo import generate
    generate(persons=2000, days=28, start=date(2026, 10, 1), seed=42, landing_dir=..., truth_dir=...)
"""

from __future__ import annotations

import datetime as dt

from orchestration.demo.generator import delivery_plan, generate

DEFAULT_PERSONS = 2000
DEFAULT_DAYS = 28
DEFAULT_START = dt.date(2026, 10, 1)
DEFAULT_SEED = 42

__all__ = ["DEFAULT_DAYS", "DEFAULT_PERSONS", "DEFAULT_SEED", "DEFAULT_START", "delivery_plan", "generate"]
