"""Loyalty club: the initial member list, new members (online or at the till) and member changes."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.demo import catalog
from orchestration.demo.context import Ctx
from orchestration.demo.formats import email_variants, phone_variants
from orchestration.demo.sim_store import home_store
from orchestration.demo.strs import to_arrow
from orchestration.demo.timeutil import fmt_local

TIERS = np.array(["Bronze", "Silver", "Gold"])
STORE_NAME = np.array([s[0] for s in catalog.STORES])


def _consent(rng, k: int, p_true: float) -> pa.Array:
    u = rng.random(k)
    return to_arrow(np.where(u < p_true, "true", "false"), u < 0.95)  # some left empty


def simulate_loyalty(ctx: Ctx, day: int, store_buyers: np.ndarray) -> None:
    rng, pop = ctx.rng, ctx.pop
    lo, _ = ctx.day_bounds(day)
    rows = []
    if day == 0:  # the first delivery is the whole club as it stands
        existing = np.flatnonzero(pop.is_member)
        rows.append((existing, pop.member_joined[existing]))
    online = np.flatnonzero(~pop.is_member & (rng.random(pop.n) < 0.0015 * pop.propensity))
    till = np.unique(store_buyers[~pop.is_member[store_buyers] & (rng.random(len(store_buyers)) < 0.15)])
    joiners = np.unique(np.concatenate([online, till]))
    pop.is_member[joiners] = True
    pop.has_pos[joiners] = True
    pop.member_joined[joiners] = ctx.times_in_day(day, len(joiners), hours=(9, 21))
    rows.append((joiners, pop.member_joined[joiners]))
    changed = np.flatnonzero(pop.is_member & (pop.member_joined < lo) & (rng.random(pop.n) < 0.002))
    rows.append((changed, ctx.times_in_day(day, len(changed))))
    # joining with e-mail consent subscribes to the newsletter
    sub = joiners[pop.has_email[joiners] & (pop.esp_status[joiners] == 0) & (rng.random(len(joiners)) < 0.6)]
    pop.esp_status[sub] = 1
    pop.esp_optin[sub] = pop.member_joined[sub] + 60

    who = np.concatenate([r[0] for r in rows])
    when = np.concatenate([r[1] for r in rows]).astype(np.int64)
    k = len(who)
    ctx.activities += k - (len(rows[0][0]) if day == 0 else 0)
    if k == 0:
        return
    email_on = pop.has_email[who] & (rng.random(k) < 0.92)
    phone_on = pop.has_phone[who] & (rng.random(k) < 0.8)
    # sign-up needs a way to send the digital member card: an e-mail address or else a mobile number
    phone_on |= ~email_on
    ctx.truth.mark("loyalty_id", who)
    ctx.truth.mark("email", who, email_on)
    ctx.truth.mark("phone", who, phone_on)
    home = home_store(pop, who)
    t = pa.table({
        "member_id": pop.loyalty_id[who],
        "updated_at": fmt_local(when, "T", "iso"),
        "joined_at": fmt_local(pop.member_joined[who], "T", "iso"),
        "email": to_arrow(email_variants(rng, pop.email[who]), email_on),
        "phone": to_arrow(phone_variants(rng, pop.country[who], pop.phone_national[who]), phone_on),
        "first_name": pop.first_name[who],
        "last_name": pop.last_name[who],
        "birth_date": to_arrow(pop.birth_date[who], rng.random(k) < 0.85),
        "postcode": pop.postcode[who],
        "city": pop.city[who],
        "country": pop.country[who],
        "home_store": STORE_NAME[home],
        "tier": TIERS[np.minimum((pop.propensity[who] * 1.2).astype(int), 2)],
        "consent_email": _consent(rng, k, 0.7),
        "consent_sms": _consent(rng, k, 0.35),
        "consent_push": _consent(rng, k, 0.5),
        "consent_profiling": _consent(rng, k, 0.6),
        "_t": when,
        "_k": who,
    })  # fmt: skip
    ctx.sink.add("loyalty_members", day, t)
