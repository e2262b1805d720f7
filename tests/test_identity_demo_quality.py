"""Identity quality on a generated demo, end to end: generator -> ingestion -> dbt identity -> evaluation.

The demo links identifiers the way a retailer's data does (logins, order references shared by GA4 and
Shopify, Mailchimp's mc_eid on e-mail landing pages, the webshop account export). Scored against the
generator's ground truth, the warehouse must be nearly exact (precision) and nearly complete (recall).

Honest bounds at this size (300 persons x 10 days; the 2,000 x 28 default demo does better, see
orchestration/demo/__init__.py): precision 1.0; recall 0.964 on the truth without weak types, 0.895 on
the full truth. What is left is real: card fingerprints are a weak type (var identity_weak_types), so
by design they never link and each is a person of its own; guests who only browse (no account, no
e-mail click, no order in the period) keep anonymous web devices; a few club members registered
without e-mail or phone. The thresholds below leave a small margin under those figures.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from orchestration.config import Paths
from orchestration.demo import generate
from orchestration.identity.evaluate import evaluate
from orchestration.identity.scenario import build_identity, prepare, query, run_dbt
from orchestration.ingestion.ingest import ingest_partition, landing_days
from orchestration.sources import TABLES

pytestmark = pytest.mark.integration

PERSONS, DAYS, SEED = 300, 10, 11
WEAK_TYPES = {"card_fingerprint"}  # dbt_project.yml var identity_weak_types


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Paths, dict]:
    root = tmp_path_factory.mktemp("idq")
    paths = Paths(
        data=root, landing=root / "landing", lake=root / "lake",
        warehouse=root / "warehouse" / "build.duckdb", serving=root / "warehouse" / "serving.duckdb",
        truth=root / "truth", dagster_home=root / "dagster",
    )  # fmt: skip
    summary = generate(PERSONS, DAYS, date(2026, 10, 1), SEED, paths.landing, paths.truth)
    for table in TABLES:
        for day in landing_days(table, paths):
            ingest_partition(table, day, paths)
    prepare(paths)
    run_dbt(paths, "seed")
    build_identity(paths, tests=False)
    return paths, summary


def _truth_without(paths: Paths, types: set[str]) -> Path:
    src = paths.truth / "identifiers.csv"
    out = paths.data / "identifiers_strong.csv"
    with src.open(newline="") as f, out.open("w", newline="") as g:
        rows = csv.DictReader(f)
        w = csv.DictWriter(g, fieldnames=rows.fieldnames)
        w.writeheader()
        w.writerows(r for r in rows if r["identifier_type"] not in types)
    return out


def test_truth_has_the_linking_identifiers(built):
    paths, _ = built
    with (paths.truth / "identifiers.csv").open(newline="") as f:
        types = {r["identifier_type"] for r in csv.DictReader(f)}
    assert {"order_ref", "customer_id", "site_user_id", "esp_member_id", "ga_client_id"} <= types


def test_precision_and_recall_against_the_truth(built):
    paths, _ = built
    full = evaluate(paths.truth / "identifiers.csv", paths.warehouse)
    strong = evaluate(_truth_without(paths, WEAK_TYPES), paths.warehouse)
    print("full truth:", full)
    print("truth without weak types:", strong)
    assert full["precision"] >= 0.995, full
    assert strong["precision"] >= 0.995, strong
    assert full["over_merged_persons"] == 0, full
    assert strong["recall"] >= 0.95, strong
    # weak card fingerprints stay unlinked by design; they cost a few more points on the full truth
    assert full["recall"] >= 0.88, full
    # nearly every device identifies itself: few true persons are split once weak ids are left out
    assert strong["split_persons"] <= 0.1 * strong["true_persons"], strong


def test_order_refs_link_ga4_purchases_to_shopify_buyers(built):
    paths, _ = built
    # the same order reference is observed on a GA4 purchase event and on the Shopify order
    shared = query(paths, """
        select count(*) from (
            select identifier_value from intermediate.int_identifier_observations
            where identifier_type = 'order_ref'
            group by 1 having count(distinct source) = 2
        )""")[0][0]  # fmt: skip
    assert shared > 0
    # and a Shopify purchaser has GA4 activity under the same person
    linked = query(paths, """
        select count(distinct a.person_id)
        from journeys.activities a
        where a.source = 'shopify_orders' and a.activity = 'purchase'
          and exists (select 1 from journeys.activities g
                      where g.person_id = a.person_id and g.source = 'ga4_events')""")[0][0]  # fmt: skip
    assert linked > 0


def test_email_landing_pages_carry_the_member_id(built):
    paths, _ = built
    rows = query(paths, """
        select count(*) from intermediate.int_identifier_observations
        where source = 'ga4_events' and identifier_type = 'esp_member_id'""")  # fmt: skip
    assert rows[0][0] > 0
