"""App push campaigns as canonical events (push_sent / push_open); opens lead into app sessions."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.demo.context import Ctx, Extra
from orchestration.demo.strs import HEX, random_chars, to_arrow
from orchestration.demo.timeutil import fmt_iso_z

PUSH_WEEKDAYS = (1, 4, 6)  # Tuesday, Friday, Sunday
TITLES = ("Nyheder i appen", "Weekendtilbud", "Din kurv venter")


def simulate_push(ctx: Ctx, day: int) -> None:
    rng, pop = ctx.rng, ctx.pop
    date = ctx.date(day)
    if date.weekday() not in PUSH_WEEKDAYS:
        return
    slot = pop.app_slots[:, 0]
    who = np.flatnonzero((slot >= 0) & pop.push_consent)
    who = who[pop.device_first_seen[pop.slot_device[slot[who]]] > 0]  # installed and opened once
    k = len(who)
    if k == 0:
        return
    lo, _ = ctx.day_bounds(day)
    campaign = f"push-{date:%Y%m%d}"
    title = TITLES[day % len(TITLES)]
    sent = lo + 17 * 3600 + rng.integers(0, 600, k)
    opened = rng.random(k) < 0.08
    open_t = sent + rng.exponential(900, k).astype(np.int64) + 5
    open_t = np.minimum(open_t, ctx.day_bounds(day)[1] - 1)
    s = slot[who]
    dev = pop.slot_device[s]
    uid_on = ctx.device_user[dev] == who
    ctx.truth.mark_slots(s)
    ctx.truth.mark("site_user_id", who, uid_on)
    parts = []
    for activity, t, mask in (("push_sent", sent, np.ones(k, bool)), ("push_open", open_t, opened)):
        n = int(mask.sum())
        parts.append(pa.table({
            "event_id": random_chars(rng, n, 32, HEX),
            "occurred_at": fmt_iso_z(t[mask]),
            "activity": np.full(n, activity),
            "channel": np.full(n, "app"),
            "anonymous_id": pop.device_value[dev[mask]],
            "user_id": to_arrow(pop.site_user_id[who[mask]], uid_on[mask]),
            "properties": np.full(n, f'{{"campaign_id": "{campaign}", "title": "{title}"}}'),
            "_t": t[mask], "_k": who[mask],
        }))  # fmt: skip
    ctx.activities += k + int(opened.sum())
    ctx.sink.add("canonical_events", day, pa.concat_tables(parts))
    n = int(opened.sum())
    ctx.extra[day].append(Extra(person=who[opened], utc=open_t[opened] + 3, platform=np.full(n, "APP"),
                                source=np.full(n, "push"), medium=np.full(n, "notification"),
                                campaign=np.full(n, campaign)))  # fmt: skip
