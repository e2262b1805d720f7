"""evaluate(): pairwise metrics, shared values, unseen identifiers, over-merged and split persons."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.identity.evaluate import evaluate, main

TRUTH = """identifier_type,identifier_value,person_key
email,a@x.dk,P1
phone,+4520000001,P1
customer_id,c1,P1
email,b@x.dk,P2
customer_id,c2,P2
email,c@x.dk,P3
ga_client_id,tablet,P1
ga_client_id,tablet,P2
loyalty_id,never-seen,P3
"""

# warehouse: P1 split into two persons, P2 and P3 over-merged into one; the tablet on its own
WAREHOUSE = [
    ("w1", "email", "a@x.dk"),
    ("w1", "phone", "+4520000001"),
    ("w2", "customer_id", "c1"),
    ("w3", "email", "b@x.dk"),
    ("w3", "customer_id", "c2"),
    ("w3", "email", "c@x.dk"),
    ("w4", "ga_client_id", "tablet"),
    ("w5", "card_fingerprint", "visa:1234:cph"),
]


def _truth_and_warehouse(tmp_path, truth_csv: str, rows: list[tuple[str, str, str]]):
    """A truth file and a warehouse whose identity.person_identifiers holds rows (person, type, value)."""
    truth = tmp_path / "identifiers.csv"
    truth.write_text(truth_csv)
    db = tmp_path / "wh.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema identity")
        con.execute("create table identity.person_identifiers "
                    "(person_id varchar, identifier_type varchar, identifier_value varchar)")  # fmt: skip
        con.executemany("insert into identity.person_identifiers values (?, ?, ?)", rows)
    return truth, db


@pytest.fixture()
def files(tmp_path):
    return _truth_and_warehouse(tmp_path, TRUTH, WAREHOUSE)


def test_metrics_by_hand(files):
    r = evaluate(*files)
    # scored: P1 {a, phone, c1} (3 -> 3 pairs), P2 {b, c2} (1 pair), P3 {c, never-seen} (1 pair): 5 true pairs
    assert r["true_pairs"] == 5
    # predicted among scored: w1 {a, phone} 1, w2 {c1} 0, w3 {b, c2, c} 3, unseen alone 0: 4 pairs
    assert r["predicted_pairs"] == 4
    # true and predicted: (a, phone) and (b, c2)
    assert r["true_positive_pairs"] == 2
    assert r["precision"] == pytest.approx(0.5)
    assert r["recall"] == pytest.approx(0.4)
    assert r["f1"] == pytest.approx(2 * 0.5 * 0.4 / 0.9, abs=1e-6)
    assert r["over_merged_persons"] == 1  # w3
    assert r["split_persons"] == 2  # P1 (w1 + w2), P3 (w3 + unseen)
    assert r["shared_identifiers"] == 1 and r["shared_identifiers_isolated"] == 1
    assert r["unseen_identifiers"] == 1 and r["warehouse_only_identifiers"] == 1
    assert r["identifiers_scored"] == 7


def _add_edges(db, edges: list[tuple[str, str]]) -> None:
    """identity.identity_edges as the mart hashes them: sha256 of `type:value` at each end."""
    with duckdb.connect(str(db)) as con:
        con.execute("create table identity.identity_edges (identifier_a_hash varchar, identifier_b_hash varchar, "
                    "is_trusted boolean)")  # fmt: skip
        con.executemany("insert into identity.identity_edges values (sha256(?), sha256(?), false)", edges)


def test_no_edges_table_means_no_linkable_bound(files):
    assert "linkable_recall" not in evaluate(*files)


def test_linkable_bound_counts_pairs_the_records_connect(files):
    truth, db = files
    _add_edges(db, [
        ("email:a@x.dk", "phone:+4520000001"),  # used by the warehouse (w1)
        ("phone:+4520000001", "customer_id:c1"),  # observed, but the warehouse kept c1 apart
        ("email:b@x.dk", "customer_id:c2"),
        ("email:c@x.dk", "email:b@x.dk"),  # joins two true persons: never makes a pair linkable
        ("email:c@x.dk", "email:junk@x.dk"),  # through a value not in the truth: not a same-person path
        ("email:junk@x.dk", "loyalty_id:never-seen"),
    ])  # fmt: skip
    r = evaluate(truth, db)
    # P1: {a, phone, c1} connected (3 pairs, 1 found); P2: {b, c2} (1 pair, found); P3 not connected
    assert r["linkable_pairs"] == 4
    assert r["linkable_true_positive_pairs"] == 2
    assert r["linkable_recall"] == pytest.approx(0.5)
    assert r["linkable_share"] == pytest.approx(4 / 5)
    # the main figures do not change with the bound
    assert r["true_pairs"] == 5 and r["recall"] == pytest.approx(0.4)


def test_a_shared_identifier_can_carry_a_same_person_path(tmp_path):
    truth, db = _truth_and_warehouse(
        tmp_path,
        "identifier_type,identifier_value,person_key\nsite_user_id,u1,P1\nemail,e1@x.dk,P1\n"
        "app_instance_id,tab,P1\napp_instance_id,tab,P2\nsite_user_id,u2,P2\n",
        [("p1", "site_user_id", "u1"), ("p2", "email", "e1@x.dk"), ("p3", "site_user_id", "u2")],
    )
    _add_edges(db, [("app_instance_id:tab", "site_user_id:u1"), ("app_instance_id:tab", "email:e1@x.dk"),
                    ("app_instance_id:tab", "site_user_id:u2")])  # fmt: skip
    r = evaluate(truth, db)
    # u1 and e1 (P1) are connected through the family tablet; the tablet itself is not scored
    assert (r["true_pairs"], r["linkable_pairs"], r["linkable_true_positive_pairs"]) == (1, 1, 0)
    assert r["linkable_recall"] == 0.0


def test_perfect_answer_scores_one(tmp_path):
    truth, db = _truth_and_warehouse(
        tmp_path,
        "identifier_type,identifier_value,person_key\nemail,a@x.dk,P1\nphone,+4520000001,P1\nemail,b@x.dk,P2\n",
        [("p1", "email", "a@x.dk"), ("p1", "phone", "+4520000001"), ("p2", "email", "b@x.dk")],
    )
    r = evaluate(truth, db)
    assert (r["precision"], r["recall"], r["f1"]) == (1.0, 1.0, 1.0)
    assert r["over_merged_persons"] == r["split_persons"] == 0


def test_cli_prints_metrics_and_leaves_the_warehouse_unlocked(files, capsys):
    truth, db = files
    assert main(["--truth", str(truth), "--warehouse", str(db)]) == 0
    out = capsys.readouterr().out
    assert "precision" in out and "split_persons" in out
    # opened read-only and closed: a writer can open it right after
    with duckdb.connect(str(db)) as con:
        con.execute("create table identity.after_eval as select 1 as x")


def test_evaluate_identity_prints_the_linkable_bound(files, tmp_path, capsys):
    from orchestration.config import Paths
    from orchestration.summary import print_identity_evaluation

    truth, db = files
    _add_edges(db, [("email:a@x.dk", "phone:+4520000001"), ("phone:+4520000001", "customer_id:c1")])
    paths = Paths(data=tmp_path, landing=tmp_path / "landing", lake=tmp_path / "lake", warehouse=db, serving=db,
                  truth=truth.parent, dagster_home=tmp_path / "dagster")  # fmt: skip
    print_identity_evaluation(paths)
    out = capsys.readouterr().out
    assert "recall 0.4000" in out  # against the full truth
    # P1's three identifiers are connected (3 of 5 true pairs), the warehouse found 1 of them
    assert "linkable upper bound: 0.6000 of true pairs" in out and "recall on those 0.3333" in out
