"""Customer service (Zendesk tickets, re-exported when solved) and NPS answers (Delighted JSON lines)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.demo import catalog
from orchestration.demo.context import Ctx
from orchestration.demo.formats import JUNK_PHONE, email_variants, phone_variants
from orchestration.demo.strs import HEX, cat, random_chars, to_arrow
from orchestration.demo.timeutil import fmt_local

VIA = np.array(["Web form", "Email", "Phone call (inbound)", "Chat"])
SATISFACTION = np.array(["Offered", "Good", "Bad", "Unoffered"])
PRIORITY = np.array(["Normal", "High", "Low", "Urgent"])
TYPES = np.array(["Question", "Incident", "Problem", "Task"])
TAGS = np.array(["levering", "retur", "medlem", "faktura", "reklamation", "leverans"])
SUBJECTS = np.array(catalog.SERVICE_SUBJECTS)
COMMENTS = np.array(catalog.NPS_COMMENTS)


def simulate_service(ctx: Ctx, day: int) -> None:
    rng, pop = ctx.rng, ctx.pop
    lo, hi = ctx.day_bounds(day)
    recent = (ctx.last_purchase > lo - 5 * 86400) & (ctx.last_purchase > 0)
    who = np.flatnonzero(rng.random(pop.n) < 0.0012 * pop.propensity + 0.02 * recent)
    k = len(who)
    if k == 0:
        return
    ctx.activities += k
    ids = ctx.next_ids("ticket_seq", k)
    created = ctx.times_in_day(day, k, hours=(7, 22))
    via = rng.choice(4, size=k, p=[0.3, 0.35, 0.2, 0.15])
    solved = created + rng.exponential(20 * 3600, k).astype(np.int64) + 600
    sat = rng.choice(4, size=k, p=[0.4, 0.35, 0.1, 0.15])
    email_on = pop.has_email[who] & (via != 2)
    phone_on = (pop.has_phone[who] & (rng.random(k) < 0.4)) | (via == 2)
    # a requester can be answered: e-mail and web-form tickets come from an address; without one the help
    # desk has the number the customer called or chatted from
    phone_on |= ~email_on
    junk = phone_on & (rng.random(k) < 0.03)
    ext_on = pop.is_member[who] & (rng.random(k) < 0.6)
    ctx.truth.mark("service_requester_id", who)
    ctx.truth.mark("email", who, email_on)
    ctx.truth.mark("phone", who, phone_on & ~junk)
    ctx.truth.mark("loyalty_id", who, ext_on)
    email = email_variants(rng, pop.email[who])
    phone = np.where(junk, JUNK_PHONE, phone_variants(rng, pop.country[who], pop.phone_national[who]))
    base = {
        "Id": ids.astype(str),
        "Requester": cat(pop.first_name[who], " ", pop.last_name[who]),
        "Requester id": pop.requester_id[who],
        "Requester external id": to_arrow(pop.loyalty_id[who], ext_on),
        "Requester email": to_arrow(email, email_on),
        "Requester phone": to_arrow(phone, phone_on),
        "Group": np.where(pop.country[who] == "DK", catalog.SERVICE_GROUPS[0], catalog.SERVICE_GROUPS[1]),
        "Subject": SUBJECTS[rng.integers(0, len(SUBJECTS), k)],
        "Tags": TAGS[rng.integers(0, len(TAGS), k)],
        "Priority": PRIORITY[rng.choice(4, size=k, p=[0.7, 0.15, 0.1, 0.05])],
        "Via": VIA[via],
        "Ticket type": TYPES[rng.integers(0, len(TYPES), k)],
        "Created at": fmt_local(created),
    }
    same_day = solved < hi
    # a ticket shows once when solved the same day, else open today and again (solved) on the solving day
    first = pa.table(base | {
        "Status": np.where(same_day, "solved", "open"),
        "Updated at": fmt_local(np.where(same_day, solved, created + 120)),
        "Solved at": to_arrow(fmt_local(solved), same_day),
        "Satisfaction Score": np.where(same_day, SATISFACTION[sat], "Unoffered"),
        "_t": created, "_k": ids,
    })  # fmt: skip
    ctx.sink.add("zendesk_tickets", day, first)
    later = ~same_day
    sday = ctx.day_of(solved)
    for dd in np.unique(sday[later]):
        sel = later & (sday == dd)
        t = pa.table({c: (v.filter(pa.array(sel)) if isinstance(v, pa.Array) else np.asarray(v)[sel])
                      for c, v in base.items()} | {
            "Status": np.full(int(sel.sum()), "solved"),
            "Updated at": fmt_local(solved[sel]),
            "Solved at": fmt_local(solved[sel]),
            "Satisfaction Score": SATISFACTION[sat[sel]],
            "_t": solved[sel], "_k": ids[sel],
        })  # fmt: skip
        ctx.sink.add("zendesk_tickets", int(dd), t)


def simulate_nps(ctx: Ctx, day: int) -> None:
    """A survey follows a purchase; about a third answer within three days."""
    rng, pop = ctx.rng, ctx.pop
    for persons, utc, channel in ctx.purchases.pop(day, []):
        k = len(persons)
        # the survey goes to an e-mail address or a mobile number the buyer gave the shop; without either
        # there is no one to ask
        reachable = pop.has_email[persons] | pop.has_phone[persons]
        answer = reachable & (rng.random(k) < 0.3)
        who, ch = persons[answer], channel[answer]
        n = len(who)
        if n == 0:
            continue
        when = utc[answer] + rng.integers(12 * 3600, 3 * 86400, n)
        by_sms = pop.has_phone[who] & (~pop.has_email[who] | (rng.random(n) < 0.2))
        dd_all = ctx.day_of(when)
        ok = dd_all < ctx.days
        ctx.truth.mark("email", who, ok & ~by_sms)
        ctx.truth.mark("phone", who, ok & by_sms)
        score = np.clip(np.rint(rng.normal(8.0, 2.2, n)), 0, 10).astype(np.int64)
        ids = ctx.next_ids("response_seq", n)
        t = pa.table({
            "id": ids.astype(str),
            "person_id": (300_000_000 + who).astype(str),
            "person_email": to_arrow(email_variants(rng, pop.email[who], 0.05), ~by_sms),
            "person_name": cat(pop.first_name[who], " ", pop.last_name[who]),
            "person_phone": to_arrow(pop.phone_e164[who], by_sms),
            "person_created_at": when - 86400,
            "survey_type": np.full(n, "nps"),
            "score": score,
            "comment": to_arrow(COMMENTS[rng.integers(0, len(COMMENTS), n)], rng.random(n) < 0.5),
            "permalink": cat("https://app.delighted.com/r/", random_chars(rng, n, 24, HEX)),
            "created_at": when,
            "updated_at": when + rng.integers(0, 120, n),
            "src": np.where(by_sms, "SMS", "Email"),
            "purchase_channel": ch,
            "country": pop.country[who],
            "tag": to_arrow(np.where(score <= 6, "detractor", "promoter"), (score <= 6) | (score >= 9)),
            "_t": when, "_k": ids,
        })  # fmt: skip
        ctx.activities += int(ok.sum())
        for dd in np.unique(dd_all[ok]):
            ctx.sink.add("delighted_responses", int(dd), t.filter(pa.array(dd_all == dd)))
