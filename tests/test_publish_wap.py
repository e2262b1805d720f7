"""Write-audit-publish: a failed gate keeps the old serving file; readers and killed publishes are safe."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.config import REPO_ROOT, get_paths
from orchestration.duckdb_files import wal_of
from orchestration.lake_layout import ensure_schema_stubs
from orchestration.quality import record_gate_results
from orchestration.quality.publish import PublishBlocked, publish
from orchestration.quality.results import read_gate_results
from orchestration.quality.runner import validate_raw_partition
from tests.test_quality_lake import NOW, corrupt_shopify, good_rows, write_partition


def build_warehouse(path: Path, version: int, persons: int = 20, future: bool = False) -> None:
    """A small build database shaped like the public marts (what dbt would have written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        for schema in ("identity", "customers", "journeys", "quality", "staging"):
            con.execute(f"create schema {schema}")
        con.execute(
            f"create table customers.customer_profiles as select 'p' || i as person_id, {version} as version, "
            "i % 11 as latest_nps_score, 0.5 as clv_probability_alive, 0.2 as email_open_rate_90d, "
            "i % 3 as total_orders, 2 as identifier_count, 'loyal' as rfm_segment, 'active' as lifecycle_stage, "
            "cast(i * 10 as decimal(18, 2)) as total_revenue, timestamp '2026-10-09' as last_seen_at "
            f"from range({persons}) t(i)"
        )
        when = "timestamp '2099-01-01'" if future else "timestamp '2026-10-10' + to_minutes(i)"
        con.execute(
            "create table journeys.activities as select 'a' || i as activity_id, 'p' || (i % "
            f"{persons}) as person_id, {when} as occurred_at, 'page_view' as activity, 'web' as channel, "
            "i % 4 <> 0 as is_known_person from range(200) t(i)"
        )
        con.execute(
            "create table identity.person_identifiers as select 'p' || i as person_id, 'email' as "
            "identifier_type, 'x' || i || '@example.com' as identifier_value, md5('x' || i) as "
            "identifier_hash, timestamp '2026-10-01' as first_seen_at, timestamp '2026-10-09' as last_seen_at, "
            "'loyalty_members' as sources, false as is_blocked from range(" + str(persons) + ") t(i)"
        )
        # dbt-duckdb qualifies references with the database name (the file stem)
        con.execute(
            "create view journeys.web_activities as select * from build.journeys.activities where channel = 'web'"
        )
        con.execute("create table staging.not_public as select 1 as x")
    finally:
        con.close()


def serving_version(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select max(version) from customers.customer_profiles").fetchone()[0]
    finally:
        con.close()


@pytest.fixture
def paths(data_dir):
    p = get_paths()
    ensure_schema_stubs(p)
    return p


def test_publish_copies_public_schemas_and_parquet(paths):
    build_warehouse(paths.warehouse, 1)
    out = publish(paths, "run-1", build_docs=False)
    assert out["status"] == "published"
    assert set(out["relations"]) == {
        "customers.customer_profiles",
        "journeys.activities",
        "journeys.web_activities",
        "identity.person_identifiers",
    }
    assert serving_version(paths.serving) == 1
    con = duckdb.connect(str(paths.serving), read_only=True)
    try:
        kinds = dict(con.execute("select table_name, table_type from information_schema.tables").fetchall())
    finally:
        con.close()
    assert kinds["web_activities"] == "BASE TABLE"  # a view would need the build file
    assert "not_public" not in kinds
    pq = paths.marts_parquet / "journeys.activities.parquet"
    assert duckdb.sql(f"select count(*) from '{pq}'").fetchall()[0][0] == 200
    assert not [p for p in paths.serving.parent.iterdir() if ".publishing-" in p.name]

    build_warehouse(paths.warehouse, 2)
    out = publish(paths, "run-2")
    assert out["data_docs"].endswith("index.html")
    assert serving_version(paths.serving) == 2


def test_corrupted_day_blocks_publish_and_keeps_previous_version(paths):
    build_warehouse(paths.warehouse, 1)
    publish(paths, "run-1", build_docs=False)

    day = date(2026, 10, 12)
    write_partition(paths, "shopify_orders", day, corrupt_shopify(good_rows("shopify_orders", day)))
    # Checked by the ingestion run; the build-and-publish run is another one.
    record_gate_results(validate_raw_partition("shopify_orders", day, paths, run_id="ingest-2", now=NOW), paths)
    build_warehouse(paths.warehouse, 2, future=True)  # the bad day reached the marts too

    with pytest.raises(PublishBlocked) as exc:
        publish(paths, "run-2")
    message = str(exc.value)
    assert "suite raw.shopify_orders" in message and "email_present_on_order_rows" in message
    assert "suite journeys.activities" in message and "not_in_future(occurred_at)" in message
    assert serving_version(paths.serving) == 1

    recorded = read_gate_results(paths, "ingest-2") + read_gate_results(paths, "run-2")
    failed = {(r.suite, r.expectation) for r in recorded if not r.success and r.severity == "critical"}
    assert ("raw.shopify_orders", "range(total)") in failed
    assert ("journeys.activities", "not_in_future(occurred_at)") in failed

    # Data Docs were rebuilt for this run, failures included.
    docs = paths.data / "quality" / "data_docs"
    assert "raw.shopify_orders" in (docs / "index.html").read_text()
    pages = list((docs / "validations" / "raw" / "shopify_orders" / "ingest-2").rglob("*.html"))
    assert pages and "not_in_future" not in pages[0].name  # one page per validated batch
    page = pages[0].read_text()
    assert "raw.shopify_orders" in page and "created_at__epoch" in page and "Failed" in page

    # Same outcome without raising, for callers that report rather than fail.
    out = publish(paths, "run-2", raise_on_block=False, build_docs=False)
    assert out["status"] == "blocked" and out["failed_critical"] > 0
    assert serving_version(paths.serving) == 1


def test_a_bad_day_blocks_until_it_is_redelivered_and_passes(paths):
    day = date(2026, 10, 12)
    write_partition(paths, "shopify_orders", day, corrupt_shopify(good_rows("shopify_orders", day)))
    record_gate_results(validate_raw_partition("shopify_orders", day, paths, run_id="ingest-1", now=NOW), paths)
    build_warehouse(paths.warehouse, 1)
    with pytest.raises(PublishBlocked, match="raw.shopify_orders"):
        publish(paths, "run-1", build_docs=False)
    # Re-ingestion replaces the partition's files; its check passes and the next publish goes through.
    for f in (paths.raw / "shopify_orders" / f"ingest_date={day}").glob("*.parquet"):
        f.unlink()
    write_partition(paths, "shopify_orders", day, good_rows("shopify_orders", day))
    record_gate_results(validate_raw_partition("shopify_orders", day, paths, run_id="ingest-2", now=NOW), paths)
    assert publish(paths, "run-2", build_docs=False)["status"] == "published"


def test_a_bad_day_whose_files_were_all_replaced_by_a_later_day_no_longer_blocks(paths):
    day = date(2026, 10, 12)
    write_partition(paths, "shopify_orders", day, corrupt_shopify(good_rows("shopify_orders", day)))
    record_gate_results(validate_raw_partition("shopify_orders", day, paths, run_id="ingest-1", now=NOW), paths)
    build_warehouse(paths.warehouse, 1)
    with pytest.raises(PublishBlocked, match=f"land a fixed export of {day}.*omni day"):
        publish(paths, "run-1", build_docs=False)
    # a corrected version landed under a later day replaced the day's files (GA4 rewrites by name): the
    # day holds nothing its failed gate judged, and is never validated again
    for f in (paths.raw / "shopify_orders" / f"ingest_date={day}").glob("*.parquet"):
        f.unlink()
    assert publish(paths, "run-2", build_docs=False)["status"] == "published"


def test_referential_integrity_to_profiles_blocks(paths):
    build_warehouse(paths.warehouse, 1)
    con = duckdb.connect(str(paths.warehouse))
    con.execute("delete from customers.customer_profiles where person_id = 'p3'")
    con.close()
    with pytest.raises(PublishBlocked, match=r"references_customer_profiles\(person_id\)"):
        publish(paths, "run-1", build_docs=False)
    assert not paths.serving.exists()


def test_failed_dbt_tests_block(paths, tmp_path):
    build_warehouse(paths.warehouse, 1)
    rr = tmp_path / "run_results.json"
    rr.write_text(
        '{"results": [{"unique_id": "test.omni.unique_customer_profiles_person_id.1", "status": "fail",'
        ' "failures": 3, "message": "Got 3 results"}, {"unique_id": "model.omni.x", "status": "success"}]}'
    )
    with pytest.raises(PublishBlocked, match="unique_customer_profiles_person_id"):
        publish(paths, "run-1", dbt_run_results=rr, build_docs=False)


READER = textwrap.dedent(
    """
    import sys, time, duckdb
    from pathlib import Path
    con = duckdb.connect(sys.argv[1], read_only=True)
    stop = Path(sys.argv[2])
    while not stop.exists():
        v = con.execute("select max(version), count(*) from customers.customer_profiles").fetchone()
        print(v[0], v[1], flush=True)
        time.sleep(0.02)
    con.close()
    """
)


def test_reader_holding_serving_is_not_blocked_nor_shown_partial(paths, tmp_path):
    build_warehouse(paths.warehouse, 1)
    publish(paths, "run-1", build_docs=False)
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(paths.serving), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().split() == ["1", "20"]  # the reader holds the file open
        build_warehouse(paths.warehouse, 2, persons=30)
        out = publish(paths, "run-2", build_docs=False)
        assert out["status"] == "published"
        assert serving_version(paths.serving) == 2  # a new reader sees the new version
        after = [reader.stdout.readline() for _ in range(10)]  # the old reader still answers
        stop.touch()
        stdout, stderr = reader.communicate(timeout=30)
        stdout = "".join(after) + stdout
    finally:
        if reader.poll() is None:
            reader.kill()
    assert reader.returncode == 0, stderr
    lines = stdout.split("\n")
    assert len([line for line in lines if line]) >= 10, "the reader kept querying after the publish"
    assert set(line for line in lines if line) == {"1 20"}  # its snapshot, never a partial new one


KILLED_PUBLISH = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from orchestration.config import get_paths
    import orchestration.quality.publish as pub
    point, marker = sys.argv[1], Path(sys.argv[2])
    pub.audit = lambda *a, **k: []  # the gates are tested elsewhere; this is about the file swap

    def pause():
        marker.write_text("paused")
        time.sleep(120)

    if point == "while_copying":
        real = pub._relations
        def _relations(con, catalog):
            rels = real(con, catalog)
            con.execute('create schema if not exists customers')
            con.execute('create table customers.customer_profiles as select * from build.customers.customer_profiles')
            pause()
            return rels
        pub._relations = _relations
    else:
        real_fsync = pub._fsync_file
        def _fsync_file(path):
            real_fsync(path)
            if ".publishing-" in Path(path).name:
                pause()
        pub._fsync_file = _fsync_file
    pub.publish(get_paths(), "run-killed")
    """
)


@pytest.mark.parametrize("point", ["while_copying", "before_rename"])
def test_publish_killed_halfway_leaves_serving_intact(paths, tmp_path, point):
    build_warehouse(paths.warehouse, 1)
    publish(paths, "run-1", build_docs=False)
    before = paths.serving.read_bytes()
    build_warehouse(paths.warehouse, 2)
    marker = tmp_path / "paused"
    env = {**os.environ, "OMNI_DATA_DIR": str(paths.data), "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_PUBLISH, point, str(marker)],
        env=env,
        cwd=REPO_ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 60
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read()
            assert time.time() < deadline, "the publish never reached the kill point"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert paths.serving.read_bytes() == before  # old file untouched, byte for byte
    assert serving_version(paths.serving) == 1
    leftovers = [p for p in paths.serving.parent.iterdir() if ".publishing-" in p.name]
    assert leftovers, "the kill happened while a new file was being written"

    out = publish(paths, "run-3", build_docs=False)
    assert out["status"] == "published" and out["removed_stale_temp_files"]
    assert serving_version(paths.serving) == 2
    assert not [p for p in paths.serving.parent.iterdir() if ".publishing-" in p.name]


def test_parquet_copies_replace_atomically(paths):
    build_warehouse(paths.warehouse, 1)
    publish(paths, "run-1", build_docs=False)
    build_warehouse(paths.warehouse, 2, persons=7)
    publish(paths, "run-2", build_docs=False)
    f = paths.marts_parquet / "customers.customer_profiles.parquet"
    assert duckdb.sql(f"select count(*), max(version) from '{f}'").fetchall() == [(7, 2)]
    assert not list(paths.marts_parquet.glob(".tmp-*"))


def test_a_log_left_beside_serving_is_not_replayed_onto_the_new_version(paths):
    """A read-write open of the serving file that died left its write-ahead log: publish removes it with
    the old version, so the new file never gets the old file's transactions replayed onto it."""
    build_warehouse(paths.warehouse, 1)
    assert publish(paths, "run-1", build_docs=False)["status"] == "published"
    con = duckdb.connect(str(paths.serving), config={"checkpoint_threshold": "1GB"})
    con.execute("pragma disable_checkpoint_on_shutdown")
    con.execute("create table main.stale as select 1 as i")
    con.close()
    wal = wal_of(paths.serving)
    assert wal.exists()
    build_warehouse(paths.warehouse, 2)
    assert publish(paths, "run-2", build_docs=False)["status"] == "published"
    assert not wal.exists()
    assert serving_version(paths.serving) == 2
    with duckdb.connect(str(paths.serving), read_only=True) as con:
        tables = con.execute("select table_name from information_schema.tables").fetchall()
    assert ("stale",) not in tables
