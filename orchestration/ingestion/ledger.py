"""The ingestion ledger: one Parquet row per attempt, and the state derived from it.

The ledger is the only memory of ingestion: which bytes were loaded (idempotence), which version of a
file is live (replacement), and what failed. It is append-only; the state is a replay in time order.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.config import Paths
from orchestration.lake_layout import LEDGER_SCHEMA, STUB_NAME, ledger_dir, write_parquet_atomic
from orchestration.sources import TABLES

LIVE = ("loaded", "replaced")


def ledger_files(paths: Paths, table: str) -> set[str]:
    """The table's ledger Parquet files, without the schema stub and without `.tmp-` files being written
    at this moment by an atomic write (a glob's `*` matches those too)."""
    folder = ledger_dir(paths, table)
    return {
        str(f) for f in folder.glob("ingest_date=*/*.parquet") if f.name != STUB_NAME and not f.name.startswith(".")
    }


def read_attempts(paths: Paths, tables: list[str] | None = None) -> pa.Table:
    """Every ledger row of the given tables (all by default), oldest first."""
    globs = sorted(f for t in (tables or list(TABLES)) for f in ledger_files(paths, t))
    if not globs:
        return LEDGER_SCHEMA.empty_table()
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        result = con.sql(
            "SELECT * FROM read_parquet($globs, hive_partitioning = false, union_by_name = true) "
            "ORDER BY ingested_at, table_name, source_file",
            params={"globs": globs},
        ).to_arrow_table()
    finally:
        con.close()
    return result.select(LEDGER_SCHEMA.names).cast(LEDGER_SCHEMA)


def latest_attempts(
    paths: Paths, tables: list[str] | None = None, *, run_id: str | None = None, skip_retryable: bool = False
) -> dict[str, dict]:
    """source_file -> its latest ledger row: among one run's rows with run_id; leaving out the errors of
    the ingestion (retryable) with skip_retryable."""
    latest = {}
    for row in read_attempts(paths, tables).to_pylist():  # oldest first: the latest stays
        if (run_id is None or row["run_id"] == run_id) and not (skip_retryable and retryable(row)):
            latest[row["source_file"]] = row
    return latest


def _read_files(files: list[str]) -> list[dict]:
    """Ledger rows of the given files, oldest first; pyarrow for a few, DuckDB (parallel) for many."""
    if not files:
        return []
    if len(files) <= 32:
        tables = [pq.read_table(f).select(LEDGER_SCHEMA.names).cast(LEDGER_SCHEMA) for f in files]
        rows = pa.concat_tables(tables).to_pylist()
    else:
        con = duckdb.connect()
        try:
            con.execute("SET TimeZone = 'UTC'")
            result = con.sql(
                "SELECT * FROM read_parquet($files, hive_partitioning = false, union_by_name = true)",
                params={"files": files},
            ).to_arrow_table()
        finally:
            con.close()
        rows = result.select(LEDGER_SCHEMA.names).cast(LEDGER_SCHEMA).to_pylist()
    return sorted(rows, key=lambda r: (r["ingested_at"], r["source_file"]))


def write_attempt(paths: Paths, row: dict) -> Path:
    table = pa.Table.from_pylist([row], schema=LEDGER_SCHEMA)
    name = f"{row['file_sha256'] or 'unhashed'}-{time.time_ns()}.parquet"  # unhashed: the file could not be read
    target = ledger_dir(paths, row["table_name"]) / f"ingest_date={row['landing_date']}" / name
    write_parquet_atomic(table, target)
    return target


def retryable(row: dict) -> bool:
    """A `failed` attempt that ended on an error of the ingestion (out of memory, I/O, a bug), not of the
    file: its rows_read is unknown (NULL). It does not count as handled: the next run tries the file again."""
    return row["status"] == "failed" and row["rows_read"] is None


def replaces(row: dict) -> bool:
    """Whether the attempt superseded an earlier version of its file (replaces_sha256): a `replaced` file, or
    a `duplicate` whose new bytes another live file already held (nothing written, the old version gone)."""
    return row["status"] in ("replaced", "duplicate") and bool(row["replaces_sha256"])


def replace_key(table_name: str, source_file: str) -> tuple:
    """What identifies "the same file, changed": (day, name) or the name alone (Table.replace_by)."""
    _, day, name = source_file.split("/", 2)
    return (name,) if TABLES[table_name].replace_by == "name" else (day, name)


@dataclass
class TableState:
    """Replay of one table's attempts: what has been tried and which version of each file is live."""

    table_name: str
    # source_file -> sha of its latest attempt: the same bytes at the same path again is a no-op, but
    # a path whose bytes went back to an earlier version is handled again (that version is no longer live).
    latest: dict[str, str] = field(default_factory=dict)
    live: dict[tuple[str, str], dict] = field(default_factory=dict)  # (sha, source_file) -> ledger row
    # source_file -> its latest attempt, when that is a `duplicate` (its rows are in the lake via another file)
    duplicates: dict[str, dict] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)  # ledger files already replayed

    @classmethod
    def load(cls, paths: Paths, table_name: str) -> TableState:
        """The table's state, replaying only ledger files this process has not seen (call under the
        table lock). Re-reading the whole ledger cost ~0.1 s per partition and grows with history."""
        folder = ledger_dir(paths, table_name)
        files = ledger_files(paths, table_name)
        state = _STATES.get(str(folder))
        if state is None or not state.seen <= files:  # first use, or ledger files were removed
            state = cls(table_name)
        for row in _read_files(sorted(files - state.seen)):
            state.apply(row)
        state.seen = files
        _STATES[str(folder)] = state
        return state

    def record(self, row: dict, ledger_file: Path) -> None:
        """Apply a row this process just wrote, so the next load does not replay it again."""
        self.apply(row)
        self.seen.add(str(ledger_file))

    def apply(self, row: dict) -> None:
        if retryable(row):
            return
        self.latest[row["source_file"]] = row["file_sha256"]
        if row["status"] == "duplicate":
            self.duplicates[row["source_file"]] = row
        else:
            self.duplicates.pop(row["source_file"], None)
        if replaces(row):
            key = replace_key(self.table_name, row["source_file"])
            for k, old in list(self.live.items()):
                if k[0] == row["replaces_sha256"] and replace_key(self.table_name, old["source_file"]) == key:
                    del self.live[k]
        if row["status"] in LIVE:
            self.live[(row["file_sha256"], row["source_file"])] = row

    def loaded_copy(self, sha: str) -> dict | None:
        """The live file with these bytes and at least one row. Header-only files are not deduplicated:
        every empty day of a tool repeats the same header, and "duplicate" would misreport those days."""
        for (other_sha, _), row in self.live.items():
            if other_sha == sha and row["rows_read"]:
                return row
        return None

    def orphaned_duplicates(self) -> list[dict]:
        """Duplicates whose rows the lake no longer holds: the copy they matched was replaced since, and no
        later version of their own file (same replace key) superseded them. They must be loaded."""
        with_rows = {sha for (sha, _), row in self.live.items() if row["rows_read"]}
        newest: dict[tuple, dt.datetime] = {}  # replace key -> when its live version was ingested
        for (_, other_file), row in self.live.items():
            key = replace_key(self.table_name, other_file)
            newest[key] = max(newest.get(key, row["ingested_at"]), row["ingested_at"])
        orphans = []
        for source_file, dup in self.duplicates.items():
            superseded = newest.get(replace_key(self.table_name, source_file))
            if dup["file_sha256"] not in with_rows and not (superseded and superseded > dup["ingested_at"]):
                orphans.append(dup)
        return sorted(orphans, key=lambda r: (r["ingested_at"], r["source_file"]))

    def live_with_key(self, source_file: str, sha: str) -> dict | None:
        key = replace_key(self.table_name, source_file)
        for (other_sha, other_file), row in self.live.items():
            if other_sha != sha and replace_key(self.table_name, other_file) == key:
                return row
        return None


_STATES: dict[str, TableState] = {}  # ledger folder -> replayed state, per process


def ledger_frame(paths: Paths) -> pa.Table:
    """Latest attempt per (table, file path, content), plus `superseded_by` for replaced versions."""
    attempts = read_attempts(paths)
    latest: dict[tuple, dict] = {}
    superseded: dict[tuple, str] = {}
    last_try: dict[tuple, object] = {}
    for row in attempts.to_pylist():
        table, sha = row["table_name"], row["file_sha256"]
        key = replace_key(table, row["source_file"])
        latest[(table, row["source_file"], sha)] = row
        last_try[(table, row["source_file"])] = row["ingested_at"]  # attempts come oldest first
        if replaces(row):
            superseded[(table, row["replaces_sha256"], key)] = sha
        if row["status"] in LIVE:
            superseded.pop((table, sha, key), None)
    rows = []
    for row in latest.values():
        if retryable(row) and row["ingested_at"] < last_try[(row["table_name"], row["source_file"])]:
            continue  # an error of the ingestion that a later attempt of the same file got past
        key = (row["table_name"], row["file_sha256"], replace_key(row["table_name"], row["source_file"]))
        rows.append({**row, "superseded_by": superseded.get(key) if row["status"] in LIVE else None})
    schema = LEDGER_SCHEMA.append(pa.field("superseded_by", pa.string()))
    return pa.Table.from_pylist(rows, schema=schema)


def summarise(paths: Paths) -> list[dict]:
    """Per table: files seen, rows of the live versions, and how many files failed or were skipped."""
    frame = ledger_frame(paths).to_pylist()
    out = []
    for name in TABLES:
        rows = [r for r in frame if r["table_name"] == name]
        live = [r for r in rows if r["status"] in LIVE and not r["superseded_by"]]
        out.append(
            {
                "table": name,
                "files": len({(r["source_file"], r["file_sha256"]) for r in rows}),
                "live_files": len(live),
                "rows_read": sum(r["rows_read"] or 0 for r in live),
                "rows_loaded": sum(r["rows_loaded"] or 0 for r in live),
                "rows_quarantined": sum(r["rows_quarantined"] or 0 for r in live),
                "failed_files": sum(r["status"] == "failed" for r in rows),
                "empty_files": sum(r["status"] == "empty" for r in rows),
                "duplicate_files": sum(r["status"] == "duplicate" for r in rows),
                "stale_files": sum(r["status"] == "stale" for r in rows),
                "last_landing_date": max((r["landing_date"] for r in rows), default=None),
            }
        )
    return out


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
