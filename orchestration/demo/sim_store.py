"""Store visits: Square Items Detail rows (Windows-1252), with loyalty cards, card payments and refunds, and
Square's customer directory (customers added to a sale), delivered as canonical identifier links."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.demo import catalog
from orchestration.demo.context import PRODUCT_CATEGORY, PRODUCT_NAME, PRODUCT_SKU, Ctx, draw_products, price_in
from orchestration.demo.formats import email_variants
from orchestration.demo.strs import ALNUM_UPPER, cat, random_chars, square_money, to_arrow
from orchestration.demo.timeutil import fmt_iso_z, fmt_local_pattern

STORE_NAME = np.array([s[0] for s in catalog.STORES])
STORE_TZ = np.array([s[2] for s in catalog.STORES])
DK_STORES = np.flatnonzero(catalog.STORE_COUNTRY == "DK")
SE_STORES = np.flatnonzero(catalog.STORE_COUNTRY == "SE")
EMPLOYEES = np.array(["Mette K.", "Jonas B.", "Åsa L.", "Søren P.", "Märta N.", "Frederik H."])
DIRECTORY_SOURCE = "square_customers"


def home_store(pop, persons: np.ndarray) -> np.ndarray:
    """The store a customer shops at most (index into catalog.STORES), one of their country's stores."""
    persons = np.asarray(persons)
    return np.where(pop.country[persons] == "DK", DK_STORES[persons % len(DK_STORES)],
                    SE_STORES[persons % len(SE_STORES)])  # fmt: skip


def simulate_store(ctx: Ctx, day: int) -> np.ndarray:
    """Returns the persons who bought in a store today (they may join the loyalty club at the till)."""
    rng, pop = ctx.rng, ctx.pop
    # browsing online without buying raises the chance to buy in a store (view on web, buy in store)
    k = rng.poisson(0.012 * pop.propensity + 0.05 * np.minimum(ctx.intent, 2))
    person = np.repeat(np.arange(pop.n), np.minimum(k, 2))
    n = len(person)
    if n == 0:
        return person
    dk = pop.country[person] == "DK"
    # most visits are to the customer's home store (the club's `home_store`), the rest anywhere in the country
    other = np.where(dk, DK_STORES[rng.integers(0, len(DK_STORES), n)], SE_STORES[rng.integers(0, len(SE_STORES), n)])
    store = np.where(rng.random(n) < 0.8, home_store(pop, person), other)
    utc = ctx.times_in_day(day, n, hours=(10, 19))
    shows_card = pop.is_member[person] & (rng.random(n) < 0.8)
    by_card = rng.random(n) < 0.85
    # the cashier adds a known customer now and then; Square attaches the profile itself when the card paying
    # is one it has seen with that profile (a card-linked digital receipt)
    pos_known = pop.has_pos[person] & (shows_card | (by_card & (rng.random(n) < 0.9)) | (rng.random(n) < 0.5))
    txn = random_chars(rng, n, 22, ALNUM_UPPER)
    pay = random_chars(rng, n, 22, ALNUM_UPPER)
    ctx.activities += n
    ctx.intent[person] *= 0.2
    ctx.last_purchase[person] = utc
    ctx.purchases[day].append((person, utc, np.full(n, "store")))
    _rows(ctx, day, person, store, utc, shows_card, pos_known, by_card, txn, pay, refund=False)
    _directory(ctx, day, person[pos_known], utc[pos_known])

    # some receipts are refunded a few days later, in the same store
    ref = np.flatnonzero(rng.random(n) < 0.03)
    when = utc[ref] + rng.integers(1, 5, len(ref)) * 86400 + rng.integers(-3600, 3600, len(ref))
    rday = ctx.day_of(when)
    for dd in np.unique(rday[rday < ctx.days]):
        sel = ref[rday == dd]
        ctx.activities += len(sel)
        _rows(ctx, int(dd), person[sel], store[sel], when[rday == dd], shows_card[sel], pos_known[sel], by_card[sel],
              txn[sel], pay[sel], refund=True)  # fmt: skip
    return person


def _rows(ctx, day, person, store, utc, shows_card, pos_known, by_card, txn, pay, refund: bool) -> None:
    rng, pop = ctx.rng, ctx.pop
    n = len(person)
    n_lines = 1 if refund else rng.choice([1, 2, 3, 4], size=n, p=[0.45, 0.3, 0.15, 0.1])
    t_ = np.repeat(np.arange(n), n_lines)
    lines = len(t_)
    p = person[t_]
    prod = draw_products(rng, lines)
    price = price_in(pop.country[p], prod)
    sign = -1.0 if refund else 1.0
    gross = sign * price
    tax = np.round(gross * 0.2, 2)
    ctx.truth.mark("pos_customer_id", person, pos_known)
    ctx.truth.mark("loyalty_id", person, shows_card)
    ctx.truth.mark_cards(person[by_card], store[by_card])
    name = cat(pop.first_name[p], " ", pop.last_name[p])
    t = pa.table({
        "Date": fmt_local_pattern(utc[t_], "%m/%d/%Y"),
        "Time": fmt_local_pattern(utc[t_], "%H:%M:%S"),
        "Time Zone": STORE_TZ[store[t_]],
        "Category": PRODUCT_CATEGORY[prod],
        "Item": PRODUCT_NAME[prod],
        "Qty": np.full(lines, "-1.0" if refund else "1.0"),
        "Price Point Name": np.full(lines, "Regular"),
        "SKU": PRODUCT_SKU[prod],
        "Gross Sales": square_money(gross),
        "Discounts": np.full(lines, "$0.00"),
        "Net Sales": square_money(gross),
        "Tax": square_money(tax),
        "Transaction ID": txn[t_],
        "Payment ID": pay[t_],
        "Device Name": cat("Kasse ", (store[t_] % 3 + 1).astype(str)),
        "Details": np.full(lines, ""),
        "Event Type": np.full(lines, "Refund" if refund else "Payment"),
        "Location": STORE_NAME[store[t_]],
        "Customer ID": to_arrow(pop.pos_customer_id[p], pos_known[t_]),
        "Customer Name": to_arrow(name, pos_known[t_]),
        "Customer Reference ID": to_arrow(pop.loyalty_id[p], shows_card[t_]),
        "Count": np.full(lines, "1"),
        "Itemization Type": np.full(lines, "Physical Item"),
        "Commission": np.full(lines, "$0.00"),
        "Employee": EMPLOYEES[store[t_]],
        "Channel": STORE_NAME[store[t_]],
        "Token": random_chars(rng, lines, 24, ALNUM_UPPER),
        "Card Brand": to_arrow(pop.card_brand[p], by_card[t_]),
        "PAN Suffix": to_arrow(pop.card_suffix[p], by_card[t_]),
        "_t": utc[t_],
        "_k": np.arange(lines),
    })  # fmt: skip
    blank = to_arrow(np.full(lines, ""), np.zeros(lines, bool))
    t = t.set_column(t.schema.get_field_index("Details"), "Details", blank)
    ctx.sink.add("square_items", day, t)


def _directory(ctx: Ctx, day: int, person: np.ndarray, utc: np.ndarray) -> None:
    """Square's customer directory export (created or updated customers), once per customer in the run.

    A till customer exists because the buyer gave an e-mail address or a phone number for a digital
    receipt or for the club (Square's customer export carries `Email Address` and `Phone Number`); some
    were added by name only and stay unlinkable. Square keeps phone numbers in E.164.
    """
    rng, pop = ctx.rng, ctx.pop
    person, first = np.unique(person, return_index=True)
    new = ~ctx.pos_exported[person]
    person, when = person[new], utc[first][new]
    k = len(person)
    if k == 0:
        return
    ctx.pos_exported[person] = True
    email_on = pop.has_email[person] & (rng.random(k) < 0.7)
    phone_on = pop.has_phone[person] & (rng.random(k) < 0.5)
    ctx.truth.mark("email", person, email_on)
    ctx.truth.mark("phone", person, phone_on)
    t = pa.table({
        "occurred_at": fmt_iso_z(when),
        "source": pa.repeat(DIRECTORY_SOURCE, k),
        "email": to_arrow(email_variants(rng, pop.email[person], p_mess=0.1), email_on),
        "phone": to_arrow(pop.phone_e164[person], phone_on),
        "pos_customer_id": to_arrow(pop.pos_customer_id[person]),
        "_t": when,
        "_k": person,
    })  # fmt: skip
    ctx.activities += k
    ctx.sink.add("canonical_identifier_links", day, t, file=f"square_customers_{ctx.date(day):%Y%m%d}.csv")
