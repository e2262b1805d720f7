"""Mailchimp: campaigns (sent/open/click/bounce/unsub activity), new sign-ups, weekly audience exports."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.demo import catalog
from orchestration.demo.context import Ctx, Extra
from orchestration.demo.formats import email_variants, phone_variants
from orchestration.demo.sources_cols import AUDIENCE, CLEANED, UNSUBSCRIBED
from orchestration.demo.strs import HEX, random_chars, to_arrow
from orchestration.demo.timeutil import fmt_utc

CAMPAIGN_WEEKDAYS = (0, 3)  # Monday and Thursday newsletters
UNSUB_REASONS = np.array(["", "I no longer want to receive these emails", "Too many emails", "Not relevant"])


def _blank_null(values) -> pa.Array:
    """Strings, with empty cells as null (blank in the CSV)."""
    values = np.asarray(values).astype(str)
    return to_arrow(values, values != "")


class Mailchimp:
    def __init__(self, ctx: Ctx):
        self.ctx = ctx
        rng, pop = ctx.rng, ctx.pop
        # what each subscriber typed once at sign-up stays in the list
        self.list_email = email_variants(rng, pop.email, p_mess=0.15)
        self.list_phone = np.where(pop.has_phone & (rng.random(pop.n) < 0.5),
                                   phone_variants(rng, pop.country, pop.phone_national), "")  # fmt: skip
        self.rating = rng.integers(1, 6, pop.n)
        self.changed = pop.esp_optin.copy()
        self.end_time = np.zeros(pop.n, dtype=np.int64)  # UNSUB_TIME / CLEAN_TIME
        self.end_campaign = np.full(pop.n, "", dtype="U10")
        self.campaigns: dict[str, str] = {}
        self._hash: pa.Array | None = None
        self._email: pa.Array | None = None
        gone = pop.esp_status == 2  # unsubscribed before the run
        self.end_time[gone] = pop.esp_optin[gone] + rng.integers(86400, 86400 * 200, int(gone.sum()))
        self.end_time[gone] = np.minimum(self.end_time[gone], ctx.day_bounds(0)[0] - 3600)
        self.changed[gone] = self.end_time[gone]

    def simulate(self, day: int) -> None:
        ctx, rng, pop = self.ctx, self.ctx.rng, self.ctx.pop
        lo, hi = ctx.day_bounds(day)
        # new sign-ups on the website (double opt-in: confirmed minutes later)
        new = np.flatnonzero(pop.has_email & (pop.esp_status == 0) & (rng.random(pop.n) < 0.002))
        pop.esp_status[new] = 1
        pop.esp_optin[new] = ctx.times_in_day(day, len(new))
        self.changed[new] = pop.esp_optin[new] + 300
        ctx.activities += len(new)

        date = ctx.date(day)
        if date.weekday() in CAMPAIGN_WEEKDAYS:
            self._campaign(day, date)
        if day % 7 == 0 or day == ctx.days - 1:
            self._audience(day, hi - 1)

    def _campaign(self, day: int, date) -> None:
        ctx, rng, pop = self.ctx, self.ctx.rng, self.ctx.pop
        cid = random_chars(rng, 1, 10, HEX)[0]
        title = f"Nyhedsbrev uge {date.isocalendar().week}"
        self.campaigns[cid] = title
        r = np.flatnonzero(pop.esp_status == 1)
        k = len(r)
        send = ctx.day_bounds(day)[0] + 8 * 3600 + rng.integers(0, 1800, k)
        bounce = rng.random(k) < 0.006
        opened = ~bounce & (rng.random(k) < 0.32)
        open_t = send + rng.exponential(5 * 3600, k).astype(np.int64)
        clicked = opened & (rng.random(k) < 0.25)
        click_t = open_t + rng.exponential(120, k).astype(np.int64) + 5
        unsub = opened & ~clicked & (rng.random(k) < 0.01)
        unsub_t = open_t + 60
        hard = bounce & (rng.random(k) < 0.6)

        rows = [("sent", send, np.ones(k, bool)), ("bounce", send + 30, bounce), ("open", open_t, opened),
                ("click", click_t, clicked), ("unsub", unsub_t, unsub)]  # fmt: skip
        for action, t, mask in rows:
            who, when = r[mask], t[mask]
            dday = ctx.day_of(when)
            for dd in np.unique(dday):
                sel = dday == dd
                if dd >= ctx.days:
                    continue
                self._activity(int(dd), action, cid, title, who[sel], when[sel], hard[mask][sel])
        # bounced addresses are cleaned, unsubscribers leave the list (only if it happened in the run)
        in_run = ctx.day_of(unsub_t) < ctx.days
        gone = r[unsub & in_run]
        pop.esp_status[gone] = 2
        self.end_time[gone], self.end_campaign[gone], self.changed[gone] = unsub_t[unsub & in_run], cid, unsub_t[
            unsub & in_run]  # fmt: skip
        cleaned = r[hard]
        pop.esp_status[cleaned] = 3
        self.end_time[cleaned], self.end_campaign[cleaned], self.changed[cleaned] = send[hard], cid, send[hard]
        # clicks bring people to the shop: web, or the app when they have it; Mailchimp's link tracking
        # appends the campaign (mc_cid) and the member's EUID (mc_eid) to the landing page
        cl = clicked & (ctx.day_of(click_t) < ctx.days)
        slug = title.lower().replace(" ", "_")
        for dd in np.unique(ctx.day_of(click_t[cl])):
            sel = cl & (ctx.day_of(click_t) == dd)
            n = int(sel.sum())
            query = np.char.add(f"utm_source=mailchimp&utm_medium=email&utm_campaign={slug}&mc_cid={cid}&mc_eid=",
                                pop.euid[r[sel]])  # fmt: skip
            ctx.extra[int(dd)].append(Extra(
                person=r[sel], utc=click_t[sel] + 2, platform=np.where(rng.random(n) < 0.4, "APP", "WEB"),
                source=np.full(n, "mailchimp"), medium=np.full(n, "email"), campaign=np.full(n, title),
                link_query=query))  # fmt: skip

    def _activity(self, day, action, cid, title, who, when, hard) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        k = len(who)
        ctx.activities += k
        ctx.truth.mark("email", who)
        if self._hash is None:  # per-person strings as Arrow once; rows are gathered from them
            self._hash = pa.array(ctx.pop.member_hash, pa.string())
            self._email = pa.array(self.list_email, pa.string())
        rows = pa.array(who)
        ips = pc.binary_join_element_wise("80.", pa.array(rng.integers(160, 220, k)).cast(pa.string()), ".",
                                          pa.array(rng.integers(0, 65535, k)).cast(pa.string()), "")  # fmt: skip
        none = pa.nulls(k, pa.string())
        t = pa.table({
            "action": pa.repeat(action, k),
            "campaign_id": pa.repeat(cid, k),
            "member_id": self._hash.take(rows),
            "timestamp": fmt_utc(when),
            "bounce_type": to_arrow(np.where(hard, "hard", "soft")) if action == "bounce" else none,
            "combination_id": none,
            "ip": ips if action in ("open", "click") else none,
            "list_id": pa.repeat(catalog.MAILCHIMP_LIST_ID, k),
            "url": pa.repeat(f"{catalog.SITE}/nyheder?utm_source=mailchimp&utm_medium=email", k)
            if action == "click" else none,
            "email_address": self._email.take(rows),
            "campaign_title": pa.repeat(title, k),
            "_t": when,
            "_k": who,
        })  # fmt: skip
        ctx.sink.add("mailchimp_activity", day, t)

    def _audience(self, day: int, now: int) -> None:
        ctx, pop = self.ctx, self.ctx.pop
        for status, name, cols in ((1, "subscribed", AUDIENCE), (2, "unsubscribed", UNSUBSCRIBED),
                                   (3, "cleaned", CLEANED)):  # fmt: skip
            who = np.flatnonzero((pop.esp_status == status) & (pop.esp_optin <= now))
            k = len(who)
            ctx.truth.mark("email", who)
            ctx.truth.mark("esp_member_id", who)
            ctx.truth.mark("phone", who, self.list_phone[who] != "")
            dk = pop.country[who] == "DK"
            optin = pop.esp_optin[who]
            data = {
                "Email Address": self.list_email[who],
                "First Name": pop.first_name[who],
                "Last Name": pop.last_name[who],
                "Phone Number": to_arrow(self.list_phone[who], self.list_phone[who] != ""),
                "MEMBER_RATING": self.rating[who].astype(str),
                "OPTIN_TIME": fmt_utc(optin),
                "OPTIN_IP": np.full(k, "", dtype=str),
                "CONFIRM_TIME": fmt_utc(optin + 300),
                "CONFIRM_IP": np.full(k, "", dtype=str),
                "LATITUDE": np.where(dk, "55.6761", "59.3293"),
                "LONGITUDE": np.where(dk, "12.5683", "18.0686"),
                "GMTOFF": np.full(k, "1"),
                "DSTOFF": np.full(k, "2"),
                "TIMEZONE": np.where(dk, "Europe/Copenhagen", "Europe/Stockholm"),
                "CC": pop.country[who],
                "REGION": pop.region[who],
                "LAST_CHANGED": fmt_utc(np.maximum(self.changed[who], optin)),
                "LEID": pop.leid[who],
                "EUID": pop.euid[who],
                "NOTES": np.full(k, "", dtype=str),
                "TAGS": np.where(pop.is_member[who], '"Loyalty"', ""),
            }
            end = fmt_utc(self.end_time[who])
            camp = self.end_campaign[who]
            titles = np.array([self.campaigns.get(c, "") for c in np.unique(camp)]) if k else np.array([], str)
            camp_title = titles[np.searchsorted(np.unique(camp), camp)] if k else camp
            if status == 2:
                data |= {"UNSUB_TIME": end, "UNSUB_CAMPAIGN_TITLE": camp_title, "UNSUB_CAMPAIGN_ID": camp,
                         "UNSUB_REASON": UNSUB_REASONS[who % len(UNSUB_REASONS)],
                         "UNSUB_REASON_OTHER": np.full(k, "")}  # fmt: skip
            if status == 3:
                data |= {"CLEAN_TIME": end, "CLEAN_CAMPAIGN_TITLE": camp_title, "CLEAN_CAMPAIGN_ID": camp}
            t = pa.table({c: data[c] if isinstance(data[c], pa.Array) else _blank_null(data[c]) for c in cols})
            t = t.append_column("_t", pa.array(np.zeros(k, np.int64))).append_column("_k", pa.array(who))
            file = f"{name}_members_export_{catalog.MAILCHIMP_LIST_ID}.csv"
            if k:
                ctx.sink.add("mailchimp_audience", day, t, file=file)
            else:
                ctx.sink.add_empty("mailchimp_audience", day, cols, file)
