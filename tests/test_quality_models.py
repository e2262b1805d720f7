"""dbt models quality.*: gate results, ledger and quarantine from the lake, contracts and tests passing."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.config import DBT_PROJECT_DIR, dbt_env, get_paths
from orchestration.lake_layout import (
    LEDGER_SCHEMA,
    QUARANTINE_EXTRA,
    data_schema,
    ensure_schema_stubs,
    ledger_dir,
    quarantine_dir,
    write_parquet_atomic,
)
from orchestration.quality import record_gate_results
from orchestration.quality.results import GateResult
from orchestration.quality.runner import validate_raw_partition
from orchestration.sources import TABLES
from tests.test_quality_lake import NOW, corrupt_shopify, good_rows, write_partition

pytestmark = pytest.mark.integration  # runs dbt


def _dbt(*args: str, paths) -> subprocess.CompletedProcess:
    dbt = str(Path(sys.executable).parent / "dbt")
    return subprocess.run([dbt, *args], cwd=DBT_PROJECT_DIR, env=dbt_env(paths), capture_output=True, text=True)


def token(kind: str, value: str) -> str:
    """The pseudonym the quality marts publish for a clear e-mail or phone."""
    return f"<{kind}:{hashlib.sha256(value.strip().lower().encode()).hexdigest()[:12]}>"


# Clear identifiers in the quarantined rows: named columns (email, phone, billing_phone), an e-mail in
# another column (notes), one typed into total (so the reason quotes it), and a malformed row's raw text.
EMAIL = " Jane.Doe@Example.com "
PHONE = "+45 20 12 34 56"
BILLING_PHONE = "20123456"
SHORT_PHONE = "1234"  # too short to replace inside other texts: tokenised in its own column only
NOTE_EMAIL = "other.person@mail.dk"
MALFORMED_PHONE = "+46 70 123 45 67"
IDENTITY_PHONE = "+4531313131"
BAD_EMAILS = {i: f"person{i} at example.com" for i in (4, 9, 19, 24, 34, 39, 49)}  # order rows: fail format(email)
CLEAR = [
    EMAIL.strip().lower(),
    PHONE,
    BILLING_PHONE,
    NOTE_EMAIL,
    MALFORMED_PHONE,
    "70 123 45 67",
    IDENTITY_PHONE,
    *BAD_EMAILS.values(),
]


def quarantined_with_identifiers(qschema, day, at) -> list[dict]:
    base = {f.name: None for f in qschema} | {"_file_sha256": "abc", "_landing_date": day, "_ingested_at": at}
    checked = base | {
        "name": "#1",
        "email": EMAIL,
        "phone": PHONE,
        "billing_phone": BILLING_PHONE,
        "shipping_phone": SHORT_PHONE,
        "notes": f"gift, ring first; or write to {NOTE_EMAIL}",
        "total": PHONE,
        "_row_number": 8,
        "_reason": f"bad_money: total '{PHONE}' is not an amount",
    }
    same_email = base | {
        "name": "#2",
        "email": EMAIL.strip().upper(),
        "_row_number": 9,
        "_reason": "missing_value: created_at is blank",
    }
    raw = f'#3,{EMAIL.strip()},"paid,{MALFORMED_PHONE},2026-10-12 10:00:00 +0200,100.00'
    malformed = base | {
        "_row_number": 10,
        "_reason": "malformed_row: line 12 has 3 field(s), the header has 79: re-export the file",
        "_raw_line": raw,
    }
    return [checked, same_email, malformed]


def test_quality_marts_show_gate_failures_ledger_and_quarantine(data_dir):
    paths = get_paths()
    ensure_schema_stubs(paths)
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    day = date(2026, 10, 12)
    rows = corrupt_shopify(good_rows("shopify_orders", day))
    for i, bad in BAD_EMAILS.items():
        assert rows[i]["email"], i  # an order row that corrupt_shopify left with its e-mail
        rows[i]["email"] = bad
    write_partition(paths, "shopify_orders", day, rows)
    record_gate_results(validate_raw_partition("shopify_orders", day, paths, run_id="run-9", now=NOW), paths)
    # a mart suite's compound key on the restricted identity mart: its failing rows are clear identifiers
    duplicate = {"identifier_type": "phone", "identifier_value": IDENTITY_PHONE}
    key_check = GateResult(
        run_id="run-9",
        asset="identity.person_identifiers",
        suite="identity.person_identifiers",
        expectation="unique(identifier_type, identifier_value)",
        severity="critical",
        success=False,
        failing_sample=[duplicate, duplicate],
        column_name="identifier_type,identifier_value",
        observed_value=f"2 of 9 rows unexpected; first {NOTE_EMAIL}",
    )
    record_gate_results([key_check], paths)
    at = datetime(2026, 10, 12, 6, tzinfo=UTC)
    ledger = {
        "table_name": "shopify_orders",
        "landing_date": day,
        "source_file": "shopify_orders/2026-10-12/x.csv",
        "file_sha256": "abc",
        "file_bytes": 10,
        "rows_read": 51,
        "rows_loaded": 50,
        "rows_quarantined": 1,
        "status": "loaded",
        "ingested_at": at,
        "run_id": "run-9",
    }
    write_parquet_atomic(
        pa.Table.from_pylist([ledger], schema=LEDGER_SCHEMA),
        ledger_dir(paths, "shopify_orders") / f"ingest_date={day}" / "abc-1.parquet",
    )
    qschema = data_schema(TABLES["shopify_orders"], QUARANTINE_EXTRA)
    bad = {f.name: None for f in qschema} | {
        "name": "#1",
        "_file_sha256": "abc",
        "_row_number": 7,
        "_reason": "bad_money: total 'x' is not an amount",
        "_landing_date": day,
        "_ingested_at": at,
    }
    quarantine_file = quarantine_dir(paths, "shopify_orders") / f"ingest_date={day}" / "abc.parquet"
    write_parquet_atomic(
        pa.Table.from_pylist([bad, *quarantined_with_identifiers(qschema, day, at)], schema=qschema),
        quarantine_file,
    )

    run = _dbt("build", "--select", "path:models/marts/quality", paths=paths)
    assert run.returncode == 0, run.stdout[-4000:]

    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        blocking = con.execute(
            "select expectation, failing_sample from quality.gate_results "
            "where run_id = 'run-9' and is_blocking order by expectation"
        ).fetchall()
        ledger_rows = con.execute("select table_name, rows_read, status from quality.ingestion_ledger").fetchall()
        quarantined = con.execute(
            "select table_name, row_number, reason, row_values from quality.quarantine_rows order by row_number"
        ).fetchall()
        texts = {
            relation: con.execute(
                f"select * from {relation} where run_id = 'run-9'"
                if relation == "quality.gate_results"
                else f"select * from {relation}"
            ).fetchdf()
            for relation in ("quality.quarantine_rows", "quality.gate_results")
        }
        samples = dict(
            con.execute(
                "select expectation, failing_sample from quality.gate_results where run_id = 'run-9' "
                "and expectation in ('format(email)', 'unique(identifier_type, identifier_value)')"
            ).fetchall()
        )
        privacy = {
            n: r
            for n, *r in con.execute(
                "select row_number, reason, raw_line, row_values from quality.quarantine_rows where row_number > 7"
            ).fetchall()
        }
    finally:
        con.close()
    names = [b[0] for b in blocking]
    assert "not_in_future(created_at)" in names and "range(total)" in names
    assert any("2099-01-01" in (b[1] or "") for b in blocking)
    assert ledger_rows == [("shopify_orders", 51, "loaded")]
    assert quarantined[0][:3] == ("shopify_orders", 7, "bad_money: total 'x' is not an amount")
    assert '"name":"#1"' in quarantined[0][3].replace(" ", "")

    # Privacy: no clear e-mail or phone in any text column of either mart ...
    for relation, frame in texts.items():
        for column in frame.columns:
            for value in frame[column].dropna():
                if isinstance(value, str):
                    leaked = [c for c in CLEAR if c.lower() in value.lower()]
                    assert not leaked, (relation, column, leaked, value)
    # ... but stable tokens: named columns, the same values inside other texts, e-mails anywhere.
    email_token, phone_token = token("email", EMAIL), token("phone", PHONE)
    reason8, raw8, values8 = privacy[8]
    row8 = json.loads(values8)
    assert row8["email"] == email_token and row8["phone"] == phone_token
    assert row8["billing_phone"] == token("phone", BILLING_PHONE)
    assert row8["shipping_phone"] == token("phone", SHORT_PHONE)
    assert row8["notes"] == f"gift, ring first; or write to {token('email', NOTE_EMAIL)}"
    assert row8["total"] == phone_token and row8["_reason"] == reason8
    assert reason8 == f"bad_money: total '{phone_token}' is not an amount" and raw8 is None
    assert json.loads(privacy[9][2])["email"] == email_token  # same address, other case: same token
    reason10, raw10, values10 = privacy[10]
    assert raw10 == (
        f'#3,{email_token},"paid,{token("digits", MALFORMED_PHONE)},{token("digits", "2026-10-12 10")}:00:00 +0200,'
        "100.00"
    )
    assert json.loads(values10)["_raw_line"] == raw10
    assert reason10.startswith("malformed_row: line 12 has 3 field(s)")
    # the failing sample of an e-mail column: every value a token, located by file#row as before
    sample = json.loads(samples["format(email)"])
    assert {s["value"] for s in sample} <= {token("email", v) for v in BAD_EMAILS.values()} and sample
    assert all(s["at"].startswith("shopify_orders/2026-10-12/") for s in sample)
    # a compound key's failing rows are tokenised whole when one of its columns holds identifiers
    rows = json.loads(samples["unique(identifier_type, identifier_value)"])
    assert len(rows) == 2 and len(set(rows)) == 1 and rows[0].startswith("<identifier:")
    # The lake keeps the rows as delivered, for operators.
    lake = pq.read_table(quarantine_file).to_pylist()
    assert [r["email"] for r in lake[1:3]] == [EMAIL, EMAIL.strip().upper()]
    assert lake[1]["phone"] == PHONE and NOTE_EMAIL in lake[1]["notes"] and MALFORMED_PHONE in lake[3]["_raw_line"]
