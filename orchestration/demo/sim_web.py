"""Web and app visits: GA4 events (funnel steps, logins, first opens) and the Shopify orders they end in."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.demo import catalog
from orchestration.demo.context import PRODUCT_CATEGORY, PRODUCT_NAME, PRODUCT_SKU, Ctx, draw_products, price_in
from orchestration.demo.shopify import order_rows
from orchestration.demo.timeutil import utc_offset_seconds

STEPS = np.array(["first_open", "session_start", "page_view", "search", "view_item", "add_to_cart", "login",
                  "begin_checkout", "purchase"])  # fmt: skip
LOGIN, PURCHASE = 6, 8
PAGES = np.array(["/", "/kategori/overtoej", "/kategori/sko", "/nyheder", "/medlem", "/kategori/hjem"])
STEP_PATH = np.array(["/", "/", "", "/soeg", "", "", "/login", "/checkout", "/checkout/tak"])
SEARCH_TERMS = np.array(["regnjakke", "uldsokker", "støvler", "dunjakke", "hue", "sengetøj", "jeans"])
ORGANIC = [("google", "organic"), ("(direct)", "(none)"), ("facebook", "cpc"), ("google", "cpc"),
           ("instagram", "social")]  # fmt: skip
ORGANIC_P = [0.4, 0.3, 0.1, 0.12, 0.08]
COUNTRY_NAME = {"DK": "Denmark", "SE": "Sweden"}
WEB_DEVICES = [("desktop", "Windows", "Windows 10", "Google", "Chrome", "Chrome"),
               ("desktop", "Macintosh", "Macintosh Intel 10.15", "Apple", "Safari", "Safari"),
               ("mobile", "iOS", "iOS 18.6", "Apple", "iPhone", "Safari"),
               ("mobile", "Android", "Android 15", "Samsung", "SM-S921B", "Chrome")]  # fmt: skip
APP_DEVICES = {"ANDROID": ("mobile", "Android", "Android 15", "Samsung", "SM-S921B"),
               "IOS": ("mobile", "iOS", "iOS 18.6", "Apple", "iPhone 15")}  # fmt: skip


def _cumcount(keys: np.ndarray) -> np.ndarray:
    """Rank of each element among equal keys, in array order."""
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    start = np.r_[True, sk[1:] != sk[:-1]]
    idx = np.arange(len(sk))
    ranks = idx - np.maximum.accumulate(np.where(start, idx, 0))
    out = np.empty_like(ranks)
    out[order] = ranks
    return out


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of arange(s, s + n) for each (s, n), without a Python loop."""
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()))


def _pick_slot(rng, slots: np.ndarray) -> np.ndarray:
    count = (slots >= 0).sum(axis=1)
    col = (rng.random(len(slots)) * np.maximum(count, 1)).astype(np.int64)
    return slots[np.arange(len(slots)), col]


def simulate_visits(ctx: Ctx, day: int) -> None:
    rng, pop = ctx.rng, ctx.pop
    lo, hi = ctx.day_bounds(day)

    # organic visits, plus those caused by e-mail clicks and push opens; people without an e-mail address
    # rarely shop online (no account, no receipts): they are store customers
    k = rng.poisson(0.07 * pop.propensity * (1 + 2 * ctx.intent) * np.where(pop.has_email, 1.0, 0.05))
    person = np.repeat(np.arange(pop.n), k)
    m0 = len(person)
    src_i = rng.choice(len(ORGANIC), size=m0, p=ORGANIC_P)
    has_app = pop.app_slots[person, 0] >= 0
    want_app = has_app & (rng.random(m0) < 0.55)
    parts = dict(person=[person], utc=[ctx.times_in_day(day, m0)], app=[want_app],
                 source=[np.array([s for s, _ in ORGANIC])[src_i]], medium=[np.array([m for _, m in ORGANIC])[src_i]],
                 campaign=[np.full(m0, "")], caused=[np.zeros(m0, bool)], query=[np.full(m0, "")])  # fmt: skip
    for ex in ctx.extra.pop(day, []):
        parts["person"].append(ex.person)
        parts["utc"].append(ex.utc)
        parts["app"].append((ex.platform == "APP") & (pop.app_slots[ex.person, 0] >= 0))
        parts["source"].append(ex.source)
        parts["medium"].append(ex.medium)
        parts["campaign"].append(ex.campaign)
        parts["caused"].append(np.ones(len(ex.person), bool))
        parts["query"].append(np.full(len(ex.person), "") if ex.link_query is None else ex.link_query)
    s = {key: np.concatenate(v) for key, v in parts.items()}
    order = np.argsort(s["utc"], kind="stable")
    s = {key: v[order] for key, v in s.items()}
    person, utc, is_app = s["person"], s["utc"], s["app"]
    m = len(person)
    if m == 0:
        return

    slot = np.where(is_app, _pick_slot(rng, pop.app_slots[person]), _pick_slot(rng, pop.web_slots[person]))
    dev = pop.slot_device[slot]
    platform = pop.slot_platform[slot]
    is_app = platform != "WEB"
    new_dev = pop.device_first_seen[dev] == 0
    first_today = np.zeros(m, bool)
    first_today[np.unique(dev, return_index=True)[1]] = True
    first_open = new_dev & first_today
    pop.device_first_seen[dev[first_open]] = utc[first_open]
    snum = ctx.device_sessions[dev] + _cumcount(dev) + 1
    np.add.at(ctx.device_sessions, dev, 1)

    # how far down the funnel each visit gets; steps are skipped now and then
    caused = s["caused"]
    # a planted app incident (e.g. a checkout outage) scales the chance an app checkout becomes a purchase
    buy_factor = np.where(is_app, ctx.incident_factor(day, "app"), 1.0)
    u = rng.random((m, 5))
    viewed = u[:, 0] < 0.55 + 0.2 * caused + 0.2 * np.minimum(ctx.intent[person], 1)
    carted = viewed & (u[:, 1] < 0.3 + 0.15 * caused)
    checkout = carted & (u[:, 2] < 0.55)
    bought = checkout & (u[:, 3] < 0.7 * buy_factor)
    quick_add = carted & (u[:, 4] < 0.12)  # added from a listing without a product view
    logged = ctx.device_user[dev] == person
    account = pop.has_account[person]
    # the app asks for the account on a device it does not know; on the web, member prices, the wish list
    # and checkout ask for it (most account holders log in on a visit)
    u_login = rng.random((m, 2))
    login = account & ~logged & (is_app | (checkout & (u_login[:, 0] < 0.85)) | (u_login[:, 1] < 0.75))
    # a guest at checkout creates an account now and then (an e-mail address is needed)
    cand = np.flatnonzero(~account & pop.has_email[person] & checkout & (rng.random(m) < 0.25))
    signup = np.zeros(m, bool)
    signup[cand[np.unique(person[cand], return_index=True)[1]]] = True  # once per person and day
    if signup.any():
        pop.has_account[person[signup]] = True
        ctx.new_accounts[day].append((person[signup], utc[signup]))
        login |= signup

    counts = np.zeros((m, len(STEPS)), dtype=np.int64)
    counts[:, 0] = first_open
    counts[:, 1] = 1
    counts[:, 2] = rng.geometric(0.4, m)
    counts[:, 3] = rng.random(m) < 0.25
    counts[:, 4] = np.where(viewed & ~quick_add, rng.geometric(0.5, m), 0)
    counts[:, 5] = carted
    counts[:, LOGIN] = login
    counts[:, 7] = checkout
    counts[:, PURCHASE] = bought
    total = counts.sum(axis=1)
    ctx.activities += int(total.sum())

    ev_s = np.repeat(np.arange(m), total)
    ev_step = np.repeat(np.tile(np.arange(len(STEPS)), m), counts.ravel())
    n_ev = len(ev_s)
    gaps = rng.exponential(40.0, n_ev).astype(np.int64) + 1
    starts = np.cumsum(total) - total
    gaps[starts[total > 0]] = 0
    csum = np.cumsum(gaps)
    t = np.minimum(utc[ev_s] + csum - csum[starts[ev_s]], hi - 1)
    t_us = t * 1_000_000 + rng.integers(0, 1_000_000, n_ev)
    t_us = np.maximum(t_us, np.r_[0, t_us[:-1]] * (np.r_[False, ev_s[1:] == ev_s[:-1]]))  # keep session order

    # orders of the visits that bought
    o = np.flatnonzero(bought)
    n_orders = len(o)
    names = ctx.next_ids("order_seq", n_orders)
    n_lines = rng.choice([1, 2, 3], size=n_orders, p=[0.6, 0.3, 0.1])
    line_order = np.repeat(np.arange(n_orders), n_lines)
    line_product = draw_products(rng, len(line_order))
    line_qty = np.where(rng.random(len(line_order)) < 0.1, 2, 1)
    o_country = pop.country[person[o]]
    line_price = price_in(o_country[line_order], line_product)
    subtotal = np.bincount(line_order, weights=line_price * line_qty, minlength=n_orders)
    free = np.where(o_country == "DK", 499.0, 749.0)
    shipping = np.where(subtotal >= free, 0.0, np.where(o_country == "DK", 49.0, 69.0))
    purchase_ev = starts[o] + total[o] - 1
    order_utc = t[purchase_ev]
    order_rows(ctx, day, person[o], order_utc, is_app[o], names, line_order, line_product, line_qty, line_price,
               subtotal, shipping)  # fmt: skip
    ctx.purchases[day].append((person[o], order_utc, np.where(is_app[o], "app", "web")))
    ctx.activities += n_orders
    ctx.last_purchase[person[o]] = order_utc

    # device memory and buying intent carry over to later days
    did_login = login | logged
    ctx.device_user[dev[login]] = person[login]
    ctx.intent *= 0.6
    np.add.at(ctx.intent, person[viewed & ~bought], 0.5)
    ctx.intent[person[bought]] = 0.0
    _ga4(ctx, day, s, slot, dev, platform, snum, did_login, login, ev_s, ev_step, t_us, o, names, line_order,
         line_product, line_qty, line_price, subtotal, shipping, n_lines)  # fmt: skip


def _dict(indices: np.ndarray, dictionary, mask: np.ndarray | None = None) -> pa.DictionaryArray:
    """Low-cardinality strings as indices into a small dictionary (null where mask is False)."""
    idx = pa.array(np.asarray(indices, dtype=np.int32), mask=None if mask is None else ~np.asarray(mask, bool))
    return pa.DictionaryArray.from_arrays(idx, pa.array(np.asarray(dictionary).astype(str), pa.string()))


def _sparse(values: np.ndarray, mask: np.ndarray) -> pa.Array:
    """Strings where mask is True, null elsewhere; only the kept values are converted."""
    mask = np.asarray(mask, dtype=bool)
    kept = pa.array(np.asarray(values)[mask].astype(str), pa.string())
    idx = np.cumsum(mask) - 1
    return kept.take(pa.array(np.where(mask, idx, 0), mask=~mask))


# every page path an event can carry: step pages, landing pages, product pages, searches
PATHS = list(dict.fromkeys([*STEP_PATH, *PAGES, *(f"/produkt/{s.lower()}" for s in PRODUCT_SKU),
                            *(f"/soeg?q={t}" for t in SEARCH_TERMS)]))  # fmt: skip
_STEP_PATH_CODE = np.array([PATHS.index(p) for p in STEP_PATH])
_PAGE_CODE = np.array([PATHS.index(p) for p in PAGES])
_PRODUCT_PATH_CODE = np.array([PATHS.index(f"/produkt/{s.lower()}") for s in PRODUCT_SKU])
_SEARCH_PATH_CODE = np.array([PATHS.index(f"/soeg?q={t}") for t in SEARCH_TERMS])
_EMAIL_LANDING_CODE = PATHS.index("/nyheder")
PAGE_LOCATION = np.array([catalog.SITE + p for p in PATHS])
SCREEN = np.array(["Produkt" if p == "" else p for p in PATHS])


def _ga4(ctx, day, s, slot, dev, platform, snum, logged_all, login, ev_s, ev_step, t_us, o, names, line_order,
         line_product, line_qty, line_price, subtotal, shipping, n_lines) -> None:  # fmt: skip
    rng, pop = ctx.rng, ctx.pop
    person, utc = s["person"], s["utc"]
    m = len(person)
    tracked = rng.random(m) < np.where(platform == "WEB", 0.9, 0.97)  # the rest declined analytics consent
    ctx.truth.mark_slots(slot[tracked])
    keep = tracked[ev_s]
    # user_id is set from the login event on (or from the start when the device remembers the user)
    remembered = logged_all & ~login
    has_uid = keep & (remembered[ev_s] | (login[ev_s] & (ev_step >= LOGIN)))
    ctx.truth.mark("site_user_id", person[ev_s[has_uid]])

    ev_s, ev_step, t_us, has_uid = ev_s[keep], ev_step[keep], t_us[keep], has_uid[keep]
    n_ev = len(ev_s)
    if n_ev == 0:
        return
    ev_ids = ctx.next_ids("event_seq", n_ev)
    p = person[ev_s]
    se_country = pop.country[person] == "SE"  # per session
    se = se_country[ev_s]
    web = platform[ev_s] == "WEB"

    # one product per product view / add to cart; the order lines on purchase
    prod = draw_products(rng, n_ev)
    is_item = (ev_step == 4) | (ev_step == 5)
    order_of_session = np.full(m, -1)
    order_of_session[o] = np.arange(len(o))
    ev_order = order_of_session[ev_s]
    is_purchase = ev_step == PURCHASE
    item_price = price_in(pop.country[p], prod)
    value = np.where(is_item, item_price, np.nan)
    # order arrays padded with one dummy so that index -1 (no order) is always valid
    o_total = np.r_[subtotal + shipping, 0.0]
    o_qty = np.r_[np.bincount(line_order, weights=line_qty, minlength=len(o)), 0].astype(np.int64)
    o_lines, o_ship = np.r_[n_lines, 0], np.r_[shipping, 0.0]
    value = np.where(is_purchase, o_total[ev_order], value)

    path = _STEP_PATH_CODE[ev_step]
    path = np.where(ev_step == 2, _PAGE_CODE[rng.integers(0, len(PAGES), n_ev)], path)
    path = np.where(is_item, _PRODUCT_PATH_CODE[prod], path)
    term = rng.integers(0, len(SEARCH_TERMS), n_ev)
    path = np.where(ev_step == 3, _SEARCH_PATH_CODE[term], path)
    # a tracked e-mail link lands on its page with the link's query (utm_*, mc_cid, mc_eid) appended
    first_view = (ev_step == 2) & np.r_[True, (ev_s[1:] != ev_s[:-1]) | (ev_step[:-1] != 2)]
    landed = np.flatnonzero(first_view & web & (s["query"][ev_s] != ""))
    path[landed] = _EMAIL_LANDING_CODE
    location = np.concatenate(
        [PAGE_LOCATION, np.char.add(PAGE_LOCATION[_EMAIL_LANDING_CODE] + "?", s["query"][ev_s[landed]].astype(str))]
    )
    loc_code = path.copy()
    loc_code[landed] = len(PAGE_LOCATION) + np.arange(len(landed))
    ctx.truth.mark("esp_member_id", p[landed])
    first_in_session = np.r_[True, ev_s[1:] != ev_s[:-1]]
    eng_ms = rng.integers(50, 60_000, n_ev)
    bundle = rng.integers(1_000_000_000, 2_000_000_000, n_ev)
    rewrite = day in ctx.sink.plan.get("ga4_rewrites", {})
    late = (rng.random(n_ev) < 0.04) if rewrite else np.zeros(n_ev, bool)
    offset = utc_offset_seconds(t_us // 1_000_000)
    tz_values, tz_idx = np.unique(offset, return_inverse=True)
    events = pa.table({
        "ev": ev_ids,
        "t_us": t_us,
        "sess": ev_s,
        "event_name": _dict(ev_step, STEPS),
        "eng_ms": eng_ms,
        "page_location": _dict(loc_code, location, web),
        "screen": _dict(path, SCREEN, ~web),
        "search_term": _dict(term, SEARCH_TERMS, ev_step == 3),
        "transaction_id": _sparse(np.char.add("#", np.r_[names, 0].astype(str))[ev_order], is_purchase),
        "currency": _dict(se, ["DKK", "SEK"], is_item | is_purchase),
        "value": pa.array(value, mask=np.isnan(value)),
        "campaign_src": first_in_session & (ev_step <= 1),
        "user_id": _sparse(pop.site_user_id[p], has_uid),
        "tz_offset": _dict(tz_idx, tz_values, ~web),
        "bundle": bundle,
        "late": late,
        "n_qty": np.where(is_purchase, o_qty[ev_order], 0),
        "n_items": np.where(is_purchase, o_lines[ev_order], 0),
        "shipping": np.where(is_purchase, o_ship[ev_order], 0.0),
    })  # fmt: skip

    # per visit: device, person, traffic source (rendered once per session)
    sweb = platform == "WEB"
    wd = np.asarray(dev % len(WEB_DEVICES))
    web_dev = [np.array([w[i] for w in WEB_DEVICES])[wd] for i in range(6)]
    app_dev = [np.where(platform == "IOS", APP_DEVICES["IOS"][i], APP_DEVICES["ANDROID"][i]) for i in range(5)]
    is_tablet = ~sweb & (pop.slot_platform[slot] == "ANDROID") & (np.bincount(
        pop.slot_device, minlength=len(pop.device_value))[dev] > 1)  # fmt: skip
    ft = dev % len(ORGANIC)
    campaign = s["campaign"]
    sessions = pa.table({
        "event_date": _dict(np.zeros(m), [f"{ctx.date(day):%Y%m%d}"]),
        "sid": utc,
        "snum": snum,
        "user_pseudo_id": pop.device_value[dev],
        "ads_storage": _dict(dev % 3 == 0, ["Yes", "No"]),
        "first_touch_us": pop.device_first_seen[dev] * 1_000_000,
        "dev_category": np.where(sweb, web_dev[0], np.where(is_tablet, "tablet", app_dev[0])),
        "dev_os": np.where(sweb, web_dev[1], app_dev[1]),
        "dev_os_version": np.where(sweb, web_dev[2], app_dev[2]),
        "dev_brand": np.where(sweb, web_dev[3], app_dev[3]),
        "dev_model": np.where(sweb, web_dev[4], app_dev[4]),
        "dev_browser": web_dev[5],
        "dev_browser_version": np.where(web_dev[5] == "Chrome", "141.0.7390.65", "18.6"),
        "dev_language": _dict(se_country, ["da-dk", "sv-se"]),
        "geo_country": _dict(se_country, ["Denmark", "Sweden"]),
        "geo_city": pop.city[person],
        "geo_region": pop.region[person],
        "ft_source": _dict(ft, [x for x, _ in ORGANIC]),
        "ft_medium": _dict(ft, [y for _, y in ORGANIC]),
        "ft_name": _dict(ft, ["nordvik_brand" if y == "cpc" else "(organic)" for _, y in ORGANIC]),
        "stream_id": np.where(sweb, catalog.GA4_WEB_STREAM, np.where(
            platform == "IOS", catalog.GA4_APP_STREAMS["IOS"], catalog.GA4_APP_STREAMS["ANDROID"])),
        "platform": platform,
        "source": s["source"],
        "medium": s["medium"],
        "campaign": _sparse(campaign, campaign != ""),
    })  # fmt: skip

    # items: 1 per product event, the order's lines on purchase events
    ie = np.flatnonzero(is_item)
    pe = np.flatnonzero(is_purchase)
    line_start = np.cumsum(n_lines) - n_lines
    pl = np.repeat(pe, n_lines[ev_order[pe]]) if len(pe) else np.zeros(0, np.int64)
    lines = ranges(line_start[ev_order[pe]], n_lines[ev_order[pe]]) if len(pe) else np.zeros(0, np.int64)
    it_ev = np.concatenate([ie, pl])
    it_prod = np.concatenate([prod[ie], line_product[lines]])
    items = pa.table({
        "ev": ev_ids[it_ev],
        "pos": np.concatenate([np.zeros(len(ie), np.int64), lines - line_start[line_order[lines]]]),
        "item_id": PRODUCT_SKU[it_prod],
        "item_name": PRODUCT_NAME[it_prod],
        "item_category": PRODUCT_CATEGORY[it_prod],
        "price": np.concatenate([item_price[ie], line_price[lines]]),
        "quantity": np.concatenate([np.ones(len(ie), np.int64), line_qty[lines]]),
    })  # fmt: skip
    ctx.sink.add_ga4(day, events, sessions, items)
