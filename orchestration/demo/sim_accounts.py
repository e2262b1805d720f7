"""Webshop accounts: the shop's daily export of new and changed customer accounts, delivered as canonical
identifier links (`source = webshop_accounts`): the login id GA4 reports as `user_id`, with the account's
e-mail, phone and customer id on one row.

The first day's file is the initial full export (every account that existed before the run); later
files hold the accounts created that day (guests who created one at checkout) and the accounts that
changed (a phone number added to the account).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.demo.context import Ctx
from orchestration.demo.formats import email_variants
from orchestration.demo.strs import to_arrow
from orchestration.demo.timeutil import fmt_iso_z

SOURCE = "webshop_accounts"


def simulate_accounts(ctx: Ctx, day: int) -> None:
    """Call after the day's visits (they create accounts at checkout)."""
    rng, pop = ctx.rng, ctx.pop
    lo, _ = ctx.day_bounds(day)
    created = ctx.new_accounts.pop(day, [])
    new = np.concatenate([c[0] for c in created]) if created else np.zeros(0, np.int64)
    new_t = np.concatenate([c[1] for c in created]) if created else np.zeros(0, np.int64)
    parts = []
    if day == 0:  # the initial export: accounts opened before the run
        old = np.setdiff1d(np.flatnonzero(pop.has_account), new)
        parts.append((old, lo - rng.integers(3600, 86400 * 1500, len(old))))
    parts.append((new, new_t))
    # a phone number added to an existing account
    add_phone = np.flatnonzero(pop.has_account & pop.has_phone & ~pop.account_phone & (rng.random(pop.n) < 0.01))
    add_phone = np.setdiff1d(add_phone, new) if day > 0 else add_phone[:0]  # day 0 is the full export
    pop.account_phone[add_phone] = True
    parts.append((add_phone, ctx.times_in_day(day, len(add_phone))))
    who = np.concatenate([p[0] for p in parts]).astype(np.int64)
    when = np.concatenate([p[1] for p in parts]).astype(np.int64)
    k = len(who)
    if k == 0:
        return
    phone_on = pop.account_phone[who]
    ctx.truth.mark("email", who)
    ctx.truth.mark("site_user_id", who)
    ctx.truth.mark("customer_id", who)
    ctx.truth.mark("phone", who, phone_on)
    t = pa.table({
        "occurred_at": fmt_iso_z(when),
        "source": pa.repeat(SOURCE, k),
        "email": to_arrow(email_variants(rng, pop.email[who], p_mess=0.05)),
        "phone": to_arrow(pop.phone_e164[who], phone_on),  # the shop validates numbers to E.164
        "customer_id": to_arrow(pop.customer_id[who]),
        "site_user_id": to_arrow(pop.site_user_id[who]),
        "_t": when,
        "_k": who,
    })  # fmt: skip
    ctx.activities += k
    ctx.sink.add("canonical_identifier_links", day, t)
