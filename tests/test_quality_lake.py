"""Fabricated lake partitions (clean and corrupted) and the raw gate on each lake table.

The helpers here are imported by the other quality and publish tests.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest

from orchestration.config import get_paths
from orchestration.lake_layout import data_schema, ensure_schema_stubs, raw_dir, write_parquet_atomic
from orchestration.quality import blocking, describe_failures
from orchestration.quality.runner import validate_raw_partition
from orchestration.sources import TABLES

NOW = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)


def _good_row(table: str, day: date, i: int) -> dict:
    ts = datetime.combine(day, datetime.min.time(), UTC) + timedelta(minutes=7 * i)
    iso = ts.strftime("%Y-%m-%dT%H:%M:%SZ")
    shop = ts.strftime("%Y-%m-%d %H:%M:%S +0200")
    email = f"person{i}@example.com"
    if table == "ga4_events":
        return dict(
            event_date=day.strftime("%Y%m%d"),
            event_timestamp=str(int(ts.timestamp() * 1e6)),
            event_name="page_view",
            user_pseudo_id=f"{1000 + i}.1702650951",
            event_bundle_sequence_id=str(i),
            platform="WEB",
        )
    if table == "shopify_orders" and i % 3 == 2:  # continuation row: line item only, order fields blank
        return dict(
            name=f"#{1000 + i - 1}",
            lineitem_quantity="2",
            lineitem_name="Plate",
            lineitem_price="45.00",
            lineitem_sku="SKU-plate",
        )
    if table == "shopify_orders":
        return dict(
            name=f"#{1000 + i}",
            email=email,
            financial_status="paid",
            paid_at=shop,
            accepts_marketing="yes",
            currency="DKK",
            subtotal="90.00",
            total="100.00",
            created_at=shop,
            lineitem_quantity="1",
            lineitem_name="Mug",
            lineitem_price="90.00",
            lineitem_sku=f"SKU-{i % 7}",
        )
    if table == "mailchimp_audience":
        return dict(
            email_address=email,
            member_rating="3",
            optin_time=ts.strftime("%Y-%m-%d %H:%M:%S"),
            confirm_time=ts.strftime("%Y-%m-%d %H:%M:%S"),
            last_changed=iso,
            leid=str(i),
            euid=f"e{i}",
        )
    if table == "mailchimp_activity":
        return dict(action="open", campaign_id="c1", member_id=f"m{i}", timestamp=iso, email_address=email)
    if table == "square_items":
        return dict(
            date=day.strftime("%m/%d/%Y"),
            time=ts.strftime("%H:%M:%S"),
            time_zone="Europe/Copenhagen",
            item="Coffee",
            qty="1.0",
            gross_sales="$8.00",
            net_sales="$8.00",
            transaction_id=f"T{i}",
            payment_id=f"P{i}",
            sku="C1",
            event_type="Payment",
        )
    if table == "loyalty_members":
        return dict(
            member_id=f"L{i}",
            updated_at=iso,
            joined_at=iso,
            email=email,
            birth_date="1985-04-02",
            consent_email="true",
            consent_sms="false",
            consent_push="no",
            consent_profiling="yes",
        )
    if table == "zendesk_tickets":
        return dict(id=str(i), created_at=shop, updated_at=shop, status="solved", requester_email=email)
    if table == "delighted_responses":
        return dict(
            id=str(i),
            score=str(i % 11),
            created_at=str(int(ts.timestamp())),
            updated_at=str(int(ts.timestamp())),
            survey_type="nps",
            person=json.dumps({"email": email}),
        )
    if table == "canonical_events":
        return dict(event_id=f"E{i}", occurred_at=iso, activity="page_view", channel="web", email=email, revenue="")
    if table == "canonical_identifier_links":
        return dict(occurred_at=iso, source="crm", email=email, loyalty_id=f"L{i}")
    if table == "canonical_orders":
        return dict(order_id=f"O{i}", ordered_at=iso, channel="store", total="12.50", currency="EUR", email=email)
    if table == "canonical_customers":
        return dict(
            customer_id=f"C{i}",
            updated_at=iso,
            email=email,
            birth_date="1990-12-31",
            consent_email="1",
            consent_sms="0",
            consent_push="0",
            consent_profiling="1",
        )
    raise KeyError(table)


def good_rows(table: str, day: date, n: int = 50) -> list[dict]:
    rows = [_good_row(table, day, i) for i in range(n)]
    for r in rows:  # empty strings are how CSV exports leave a cell blank; the lake keeps them null
        for k, v in r.items():
            if v == "":
                r[k] = None
    return rows


def corrupt_shopify(rows: list[dict]) -> list[dict]:
    """The incident: 40% of e-mails missing, negative amounts, orders dated 2099."""
    out = []
    for i, r in enumerate(rows):
        r = dict(r)
        if i % 5 in (0, 1):
            r["email"] = None
        if i % 5 == 2:
            r["total"], r["lineitem_price"] = "-100.00", "-90.00"
        if i % 5 == 3 and r.get("created_at"):
            r["created_at"] = "2099-01-01 00:00:00 +0000"
        out.append(r)
    return out


def write_partition(paths, table: str, day: date, rows: list[dict], name: str = "export.csv") -> None:
    """Write rows the way ingestion does: every data column VARCHAR plus metadata, one file per landed file."""
    schema = data_schema(TABLES[table])
    sha = hashlib.sha256(json.dumps([name, str(day), rows], sort_keys=True).encode()).hexdigest()
    ingested = datetime(2026, 10, 20, tzinfo=UTC)
    full = [
        {
            **{f.name: None for f in schema},
            **r,
            "_file_sha256": sha,
            "_source_file": f"{table}/{day}/{name}",
            "_row_number": n + 1,
            "_landing_date": day,
            "_ingested_at": ingested,
        }
        for n, r in enumerate(rows)
    ]
    write_parquet_atomic(
        pa.Table.from_pylist(full, schema=schema), raw_dir(paths, table) / f"ingest_date={day}" / f"{sha}.parquet"
    )


@pytest.fixture
def paths(data_dir):
    p = get_paths()
    ensure_schema_stubs(p)
    return p


@pytest.mark.parametrize("table", sorted(TABLES))
def test_clean_partition_passes_every_expectation(paths, table):
    day = date(2026, 10, 12)
    for back in range(1, 4):
        write_partition(paths, table, day - timedelta(days=back), good_rows(table, day - timedelta(days=back)))
    write_partition(paths, table, day, good_rows(table, day))
    results = validate_raw_partition(table, day, paths, run_id="r1", now=NOW)
    assert results, "a suite without expectations validates nothing"
    failed = [r for r in results if not r.success]
    assert not failed, describe_failures(results)


def test_corrupted_shopify_day_blocks_and_names_the_failures(paths):
    day = date(2026, 10, 12)
    write_partition(paths, "shopify_orders", day, corrupt_shopify(good_rows("shopify_orders", day)))
    results = validate_raw_partition("shopify_orders", day, paths, run_id="r1", now=NOW)
    failed = {r.expectation for r in blocking(results)}
    assert {
        "email_present_on_order_rows",
        "range(total)",
        "range(lineitem_price)",
        "not_in_future(created_at)",
    } <= failed
    message = describe_failures(results)
    assert "suite raw.shopify_orders" in message and "not_in_future(created_at)" in message
    assert "2099-01-01 00:00:00 +0000" in message  # the failing value as the export wrote it
    assert "-100.00" in message and "shopify_orders/2026-10-12/export.csv#" in message


def test_a_share_on_a_handful_of_rows_is_reported_not_blocking(paths):
    """1 missing e-mail among a handful of orders: chance on a quiet day, not a broken export."""
    day = date(2026, 10, 12)
    rows = good_rows("shopify_orders", day, 3)
    rows[0]["email"] = None
    write_partition(paths, "shopify_orders", day, rows)
    results = validate_raw_partition("shopify_orders", day, paths, run_id="r1", now=NOW)
    share = next(r for r in results if r.expectation == "email_present_on_order_rows")
    assert not share.success and share.severity == "warning"
    assert "rows only: below 20 rows a share does not block" in share.observed_value
    assert "email_present_on_order_rows" not in {r.expectation for r in blocking(results)}


def test_row_count_is_judged_against_earlier_partitions(paths):
    day = date(2026, 10, 12)
    for back in range(1, 8):
        write_partition(paths, "canonical_events", day - timedelta(days=back), good_rows("canonical_events", day, 100))
    write_partition(paths, "canonical_events", day, good_rows("canonical_events", day, 5))
    results = validate_raw_partition("canonical_events", day, paths, run_id="r1", now=NOW)
    rc = next(r for r in results if r.expectation == "row_count_vs_trailing_average")
    assert not rc.success and rc.severity == "warning" and rc.observed_value.startswith("5 rows, expected 25..400")
    assert not blocking(results)  # a thin day is reported, not blocked


def _row_count_result(paths, table: str, day: date, history: list[int], today: int):
    for back, n in enumerate(reversed(history), start=1):
        write_partition(paths, table, day - timedelta(days=back), good_rows(table, day, n))
    write_partition(paths, table, day, good_rows(table, day, today))
    results = validate_raw_partition(table, day, paths, run_id="r1", now=NOW)
    return next(r for r in results if r.expectation == "row_count_vs_trailing_average")


def test_row_count_median_is_not_skewed_by_one_bulk_export(paths):
    day = date(2026, 10, 12)
    # a first full export of 2,000 rows, then ordinary days of 20: an ordinary day passes, a thin one warns
    assert _row_count_result(paths, "canonical_events", day, [2000, 20, 20, 20, 20, 20], 20).success
    thin = _row_count_result(paths, "canonical_events", day + timedelta(days=30), [2000, 20, 20, 20, 20, 20], 2)
    assert not thin.success and thin.observed_value.startswith("2 rows, expected 5..80")


def test_row_count_is_not_judged_without_history_or_on_a_zero_median(paths):
    day = date(2026, 10, 12)
    # two earlier partitions are too few to say what a normal day is
    assert _row_count_result(paths, "canonical_events", day, [100, 100], 5).success
    # a source that delivered nothing on the typical earlier day may start delivering
    assert _row_count_result(paths, "delighted_responses", day, [0, 0, 0, 4], 50).success


def test_missing_required_column_and_unparseable_values_block(paths):
    day = date(2026, 10, 12)
    rows = good_rows("delighted_responses", day)
    for r in rows[:10]:
        r["score"] = "eleven"
    write_partition(paths, "delighted_responses", day, rows)
    failed = {r.expectation for r in blocking(validate_raw_partition("delighted_responses", day, paths, now=NOW))}
    assert "parseable(score)" in failed


def test_double_loaded_file_breaks_natural_key(paths):
    day = date(2026, 10, 12)
    rows = good_rows("canonical_orders", day)
    write_partition(paths, "canonical_orders", day, rows, name="a.csv")
    write_partition(paths, "canonical_orders", day, rows, name="b.csv")
    failed = {r.expectation for r in blocking(validate_raw_partition("canonical_orders", day, paths, now=NOW))}
    assert failed == {"natural_key_unique(order_id)"}
