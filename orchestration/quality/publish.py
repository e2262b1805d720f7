"""Write-audit-publish: the build database is audited, then copied whole into a new serving file.

BI tools open the serving file read-only. It is never written in place: a new file is built beside
it and renamed over it (atomic on POSIX), so a reader keeps the version it opened (its inode) and the
next reader sees the complete new one. A failed gate or a killed publish leaves the old file intact.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.config import Paths
from orchestration.duckdb_files import wal_of
from orchestration.lake_layout import raw_partition_files
from orchestration.quality.data_docs import try_build_data_docs
from orchestration.quality.results import (
    CRITICAL,
    GateResult,
    blocking,
    describe_failures,
    read_gate_results,
    record_gate_results,
)
from orchestration.quality.runner import validate_marts
from orchestration.quality.suites import mart_suites

PUBLIC_SCHEMAS = ("identity", "customers", "journeys", "quality")
TMP_MARK = ".publishing-"


class PublishBlocked(RuntimeError):
    """Raised when a gate fails; the previous serving file stays in place."""

    def __init__(self, message: str, results: list[GateResult]):
        super().__init__(message)
        self.results = results


def _tmp_prefix(serving: Path) -> str:
    return f".{serving.name}{TMP_MARK}"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def dbt_test_failures(run_results: Path) -> list[GateResult]:
    """Failed or errored dbt tests in a run_results.json, as critical gate results."""
    data = json.loads(Path(run_results).read_text())
    out = []
    for r in data.get("results", []):
        uid = r.get("unique_id", "")
        if not uid.startswith(("test.", "unit_test.")) or r.get("status") in ("pass", "success", "skipped"):
            continue
        severity = "warning" if r.get("status") == "warn" else CRITICAL
        out.append(
            GateResult(
                run_id="",
                asset="dbt",
                suite="dbt_tests",
                expectation=uid,
                severity=severity,
                success=False,
                observed_value=f"{r.get('status')}: {r.get('failures')} failing rows",
                error=(r.get("message") or None),
            )
        )
    return out


def _relations(con: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[str, str]]:
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = ? and table_schema in (select unnest(?)) order by 1, 2",
        [catalog, list(PUBLIC_SCHEMAS)],
    ).fetchall()
    return [(s, t) for s, t in rows]


def _write_new_serving(build: Path, tmp: Path) -> list[str]:
    """Copy every public relation (views become tables: BI needs no access to the build file)."""
    # Attached under the name dbt gives the build database (its file stem), so views that dbt wrote
    # with fully qualified references still resolve.
    alias = build.stem.replace('"', "")
    con = duckdb.connect(str(tmp))
    try:
        con.execute(f"attach '{build}' as \"{alias}\" (read_only)")
        rels = _relations(con, alias)
        for schema in sorted({s for s, _ in rels}):
            con.execute(f'create schema if not exists "{schema}"')
        for schema, name in rels:
            con.execute(f'create table "{schema}"."{name}" as select * from "{alias}"."{schema}"."{name}"')
        con.execute(f'detach "{alias}"')
        con.execute("checkpoint")
    finally:
        con.close()
    _fsync_file(tmp)
    return [f"{s}.{n}" for s, n in rels]


def _write_parquet_copies(serving: Path, relations: list[str], marts_dir: Path) -> list[str]:
    """One Parquet file per mart from the published file, each written beside its target and renamed."""
    marts_dir.mkdir(parents=True, exist_ok=True)
    written = []
    con = duckdb.connect(str(serving), read_only=True)
    try:
        for rel in relations:
            target = marts_dir / f"{rel}.parquet"
            tmp = marts_dir / f".tmp-{rel}-{uuid.uuid4().hex}.parquet"
            try:
                schema, name = rel.split(".", 1)
                con.execute(f'copy "{schema}"."{name}" to \'{tmp}\' (format parquet, compression zstd)')
                _fsync_file(tmp)
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
            written.append(str(target))
    finally:
        con.close()
    _fsync_dir(marts_dir)
    return written


def _clean_stale(serving: Path) -> list[str]:
    """Leftovers of killed publishes (only called under the publish lock, so none is in progress)."""
    removed = []
    for p in serving.parent.glob(_tmp_prefix(serving) + "*"):
        p.unlink(missing_ok=True)
        removed.append(p.name)
    return removed


def _raw_partition_has_files(paths: Paths, result: GateResult) -> bool:
    return bool(raw_partition_files(paths, result.raw_table, result.partition_key))


def audit(
    paths: Paths, run_id: str, dbt_run_results: Path | None = None, *, reuse_mart_results: bool = False
) -> list[GateResult]:
    """Everything that decides a publish: the latest raw partition gates, mart suites, dbt tests.

    With reuse_mart_results, the mart suites already validated in this run (the Dagster mart checks,
    recorded under the same run_id) are taken as recorded, not validated and recorded a second time;
    marts without a result in this run are validated now.
    """
    # The latest gate of every raw partition, from whichever run checked it (ingestion runs apart from
    # the build): a bad day blocks until it is re-delivered and passes, or until its files were all
    # replaced by a later day's delivery (a GA4 day rewritten by name), which leaves it nothing to judge.
    earlier = [r for r in read_gate_results(paths, latest_raw=True) if _raw_partition_has_files(paths, r)]
    suites = mart_suites()
    reused = [r for r in read_gate_results(paths, run_id=run_id) if r.asset in suites] if reuse_mart_results else []
    done = {r.asset for r in reused}
    todo = [rel for rel in suites if rel not in done]
    marts = validate_marts(paths, run_id, relations=todo) if todo else []
    record_gate_results(marts, paths)
    dbt = []
    if dbt_run_results is not None:
        dbt = [GateResult(**{**r.__dict__, "run_id": run_id}) for r in dbt_test_failures(dbt_run_results)]
        record_gate_results(dbt, paths)
    return earlier + reused + marts + dbt


def publish(
    paths: Paths,
    run_id: str,
    dbt_run_results: Path | None = None,
    *,
    raise_on_block: bool = True,
    build_docs: bool = True,
    reuse_mart_results: bool = False,
) -> dict:
    """Audit, then atomically replace the serving database and the Parquet copies of the marts.

    Blocks (raises PublishBlocked, or returns status "blocked" with raise_on_block=False) when a critical
    expectation failed: in the latest recorded gate of any raw partition (any run), in the mart suites run
    now (or, with reuse_mart_results, already in this run by the Dagster mart checks), or in the dbt tests
    of dbt_run_results (the run_results.json of the dbt build that just ran).
    """
    build, serving = Path(paths.warehouse), Path(paths.serving)
    started = datetime.now(UTC)
    results = audit(paths, run_id, dbt_run_results, reuse_mart_results=reuse_mart_results)
    failed = blocking(results)
    summary = {
        "run_id": run_id,
        "expectations": len(results),
        "failed_critical": len(failed),
        "failed_warning": sum(1 for r in results if not r.success and r.severity != CRITICAL),
        "serving_path": str(serving),
    }
    summary["data_docs"] = try_build_data_docs(paths) if build_docs else None
    if failed:
        message = "publish blocked, serving keeps the previous version.\n" + describe_failures(results)
        days = sorted({r.partition_key for r in failed if r.raw_table and r.partition_key})
        if days:
            message += (
                "\nA raw partition is judged by its latest validation: land a fixed export of "
                + ", ".join(days)
                + " and run `omni day <day>` for each, which validates it again."
            )
        if raise_on_block:
            raise PublishBlocked(message, results)
        return {**summary, "status": "blocked", "message": message}

    serving.parent.mkdir(parents=True, exist_ok=True)
    lock_path = serving.parent / f".{serving.name}.lock"
    with open(lock_path, "w") as lock:
        # One publish at a time; a killed holder releases the lock with its process.
        fcntl.flock(lock, fcntl.LOCK_EX)
        stale = _clean_stale(serving)
        for p in paths.marts_parquet.glob(".tmp-*.parquet"):
            p.unlink(missing_ok=True)
        tmp = serving.parent / f"{_tmp_prefix(serving)}{run_id}-{os.getpid()}.duckdb"
        try:
            relations = _write_new_serving(build, tmp)
            # a log left by a read-write open of the old file must not be replayed onto the new one
            wal_of(serving).unlink(missing_ok=True)
            os.replace(tmp, serving)
            _fsync_dir(serving.parent)
        except BaseException:
            tmp.unlink(missing_ok=True)
            wal_of(tmp).unlink(missing_ok=True)
            raise
        parquet = _write_parquet_copies(serving, relations, paths.marts_parquet)
    return {
        **summary,
        "status": "published",
        "relations": relations,
        "parquet_files": parquet,
        "removed_stale_temp_files": stale,
        "seconds": round((datetime.now(UTC) - started).total_seconds(), 3),
    }
