"""Same bytes twice, changed files, stale re-deliveries, re-runs, crashes and parallel runs."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from orchestration.config import get_paths
from orchestration.ingestion import IngestionError, ingest_partition, landing_days, ledger_frame, summarise

FIXTURES = Path(__file__).parent / "fixtures" / "ingestion"
D1, D2, D3 = dt.date(2023, 12, 15), dt.date(2023, 12, 16), dt.date(2023, 12, 17)


def _ga4_file(paths, day: dt.date, events: int, name: str = "events_20231215.ndjson") -> Path:
    folder = paths.landing / "ga4_events" / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({"event_date": "20231215", "event_timestamp": str(1702651559604143 + i),
                    "event_name": "page_view", "user_pseudo_id": f"{i}.1702650951",
                    "event_params": [{"key": "ga_session_id", "value": {"int_value": "1702650951"}}]})
        for i in range(events)
    ]  # fmt: skip
    target = folder / name
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def _raw_rows(paths, table: str = "ga4_events") -> int:
    con = duckdb.connect()
    try:
        glob = str(paths.raw / table / "*" / "*.parquet")
        return con.execute(f"SELECT count(*) FROM read_parquet('{glob}')").fetchone()[0]
    finally:
        con.close()


def test_rerun_is_a_noop(data_dir):
    paths = get_paths()
    _ga4_file(paths, D1, 3)
    first = ingest_partition("ga4_events", D1, paths)
    ledger_files = sorted((paths.ledger / "ga4_events").rglob("*.parquet"))
    assert [r["status"] for r in first] == ["loaded"]
    assert ingest_partition("ga4_events", D1, paths) == []
    assert sorted((paths.ledger / "ga4_events").rglob("*.parquet")) == ledger_files
    assert _raw_rows(paths) == 3


def test_same_bytes_other_name_other_day_is_duplicate(data_dir):
    paths = get_paths()
    original = _ga4_file(paths, D1, 3)
    ingest_partition("ga4_events", D1, paths)
    copy = paths.landing / "ga4_events" / D2.isoformat() / "copy_of_events.ndjson"
    copy.parent.mkdir(parents=True)
    shutil.copy(original, copy)
    (row,) = ingest_partition("ga4_events", D2, paths)
    assert row["status"] == "duplicate" and row["rows_loaded"] == 0
    assert "same bytes as ga4_events/2023-12-15/events_20231215.ndjson" in row["error"]
    assert not (paths.raw / "ga4_events" / f"ingest_date={D2}").exists()
    assert _raw_rows(paths) == 3


def test_changed_file_later_day_replaces_by_name(data_dir):
    paths = get_paths()
    _ga4_file(paths, D1, 3)
    (old,) = ingest_partition("ga4_events", D1, paths)
    _ga4_file(paths, D2, 5)  # GA4 rewrites events_YYYYMMDD with late events
    (new,) = ingest_partition("ga4_events", D2, paths)
    assert new["status"] == "replaced" and new["replaces_sha256"] == old["file_sha256"]
    assert not (paths.lake / old["lake_file"]).exists()
    assert _raw_rows(paths) == 5
    frame = {r["file_sha256"]: r for r in ledger_frame(paths).to_pylist()}
    assert frame[old["file_sha256"]]["superseded_by"] == new["file_sha256"]
    ga4 = next(s for s in summarise(paths) if s["table"] == "ga4_events")
    assert (ga4["files"], ga4["live_files"], ga4["rows_loaded"]) == (2, 1, 5)


def _ingested_shopify_orders(paths) -> tuple[Path, dict]:
    """The Shopify fixture landed on D1 as orders.csv and ingested: its path and ledger row."""
    folder = paths.landing / "shopify_orders" / D1.isoformat()
    folder.mkdir(parents=True)
    landed = Path(shutil.copy(FIXTURES / "shopify_orders.csv", folder / "orders.csv"))
    (row,) = ingest_partition("shopify_orders", D1, paths)
    return landed, row


def test_changed_file_same_day_and_name_replaces_with_its_quarantine(data_dir):
    paths = get_paths()
    landed, old = _ingested_shopify_orders(paths)
    old_quarantine = paths.quarantine / "shopify_orders" / f"ingest_date={D1}" / f"{old['file_sha256']}.parquet"
    assert old_quarantine.exists()
    landed.write_bytes(landed.read_bytes().replace(b"2099-01-01", b"2023-12-14"))
    (new,) = ingest_partition("shopify_orders", D1, paths)
    assert new["status"] == "replaced" and new["replaces_sha256"] == old["file_sha256"]
    assert (new["rows_loaded"], new["rows_quarantined"]) == (old["rows_loaded"] + 1, old["rows_quarantined"] - 1)
    assert not old_quarantine.exists() and not (paths.lake / old["lake_file"]).exists()


def test_re_delivery_without_rows_replaces_with_a_warning(data_dir):
    paths = get_paths()
    landed, old = _ingested_shopify_orders(paths)
    assert old["error"] is None and old["rows_read"] == 5
    landed.write_bytes(landed.read_bytes().split(b"\n", 1)[0] + b"\n")  # the header alone: cut, or emptied?
    (new,) = ingest_partition("shopify_orders", D1, paths)
    assert new["status"] == "replaced" and _raw_rows(paths, "shopify_orders") == 0
    assert "warning: this re-delivery has no rows, so the 5 row(s)" in new["error"]


def test_older_delivery_is_stale(data_dir):
    paths = get_paths()
    _ga4_file(paths, D3, 5)
    ingest_partition("ga4_events", D3, paths)
    _ga4_file(paths, D1, 3)  # an older export of the same day table, ingested late (backfill)
    (row,) = ingest_partition("ga4_events", D1, paths)
    assert row["status"] == "stale" and "2023-12-17" in row["error"]
    assert _raw_rows(paths) == 5


def test_crash_before_ledger_row_is_completed_on_rerun(data_dir):
    paths = get_paths()
    _ga4_file(paths, D1, 4)
    (row,) = ingest_partition("ga4_events", D1, paths)
    raw = paths.lake / row["lake_file"]
    mtime = raw.stat().st_mtime_ns
    for ledger_file in (paths.ledger / "ga4_events" / f"ingest_date={D1}").glob("*.parquet"):
        ledger_file.unlink()  # as if the process died between the data file and the ledger row
    (again,) = ingest_partition("ga4_events", D1, paths)
    assert again["status"] == "loaded" and again["rows_loaded"] == 4
    assert raw.stat().st_mtime_ns == mtime  # recognised, not rewritten
    assert ingest_partition("ga4_events", D1, paths) == []


def test_parallel_runs_of_one_table_are_safe(data_dir):
    paths = get_paths()
    _ga4_file(paths, D1, 3, name="a.ndjson")
    _ga4_file(paths, D2, 3, name="a.ndjson")  # same bytes: exactly one of the two runs may load it
    with ThreadPoolExecutor(max_workers=2) as pool:  # .result() re-raises anything a worker raised
        futures = [pool.submit(ingest_partition, "ga4_events", d, paths) for d in (D1, D2)]
        results = [row for f in futures for row in f.result()]
    assert sorted(r["status"] for r in results) == ["duplicate", "loaded"]
    assert _raw_rows(paths) == 3


def test_landing_days_and_missing_folder(data_dir):
    paths = get_paths()
    _ga4_file(paths, D2, 1)
    _ga4_file(paths, D1, 1)
    (paths.landing / "ga4_events" / "notes").mkdir()
    assert landing_days("ga4_events", paths) == [D1, D2]
    assert landing_days("shopify_orders", paths) == []
    assert ingest_partition("shopify_orders", D1, paths) == []
    assert (paths.raw / "shopify_orders" / "ingest_date=1970-01-01" / "schema_stub.parquet").exists()


def test_header_only_files_of_quiet_days_are_not_duplicates(data_dir):
    paths = get_paths()
    header = FIXTURES / "loyalty_header_only.csv"
    for day in (D1, D2):
        folder = paths.landing / "loyalty_members" / day.isoformat()
        folder.mkdir(parents=True)
        shutil.copy(header, folder / f"members_{day:%Y%m%d}.csv")
    statuses = [r["status"] for d in (D1, D2) for r in ingest_partition("loyalty_members", d, paths)]
    assert statuses == ["loaded", "loaded"]
    loyalty = next(s for s in summarise(paths) if s["table"] == "loyalty_members")
    assert (loyalty["live_files"], loyalty["duplicate_files"], loyalty["rows_read"]) == (2, 0, 0)


def test_file_changed_back_to_an_earlier_version_is_loaded_again(data_dir):
    paths = get_paths()
    day = dt.date(2024, 3, 1)  # the fixture's times are valid for this landing day
    folder = paths.landing / "loyalty_members" / day.isoformat()
    folder.mkdir(parents=True)
    landed = folder / "members.csv"
    first, second = (FIXTURES / "loyalty_members.csv").read_bytes(), (FIXTURES / "loyalty_header_only.csv").read_bytes()
    statuses = []
    for content in (first, second, first):
        landed.write_bytes(content)
        statuses += [r["status"] for r in ingest_partition("loyalty_members", day, paths)]
    assert statuses == ["loaded", "replaced", "replaced"]
    assert _raw_rows(paths, "loyalty_members") == 2  # the first version's loadable rows, once


def test_json_lines_with_bom_and_crlf(data_dir):
    paths = get_paths()
    path = _ga4_file(paths, D1, 2)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    (row,) = ingest_partition("ga4_events", D1, paths)
    assert (row["status"], row["rows_loaded"]) == ("loaded", 2), row["error"]


def test_orphaned_temp_files_of_a_crashed_write_are_removed(data_dir):
    paths = get_paths()
    _ga4_file(paths, D1, 1)
    ingest_partition("ga4_events", D1, paths)
    orphan = paths.raw / "ga4_events" / f"ingest_date={D1}" / ".tmp-dead.parquet.partial"
    orphan.write_bytes(b"PAR1 half a file")
    fresh = orphan.with_name(".tmp-live.parquet.partial")  # may belong to a writer still running
    fresh.write_bytes(b"PAR1")
    old = time.time() - 3600
    os.utime(orphan, (old, old))
    _ga4_file(paths, D2, 2)
    ingest_partition("ga4_events", D2, paths)
    assert not orphan.exists() and fresh.exists()


def test_file_with_malformed_rows_is_idempotent(data_dir):
    paths = get_paths()
    day = dt.date(2024, 3, 1)  # the fixture's times are of that day (later ones are future_timestamp)
    folder = paths.landing / "loyalty_members" / day.isoformat()
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "loyalty_malformed_rows.csv", folder / "members.csv")
    (row,) = ingest_partition("loyalty_members", day, paths)
    assert (row["status"], row["rows_loaded"], row["rows_quarantined"]) == ("loaded", 19, 3)
    quarantine = paths.quarantine / "loyalty_members" / f"ingest_date={day}" / f"{row['file_sha256']}.parquet"
    mtime = quarantine.stat().st_mtime_ns
    assert ingest_partition("loyalty_members", day, paths) == []  # same file again: no-op
    shutil.copy(FIXTURES / "loyalty_malformed_rows.csv", folder / "members_again.csv")
    (dup,) = ingest_partition("loyalty_members", day, paths)
    assert dup["status"] == "duplicate"
    for ledger_file in (paths.ledger / "loyalty_members" / f"ingest_date={day}").glob("*.parquet"):
        ledger_file.unlink()  # crash before the ledger rows: the re-run counts malformed rows from the files
    again = {r["source_file"]: r for r in ingest_partition("loyalty_members", day, paths)}
    first = again[f"loyalty_members/{day}/members.csv"]
    assert (first["status"], first["rows_read"], first["rows_loaded"], first["rows_quarantined"]) == (
        "loaded", 22, 19, 3,
    )  # fmt: skip
    assert quarantine.stat().st_mtime_ns == mtime
    assert _raw_rows(paths, "loyalty_members") == 19


class _FailingReads:
    """A DuckDB connection whose reads of one file raise `error` (as a small memory_limit did)."""

    def __init__(self, con, name: str, error: Exception):
        self._con, self._name, self._error = con, name, error

    def __getattr__(self, attr):
        return getattr(self._con, attr)

    def execute(self, sql: str, *args):
        if "read_csv(" in sql and self._name in sql:
            raise self._error
        return self._con.execute(sql, *args)


@pytest.mark.parametrize(
    "error",
    [duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate data of size 2.0 MiB"),
     duckdb.IOException("IO Error: Could not read file"),
     duckdb.BinderException("Binder Error: a bug of the ingestion")],
)  # fmt: skip
def test_error_of_the_ingestion_is_retried_not_recorded_as_a_bad_file(data_dir, monkeypatch, error):
    paths = get_paths()
    day = dt.date(2024, 3, 1)
    folder = paths.landing / "loyalty_members" / day.isoformat()
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "loyalty_members.csv", folder / "a.csv")
    shutil.copy(FIXTURES / "loyalty_header_only.csv", folder / "b.csv")
    shutil.copy(FIXTURES / "shopify_semicolon.csv", folder / "c.csv")  # a bad file: failed for good
    connect = duckdb.connect
    monkeypatch.setattr(duckdb, "connect", lambda *a, **k: _FailingReads(connect(*a, **k), "/a.csv", error))
    with pytest.raises(IngestionError, match=f"loyalty_members/{day}/a.csv: not ingested: {type(error).__name__}"):
        ingest_partition("loyalty_members", day, paths)
    first = {r["source_file"].rsplit("/", 1)[1]: r for r in ledger_frame(paths).to_pylist()}
    assert {n: r["status"] for n, r in first.items()} == {"a.csv": "failed", "b.csv": "loaded", "c.csv": "failed"}
    assert first["a.csv"]["rows_read"] is None and "the next run tries the file again" in first["a.csv"]["error"]
    assert first["c.csv"]["rows_read"] == 0 and "Fix: export the file comma-separated" in first["c.csv"]["error"]
    monkeypatch.setattr(duckdb, "connect", connect)
    (again,) = ingest_partition("loyalty_members", day, paths)  # the bad file c.csv is not tried again
    assert again["source_file"].endswith("/a.csv") and again["status"] == "loaded"
    assert (again["rows_read"], again["rows_loaded"], again["rows_quarantined"]) == (4, 2, 2)
    assert _raw_rows(paths, "loyalty_members") == 2
    assert ingest_partition("loyalty_members", day, paths) == []


def _land_bytes(paths, table: str, day: dt.date, name: str, data: bytes) -> None:
    folder = paths.landing / table / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def test_duplicate_of_a_replaced_version_is_loaded(data_dir):
    # Day 2's export has day 1's bytes (a duplicate: nothing written); then day 1's file is re-delivered
    # with one row. Day 2's rows were in the lake only through day 1's old version: they must be loaded.
    paths = get_paths()
    both, a_only = b"Email Address,First Name\na@x.com,A\nb@x.com,B\n", b"Email Address,First Name\na@x.com,A\n"
    _land_bytes(paths, "mailchimp_audience", D1, "subscribed.csv", both)
    _land_bytes(paths, "mailchimp_audience", D2, "subscribed.csv", both)
    statuses = [r["status"] for d in (D1, D2) for r in ingest_partition("mailchimp_audience", d, paths)]
    assert statuses == ["loaded", "duplicate"]
    _land_bytes(paths, "mailchimp_audience", D1, "subscribed.csv", a_only)
    rows = {r["source_file"]: r for r in ingest_partition("mailchimp_audience", D1, paths)}
    counts = {f: (r["status"], r["rows_read"], r["rows_loaded"], r["rows_quarantined"]) for f, r in rows.items()}
    assert counts == {
        f"mailchimp_audience/{D1}/subscribed.csv": ("replaced", 1, 1, 0),
        f"mailchimp_audience/{D2}/subscribed.csv": ("loaded", 2, 2, 0),
    }
    con = duckdb.connect()
    try:
        glob = str(paths.raw / "mailchimp_audience" / "ingest_date=2*" / "*.parquet")
        lake = con.execute(f"SELECT _landing_date, email_address FROM '{glob}' ORDER BY ALL").fetchall()
    finally:
        con.close()
    assert lake == [(D1, "a@x.com"), (D2, "a@x.com"), (D2, "b@x.com")]
    assert [ingest_partition("mailchimp_audience", d, paths) for d in (D1, D2)] == [[], []]
    audience = next(s for s in summarise(paths) if s["table"] == "mailchimp_audience")
    assert (audience["live_files"], audience["rows_read"], audience["rows_loaded"]) == (2, 3, 3)
    # A crash before day 2's load (its data and ledger row gone): the table's next run loads it.
    (paths.lake / rows[f"mailchimp_audience/{D2}/subscribed.csv"]["lake_file"]).unlink()
    max((paths.ledger / "mailchimp_audience" / f"ingest_date={D2}").glob("*.parquet")).unlink()
    (again,) = ingest_partition("mailchimp_audience", D1, paths)
    assert (again["source_file"], again["status"], again["rows_loaded"]) == (
        f"mailchimp_audience/{D2}/subscribed.csv",
        "loaded",
        2,
    )


def test_duplicate_superseded_by_its_own_file_is_not_loaded(data_dir):
    # GA4 replaces by name: day 2's copy of events_20231215 is older than day 3's rewrite of it.
    paths = get_paths()
    _ga4_file(paths, D1, 3)
    ingest_partition("ga4_events", D1, paths)
    shutil.copytree(paths.landing / "ga4_events" / D1.isoformat(), paths.landing / "ga4_events" / D2.isoformat())
    assert [r["status"] for r in ingest_partition("ga4_events", D2, paths)] == ["duplicate"]
    _ga4_file(paths, D3, 5)
    assert [r["status"] for r in ingest_partition("ga4_events", D3, paths)] == ["replaced"]
    assert _raw_rows(paths) == 5


def test_an_unreadable_attempt_is_forgotten_once_the_file_loads(data_dir, monkeypatch):
    """A file that could not even be hashed (an I/O error) leaves a retryable row without a hash: once a
    later run loads the file, the summary no longer counts it as failed."""
    from orchestration.ingestion import ingest as ingest_module

    paths = get_paths()
    _ga4_file(paths, D1, 3)
    scan = ingest_module.scan_file
    monkeypatch.setattr(ingest_module, "scan_file", lambda *a, **k: (_ for _ in ()).throw(OSError("disk gone")))
    with pytest.raises(IngestionError, match="OSError: disk gone"):
        ingest_partition("ga4_events", D1, paths)
    (ga4,) = [t for t in summarise(paths) if t["table"] == "ga4_events"]
    assert ga4["failed_files"] == 1
    monkeypatch.setattr(ingest_module, "scan_file", scan)
    (row,) = ingest_partition("ga4_events", D1, paths)
    assert row["status"] == "loaded"
    (ga4,) = [t for t in summarise(paths) if t["table"] == "ga4_events"]
    assert (ga4["failed_files"], ga4["files"], ga4["rows_loaded"]) == (0, 1, 3)


def test_re_delivery_with_another_files_bytes_replaces_its_own_earlier_version(data_dir):
    """Day 2's file re-delivered with the bytes day 1's file holds: a duplicate (nothing written), but day 2's
    earlier version must leave the lake, as with any re-delivery; the ledger row says which version it
    replaced. When day 1's version is replaced later, day 2's rows are in no lake file: they are loaded."""
    from orchestration.ingestion import ledger

    paths = get_paths()
    a_only, both = b"Email Address,First Name\na@x.com,A\n", b"Email Address,First Name\na@x.com,A2\nb@x.com,B\n"
    _land_bytes(paths, "mailchimp_audience", D1, "subscribed.csv", a_only)
    _land_bytes(paths, "mailchimp_audience", D2, "members.csv", both)
    loaded = [r for d in (D1, D2) for r in ingest_partition("mailchimp_audience", d, paths)]
    assert [r["status"] for r in loaded] == ["loaded", "loaded"]
    _land_bytes(paths, "mailchimp_audience", D2, "members.csv", a_only)
    (row,) = ingest_partition("mailchimp_audience", D2, paths)
    assert (row["status"], row["replaces_sha256"]) == ("duplicate", loaded[1]["file_sha256"])
    assert row["lake_file"] == loaded[0]["lake_file"] and row["rows_loaded"] == 0
    assert f"same bytes as mailchimp_audience/{D1}/subscribed.csv" in row["error"]
    assert "replaces its own earlier version" in row["error"]
    glob = str(paths.raw / "mailchimp_audience" / "ingest_date=2*" / "*.parquet")
    lake = duckdb.sql(f"SELECT _landing_date, email_address, first_name FROM '{glob}' ORDER BY ALL").fetchall()
    assert lake == [(D1, "a@x.com", "A")]
    assert [ingest_partition("mailchimp_audience", d, paths) for d in (D1, D2)] == [[], []]
    audience = next(s for s in summarise(paths) if s["table"] == "mailchimp_audience")
    assert (audience["live_files"], audience["rows_loaded"], audience["duplicate_files"]) == (1, 1, 1)
    # the replaced version is superseded in the ledger frame, by the duplicate's bytes
    frame = {(r["source_file"], r["status"]): r for r in ledger_frame(paths).to_pylist()}
    assert frame[(f"mailchimp_audience/{D2}/members.csv", "loaded")]["superseded_by"] == row["file_sha256"]
    # a new process replays the ledger the same way (the old version is not live: nothing to do)
    ledger._STATES.clear()
    assert [ingest_partition("mailchimp_audience", d, paths) for d in (D1, D2)] == [[], []]
    # day 1 changes: day 2's bytes leave the lake with its old version, so day 2's file is loaded itself
    _land_bytes(paths, "mailchimp_audience", D1, "subscribed.csv", both)
    rows = {r["source_file"]: r["status"] for r in ingest_partition("mailchimp_audience", D1, paths)}
    assert rows == {
        f"mailchimp_audience/{D1}/subscribed.csv": "replaced",
        f"mailchimp_audience/{D2}/members.csv": "loaded",
    }
    lake = duckdb.sql(f"SELECT _landing_date, email_address, first_name FROM '{glob}' ORDER BY ALL").fetchall()
    assert lake == [(D1, "a@x.com", "A2"), (D1, "b@x.com", "B"), (D2, "a@x.com", "A")]


def test_re_delivery_by_name_with_another_files_bytes_replaces_its_earlier_day(data_dir):
    """GA4 replaces by name on any day: events_20231215 rewritten on day 3 with the bytes another live file
    (events_20231216) holds replaces its day-1 version."""
    paths = get_paths()
    _ga4_file(paths, D1, 3)
    _ga4_file(paths, D2, 2, name="events_20231216.ndjson")
    for d in (D1, D2):
        ingest_partition("ga4_events", d, paths)
    assert _raw_rows(paths) == 5
    other = paths.landing / "ga4_events" / D2.isoformat() / "events_20231216.ndjson"
    _land_bytes(paths, "ga4_events", D3, "events_20231215.ndjson", other.read_bytes())
    (row,) = ingest_partition("ga4_events", D3, paths)
    assert row["status"] == "duplicate" and row["replaces_sha256"] is not None
    assert _raw_rows(paths) == 2
