"""The day loop: simulate every channel for each day, then write that day's landing files."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from orchestration.demo.context import Ctx
from orchestration.demo.incidents import parse_incident
from orchestration.demo.population import build_population
from orchestration.demo.sim_accounts import simulate_accounts
from orchestration.demo.sim_email import Mailchimp
from orchestration.demo.sim_loyalty import simulate_loyalty
from orchestration.demo.sim_push import simulate_push
from orchestration.demo.sim_service import simulate_nps, simulate_service
from orchestration.demo.sim_store import simulate_store
from orchestration.demo.sim_web import simulate_visits
from orchestration.demo.sink import Sink
from orchestration.demo.truth import Truth, write_truth


def delivery_plan(days: int) -> dict:
    """Which deliveries go wrong, fixed by the run length so tests can find them."""
    rewrites = {}
    for d in range(1, days, 5):  # GA4 day D rewritten 1-3 days later, with its late events
        later = d + 1 + (d // 5) % 3
        if later < days:
            rewrites[d] = later
    plan: dict = {"ga4_rewrites": rewrites}
    if days >= 2:
        plan["duplicate_day"] = max(0, days // 2 - 1)  # Shopify file re-delivered the next day
    if days // 2 + 1 <= days - 2:
        plan["missing_day"] = days // 2 + 1  # no Zendesk folder that day
    return plan


def generate(
    persons: int,
    days: int,
    start: dt.date,
    seed: int,
    landing_dir: Path,
    truth_dir: Path,
    progress: bool = False,
    incident: str | None = None,
) -> dict:
    if persons < 1 or days < 1:
        raise ValueError(f"persons and days must be positive (got persons={persons}, days={days})")
    t0 = time.perf_counter()
    landing_dir, truth_dir = Path(landing_dir), Path(truth_dir)
    inc = parse_incident(incident, start, days)
    rng = np.random.default_rng(seed)
    pop = build_population(rng, persons, start)
    plan = delivery_plan(days)
    sink = Sink(landing_dir, start, days, plan)
    try:
        ctx = Ctx(rng=rng, pop=pop, truth=Truth(pop), sink=sink, start=start, days=days, incident=inc)
        mailchimp = Mailchimp(ctx)
        for day in tqdm(range(days), desc="demo days", unit="day", disable=not progress):
            simulate_push(ctx, day)
            mailchimp.simulate(day)
            simulate_visits(ctx, day)
            simulate_accounts(ctx, day)
            buyers = simulate_store(ctx, day)
            simulate_loyalty(ctx, day, buyers)
            simulate_service(ctx, day)
            simulate_nps(ctx, day)
            sink.flush(day)
        write_truth(ctx.truth, truth_dir, [inc.row()] if inc else [], sink.write_csv)
    finally:
        sink.close()
    return {
        "persons": persons,
        "days": days,
        "activities": ctx.activities,
        "rows": dict(sorted(sink.rows.items())),
        "files": sink.files,
        "plan": {k: (dict(v) if isinstance(v, dict) else v) for k, v in plan.items()},
        "seconds": round(time.perf_counter() - t0, 3),
    }
