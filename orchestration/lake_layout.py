"""Where files go in the lake, and the zero-row schema stubs that keep every dbt source resolvable.

Layout (all below OMNI_LAKE_DIR):
  raw/<table>/ingest_date=YYYY-MM-DD/<sha256>.parquet         rows that passed the row checks
  quarantine/<table>/ingest_date=YYYY-MM-DD/<sha256>.parquet  rejected rows + `_reason`, `_raw_line`
  ledger/<table>/ingest_date=YYYY-MM-DD/<sha256>-<ns>.parquet one row per ingestion attempt of a file
  marts/<relation>.parquet                                     published Parquet copies of the marts

A stub (`ingest_date=1970-01-01/schema_stub.parquet`, zero rows, every known column as VARCHAR) sits in
each raw and quarantine table folder and in the ledger, so a dbt source reads fine before its first
delivery and a file lacking an optional column still yields that column as NULL (union_by_name).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.config import Paths
from orchestration.sources import TABLES, Table, lake_columns

STUB_PARTITION = "ingest_date=1970-01-01"
STUB_NAME = "schema_stub.parquet"

METADATA_SCHEMA = [
    pa.field("_file_sha256", pa.string()),
    pa.field("_source_file", pa.string()),
    pa.field("_row_number", pa.int64()),
    pa.field("_landing_date", pa.date32()),
    pa.field("_ingested_at", pa.timestamp("us", tz="UTC")),
]
# `_raw_line`: the raw text of a malformed CSV row (no reliable columns); NULL for rows failing a check.
QUARANTINE_EXTRA = [pa.field("_reason", pa.string()), pa.field("_raw_line", pa.string())]

LEDGER_SCHEMA = pa.schema(
    [
        pa.field("table_name", pa.string()),
        pa.field("landing_date", pa.date32()),
        pa.field("source_file", pa.string()),  # path below the landing folder
        pa.field("file_sha256", pa.string()),
        pa.field("file_bytes", pa.int64()),
        pa.field("rows_read", pa.int64()),
        pa.field("rows_loaded", pa.int64()),
        pa.field("rows_quarantined", pa.int64()),
        # loaded | replaced (loaded, superseding an earlier version) | duplicate | stale | empty | failed;
        # failed with null row counts: an error of the ingestion, not of the file, tried again next run
        pa.field("status", pa.string()),
        pa.field("error", pa.string()),
        pa.field("replaces_sha256", pa.string()),
        pa.field("lake_file", pa.string()),
        pa.field("ingested_at", pa.timestamp("us", tz="UTC")),
        pa.field("run_id", pa.string()),
    ]
)


def raw_dir(paths: Paths, table: str) -> Path:
    return paths.raw / table


def raw_partition_files(paths: Paths, table: str, day: str) -> list[Path]:
    """The lake files of one raw partition (landing day)."""
    return sorted((raw_dir(paths, table) / f"ingest_date={day}").glob("*.parquet"))


def quarantine_dir(paths: Paths, table: str) -> Path:
    return paths.quarantine / table


def ledger_dir(paths: Paths, table: str) -> Path:
    return paths.ledger / table


def data_schema(table: Table, extra: list[pa.Field] | None = None) -> pa.Schema:
    fields = [pa.field(c, pa.string()) for c in lake_columns(table)]
    return pa.schema(fields + METADATA_SCHEMA + (extra or []))


def write_parquet_atomic(table: pa.Table, target: Path) -> None:
    """Write beside the target under a temporary name, fsync, then rename: readers never see half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet.partial", dir=target.parent)  # never matches *.parquet
    os.close(fd)
    try:
        pq.write_table(table, tmp, compression="zstd")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _ensure_stub(folder: Path, schema: pa.Schema) -> None:
    stub = folder / STUB_PARTITION / STUB_NAME
    if stub.exists() and pq.read_schema(stub).equals(schema):
        return
    write_parquet_atomic(schema.empty_table(), stub)


def ensure_schema_stubs(paths: Paths, tables: list[str] | None = None) -> None:
    """Idempotent; cheap enough to call at the start of every ingestion run."""
    for name in tables or list(TABLES):
        table = TABLES[name]
        _ensure_stub(raw_dir(paths, name), data_schema(table))
        _ensure_stub(quarantine_dir(paths, name), data_schema(table, QUARANTINE_EXTRA))
        _ensure_stub(ledger_dir(paths, name), LEDGER_SCHEMA)
