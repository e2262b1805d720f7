"""The simulated customers: households, names, contact details, accounts, memberships and devices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from orchestration.demo import catalog as cat_
from orchestration.demo.strs import HEX, cat, digits, random_chars


def unique_ints(rng: np.random.Generator, n: int, space: int) -> np.ndarray:
    """n distinct pseudo-random integers in [0, space): an affine permutation, O(n), no collisions."""
    if n > space:
        raise ValueError(f"cannot draw {n} distinct values from {space}")
    a = int(rng.integers(space // 3, space - 1)) | 1
    while np.gcd(a, space) != 1:
        a += 2
    b = int(rng.integers(0, space))
    return (a * np.arange(n, dtype=np.int64) + b) % space


@dataclass
class Population:
    n: int
    country: np.ndarray  # "DK"/"SE"
    household: np.ndarray
    first_name: np.ndarray
    last_name: np.ndarray
    email: np.ndarray  # canonical (lower, trimmed), "" when none
    has_email: np.ndarray
    phone_national: np.ndarray  # DK 8 digits, SE 9 digits without the leading 0
    has_phone: np.ndarray
    city: np.ndarray
    postcode: np.ndarray
    region: np.ndarray
    birth_date: np.ndarray
    propensity: np.ndarray  # relative activity level
    site_user_id: np.ndarray  # webshop login id (GA4 user_id)
    has_account: np.ndarray  # webshop account (mutated: guests create one at checkout)
    customer_id: np.ndarray  # webshop customer id of the account
    account_phone: np.ndarray  # the account holds the phone number (mutated: added later)
    loyalty_id: np.ndarray
    is_member: np.ndarray  # current membership state (mutated by the simulation)
    member_joined: np.ndarray  # epoch seconds of joining (0 when not a member)
    pos_customer_id: np.ndarray
    has_pos: np.ndarray
    requester_id: np.ndarray
    card_brand: np.ndarray
    card_suffix: np.ndarray
    esp_status: np.ndarray  # 0 not in list, 1 subscribed, 2 unsubscribed, 3 cleaned (mutated)
    esp_optin: np.ndarray  # epoch seconds
    leid: np.ndarray
    euid: np.ndarray
    member_hash: np.ndarray  # Mailchimp subscriber hash = md5(lower(email))
    push_consent: np.ndarray
    # devices: slot = (device, person); a shared family tablet has one slot per member using it
    slot_person: np.ndarray
    slot_device: np.ndarray  # index into device_value
    slot_platform: np.ndarray  # "WEB"/"ANDROID"/"IOS"
    device_value: np.ndarray  # ga client id or app instance id
    device_first_seen: np.ndarray  # epoch seconds of first touch
    web_slots: np.ndarray  # (n, 3) slot ids, -1 padded
    app_slots: np.ndarray  # (n, 2) slot ids, -1 padded

    @property
    def phone_e164(self) -> np.ndarray:
        return np.where(self.country == "DK", cat("+45", self.phone_national), cat("+46", self.phone_national))


def _pick(rng: np.random.Generator, country: np.ndarray, table: dict) -> np.ndarray:
    out = np.empty(country.shape, dtype=f"U{max(len(o) for opts in table.values() for o in opts)}")
    for c, options in table.items():
        m = country == c
        out[m] = np.asarray(options)[rng.integers(0, len(options), m.sum())]
    return out


def build_population(rng: np.random.Generator, n: int, start: dt.date) -> Population:
    t0 = int(dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC).timestamp())
    sizes = rng.choice([1, 2, 3, 4], size=n, p=[0.35, 0.35, 0.18, 0.12])
    household = np.repeat(np.arange(n), sizes)[:n]
    hh_country = np.where(rng.random(n) < cat_.COUNTRY_WEIGHTS[0], "DK", "SE")
    country = hh_country[household]

    first = _pick(rng, country, cat_.FIRST_NAMES)
    hh_last = _pick(rng, hh_country, cat_.LAST_NAMES)
    last = np.where(rng.random(n) < 0.85, hh_last[household], _pick(rng, country, cat_.LAST_NAMES))

    # e-mail from the ascii-folded name, made unique with a number where two people collide
    ascii_map = {s: cat_.ascii_name(s) for c in cat_.COUNTRIES for s in cat_.FIRST_NAMES[c] + cat_.LAST_NAMES[c]}
    fa = np.vectorize(ascii_map.__getitem__, otypes=[str])(first)
    la = np.vectorize(ascii_map.__getitem__, otypes=[str])(last)
    num = np.where(rng.random(n) < 0.6, rng.integers(1, 99, n).astype(str), "")
    domain = np.asarray(cat_.EMAIL_DOMAINS)[rng.integers(0, len(cat_.EMAIL_DOMAINS), n)]
    email = cat(fa, ".", la, num, "@", domain)
    _, first_idx, inverse = np.unique(email, return_index=True, return_inverse=True)
    dup = first_idx[inverse] != np.arange(n)
    email = np.where(dup, cat(fa, ".", la, ".", np.arange(n).astype(str), "@", domain), email)
    has_email = rng.random(n) < 0.88

    # national numbers: DK mobile 20-31xxxxxx, SE mobile 70/72/73/76xxxxxxx (without trunk 0)
    dk = 20_000_000 + unique_ints(rng, n, 12_000_000)
    se_raw = unique_ints(rng, n, 40_000_000)
    se = (np.array([70, 72, 73, 76])[se_raw // 10_000_000] * 10_000_000 + se_raw % 10_000_000).astype(np.int64)
    phone_national = np.where(country == "DK", dk.astype(str), se.astype(str))
    has_phone = rng.random(n) < 0.8

    city_idx = rng.integers(0, 5, n)
    every = [x for cities in cat_.CITIES.values() for x in cities]
    city, postcode, region = (np.empty(n, dtype=f"U{max(len(v) for x in every for v in (x[0], *x[1], x[2]))}")
                              for _ in range(3))  # fmt: skip
    for c, cities in cat_.CITIES.items():
        m = country == c
        ci = city_idx[m] % len(cities)
        city[m] = np.array([x[0] for x in cities])[ci]
        region[m] = np.array([x[2] for x in cities])[ci]
        codes = np.array([[x[1][j % len(x[1])] for j in range(4)] for x in cities])  # (city, draw 0-3) -> code
        postcode[m] = codes[ci, rng.integers(0, 4, m.sum())]
    birth = np.datetime64("1950-01-01") + rng.integers(0, 365 * 55, n).astype("timedelta64[D]")

    member = rng.random(n) < 0.35
    joined = np.where(member, t0 - rng.integers(86400, 86400 * 900, n), 0)
    esp_status = np.where(has_email & (rng.random(n) < 0.55), 1, 0)
    esp_status[(esp_status == 1) & (rng.random(n) < 0.08)] = 2

    leid = 100_000_000 + unique_ints(rng, n, 900_000_000)
    con = duckdb.connect()
    try:  # Arrow in and out (no pandas round trip)
        con.register("emails", pa.table({"e": pa.array(email, pa.string())}))
        member_hash = con.sql("SELECT md5(e) AS h FROM emails").to_arrow_table().column("h").to_numpy()
        member_hash = np.asarray(member_hash, dtype=str)
    finally:
        con.close()

    pop = Population(
        n=n, country=country, household=household, first_name=first, last_name=last,
        email=email, has_email=has_email, phone_national=phone_national, has_phone=has_phone,
        city=city, postcode=postcode, region=region,
        birth_date=birth.astype(str), propensity=rng.lognormal(0.0, 0.8, n),
        site_user_id=(1_000_000 + unique_ints(rng, n, 9_000_000)).astype(str),
        has_account=np.zeros(n, dtype=bool),  # set below, once devices are known
        customer_id=(7_000_000_000_000 + unique_ints(rng, n, 999_999_999_999)).astype(str),
        account_phone=has_phone & (rng.random(n) < 0.5),
        loyalty_id=cat("70", digits(unique_ints(rng, n, 100_000_000), 8)),
        is_member=member, member_joined=joined,
        pos_customer_id=random_chars(rng, n, 26, np.frombuffer(b"0123456789ABCDEFGHJKMNPQRSTVWXYZ", np.uint8)),
        # a till customer profile: club members, and buyers who gave an e-mail address or a phone number
        # for a digital receipt (Square creates the profile from it and recognises the card next time)
        has_pos=member | ((has_email | has_phone) & (rng.random(n) < 0.3)),
        requester_id=(10_000_000_000_000 + unique_ints(rng, n, 89_999_999_999_999)).astype(str),
        card_brand=np.asarray(cat_.CARD_BRANDS)[rng.choice(len(cat_.CARD_BRANDS), n, p=cat_.CARD_BRAND_WEIGHTS)],
        card_suffix=digits(rng.integers(0, 10_000, n), 4),
        esp_status=esp_status, esp_optin=np.where(esp_status > 0, t0 - rng.integers(86400, 86400 * 1500, n), 0),
        leid=leid.astype(str), euid=random_chars(rng, n, 10, HEX), member_hash=member_hash,
        push_consent=rng.random(n) < 0.6,
        **_devices(rng, n, household, t0, has_email),
    )  # fmt: skip
    # a login-heavy shop: club members log in with their webshop account, the app requires an account,
    # and most other e-mail holders have one too (an account needs an e-mail address)
    uses_app = (pop.app_slots >= 0).any(axis=1)
    pop.has_account = has_email & (member | uses_app | (rng.random(n) < 0.85))
    return pop


def _devices(rng: np.random.Generator, n: int, household: np.ndarray, t0: int, has_email: np.ndarray) -> dict:
    """Web cookies (1-3 per person), a phone app for some, a family tablet shared by two members."""
    n_web = rng.choice([1, 2, 3], size=n, p=[0.55, 0.3, 0.15])
    has_app = (rng.random(n) < 0.45) & has_email  # the app requires an account, an account an e-mail
    app_os = np.where(rng.random(n) < 0.55, "ANDROID", "IOS")
    # shared tablet: the first two members of 15% of multi-person households
    hh_start = np.r_[True, household[1:] != household[:-1]]
    second = np.r_[False, (household[1:] == household[:-1]) & hh_start[:-1]]
    tablet_hh = rng.random(n) < 0.15
    # tablet_owner is the second member (the first is tablet_owner - 1); both log in to the shop app on
    # it, so both have an e-mail (an account needs one)
    tablet_owner = np.flatnonzero(second & tablet_hh[household] & has_email & np.r_[False, has_email[:-1]])

    web_person = np.repeat(np.arange(n), n_web)
    app_person = np.flatnonzero(has_app)
    n_dev_web, n_dev_app, n_tab = len(web_person), len(app_person), len(tablet_owner)
    ga_ids = cat(rng.integers(100_000_000, 2_147_483_647, n_dev_web).astype(str), ".",
                 (t0 - rng.integers(3600, 86400 * 700, n_dev_web)).astype(str))  # fmt: skip
    app_ids = random_chars(rng, n_dev_app + n_tab, 32, HEX)
    device_value = np.concatenate([ga_ids, app_ids])
    first_seen = np.concatenate([
        np.char.partition(ga_ids, ".")[:, 2].astype(np.int64),
        np.where(rng.random(n_dev_app + n_tab) < 0.7, t0 - rng.integers(3600, 86400 * 400, n_dev_app + n_tab), 0),
    ])  # fmt: skip  # 0 = app not opened yet: its first session sends first_open

    tablet_dev = n_dev_web + n_dev_app + np.arange(n_tab)
    slot_person = np.concatenate([web_person, app_person, tablet_owner - 1, tablet_owner])
    slot_device = np.concatenate([np.arange(n_dev_web), n_dev_web + np.arange(n_dev_app), tablet_dev, tablet_dev])
    slot_platform = np.concatenate([
        np.full(n_dev_web, "WEB"), app_os[app_person], np.full(2 * n_tab, "ANDROID")
    ]).astype("U7")  # fmt: skip

    web_slots = np.full((n, 3), -1, dtype=np.int64)
    rank = np.arange(n_dev_web) - np.repeat(np.cumsum(n_web) - n_web, n_web)
    web_slots[web_person, rank] = np.arange(n_dev_web)
    app_slots = np.full((n, 2), -1, dtype=np.int64)
    app_slots[app_person, 0] = n_dev_web + np.arange(n_dev_app)
    tab_slots = n_dev_web + n_dev_app + np.arange(2 * n_tab)
    tab_people = np.concatenate([tablet_owner - 1, tablet_owner])
    col = np.where(app_slots[tab_people, 0] < 0, 0, 1)
    app_slots[tab_people, col] = tab_slots
    return dict(
        slot_person=slot_person, slot_device=slot_device, slot_platform=slot_platform,
        device_value=device_value, device_first_seen=first_seen, web_slots=web_slots, app_slots=app_slots,
    )  # fmt: skip


def person_frame(pop: Population) -> pa.Table:
    """Handy for debugging and tests: one row per person with the canonical values."""
    return pa.table({"email": pop.email, "phone": pop.phone_e164, "country": pop.country})
