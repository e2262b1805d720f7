"""A daily (windowed) run splits a person whose linking edge vanished from a rewritten record.

A GA4-style correction: the event that logged device `split-g` in as `split-u1` is re-delivered without
the login (no user id), with another user id, with both identifiers replaced, or with no identifier at
all; likewise an order (a record with a natural key: an identifier-links row cannot be rewritten, its
id is its content) that joined a customer id to a loyalty id. The pair becomes a tombstone in
int_identity_edge_pairs; the daily run must recompute the component that edge held together, so the
two ends end up apart, exactly as a full refresh of the final files decides, and identity_merges
records the split with the edge that was lost. Without a new identifier or a new edge in the corrected
record nothing else marks that component as touched, and a record left with no identifier leaves not
even an observation row to say it was re-read. The record may also vanish outright: a day's export
re-delivered under the same day and name (a replacement) without the login that joined a device and a
user, the canonical order that joined a customer id to a loyalty id, the CRM customer row that joined
a customer id to an e-mail, or one version of a CRM customer (its record lives on in its other
version, without the e-mail); staging logs it as removed and the daily run must split that person too.

Every scenario involves its own persons, so all of them are landed side by side in one pair of
warehouses (a daily one and a full refresh of the final files) and built once; each test reads its part.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

import pytest

from orchestration.config import paths_under
from orchestration.identity.scenario import build_identity, link, prepare, query, write_rows

pytestmark = pytest.mark.integration

LINKS = "canonical_identifier_links"
EVENTS = "canonical_events"
ORDERS = "canonical_orders"
CUSTOMERS = "canonical_customers"
DAY1, DAY2 = date(2026, 1, 1), date(2026, 1, 2)
WINDOW = '{"min_date": "2026-01-02", "max_date": "2026-01-02"}'
# every record happened long before the window (and its lookback), so a daily run re-reads only the
# corrected ones: nothing else brings the old pair's identifiers back into the run
AT = "2025-06-01T12:00:00Z"
SPLIT_CAUSE = "trusted edge no longer observed"


def _login(event_id: str) -> Callable[[str | None, str | None], dict]:
    def row(device: str | None, user_id: str | None) -> dict:
        return {"event_id": event_id, "occurred_at": AT, "activity": "login",
                "channel": "web", "anonymous_id": device, "user_id": user_id}  # fmt: skip

    return row


def _order(order_id: str) -> Callable[[str | None, str | None], dict]:
    def row(customer_id: str | None, loyalty_id: str | None) -> dict:
        return {"order_id": order_id, "ordered_at": AT, "channel": "store",
                "total": "10", "customer_id": customer_id, "loyalty_id": loyalty_id}  # fmt: skip

    return row


@dataclass(frozen=True)
class Rewrite:
    """One record linking two identifiers on day 1, re-delivered on day 2 with `corrected` instead."""

    table: str
    record: Callable[[str | None, str | None], dict]
    linked: tuple[str, str]
    corrected: tuple[str | None, str | None]
    lost_edge: tuple[str, str]  # its node keys, as identity_merges hashes them
    apart: tuple[frozenset[str], frozenset[str]]  # the groups a full refresh finds for the two ends


def _login_rewrite(event_id: str, device: str, user: str, corrected: tuple) -> Rewrite:
    # the device is also seen alone on a page view, the user id on a CRM link with its e-mail
    return Rewrite(EVENTS, _login(event_id), (device, user), corrected,
                   (f"ga_client_id:{device}", f"site_user_id:{user}"),
                   (frozenset({device} | ({corrected[1]} if corrected[0] == device and corrected[1] else set())),
                    frozenset({user, f"{user}@x.dk"})))  # fmt: skip


def _order_rewrite(order_id: str, customer: str, loyalty: str, corrected: tuple) -> Rewrite:
    # each end is also on a CRM link with its own e-mail, so it outlives the order's correction
    return Rewrite(ORDERS, _order(order_id), (customer, loyalty), corrected,
                   (f"customer_id:{customer}", f"loyalty_id:{loyalty}"),
                   (frozenset({customer, f"{customer}@x.dk"}), frozenset({loyalty, f"{loyalty}@x.dk"})))  # fmt: skip


CASES = {
    # one identifier of the pair removed, or replaced by another user
    "login-removed-or-other-user": [
        _login_rewrite("split-ev", "split-g", "split-u1", ("split-g", None)),
        _login_rewrite("split-ev-o", "split-go", "split-uo", ("split-go", "split-uo2")),
    ],
    # both identifiers replaced by others, or removed (the record keeps no identifier at all), for a
    # login event and for an order
    "both-replaced-or-removed": [
        _login_rewrite("split-ev-r", "split-gr", "split-ur", ("split-gr2", "split-ur2")),
        _login_rewrite("split-ev-n", "split-gn", "split-un", (None, None)),
        _order_rewrite("split-o-r", "split-cr", "split-lr", ("split-cr2", "split-lr2")),
        _order_rewrite("split-o-n", "split-cn", "split-ln", (None, None)),
    ],
}
REWRITES = [r for rewrites in CASES.values() for r in rewrites]


@dataclass(frozen=True)
class Vanish:
    """A record joining two identifiers in day 1's `name`, missing from its re-delivery (same day and name):
    `kept` is what the re-delivery still carries (a replacement with no row would leave no lake row to tell
    it), `elsewhere` (table, rows) are day 1's other files that keep each end observed."""

    table: str
    name: str
    gone: dict
    kept: list[dict]
    elsewhere: list[tuple[str, list[dict]]]
    record: tuple[str, str]  # what stg_lake__removed_records logs: (source, record_id)
    lost_edge: tuple[str, str]
    before: frozenset[str]
    apart: tuple[frozenset[str], frozenset[str]]


def _customer(customer_id: str, updated_at: str = AT, email: str | None = None) -> dict:
    return {"customer_id": customer_id, "updated_at": updated_at, "email": email}


VANISHES = {
    # the login that joined a device and a user; the device's page view stays
    "login-event": Vanish(
        EVENTS, "events.csv", _login("vanish-ev")("vanish-g", "vanish-u"),
        [{"event_id": "vanish-visit", "occurred_at": AT, "activity": "page_view", "channel": "web",
          "anonymous_id": "vanish-g"}],
        [(LINKS, [link(AT, email="vanish-u@x.dk", site_user_id="vanish-u")])],
        (EVENTS, "vanish-ev"), ("ga_client_id:vanish-g", "site_user_id:vanish-u"),
        frozenset({"vanish-g", "vanish-u", "vanish-u@x.dk"}),
        (frozenset({"vanish-g"}), frozenset({"vanish-u", "vanish-u@x.dk"})),
    ),
    # a canonical order that joined a customer id to a loyalty id; the customer's other order stays
    "canonical-order": Vanish(
        ORDERS, "orders.csv", _order("vanish-o")("vanish-c", "vanish-l"), [_order("vanish-o2")("vanish-c", None)],
        [(LINKS, [link(AT, email="vanish-l@x.dk", loyalty_id="vanish-l")])],
        (ORDERS, "vanish-o"), ("customer_id:vanish-c", "loyalty_id:vanish-l"),
        frozenset({"vanish-c", "vanish-l", "vanish-l@x.dk"}),
        (frozenset({"vanish-c"}), frozenset({"vanish-l", "vanish-l@x.dk"})),
    ),
    # a CRM customer row (its only version) that joined a customer id to an e-mail; another customer stays
    "canonical-customer": Vanish(
        CUSTOMERS, "customers.csv", _customer("vanish-k", email="vanish-ke@x.dk"), [_customer("vanish-kept")],
        [(LINKS, [link(AT, customer_id="vanish-k", loyalty_id="vanish-kl"),
                  link(AT, email="vanish-ke@x.dk", site_user_id="vanish-ku")])],
        (CUSTOMERS, "vanish-k"), ("customer_id:vanish-k", "email:vanish-ke@x.dk"),
        frozenset({"vanish-k", "vanish-kl", "vanish-ke@x.dk", "vanish-ku"}),
        (frozenset({"vanish-k", "vanish-kl"}), frozenset({"vanish-ke@x.dk", "vanish-ku"})),
    ),
    # the newer version of a CRM customer, the only one with its e-mail; the older one (another file)
    # keeps the record alive without it
    "canonical-customer-version": Vanish(
        CUSTOMERS, "customers-v.csv", _customer("vanish-v", "2025-06-02T12:00:00Z", "vanish-v@x.dk"),
        [_customer("vanish-vkept")],
        [(CUSTOMERS, [_customer("vanish-v")]), (LINKS, [link(AT, email="vanish-v@x.dk", site_user_id="vanish-vu")])],
        (CUSTOMERS, "vanish-v"), ("customer_id:vanish-v", "email:vanish-v@x.dk"),
        frozenset({"vanish-v", "vanish-v@x.dk", "vanish-vu"}),
        (frozenset({"vanish-v"}), frozenset({"vanish-v@x.dk", "vanish-vu"})),
    ),
}  # fmt: skip


def _land(paths, final: bool) -> None:
    """Day 1's files, or (`final`) what is delivered afterwards: the corrected records of day 1 on day 2
    under new names (both versions stay in the lake) and day 1's events.csv again (it replaces the first)."""
    if final:
        for table in (EVENTS, ORDERS):
            write_rows(paths, table, [r.record(*r.corrected) for r in REWRITES if r.table == table],
                       DAY2, f"{table}-corrected.csv")  # fmt: skip
        for v in VANISHES.values():
            write_rows(paths, v.table, v.kept, DAY1, v.name)
        return
    # an unrelated person, so the run is not about the scenarios' components only
    write_rows(paths, LINKS, [link(AT, email="other@x.dk", customer_id="other-c")], DAY1, "links.csv")
    crm = []
    visits = []
    for r in REWRITES:
        if r.table == EVENTS:
            crm.append(link(AT, email=f"{r.linked[1]}@x.dk", site_user_id=r.linked[1]))
            visits.append({"event_id": f"visit-{r.linked[0]}", "occurred_at": AT,
                           "activity": "page_view", "channel": "web", "anonymous_id": r.linked[0]})  # fmt: skip
        else:
            crm.append(link(AT, email=f"{r.linked[0]}@x.dk", customer_id=r.linked[0]))
            crm.append(link(AT, email=f"{r.linked[1]}@x.dk", loyalty_id=r.linked[1]))
    write_rows(paths, LINKS, crm, DAY1, "crm.csv")
    write_rows(paths, EVENTS, visits, DAY1, "visits.csv")
    for table in (EVENTS, ORDERS):
        write_rows(paths, table, [r.record(*r.linked) for r in REWRITES if r.table == table], DAY1, f"{table}.csv")
    for i, v in enumerate(VANISHES.values()):
        write_rows(paths, v.table, [*v.kept, v.gone], DAY1, v.name)
        for table, rows in v.elsewhere:
            write_rows(paths, table, rows, DAY1, f"vanish-{i}-{table}.csv")


def _groups(paths) -> set[frozenset[str]]:
    rows = query(paths, "select person_id, identifier_value from identity.person_identifiers")
    by_person: dict[str, set[str]] = {}
    for person, value in rows:
        by_person.setdefault(person, set()).add(value)
    return {frozenset(v) for v in by_person.values()}


def _touching(groups: set[frozenset[str]], values: Iterable[str | None]) -> set[frozenset[str]]:
    """The groups holding any of `values`: one scenario's persons."""
    wanted = {v for v in values if v}
    return {g for g in groups if g & wanted}


def _warehouse(folder):
    """Paths below `folder` (whatever path variables the caller's environment sets), prepared."""
    paths = paths_under(folder)
    prepare(paths)
    return paths


def _split(edge: tuple[str, str]) -> tuple[str, str]:
    """The identity_merges row (edge_id, cause) of a split caused by losing `edge`."""
    return hashlib.sha256(f"{edge[0]}|{edge[1]}".encode()).hexdigest(), SPLIT_CAUSE


@dataclass(frozen=True)
class Builds:
    before: set[frozenset[str]]  # the daily warehouse's groups after day 1
    daily: set[frozenset[str]]  # ... after the windowed run of day 2
    full: set[frozenset[str]]  # a full refresh of the final files
    splits: list[tuple[str, str]]  # the daily run's identity_merges splits: (edge_id, cause)
    logged: list[tuple[str, str]]  # the daily run's stg_lake__removed_records: (source, record_id)


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> Builds:
    root = tmp_path_factory.mktemp("identity_split")
    daily = _warehouse(root / "daily")
    _land(daily, final=False)
    build_identity(daily)
    before = _groups(daily)
    _land(daily, final=True)
    build_identity(daily, variables=WINDOW)

    full = _warehouse(root / "full")
    _land(full, final=False)
    _land(full, final=True)
    build_identity(full)
    return Builds(
        before=before,
        daily=_groups(daily),
        full=_groups(full),
        splits=query(daily, "select edge_id, cause from identity.identity_merges where event_type = 'split'"),
        logged=query(daily, "select source, record_id from staging.stg_lake__removed_records"),
    )


@pytest.mark.parametrize("name", list(CASES))
def test_daily_run_splits_a_person_whose_edge_vanished(builds, name):
    for r in CASES[name]:
        assert any(set(r.linked) <= group for group in builds.before), r
        assert set(r.apart) <= builds.full, r
        values = (*r.linked, *r.corrected)
        assert _touching(builds.daily, values) == _touching(builds.full, values), r
        # the corrected record (same record id) supersedes day 1's: one split, caused by the very edge it lost
        assert builds.splits.count(_split(r.lost_edge)) == 1, (r, builds.splits)


@pytest.mark.parametrize("name", list(VANISHES))
def test_daily_run_splits_a_person_whose_record_vanished(builds, name):
    # Staging logs the vanished record (stg_lake__removed_records) and int_identifier_observations must
    # drop its identifiers, so the person splits as in a full refresh.
    v = VANISHES[name]
    assert v.before in builds.before
    assert v.record in builds.logged
    assert set(v.apart) <= builds.full
    assert _touching(builds.daily, v.before) == _touching(builds.full, v.before)
    assert builds.splits.count(_split(v.lost_edge)) == 1, builds.splits


def test_daily_run_agrees_with_a_full_refresh_and_splits_nothing_else(builds):
    assert builds.daily == builds.full
    # one split per lost edge and no other
    expected = [_split(r.lost_edge) for r in REWRITES] + [_split(v.lost_edge) for v in VANISHES.values()]
    assert sorted(builds.splits) == sorted(expected), builds.splits
    # only the replaced files' records vanished; a record corrected under another file name is superseded
    # (both versions stay in the lake), not removed
    assert sorted(builds.logged) == sorted(v.record for v in VANISHES.values())
