"""A daily (windowed) run splits a person whose linking edge vanished from a rewritten record.

A GA4-style correction: the event that logged device `split-g` in as `split-u1` is re-delivered without
the login (no user id), with another user id, with both identifiers replaced, or with no identifier at
all; likewise an order (a record with a natural key: an identifier-links row cannot be rewritten, its
id is its content) that joined a customer id to a loyalty id. The pair becomes a tombstone in
int_identity_edge_pairs; the daily run must recompute the component that edge held together, so the
two ends end up apart, exactly as a full refresh of the final files decides, and identity_merges
records the split with the edge that was lost. Without a new identifier or a new edge in the corrected
record nothing else marks that component as touched, and a record left with no identifier leaves not
even an observation row to say it was re-read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest

from orchestration.config import get_paths
from orchestration.identity.scenario import build_identity, link, prepare, query, write_rows

pytestmark = pytest.mark.integration

LINKS = "canonical_identifier_links"
EVENTS = "canonical_events"
ORDERS = "canonical_orders"
DAY1, DAY2 = date(2026, 1, 1), date(2026, 1, 2)
WINDOW = '{"min_date": "2026-01-02", "max_date": "2026-01-02"}'
# every record happened long before the window (and its lookback), so a daily run re-reads only the
# corrected ones: nothing else brings the old pair's identifiers back into the run
AT = "2025-06-01T12:00:00Z"


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
    # one identifier of the pair removed, or replaced by another user (one warehouse for both)
    "login-removed-or-other-user": [
        _login_rewrite("split-ev", "split-g", "split-u1", ("split-g", None)),
        _login_rewrite("split-ev-o", "split-go", "split-uo", ("split-go", "split-uo2")),
    ],
    # both identifiers replaced by others, or removed (the record keeps no identifier at all), for a
    # login event and for an order; one warehouse for the four (disjoint persons) keeps the test short
    "both-replaced-or-removed": [
        _login_rewrite("split-ev-r", "split-gr", "split-ur", ("split-gr2", "split-ur2")),
        _login_rewrite("split-ev-n", "split-gn", "split-un", (None, None)),
        _order_rewrite("split-o-r", "split-cr", "split-lr", ("split-cr2", "split-lr2")),
        _order_rewrite("split-o-n", "split-cn", "split-ln", (None, None)),
    ],
}


def _land(paths, rewrites: list[Rewrite], rewritten: bool) -> None:
    if rewritten:
        # the corrected export of day 1, landed (re-delivered) on day 2; nothing else is delivered again
        for table in (EVENTS, ORDERS):
            rows = [r.record(*r.corrected) for r in rewrites if r.table == table]
            if rows:
                write_rows(paths, table, rows, DAY2, f"{table}-corrected.csv")
        return
    # an unrelated person, so the run is not about one component only
    write_rows(paths, LINKS, [link(AT, email="other@x.dk", customer_id="other-c")], DAY1, "links.csv")
    crm, visits = [], []
    for r in rewrites:
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
        rows = [r.record(*r.linked) for r in rewrites if r.table == table]
        if rows:
            write_rows(paths, table, rows, DAY1, f"{table}.csv")


def _groups(paths) -> set[frozenset[str]]:
    rows = query(paths, "select person_id, identifier_value from identity.person_identifiers")
    by_person: dict[str, set[str]] = {}
    for person, value in rows:
        by_person.setdefault(person, set()).add(value)
    return {frozenset(v) for v in by_person.values()}


def _warehouse(monkeypatch, folder):
    """Point the process at `folder` (conftest's data_dir cleared the other path variables)."""
    monkeypatch.setenv("OMNI_DATA_DIR", str(folder))
    paths = get_paths()
    prepare(paths)
    return paths


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("name", list(CASES))
def test_daily_run_splits_a_person_whose_edge_vanished(data_dir, monkeypatch, name):
    rewrites = CASES[name]
    daily = _warehouse(monkeypatch, data_dir / "daily")
    _land(daily, rewrites, rewritten=False)
    build_identity(daily)
    before = _groups(daily)
    for r in rewrites:
        assert any(set(r.linked) <= group for group in before), r

    # day 2: each corrected record (same record id) supersedes day 1's
    _land(daily, rewrites, rewritten=True)
    build_identity(daily, variables=WINDOW)
    daily_groups = _groups(daily)

    full = _warehouse(monkeypatch, data_dir / "full")
    _land(full, rewrites, rewritten=False)
    _land(full, rewrites, rewritten=True)
    build_identity(full)
    full_groups = _groups(full)

    for r in rewrites:
        assert set(r.apart) <= full_groups, r
    assert daily_groups == full_groups

    # one split per rewritten record, caused by the very edge it lost
    splits = query(daily, "select edge_id, cause from identity.identity_merges where event_type = 'split'")
    expected = [(_sha256(f"{r.lost_edge[0]}|{r.lost_edge[1]}"), "trusted edge no longer observed") for r in rewrites]
    assert sorted(splits) == sorted(expected), splits


def test_daily_run_splits_a_person_whose_login_event_vanished(data_dir, monkeypatch):
    # The events export of day 1 is re-delivered (same day and name: it replaces the first delivery)
    # without the login that joined device and user; a page view of the device stays in it. Staging
    # logs the vanished event (stg_lake__removed_records) and int_identifier_observations must drop
    # its identifiers, so the person splits as in a full refresh.
    login = _login("vanish-ev")("vanish-g", "vanish-u")
    visit = {"event_id": "vanish-visit", "occurred_at": AT, "activity": "page_view", "channel": "web",
             "anonymous_id": "vanish-g"}  # fmt: skip

    def land(paths, redelivered: bool) -> None:
        write_rows(paths, LINKS, [link(AT, email="vanish-u@x.dk", site_user_id="vanish-u")], DAY1, "crm.csv")
        write_rows(paths, EVENTS, [visit] if redelivered else [visit, login], DAY1, "events.csv")

    daily = _warehouse(monkeypatch, data_dir / "daily")
    land(daily, redelivered=False)
    build_identity(daily)
    assert frozenset({"vanish-g", "vanish-u", "vanish-u@x.dk"}) in _groups(daily)
    land(daily, redelivered=True)
    build_identity(daily, variables=WINDOW)
    logged = query(daily, "select source, record_id from staging.stg_lake__removed_records")

    full = _warehouse(monkeypatch, data_dir / "full")
    land(full, redelivered=True)
    build_identity(full)

    assert logged == [("canonical_events", "vanish-ev")]
    assert {frozenset({"vanish-g"}), frozenset({"vanish-u", "vanish-u@x.dk"})} <= _groups(full)
    assert _groups(daily) == _groups(full)
    splits = query(daily, "select edge_id, cause from identity.identity_merges where event_type = 'split'")
    assert splits == [(_sha256("ga_client_id:vanish-g|site_user_id:vanish-u"), "trusted edge no longer observed")]
