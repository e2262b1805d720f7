"""Shared state of one simulation run: population, clock, counters, and cross-channel memory."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from orchestration.demo import catalog
from orchestration.demo.incidents import Incident
from orchestration.demo.population import Population
from orchestration.demo.sink import Sink
from orchestration.demo.timeutil import local_midnight_utc
from orchestration.demo.truth import Truth

# local hour weights: quiet nights, lunch and evening peaks
HOUR_WEIGHTS = np.array([1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2, 3, 3.5, 4, 4.5, 5, 4.5, 4, 4, 4.5, 5, 6, 7, 7.5, 6.5,
                         4.5, 2.5])  # fmt: skip
HOUR_WEIGHTS = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()


@dataclass
class Extra:
    """Sessions caused by another channel (an e-mail click, a push open): start a visit at a given time."""

    person: np.ndarray
    utc: np.ndarray
    platform: np.ndarray  # "WEB" / "APP"
    source: np.ndarray
    medium: np.ndarray
    campaign: np.ndarray
    # query string the tracked link appends to the landing page (Mailchimp: utm_*, mc_cid, mc_eid)
    link_query: np.ndarray | None = None


@dataclass
class Ctx:
    rng: np.random.Generator
    pop: Population
    truth: Truth
    sink: Sink
    start: dt.date
    days: int
    incident: Incident | None
    activities: int = 0
    order_seq: int = 1000
    ticket_seq: int = 40000
    response_seq: int = 91_000_000
    event_seq: int = 0
    intent: np.ndarray = field(default=None)  # interest in buying soon (web views raise it)
    last_purchase: np.ndarray = field(default=None)  # epoch seconds, 0 = never
    device_user: np.ndarray = field(default=None)  # person logged in on each device, -1 = nobody
    device_sessions: np.ndarray = field(default=None)  # ga_session_number so far
    extra: dict = field(default_factory=lambda: defaultdict(list))  # day -> [Extra]
    purchases: dict = field(default_factory=lambda: defaultdict(list))  # day -> [(persons, utc, channel)]
    new_accounts: dict = field(default_factory=lambda: defaultdict(list))  # day -> [(persons, utc)]
    pos_exported: np.ndarray = field(default=None)  # till customer already in Square's directory export
    _day_starts: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = self.pop.n
        self.intent = np.zeros(n)
        self.last_purchase = np.zeros(n, dtype=np.int64)
        self.pos_exported = np.zeros(n, dtype=bool)
        self.device_user = np.full(len(self.pop.device_value), -1, dtype=np.int64)
        self.device_sessions = self.rng.integers(0, 30, len(self.pop.device_value))
        self.device_sessions[self.pop.device_first_seen == 0] = 0
        # logins before the run: an installed app stays logged in (it requires an account), and about
        # most account holders' browsers remember them ("stay logged in")
        pop = self.pop
        holder = pop.has_account[pop.slot_person]
        installed = pop.device_first_seen[pop.slot_device] > 0
        remembered = np.where(pop.slot_platform == "WEB", self.rng.random(len(pop.slot_person)) < 0.85, installed)
        s = np.flatnonzero(holder & remembered)[::-1]  # a shared device remembers its first slot's person
        self.device_user[pop.slot_device[s]] = pop.slot_person[s]

    def date(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=day)

    def day_bounds(self, day: int) -> tuple[int, int]:
        return local_midnight_utc(self.date(day)), local_midnight_utc(self.date(day + 1))

    def day_of(self, utc: np.ndarray) -> np.ndarray:
        """Simulation day index of UTC times (local calendar; DST days are 23/25 h)."""
        if self._day_starts is None:  # computed once: a year-long run asks this many times a day
            self._day_starts = np.array([self.day_bounds(d)[0] for d in range(self.days + 1)])
        return np.searchsorted(self._day_starts, np.asarray(utc), side="right") - 1

    def times_in_day(self, day: int, k: int, hours: tuple[int, int] | None = None) -> np.ndarray:
        """k UTC epoch seconds on a local day, following the diurnal curve (or uniform within shop hours)."""
        lo, hi = self.day_bounds(day)
        if hours is None:
            h = self.rng.choice(24, size=k, p=HOUR_WEIGHTS)
            frac = (h * 3600 + self.rng.integers(0, 3600, k)) / 86400
        else:
            frac = (hours[0] * 3600 + self.rng.random(k) * (hours[1] - hours[0]) * 3600) / 86400
        return lo + (frac * (hi - lo)).astype(np.int64)

    def incident_factor(self, day: int, channel: str) -> float:
        i = self.incident
        return i.factor if i is not None and i.channel == channel and i.active(self.date(day)) else 1.0

    def next_ids(self, attr: str, k: int) -> np.ndarray:
        first = getattr(self, attr) + 1
        setattr(self, attr, first + k - 1)
        return np.arange(first, first + k, dtype=np.int64)


PRODUCT_SKU = np.array([p[0] for p in catalog.PRODUCTS])
PRODUCT_NAME = np.array([p[1] for p in catalog.PRODUCTS])
PRODUCT_CATEGORY = np.array([p[2] for p in catalog.PRODUCTS])
PRODUCT_PRICE = np.array([p[3] for p in catalog.PRODUCTS])


def draw_products(rng: np.random.Generator, k: int) -> np.ndarray:
    return rng.choice(len(PRODUCT_SKU), size=k, p=catalog.PRODUCT_WEIGHTS)


def price_in(country: np.ndarray, product: np.ndarray) -> np.ndarray:
    factor = np.where(np.asarray(country) == "SE", catalog.PRICE_FACTOR["SE"], 1.0)
    return np.round(PRODUCT_PRICE[product] * factor, 0)
