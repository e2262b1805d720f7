"""dbt models quality.*: gate results, ledger and quarantine from the lake, contracts and tests passing."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
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
from orchestration.quality.runner import validate_raw_partition
from orchestration.sources import TABLES
from tests.test_quality_lake import NOW, corrupt_shopify, good_rows, write_partition

pytestmark = pytest.mark.integration  # runs dbt


def _dbt(*args: str, paths) -> subprocess.CompletedProcess:
    dbt = str(Path(sys.executable).parent / "dbt")
    return subprocess.run([dbt, *args], cwd=DBT_PROJECT_DIR, env=dbt_env(paths), capture_output=True, text=True)


def test_quality_marts_show_gate_failures_ledger_and_quarantine(data_dir):
    paths = get_paths()
    ensure_schema_stubs(paths)
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    day = date(2026, 10, 12)
    write_partition(paths, "shopify_orders", day, corrupt_shopify(good_rows("shopify_orders", day)))
    record_gate_results(validate_raw_partition("shopify_orders", day, paths, run_id="run-9", now=NOW), paths)
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
    write_parquet_atomic(
        pa.Table.from_pylist([bad], schema=qschema),
        quarantine_dir(paths, "shopify_orders") / f"ingest_date={day}" / "abc.parquet",
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
            "select table_name, row_number, reason, row_values from quality.quarantine_rows"
        ).fetchall()
    finally:
        con.close()
    names = [b[0] for b in blocking]
    assert "not_in_future(created_at)" in names and "range(total)" in names
    assert any("2099-01-01" in (b[1] or "") for b in blocking)
    assert ledger_rows == [("shopify_orders", 51, "loaded")]
    assert quarantined[0][:3] == ("shopify_orders", 7, "bad_money: total 'x' is not an amount")
    assert '"name":"#1"' in quarantined[0][3].replace(" ", "")
