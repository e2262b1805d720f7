"""Landing folder -> Parquet lake, one landed file at a time, recorded in the ledger.

Order of writes (why a crash is always repairable by re-running): quarantine Parquet, then raw Parquet
(always written, even with zero rows, so its presence means "data complete"), then removal of the
version it replaces, then the ledger row. A re-run that finds the raw file of a (day, sha) without a
ledger row completes that file from the Parquet metadata instead of reading it again.
"""

from __future__ import annotations

import codecs
import datetime as dt
import fcntl
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from orchestration.config import Paths
from orchestration.ingestion.checks import failing_sql, plan_checks, reason_sql
from orchestration.ingestion.errors import FileRejected, IngestionError
from orchestration.ingestion.ledger import TableState, now_utc, retryable, write_attempt
from orchestration.ingestion.readers import (
    Scan,
    find_invalid_bytes,
    is_json_lines,
    load_file,
    remove_scratch,
    scan_file,
)
from orchestration.ingestion.writer import copy_parquet_atomic
from orchestration.lake_layout import (
    ensure_schema_stubs,
    ledger_dir,
    quarantine_dir,
    raw_dir,
)
from orchestration.sources import TABLES, Table

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
ORPHAN_AGE_SECONDS = 600  # a temp file this old belongs to no live writer


def landing_days(table: str, paths: Paths) -> list[dt.date]:
    """The YYYY-MM-DD folders present under landing/<table>/, oldest first."""
    folder = paths.landing / table
    if not folder.is_dir():
        return []
    days = []
    for p in folder.iterdir():
        if p.is_dir() and _DAY.fullmatch(p.name):
            try:
                days.append(dt.date.fromisoformat(p.name))
            except ValueError:
                continue
    return sorted(days)


@contextmanager
def table_lock(paths: Paths, table: str) -> Iterator[None]:
    """One writer per table across processes: parallel partition runs of a table queue here."""
    lock_dir = paths.lake / ".locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"{table}.lock", "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _remove_orphans(paths: Paths, table: str) -> None:
    cutoff = time.time() - ORPHAN_AGE_SECONDS
    for base in (raw_dir(paths, table), quarantine_dir(paths, table), ledger_dir(paths, table)):
        for tmp in base.glob("*/.tmp-*"):  # this module's `.parquet.partial` and lake_layout's `.parquet`
            try:
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
            except FileNotFoundError:
                pass


def landed_files(folder: Path) -> list[Path]:
    # Hidden and editor/upload temp files are not deliveries.
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~")))


def ingest_partition(table: str, day: dt.date, paths: Paths, run_id: str = "") -> list[dict]:
    """Ingest every file in landing/<table>/<day>/; returns the ledger rows written by this call."""
    if table not in TABLES:
        raise KeyError(f"unknown table {table!r}; known tables: {', '.join(TABLES)}")
    ensure_schema_stubs(paths, [table])
    folder = paths.landing / table / day.isoformat()
    if not folder.is_dir():
        return []
    files = landed_files(folder)
    if not files:
        return []
    written: list[dict] = []
    errors: list[Exception] = []
    with table_lock(paths, table):
        _remove_orphans(paths, table)
        state = TableState.load(paths, table)
        scratch = Path(tempfile.mkdtemp(prefix="omni-ingest-"))
        con = _connect()

        def ingest(path: Path, on_day: dt.date, force: bool = False) -> None:
            nonlocal con
            result = _ingest_file(con, state, TABLES[table], on_day, path, paths, run_id, scratch, force)
            if result is not None:
                row, ledger_file, error = result
                state.record(row, ledger_file)
                written.append(row)
                if error is not None:
                    errors.append(error)
                    con.close()  # it may be unusable after the error (out of memory, interrupted)
                    con = _connect()

        try:
            for path in files:
                ingest(path, day)
            # A replaced version may have been the loaded copy of duplicates (same bytes, other files): their
            # rows are in no lake file now, and re-runs would skip them. Load them (once per call).
            tried: set[str] = set()
            while orphans := [r for r in state.orphaned_duplicates() if r["source_file"] not in tried]:
                for dup in orphans:
                    tried.add(dup["source_file"])
                    landed = paths.landing / dup["source_file"]
                    if landed.is_file():
                        ingest(landed, dup["landing_date"], force=True)
                    else:
                        row, ledger_file = _record_vanished_duplicate(paths, dup, run_id)
                        state.record(row, ledger_file)
                        written.append(row)
        finally:
            con.close()
            shutil.rmtree(scratch, ignore_errors=True)
    if errors:
        # After the other files: fail the run so that it is retried (Dagster's retry policy).
        failed = "; ".join(r["error"] for r in written if retryable(r))
        raise IngestionError(f"{len(errors)} file(s) of {table} {day} not ingested: {failed}", written) from errors[0]
    return written


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def _targets(paths: Paths, table: str, day: dt.date, sha: str) -> tuple[Path, Path]:
    part = f"ingest_date={day.isoformat()}"
    return raw_dir(paths, table) / part / f"{sha}.parquet", quarantine_dir(paths, table) / part / f"{sha}.parquet"


def _ingest_file(
    con: duckdb.DuckDBPyConnection,
    state: TableState,
    table: Table,
    day: dt.date,
    path: Path,
    paths: Paths,
    run_id: str,
    scratch: Path,
    force: bool = False,
) -> tuple[dict, Path, Exception | None] | None:
    """None when the file was handled before (unless `force`); else its ledger row, written, and the error of
    the ingestion that stopped it (a bad file is not an error here: it is a `failed` row)."""
    source_file = f"{table.name}/{day.isoformat()}/{path.name}"
    row = {
        "table_name": table.name, "landing_date": day, "source_file": source_file,
        "file_sha256": None, "file_bytes": None, "rows_read": 0, "rows_loaded": 0,
        "rows_quarantined": 0, "status": None, "error": None, "replaces_sha256": None,
        "lake_file": None, "ingested_at": now_utc(), "run_id": run_id,
    }  # fmt: skip
    scan = None
    try:
        scan = scan_file(path, table.encoding, scratch)
        if not force and state.latest.get(source_file) == scan.sha256:
            return None  # this exact file was handled before: a re-run is a no-op
        row.update(file_sha256=scan.sha256, file_bytes=path.stat().st_size)
        _decide_and_load(con, state, table, day, path, paths, scan, row)
    except Exception as exc:  # recorded; ingest_partition raises it after the other files
        # NULL counts make the row retryable (ledger.retryable): the file is tried again by the next run.
        cause = (str(exc).strip().splitlines() or [""])[0]
        row.update(
            status="failed", rows_read=None, rows_loaded=None, rows_quarantined=None, lake_file=None,
            replaces_sha256=None,
            error=f"{source_file}: not ingested: {type(exc).__name__}: {cause}; nothing loaded. This is an error "
            "of the ingestion, not of the file: the next run tries the file again. Fix: run the ingestion "
            "again; if it fails the same way, report this message",
        )  # fmt: skip
        return row, write_attempt(paths, row), exc
    finally:
        if scan is not None:
            remove_scratch(scan, path)
    return row, write_attempt(paths, row), None


def _record_vanished_duplicate(paths: Paths, dup: dict, run_id: str) -> tuple[dict, Path]:
    row = {
        **dup, "status": "failed", "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0, "lake_file": None,
        "replaces_sha256": None, "ingested_at": now_utc(), "run_id": run_id,
        "error": f"{dup['source_file']}: its rows were loaded through another file with the same bytes, whose "
        "version was replaced since, and this file is no longer in landing: they are not in the lake. Fix: land "
        "the export again in a new day's folder",
    }  # fmt: skip
    return row, write_attempt(paths, row)


def _decide_and_load(
    con: duckdb.DuckDBPyConnection,
    state: TableState,
    table: Table,
    day: dt.date,
    path: Path,
    paths: Paths,
    scan: Scan,
    row: dict,
) -> None:
    source_file = row["source_file"]
    if scan.gzip_error:  # before anything else: the content hash and the blank test saw only part of it
        row.update(
            status="failed",
            error=f"{source_file}: {scan.gzip_error}; nothing loaded. Fix: land the complete file again "
            "(check it with `gzip -t`), compressed or not",
        )
        return
    if scan.blank:
        row["status"] = "empty"
        if is_json_lines(table, path):  # a JSON-lines export of a quiet day is legitimately empty
            row["error"] = f"{source_file}: no JSON lines ({scan.size} bytes); nothing to load"
        else:
            row["error"] = (
                f"{source_file}: the file is empty ({scan.size} bytes, not even a header). "
                "Fix: re-export from the source tool; a CSV export with no data still has its header row"
            )
        return
    first = state.loaded_copy(scan.sha256)
    prior = state.live_with_key(source_file, scan.sha256)
    if first is not None:
        row.update(
            status="duplicate",
            lake_file=first["lake_file"],
            error=f"{source_file}: same bytes as {first['source_file']}, already loaded; nothing written",
        )
        if prior is not None and prior["landing_date"] <= day:
            # The file's own earlier version goes, as for any re-delivery: its new bytes are in the lake
            # already (through the other file), so nothing is written, but the old rows must not stay. The
            # daily staging runs read such a duplicate as a replacement (staging_replacing_files).
            _remove_version(paths, table, prior)
            row["replaces_sha256"] = prior["file_sha256"]
            row["error"] += "; it replaces its own earlier version, whose rows left the lake"
        return
    if prior is not None and prior["landing_date"] > day:
        row["status"] = "stale"
        row["error"] = (
            f"{source_file}: an older delivery of {prior['source_file']} (landing day "
            f"{prior['landing_date']}), which stays loaded; nothing written. Fix: none needed; to change "
            "the data land a newer export"
        )
        return
    raw_target, quarantine_target = _targets(paths, table.name, day, scan.sha256)
    if raw_target.exists():
        # Crash recovery: the data files of this content were written but its ledger row was not.
        loaded = pq.read_metadata(raw_target).num_rows
        quarantined = pq.read_metadata(quarantine_target).num_rows if quarantine_target.exists() else 0
    elif scan.encoding_error:
        row.update(status="failed", error=_encoding_error(table, scan, source_file, scan.encoding_error))
        return
    else:
        try:
            loaded, quarantined = _load(con, table, day, path, scan, row, raw_target, quarantine_target)
        except FileRejected as exc:
            # DuckDB rejects invalid UTF-8 too; name the first bad byte rather than its parse error.
            bad = find_invalid_bytes(scan.utf8_path, "utf-8") if codecs.lookup(scan.encoding).name == "utf-8" else None
            row.update(status="failed", error=_encoding_error(table, scan, source_file, bad) if bad else str(exc))
            return
    row.update(
        rows_read=loaded + quarantined, rows_loaded=loaded, rows_quarantined=quarantined,
        lake_file=raw_target.relative_to(paths.lake).as_posix(), status="loaded",
    )  # fmt: skip
    assert row["rows_read"] == row["rows_loaded"] + row["rows_quarantined"]
    if prior is not None:
        _remove_version(paths, table, prior)
        row.update(status="replaced", replaces_sha256=prior["file_sha256"])
        if not row["rows_read"] and prior["rows_read"]:
            # Allowed (an export can legitimately empty), but a cut or failed export looks the same.
            row["error"] = (
                f"{source_file}: warning: this re-delivery has no rows, so the {prior['rows_read']} row(s) of the "
                "version it replaces left the lake. Fix: if the export was cut or failed, land the complete file again"
            )


def _remove_version(paths: Paths, table: Table, version: dict) -> None:
    old_raw, old_quarantine = _targets(paths, table.name, version["landing_date"], version["file_sha256"])
    old_raw.unlink(missing_ok=True)
    old_quarantine.unlink(missing_ok=True)


def _encoding_error(table: Table, scan: Scan, source_file: str, cause: str) -> str:
    if scan.encoding != table.encoding:  # read as UTF-8 because of its BOM
        return (
            f"{source_file}: {cause} (the file starts with a UTF-8 byte order mark, so it is read as UTF-8). "
            f"Fix: re-export the file as UTF-8, or as {table.encoding} without the mark, and land it again"
        )
    return (
        f"{source_file}: {cause}, the declared encoding of {table.name}. Fix: re-export the file as "
        f"{table.encoding} (or convert it, e.g. iconv -f <its encoding> -t {table.encoding}) and land it again"
    )


def _load(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    day: dt.date,
    path: Path,
    scan: Scan,
    row: dict,
    raw_target: Path,
    quarantine_target: Path,
) -> tuple[int, int]:
    """Read, check and write one file; returns (rows loaded, rows quarantined)."""
    names, malformed_rows = load_file(con, table, scan, path, row["source_file"])
    plan = plan_checks(table.name, names, day)
    source = row["source_file"].replace("'", "''")
    rows_from, row_number = "src", "src.__rowid + 1"  # __rowid: see readers (not DuckDB's rowid)
    if malformed_rows:
        # `src` lacks the malformed rows: a good row's data row number is its __rowid + 1 plus the malformed
        # rows before it. g = good rows before a malformed row; the last g <= __rowid gives their count.
        con.execute(
            "CREATE OR REPLACE TEMP TABLE row_shift AS SELECT g, max(j) AS j FROM (SELECT "
            "__row_number - row_number() OVER (ORDER BY __row_number) AS g, "
            "row_number() OVER (ORDER BY __row_number) AS j FROM malformed) GROUP BY g"
        )
        rows_from = "src ASOF LEFT JOIN row_shift ON src.__rowid >= row_shift.g"
        row_number = "src.__rowid + 1 + coalesce(row_shift.j, 0)"

    def meta_for(number: str) -> str:
        return (
            f"'{scan.sha256}' AS _file_sha256, '{source}' AS _source_file, ({number})::BIGINT AS _row_number, "
            f"DATE '{day.isoformat()}' AS _landing_date, TIMESTAMPTZ '{row['ingested_at'].isoformat()}' AS _ingested_at"
        )

    meta = meta_for(row_number)
    data = "src.* EXCLUDE (__rowid)"
    # One scan evaluates the checks and keeps only the failing rows' (__rowid, reason): passing rows are
    # never copied inside DuckDB, let alone through Python.
    helpers = "".join(", " + h for h in plan.helpers)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE bad AS SELECT __rowid, {reason_sql(plan)} AS _reason "
        f"FROM (SELECT *{helpers} FROM src) WHERE {failing_sql(plan)}"
    )
    if table.name == "shopify_orders" and "name" in names:
        # An order's order-level fields (time, e-mail, total) are on its first row only: with that row
        # quarantined (or malformed, so its next row comes first), its other rows would make staging an
        # order without them (a null time fails the build's tests). They are quarantined with it.
        con.execute(
            """INSERT INTO bad SELECT s.__rowid, 'order_incomplete: the first row of order ' || s."name"
                || ' was quarantined or malformed; its rows are kept together'
            FROM src AS s JOIN (SELECT "name", min(__rowid) AS first_row FROM src GROUP BY "name") AS o
                ON s."name" = o."name"
            WHERE o.first_row IN (SELECT __rowid FROM bad) AND s.__rowid NOT IN (SELECT __rowid FROM bad)"""
        )
    try:
        (failed,) = con.execute("SELECT count(*) FROM bad").fetchone()
        quarantined = failed + malformed_rows
        if quarantined:
            select = f"SELECT {data}, {meta}, bad._reason FROM {rows_from} JOIN bad ON src.__rowid = bad.__rowid"
            if malformed_rows:
                # A malformed row has no reliable columns: its raw text is kept instead (data columns NULL).
                select += f" UNION ALL BY NAME SELECT {meta_for('__row_number')}, _reason, _raw_line FROM malformed"
            copy_parquet_atomic(con, f"{select} ORDER BY _row_number", quarantine_target)
            keep = "WHERE src.__rowid NOT IN (SELECT __rowid FROM bad)" if failed else ""
        else:
            quarantine_target.unlink(missing_ok=True)
            keep = ""
        # Raw last and always (even with zero rows): its presence marks the file's data as complete.
        order = " ORDER BY src.__rowid" if malformed_rows else ""  # the ASOF join does not keep file order
        loaded = copy_parquet_atomic(con, f"SELECT {data}, {meta} FROM {rows_from} {keep}{order}", raw_target)
    finally:
        for temp in ("bad", "src", "row_shift", "malformed") if malformed_rows else ("bad", "src"):
            con.execute(f"DROP TABLE IF EXISTS {temp}")
    return loaded, quarantined
