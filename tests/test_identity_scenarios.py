"""Identity graph scenarios, end to end through the real dbt chain (lake -> staging -> identity marts).

All scenarios share one lake (their identifier values never overlap) and three dbt builds:
run 1 the base graph, run 2 removes one link and adds late data, run 3 links things back.
"""

from __future__ import annotations

from datetime import date

import pytest

from orchestration.config import get_paths
from orchestration.identity.scenario import build_identity, link, prepare, query, run_dbt, write_rows

pytestmark = pytest.mark.integration

LINKS = "canonical_identifier_links"
EVENTS = "canonical_events"
SQUARE = "square_items"
DAY1, DAY2, DAY3 = date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)
PATH_LENGTH = 1000
JUNK_FANOUT = 2000


def _path_node(i: int) -> dict[str, str]:
    # alternate types so one record holds two different identifier columns
    return {"email": f"path{i}@x.dk"} if i % 2 == 0 else {"loyalty_id": f"path-l{i}"}


def _base_links() -> list[dict]:
    rows = [
        link(email="simple@x.dk", customer_id="simple-c"),
        # chain: e-mail - phone - loyalty - site user
        link(email="chain@x.dk", phone="+4521000001"),
        link(phone="+4521000001", loyalty_id="chain-l"),
        link(loyalty_id="chain-l", site_user_id="chain-u"),
        # fan-in: three devices of one signed-in user
        *[link(ga_client_id=f"fanin-g{i}", site_user_id="fanin-u") for i in range(3)],
        # fan-out: one e-mail seen with four other ids on separate records
        link(email="fanout@x.dk", customer_id="fanout-c"),
        link(email="fanout@x.dk", phone="+4521000002"),
        link(email="fanout@x.dk", loyalty_id="fanout-l"),
        link(email="fanout@x.dk", esp_member_id="fanout-e"),
        # diamond: a-b, a-c, b-d, c-d
        link(email="diamond@x.dk", customer_id="diamond-c"),
        link(email="diamond@x.dk", phone="+4521000003"),
        link(customer_id="diamond-c", loyalty_id="diamond-l"),
        link(phone="+4521000003", loyalty_id="diamond-l"),
        # shared family tablet: one device, two signed-in users
        link(ga_client_id="tablet", site_user_id="mom-u"),
        link(ga_client_id="tablet", site_user_id="kid-u"),
        link(site_user_id="mom-u", email="mom@x.dk"),
        link(site_user_id="kid-u", email="kid@x.dk"),
        # two customer ids behind one e-mail: capped, the two customers stay apart
        link(email="two@x.dk", customer_id="two-c1"),
        link(email="two@x.dk", customer_id="two-c2"),
        # blocked values (seed): exact and pattern
        link(email="test@test.com", customer_id="blocked-c1"),
        link(email="test@test.com", customer_id="blocked-c2"),
        link(email="someone@example.com", loyalty_id="blocked-l1"),
        link(email="someone@example.com", loyalty_id="blocked-l2"),
        # self-loop: a record with one identifier only
        link(email="solo@x.dk"),
        # duplicate edge: the same pair on two records
        link(occurred_at="2026-01-01T09:00:00Z", email="dup@x.dk", customer_id="dup-c"),
        link(occurred_at="2026-01-01T11:00:00Z", email="dup@x.dk", customer_id="dup-c"),
        # person A of the late merge (B arrives in run 2, the linking edge in run 3)
        link(occurred_at="2025-06-01T00:00:00Z", email="late-a@x.dk", customer_id="late-c1"),
        # split then re-merge: rs-a@x.dk - rs-c ... rs-l - phone, joined by the split file below
        link(email="rs-a@x.dk", customer_id="rs-c"),
        link(loyalty_id="rs-l", phone="+4521000004"),
        # split by a cap: one person until run 2 shows the e-mail with a second customer id
        link(email="cap@x.dk", customer_id="cap-c1"),
        link(email="cap@x.dk", phone="+4521000005"),
    ]
    # a path of PATH_LENGTH identifiers
    rows += [link(**_path_node(i), **_path_node(i + 1)) for i in range(PATH_LENGTH - 1)]
    # a junk e-mail (not on the blocked list) typed into thousands of loyalty sign-ups
    rows += [link(email="noemail@shop.dk", loyalty_id=f"junk-l{i}") for i in range(JUNK_FANOUT)]
    return rows


def _event(event_id: str, activity: str = "page_view", channel: str = "web", **ids: str) -> dict:
    return {"event_id": event_id, "occurred_at": "2026-01-01T12:00:00Z", "activity": activity,
            "channel": channel, **ids}  # fmt: skip


def _till(transaction_id: str, customer_id: str | None, pan_suffix: str = "1234") -> dict:
    return {"date": "2026-01-01", "time": "10:00:00", "time_zone": "Copenhagen", "category": "Shoes",
            "item": "Runner", "qty": "1", "sku": "SKU1", "gross_sales": "kr100.00", "net_sales": "kr100.00",
            "transaction_id": transaction_id, "payment_id": f"{transaction_id}-p", "event_type": "Payment",
            "location": "Store A", "customer_id": customer_id or "", "card_brand": "Visa",
            "pan_suffix": pan_suffix}  # fmt: skip


def _persons(paths) -> dict[str, str]:
    return dict(query(paths, "select identifier_value, person_id from identity.person_identifiers"))


def _activity_persons(paths) -> dict[str, tuple[str, bool]]:
    rows = query(paths, "select record_id, person_id, is_known_person from journeys.activities")
    return {r[0]: (r[1], r[2]) for r in rows}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, monkeypatch_module):
    data = tmp_path_factory.mktemp("identity")
    monkeypatch_module.setenv("OMNI_DATA_DIR", str(data))
    for var in ("OMNI_LANDING_DIR", "OMNI_LAKE_DIR", "OMNI_WAREHOUSE_PATH", "OMNI_SERVING_PATH"):
        monkeypatch_module.delenv(var, raising=False)
    paths = get_paths()
    prepare(paths)
    snapshots = {}

    # run 1
    write_rows(paths, LINKS, _base_links(), DAY1, "base.csv")
    split_file = write_rows(paths, LINKS, [link(email="rs-a@x.dk", loyalty_id="rs-l")], DAY1, "rs-link.csv")
    write_rows(paths, EVENTS, [
        _event("ev-tablet", anonymous_id="tablet"),
        _event("ev-tablet-mom", "login", anonymous_id="tablet", user_id="mom-u"),
        _event("ev-anon", anonymous_id="anon-g"),
        _event("ev-junk", "login", email="test@test.com"),
        _event("ev-fanin", anonymous_id="fanin-g2"),
    ], DAY1, "events.csv")  # fmt: skip
    # card fingerprints link like devices: one card used by two till customers is capped; a card only
    # one customer uses links that customer's anonymous receipt (sq-t4, no customer id) to them
    write_rows(paths, SQUARE, [
        _till("sq-t1", "sq-c1"), _till("sq-t2", "sq-c2"),
        _till("sq-t3", "sq-c3", "5678"), _till("sq-t4", None, "5678"),
    ], DAY1, "items.csv")  # fmt: skip
    build_identity(paths)
    snapshots[1] = {"persons": _persons(paths), "activities": _activity_persons(paths)}

    # run 2: the link holding rs-* together is withdrawn; person B and the anonymous device's owner arrive
    split_file.unlink()
    write_rows(paths, LINKS, [
        link(occurred_at="2025-01-01T00:00:00Z", email="late-b@x.dk", loyalty_id="late-l1"),
        link(ga_client_id="anon-g", email="anon@x.dk"),
        link(email="cap@x.dk", customer_id="cap-c2"),
    ], DAY2, "day2.csv")  # fmt: skip
    build_identity(paths)
    snapshots[2] = {"persons": _persons(paths), "activities": _activity_persons(paths)}

    # run 3: a late edge merges A and B; the rs-* link comes back
    write_rows(paths, LINKS, [
        link(email="late-a@x.dk", loyalty_id="late-l1"),
        link(email="rs-a@x.dk", loyalty_id="rs-l"),
    ], DAY3, "day3.csv")  # fmt: skip
    build_identity(paths)
    snapshots[3] = {"persons": _persons(paths), "activities": _activity_persons(paths)}
    return paths, snapshots


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def identifier_hash(paths, identifier_type: str, value: str) -> str:
    rows = query(
        paths,
        f"""
        select identifier_hash from identity.person_identifiers
        where identifier_type = '{identifier_type}' and identifier_value = '{value}'""",
    )
    assert len(rows) == 1, (identifier_type, value, rows)
    return rows[0][0]


def same_person(persons: dict[str, str], *values: str) -> bool:
    return len({persons[v] for v in values}) == 1


def distinct_persons(persons: dict[str, str], *values: str) -> bool:
    return len({persons[v] for v in values}) == len(values)


def test_simple_chain_fan_in_fan_out_diamond(runs):
    _, snaps = runs
    p = snaps[1]["persons"]
    assert same_person(p, "simple@x.dk", "simple-c")
    assert same_person(p, "chain@x.dk", "+4521000001", "chain-l", "chain-u")
    assert same_person(p, "fanin-u", "fanin-g0", "fanin-g1", "fanin-g2")
    assert same_person(p, "fanout@x.dk", "fanout-c", "+4521000002", "fanout-l", "fanout-e")
    assert same_person(p, "diamond@x.dk", "diamond-c", "+4521000003", "diamond-l")
    # and none of those scenarios leaked into another
    assert distinct_persons(p, "simple@x.dk", "chain@x.dk", "fanin-u", "fanout@x.dk", "diamond@x.dk")
    assert all(v.startswith("p_") and len(v) == 22 for v in p.values())


def test_path_of_1000_is_one_person_in_few_rounds(runs):
    paths, snaps = runs
    p = snaps[1]["persons"]
    assert len({p[next(iter(_path_node(i).values()))] for i in range(PATH_LENGTH)}) == 1
    rounds = query(paths, "select convergence_rounds from identity.identity_quality order by run_started_at")
    assert all(0 < r[0] <= 20 for r in rounds), rounds  # log-many, not ~1000


def test_shared_tablet_is_capped_and_not_an_edge(runs):
    paths, snaps = runs
    p, acts = snaps[1]["persons"], snaps[1]["activities"]
    assert distinct_persons(p, "mom@x.dk", "kid@x.dk", "tablet")
    assert same_person(p, "mom@x.dk", "mom-u") and same_person(p, "kid@x.dk", "kid-u")
    audit = query(paths, "select guardrail from intermediate.int_identity_guardrail_audit "
                         "where node_key = 'ga_client_id:tablet'")  # fmt: skip
    assert audit == [("shared_device",)]
    # the tablet's anonymous browsing stays with the tablet, a signed-in event goes to mom
    assert acts["ev-tablet"] == (p["tablet"], False)
    assert acts["ev-tablet-mom"] == (p["mom@x.dk"], True)


def test_junk_email_shared_by_thousands_is_capped(runs):
    paths, snaps = runs
    p = snaps[1]["persons"]
    assert len({p[f"junk-l{i}"] for i in range(JUNK_FANOUT)}) == JUNK_FANOUT
    reasons = {r[0] for r in query(paths, "select guardrail from intermediate.int_identity_guardrail_audit "
                                          "where identifier_value = 'noemail@shop.dk'")}  # fmt: skip
    assert {"strong_id_cap", "linked_identifiers_cap"} <= reasons
    largest = query(paths, "select max(largest_component_identifiers) from identity.identity_quality")[0][0]
    assert largest == PATH_LENGTH


def test_two_customer_ids_and_blocked_values_stay_apart(runs):
    paths, snaps = runs
    p = snaps[1]["persons"]
    assert distinct_persons(p, "two-c1", "two-c2")
    assert distinct_persons(p, "blocked-c1", "blocked-c2")
    assert distinct_persons(p, "blocked-l1", "blocked-l2")
    blocked = dict(query(paths, "select identifier_value, is_blocked from identity.person_identifiers "
                                "where identifier_type = 'email'"))  # fmt: skip
    assert blocked["test@test.com"] and blocked["someone@example.com"] and not blocked["two@x.dk"]
    audit = dict(query(paths, "select identifier_value, guardrail from intermediate.int_identity_guardrail_audit"))
    assert audit["two@x.dk"] == "per_person_cap"
    assert audit["someone@example.com"] == "blocked"
    # a blocked e-mail never attributes activity to anyone
    assert snaps[1]["activities"]["ev-junk"][1] is False
    q = query(paths, "select blocked_values, capped_values from identity.identity_quality order by run_started_at")
    assert q[0][0] >= 2 and q[0][1] >= 3


def test_self_loop_and_duplicate_edges(runs):
    paths, snaps = runs
    p = snaps[1]["persons"]
    assert "solo@x.dk" in p and list(p.values()).count(p["solo@x.dk"]) == 1
    dup = query(
        paths,
        """
        select e.record_count, e.first_seen_at, e.last_seen_at
        from identity.identity_edges e
        join identity.person_identifiers a on e.identifier_a_hash = a.identifier_hash
        where a.identifier_value = 'dup-c'""",
    )
    assert len(dup) == 1 and dup[0][0] == 2 and dup[0][1] < dup[0][2]


def test_stable_ids_over_runs(runs):
    _, snaps = runs
    for value in ["simple@x.dk", "chain-u", "fanout-e", "diamond-l", "path0@x.dk", "mom@x.dk", "junk-l7"]:
        assert snaps[1]["persons"][value] == snaps[2]["persons"][value] == snaps[3]["persons"][value], value


def test_late_edge_merges_and_oldest_id_survives(runs):
    paths, snaps = runs
    a_id = snaps[1]["persons"]["late-a@x.dk"]
    b_id = snaps[2]["persons"]["late-b@x.dk"]
    assert a_id != b_id
    p3 = snaps[3]["persons"]
    # B was seen earlier but A's id is older: A survives
    assert p3["late-b@x.dk"] == p3["late-l1"] == p3["late-a@x.dk"] == a_id
    merges = query(
        paths,
        f"""
        select event_type, edge_id from identity.identity_merges
        where old_person_id = '{b_id}' and new_person_id = '{a_id}'""",
    )
    assert len(merges) == 1 and merges[0][0] == "merge" and merges[0][1] is not None


def test_split_then_re_merge(runs):
    paths, snaps = runs
    x = snaps[1]["persons"]["rs-a@x.dk"]
    assert same_person(snaps[1]["persons"], "rs-a@x.dk", "rs-c", "rs-l", "+4521000004")
    p2 = snaps[2]["persons"]
    assert p2["rs-a@x.dk"] == p2["rs-c"] == x  # tie on overlap -> smaller component key keeps the id
    y = p2["rs-l"]
    assert y != x and p2["+4521000004"] == y
    p3 = snaps[3]["persons"]
    assert p3["rs-l"] == p3["rs-a@x.dk"] == x
    events = query(
        paths,
        f"""
        select event_type, old_person_id, new_person_id from identity.identity_merges
        where '{x}' in (old_person_id, new_person_id) order by recorded_at""",
    )
    assert events == [("split", x, y), ("merge", y, x)]
    # the split names the edge whose record was withdrawn; the re-merge the edge that came back
    causes = query(
        paths,
        f"""
        select event_type, edge_identifier_a_hash, edge_identifier_b_hash, cause
        from identity.identity_merges
        where '{x}' in (old_person_id, new_person_id) order by recorded_at""",
    )
    rs_link = (identifier_hash(paths, "email", "rs-a@x.dk"), identifier_hash(paths, "loyalty_id", "rs-l"))
    assert [(c[0], {c[1], c[2]} == set(rs_link), c[3]) for c in causes] == [
        ("split", True, "trusted edge no longer observed"),
        ("merge", True, "new trusted edge"),
    ]


def test_split_by_a_new_cap_names_the_excluded_edge(runs):
    paths, snaps = runs
    p1, p2 = snaps[1]["persons"], snaps[2]["persons"]
    assert same_person(p1, "cap@x.dk", "cap-c1", "+4521000005")
    old = p1["cap@x.dk"]
    # the e-mail now links two customer ids: capped, so its two edges are no longer trusted
    assert len({p2["cap@x.dk"], p2["cap-c1"], p2["+4521000005"]}) == 3
    splits = query(
        paths,
        f"""
        select new_person_id, edge_identifier_a_hash, edge_identifier_b_hash, cause
        from identity.identity_merges
        where old_person_id = '{old}' and event_type = 'split'""",
    )
    # the old id stays with one part (ties on overlap: smallest component key); the others are splits
    assert old in p2.values()
    assert {s[0] for s in splits} == {p2[v] for v in ("cap@x.dk", "cap-c1", "+4521000005")} - {old}
    email = identifier_hash(paths, "email", "cap@x.dk")
    for _, a_hash, b_hash, cause in splits:
        assert email in (a_hash, b_hash)
        assert cause.startswith("trusted edge now excluded: "), cause


def test_anonymous_device_joins_its_person_when_linked(runs):
    _, snaps = runs
    before = snaps[1]["activities"]["ev-anon"]
    after = snaps[2]["activities"]["ev-anon"]
    assert before[1] is False and after[1] is True
    assert after[0] == snaps[2]["persons"]["anon@x.dk"]
    assert before[0] == after[0]  # the device's person id survives gaining an e-mail
    assert snaps[1]["activities"]["ev-fanin"] == (snaps[1]["persons"]["fanin-u"], True)


def test_quality_row_per_run(runs):
    paths, _ = runs
    rows = query(
        paths,
        """
        select persons, identifiers, edges, trusted_edges, convergence_rounds, merges, splits,
               share_activities_known_person, share_persons_multichannel
        from identity.identity_quality order by run_started_at""",
    )
    assert len(rows) == 3
    # run 2: the rs-* split and the cap@x.dk person split in three; run 3: the two merges
    assert [r[5] for r in rows] == [0, 0, 2] and [r[6] for r in rows] == [0, 3, 0]
    assert all(r[1] > r[0] > 0 and r[2] > r[3] > 0 for r in rows)
    assert 0 < rows[0][7] < 1


def test_not_converging_fails_and_publishes_nothing(runs):
    paths, _ = runs
    before = query(paths, "select count(*), max(convergence_rounds) from intermediate.int_identity_components")
    proc = run_dbt(paths, "run", "--select", "int_identity_components", check=False,
                   variables="{identity_max_rounds: 2}")  # fmt: skip
    assert proc.returncode != 0
    assert "did not converge within 2 rounds" in proc.stdout
    after = query(paths, "select count(*), max(convergence_rounds) from intermediate.int_identity_components")
    assert after == before
    leftovers = query(paths, "select table_name from information_schema.tables where table_name like '%__cc_%'")
    assert leftovers == []


def test_card_fingerprint_links_one_customer_and_is_capped_when_shared(runs):
    paths, snaps = runs
    p = snaps[1]["persons"]
    # the card seen with two till customers is a shared device: capped, the customers stay apart
    assert distinct_persons(p, "sq-c1", "sq-c2")
    audit = query(paths, "select identifier_value, guardrail from intermediate.int_identity_guardrail_audit "
                         "where identifier_type = 'card_fingerprint'")  # fmt: skip
    assert audit == [("visa:1234:store a", "shared_device")]
    acts = query(
        paths,
        """
        select a.person_id, a.is_known_person from journeys.activities a
        where a.source = 'square_items' and a.record_id = 'sq-t1'""",
    )
    assert acts == [(p["sq-c1"], True)]
    # the card of one customer joins that customer's person, and so does its receipt without a customer id
    assert same_person(p, "sq-c3", "visa:5678:store a")
    assert distinct_persons(p, "sq-c3", "sq-c1", "sq-c2")
    assert snaps[1]["activities"]["sq-t4"] == (p["sq-c3"], True)
