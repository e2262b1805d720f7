"""Atomic Parquet writes straight from DuckDB.

Same guarantee as lake_layout.write_parquet_atomic (temporary name beside the target, fsync, rename, so
readers never see half a file) but DuckDB's COPY writes the rows itself: going through Arrow and
pyarrow costs a copy of every string and roughly doubled the ingestion time in bench/bench_ingestion.py.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import duckdb


def copy_parquet_atomic(con: duckdb.DuckDBPyConnection, select_sql: str, target: Path) -> int:
    """COPY the query's rows to `target` (zstd, like the rest of the lake); returns the row count."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # Not ending in .parquet: readers glob `*/*.parquet`, and DuckDB's `*` also matches dot files.
    tmp = target.parent / f".tmp-{uuid.uuid4().hex}.parquet.partial"
    try:
        quoted = str(tmp).replace("'", "''")
        rows = con.execute(f"COPY ({select_sql}) TO '{quoted}' (FORMAT parquet, COMPRESSION zstd)").fetchone()[0]
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return int(rows)
