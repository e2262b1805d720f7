"""dbt staging + unioned models on a small fabricated lake: money, phones, time zones, folding, dedupe.

Lake files are written directly (as ingestion would) so this test depends only on the lake contract in
orchestration/sources.py and orchestration/lake_layout.py. One `dbt build` (models, data tests and unit
tests of staging, unioned and the staging seeds) runs once per module.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
import yaml

from orchestration.config import DBT_PROJECT_DIR, dbt_env, get_paths
from orchestration.duckdb_files import copy_database
from orchestration.lake_layout import data_schema, ensure_schema_stubs, raw_dir, write_parquet_atomic
from orchestration.sources import TABLES

DBT = str(DBT_PROJECT_DIR / ".venv" / "bin" / "dbt")
SELECTION = ["path:models/staging", "path:models/intermediate/unioned", "path:seeds/staging"]
PATH_VARS = ("OMNI_LANDING_DIR", "OMNI_LAKE_DIR", "OMNI_WAREHOUSE_PATH", "OMNI_SERVING_PATH")


def write_lake(paths, table: str, rows: list[dict], landing: date, file_id: str, extra: tuple = ()) -> None:
    """One lake file as ingestion writes it: every data column VARCHAR plus the metadata columns."""
    extra_fields = [pa.field(c, pa.string()) for c in extra]
    schema = data_schema(TABLES[table], extra_fields)
    ingested = datetime(landing.year, landing.month, landing.day, 6, tzinfo=UTC)
    columns = {f.name: [] for f in schema}
    for i, row in enumerate(rows, start=1):
        unknown = set(row) - set(columns)
        assert not unknown, f"{table}: not lake columns {unknown}"
        meta = {
            "_file_sha256": file_id,
            "_source_file": f"{table}/{landing}/{file_id}.csv",
            "_row_number": i,
            "_landing_date": landing,
            "_ingested_at": ingested,
        }
        for name in columns:
            columns[name].append(meta.get(name, row.get(name)))
    target = raw_dir(paths, table) / f"ingest_date={landing}" / f"{file_id}.parquet"
    write_parquet_atomic(pa.table(columns, schema=schema), target)


def ga4_params(**params) -> str:
    out = []
    for key, value in params.items():
        slot = "int_value" if isinstance(value, int) else "string_value"
        out.append({"key": key, "value": {"string_value": None, "int_value": None, slot: value}})
    return json.dumps(out)


D1, D2 = date(2026, 3, 10), date(2026, 3, 11)


def fabricate(paths) -> None:
    order = {
        "name": "#1001",
        "email": " Anna@Example.COM ",
        "financial_status": "paid",
        "currency": "DKK",
        "total": "$1,149.00 ",
        "subtotal": "1.234,50",
        "created_at": "2026-03-10 14:05:33 +0100",
        "phone": "20 12 34 56",
        "billing_phone": "+45 20123456",
        "source": "web",
        "lineitem_quantity": "1",
        "lineitem_price": "$1,000.00",
        "lineitem_sku": "SKU-A",
    }
    continuation = {"name": "#1001", "lineitem_quantity": "2", "lineitem_price": "74.50", "lineitem_sku": "SKU-B"}
    other = {
        "name": "#1002",
        "email": "bo@example.com",
        "total": "525.33",
        "currency": "DKK",
        "created_at": "2026-03-10 09:00:00 +0100",
        "lineitem_quantity": "1",
        "lineitem_price": "525.33",
        "lineitem_sku": "SKU-C",
        "source": "iphone",
        "shipping_phone": "0045 20 12 34 56",
    }
    write_lake(paths, "shopify_orders", [order, continuation, other], D1, "shop1")
    # the re-delivery of #1001 (refunded since) must win whole: its lines, its first row
    write_lake(paths, "shopify_orders", [{**order, "financial_status": "refunded"}, continuation], D2, "shop2")

    base = {
        "date": "10/03/2026",
        "time": "14:05:33",
        "location": "Copenhagen Store",
        "card_brand": "Visa",
        "pan_suffix": "4242",
        "customer_reference_id": "L-1",
        "event_type": "Payment",
    }
    write_lake(
        paths,
        "square_items",
        [
            {
                **base,
                "time_zone": "Copenhagen",
                "transaction_id": "T1",
                "item": "Mug",
                "sku": "M1",
                "qty": "1.0",
                "gross_sales": "$8.00",
                "net_sales": "$8.00",
                "tax": "$2.00",
            },
            {
                **base,
                "time_zone": "Copenhagen",
                "transaction_id": "T1",
                "item": "Tea",
                "sku": "T1",
                "qty": "2.0",
                "gross_sales": "$10.00",
                "net_sales": "$10.00",
                "tax": "$2.50",
            },
            {
                **base,
                "time_zone": "Copenhagen",
                "transaction_id": "T1",
                "item": "Tea",
                "sku": "T1",
                "qty": "-1.0",
                "gross_sales": "($5.00)",
                "net_sales": "($5.00)",
                "tax": "($1.25)",
                "event_type": "Refund",
            },
            {
                **base,
                "time_zone": "Eastern Time (US & Canada)",
                "transaction_id": "T2",
                "item": "Mug",
                "sku": "M1",
                "qty": "1.0",
                "gross_sales": "$8.00",
                "net_sales": "$8.00",
                "tax": "$0.00",
                "customer_id": "SQC1",
            },
        ],
        D1,
        "sq1",
    )

    web = {
        "event_date": "20260310",
        "platform": "WEB",
        "user_pseudo_id": "427292018.1702650951",
        "event_bundle_sequence_id": "1",
    }
    write_lake(
        paths,
        "ga4_events",
        [
            {
                **web,
                "event_timestamp": "1773151533000000",
                "event_name": "page_view",
                "event_params": ga4_params(ga_session_id=1702650951, page_location="https://shop.test/p/sku-a"),
            },
            {
                **web,
                "event_timestamp": "1773151534000000",
                "event_name": "view_item",
                "user_id": " U-9 ",
                "event_params": ga4_params(ga_session_id=1702650951),
                "items": json.dumps([{"item_id": "SKU-A", "item_category": "Mugs", "price": 8.0, "quantity": 1}]),
            },
            {
                **web,
                "event_timestamp": "1773151535000000",
                "event_name": "session_start",
                "event_params": ga4_params(ga_session_id=1702650951),
            },
            {
                "event_date": "20260310",
                "platform": "ANDROID",
                "user_pseudo_id": "APPINST1",
                "event_name": "login",
                "event_timestamp": "1773151536000000",
                "event_params": ga4_params(ga_session_id=5, method="email"),
            },
        ],
        D1,
        "ga1",
    )
    # GA4 rewrites the day's table: the same events arrive again
    write_lake(
        paths,
        "ga4_events",
        [
            {
                **web,
                "event_timestamp": "1773151533000000",
                "event_name": "page_view",
                "event_params": ga4_params(ga_session_id=1702650951, page_location="https://shop.test/p/sku-a"),
            },
        ],
        D2,
        "ga2",
    )

    member = {
        "email_address": "Anna@example.com",
        "phone_number": "+46 70 123 45 67",
        "optin_time": "2026-01-02 10:00:00",
        "confirm_time": "2026-01-02 10:05:00",
        "euid": "EU1",
        "last_changed": "2026-01-02 10:05:00",
    }
    write_lake(
        paths,
        "mailchimp_audience",
        [
            member,
            {
                "email_address": "bo@example.com",
                "optin_time": "2026-01-03 10:00:00",
                "last_changed": "2026-01-03 10:00:00",
            },
        ],
        D1,
        "mc_sub",
    )
    write_lake(
        paths,
        "mailchimp_audience",
        [
            {
                **member,
                "unsub_time": "2026-03-01 08:00:00",
                "unsub_reason": "too many",
                "last_changed": "2026-03-01 08:00:00",
            }
        ],
        D2,
        "mc_unsub",
        extra=("unsub_time", "unsub_reason", "unsub_campaign_id"),
    )
    write_lake(
        paths,
        "mailchimp_activity",
        [
            {
                "action": "open",
                "campaign_id": "c1",
                "member_id": "m1",
                "timestamp": "2026-03-01 08:00:00",
                "email_address": "anna@example.com",
            },
            {
                "action": "click",
                "campaign_id": "c1",
                "member_id": "m1",
                "timestamp": "2026-03-01T08:01:00+00:00",
                "url": "https://shop.test",
                "email_address": "anna@example.com",
            },
        ],
        D1,
        "mca",
    )
    write_lake(
        paths,
        "loyalty_members",
        [
            {
                "member_id": "L-1",
                "updated_at": "2026-01-01T10:00:00Z",
                "joined_at": "2025-12-31T23:30:00-01:00",
                "email": "anna@example.com",
                "phone": "20123456",
                "consent_email": "true",
                "tier": "Gold",
            },
            {
                "member_id": "L-1",
                "updated_at": "2026-02-01T10:00:00+01:00",
                "joined_at": "2025-12-31T23:30:00-01:00",
                "email": "anna.new@example.com",
                "phone": "123",
                "consent_email": "false",
                "tier": "Gold",
            },
            {
                # the first change again, its id and time padded by the exporting tool: the same version
                "member_id": " L-1 ",
                "updated_at": "2026-01-01T10:00:00Z ",
                "joined_at": "2025-12-31T23:30:00-01:00",
                "email": "anna@example.com",
                "phone": "20123456",
                "consent_email": "true",
                "tier": "Gold",
            },
        ],
        D1,
        "loy",
    )
    write_lake(
        paths,
        "zendesk_tickets",
        [
            {
                "id": "77",
                "created_at": "2026-10-03 09:12:44 +0200",
                "updated_at": "2026-10-03 09:12:44 +0200",
                "requester_id": "RQ1",
                "requester_email": "anna@example.com",
                "requester_phone": "070-123 45 67",
                "via": "Email",
                "group": "Support",
            },
            {
                "id": "77",
                "created_at": "2026-10-03 09:12:44 +0200",
                "updated_at": "2026-10-04 10:00:00 +0200",
                "requester_id": "RQ1",
                "status": "Solved",
                "via": "Email",
            },
        ],
        D1,
        "zd",
    )
    write_lake(
        paths,
        "delighted_responses",
        [
            {
                "id": "d1",
                "score": "9",
                "created_at": "1773151533",
                "updated_at": "1773151533",
                "person": json.dumps({"id": "p1", "email": "ANNA@example.com", "phone_number": "+4520123456"}),
            },
        ],
        D1,
        "dl",
    )
    write_lake(
        paths,
        "canonical_events",
        [
            {
                "event_id": "e1",
                "occurred_at": "2026-03-10T12:00:00Z",
                "activity": "push_open",
                "channel": "app",
                "anonymous_id": "dev-1",
                "email": "anna@example.com",
                "properties": '{"product_id": "SKU-A"}',
            },
        ],
        D1,
        "ce",
    )
    write_lake(
        paths,
        "canonical_identifier_links",
        [
            {
                "occurred_at": "2026-03-10T12:00:00Z",
                "source": "pos",
                "email": "anna@example.com",
                "pos_customer_id": "SQC1",
            },
        ],
        D1,
        "cl",
    )
    write_lake(
        paths,
        "canonical_orders",
        [
            {
                "order_id": "O-9",
                "ordered_at": "2026-03-10T12:00:00+01:00",
                "channel": "store",
                "total": "($33.62)",
                "currency": "DKK",
                "loyalty_id": "L-1",
                "lines": json.dumps([{"sku": "M1", "name": "Mug", "quantity": 1, "price": -33.62}]),
            },
        ],
        D1,
        "co",
    )
    write_lake(
        paths,
        "canonical_customers",
        [
            {
                "customer_id": "C-1",
                "updated_at": "2026-03-10T12:00:00Z",
                "email": "anna@example.com",
                "consent_sms": "yes",
            },
        ],
        D1,
        "cc",
    )


def _paths_below(data: Path):
    """The paths of a data folder, whatever OMNI_* the test process has."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OMNI_DATA_DIR", str(data))
        for var in PATH_VARS:
            mp.delenv(var, raising=False)
        return get_paths()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    paths = _paths_below(tmp_path_factory.mktemp("staging") / "data")
    ensure_schema_stubs(paths)
    fabricate(paths)
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [DBT, "build", "--select", *SELECTION],
        cwd=DBT_PROJECT_DIR,
        env=dbt_env(paths),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    return paths.warehouse


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_sources_cover_the_registry():
    doc = yaml.safe_load((DBT_PROJECT_DIR / "models/staging/lake/_lake__sources.yml").read_text())
    lake = next(s for s in doc["sources"] if s["name"] == "lake")
    assert {t["name"] for t in lake["tables"]} == set(TABLES)
    for t in lake["tables"]:
        assert t["config"]["meta"]["dagster"]["asset_key"] == ["raw", t["name"]]
        # staging's vanished-record hooks read ingestion's "same file" rule from the source meta
        assert t["config"]["meta"].get("replace_by", "day_and_name") == TABLES[t["name"]].replace_by, t["name"]
    ops = next(s for s in doc["sources"] if s["name"] == "lake_ops")
    assert {t["name"] for t in ops["tables"]} == {"ingestion_ledger", "quarantine"}


def test_shopify_continuation_rows_fold_into_the_latest_delivery(warehouse):
    rows = query(
        warehouse,
        """
        select order_id, financial_status, total, subtotal, line_count, ordered_at, email, phone,
               billing_phone, shipping_phone, channel
        from staging.stg_shopify__orders order by order_id""",
    )
    assert rows == [
        (
            "#1001",
            "refunded",
            Decimal("1149.00"),
            Decimal("1234.50"),
            2,
            datetime(2026, 3, 10, 13, 5, 33),
            "anna@example.com",
            "+4520123456",
            "+4520123456",
            None,
            "web",
        ),
        (
            "#1002",
            None,
            Decimal("525.33"),
            None,
            1,
            datetime(2026, 3, 10, 8, 0),
            "bo@example.com",
            None,
            None,
            "+4520123456",
            "app",
        ),
    ]
    lines = query(
        warehouse,
        """
        select order_line_id, sku, quantity, unit_price, line_amount
        from staging.stg_shopify__order_lines where order_id = '#1001' order by line_number""",
    )
    assert lines == [
        ("#1001-1", "SKU-A", 1, Decimal("1000.00"), Decimal("1000.00")),
        ("#1001-2", "SKU-B", 2, Decimal("74.50"), Decimal("149.00")),
    ]


def test_square_receipts_in_utc_with_accounting_negatives(warehouse):
    rows = query(
        warehouse,
        """
        select receipt_id, occurred_at, total_amount, item_lines, card_fingerprint
        from staging.stg_square__transactions order by receipt_id""",
    )
    assert rows == [
        ("T1", datetime(2026, 10, 3, 12, 5, 33), Decimal("22.50"), 2, "visa:4242:copenhagen store"),
        ("T1:refund", datetime(2026, 10, 3, 12, 5, 33), Decimal("-6.25"), 1, "visa:4242:copenhagen store"),
        # Eastern Daylight Time in October: UTC-4
        ("T2", datetime(2026, 10, 3, 18, 5, 33), Decimal("8.00"), 1, "visa:4242:copenhagen store"),
    ]


def test_ga4_events_deduplicated_with_params_and_channels(warehouse):
    rows = query(
        warehouse,
        """
        select event_name, activity, channel, ga_client_id, app_instance_id, site_user_id, ga_session_id,
               page_location, item_ids, occurred_at
        from staging.stg_ga4__events order by occurred_at""",
    )
    assert len(rows) == 4  # the re-delivered page_view counted once
    assert rows[0][:8] == (
        "page_view",
        "page_view",
        "web",
        "427292018.1702650951",
        None,
        None,
        "1702650951",
        "https://shop.test/p/sku-a",
    )
    assert rows[0][9] == datetime(2026, 3, 10, 14, 5, 33)
    assert rows[1][5] == "U-9" and rows[1][8] == "SKU-A"
    assert rows[3][:5] == ("login", "login", "app", None, "APPINST1")


def test_mailchimp_status_from_the_file_columns(warehouse):
    rows = query(
        warehouse, "select email, status, phone, unsubscribed_at from staging.stg_mailchimp__members order by 1"
    )
    assert rows == [
        ("anna@example.com", "unsubscribed", "+46701234567", datetime(2026, 3, 1, 8)),
        ("bo@example.com", "subscribed", None, None),
    ]


def test_unioned_models(warehouse):
    per_source = dict(
        query(
            warehouse,
            """
        select source, count(*) from intermediate.int_activities_unioned group by 1""",
        )
    )
    assert per_source == {
        "ga4_events": 3,
        "shopify_orders": 2,
        "mailchimp_audience": 2,
        "mailchimp_activity": 2,
        "square_items": 3,
        "loyalty_members": 1,
        "zendesk_tickets": 1,
        "delighted_responses": 1,
        "canonical_events": 1,
        "canonical_orders": 1,
    }
    refund = query(
        warehouse,
        """
        select activity, revenue from intermediate.int_activities_unioned where source = 'canonical_orders'""",
    )
    assert refund == [("store_refund", Decimal("-33.62"))]
    # every observation's record is an activity of the same source, except link/customer-only sources
    # and GA4's technical events (session_start carries the device and user ids but is no interaction)
    orphans = query(
        warehouse,
        """
        select distinct o.source from intermediate.int_identifier_observations o
        left join intermediate.int_activities_unioned a on a.source = o.source and a.record_id = o.record_id
        where a.record_id is null""",
    )
    assert {r[0] for r in orphans} <= {"canonical_identifier_links", "canonical_customers", "ga4_events"}
    anna_phones = query(
        warehouse,
        """
        select distinct identifier_value from intermediate.int_identifier_observations
        where identifier_type = 'phone' and source in ('loyalty_members', 'zendesk_tickets', 'delighted_responses')
        order by 1""",
    )
    # loyalty '123' is too short to be a phone; Zendesk's SE-style national number is read as DK and rejected
    assert anna_phones == [("+4520123456",)]
    emails = query(
        warehouse,
        """
        select identifier_value from intermediate.int_identifier_observations
        where source = 'loyalty_members' and identifier_type = 'email' order by 1""",
    )
    assert emails == [("anna.new@example.com",), ("anna@example.com",)]
    # a padded re-delivery of a member change is that change, not a second version
    versions = query(warehouse, "select count(*), count(distinct member_version_id) from staging.stg_loyalty__members")
    assert versions == [(2, 2)]


@pytest.mark.parametrize("model", ["stg_canonical__order_lines", "stg_square__transactions"])
def test_daily_run_of_a_table_built_before_loaded_at_stops_before_deleting(warehouse, tmp_path, model):
    """A derived staging table from before its loaded_at column: the daily run names the fix and stops
    before its pre-hook deletes anything (dbt would refuse the changed columns only after the delete)."""
    copy = tmp_path / "build.duckdb"
    copy_database(warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute(f"alter table staging.{model} drop column loaded_at")
        (before,) = con.execute(f"select count(*) from staging.{model}").fetchone()
    env = dbt_env(_paths_below(warehouse.parent.parent))
    env.update(OMNI_WAREHOUSE_PATH=str(copy), OMNI_MIN_DATE=D2.isoformat(), OMNI_MAX_DATE=D2.isoformat())
    result = subprocess.run(
        [DBT, "run", "--select", model], cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300
    )
    out = result.stdout + result.stderr
    assert result.returncode != 0, out[-4000:]
    assert "was built before its loaded_at column" in out, out[-4000:]
    assert f"dbt build --full-refresh --select {model}+" in out, out[-4000:]
    assert query(copy, f"select count(*) from staging.{model}") == [(before,)]
