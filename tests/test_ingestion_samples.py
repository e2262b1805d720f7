"""The real export samples in ../shared/samples ingest without losing a row."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.config import get_paths
from orchestration.ingestion import ingest_partition, ledger_frame, summarise

SAMPLES = Path("/work/shared/samples")
DAY = dt.date(2023, 12, 15)

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared samples not mounted")


def _land(paths, table: str, sample: Path, day: dt.date = DAY) -> Path:
    folder = paths.landing / table / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(sample, folder / sample.name))


def _data_lines(path: Path, header: bool) -> int:
    con = duckdb.connect()
    try:
        if header:  # DuckDB's own sniffer, independent of the ingestion's reader, counts CSV records
            sql = "SELECT count(*) FROM read_csv(?, header=true, all_varchar=true)"
            return con.execute(sql, [str(path)]).fetchone()[0]
        return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    finally:
        con.close()


def _lake_rows(paths, table: str) -> tuple[int, int]:
    con = duckdb.connect()
    try:
        raw = con.execute(
            "SELECT count(*) FROM read_parquet(?)", [str(paths.raw / table / "*" / "*.parquet")]
        ).fetchone()[0]
        quarantined = con.execute(
            "SELECT count(*) FROM read_parquet(?)", [str(paths.quarantine / table / "*" / "*.parquet")]
        ).fetchone()[0]
    finally:
        con.close()
    return raw, quarantined


@pytest.mark.parametrize(
    ("table", "sample", "header"),
    [
        ("ga4_events", "ga4/ga4_bq_export_rows__dataform-ga4-sessions.ndjson", False),
        ("mailchimp_audience", "email/mailchimp_cleaned_export_fake_rows__equalithon.csv", True),
        ("mailchimp_activity", "email/mailchimp_campaign_recipient_activity__fivetran_seed.csv", True),
    ],
)
def test_sample_loads_every_row(data_dir, table, sample, header):
    paths = get_paths()
    landed = _land(paths, table, SAMPLES / sample)
    rows = ingest_partition(table, DAY, paths, run_id="t")
    assert len(rows) == 1
    row = rows[0]
    assert row["status"] == "loaded", row["error"]
    assert row["rows_read"] == row["rows_loaded"] + row["rows_quarantined"]
    assert row["rows_read"] == _data_lines(landed, header)
    assert row["rows_quarantined"] == 0
    assert _lake_rows(paths, table) == (row["rows_loaded"], 0)


def test_ga4_nested_values_stay_json_text(data_dir):
    paths = get_paths()
    _land(paths, "ga4_events", SAMPLES / "ga4/ga4_bq_export_rows__dataform-ga4-sessions.ndjson")
    ingest_partition("ga4_events", DAY, paths)
    con = duckdb.connect()
    try:
        params, ts, rownum, types = con.execute(
            "SELECT event_params, event_timestamp, _row_number, typeof(event_params) FROM read_parquet(?) "
            "ORDER BY _row_number LIMIT 1",
            [str(paths.raw / "ga4_events" / "*" / "*.parquet")],
        ).fetchone()
    finally:
        con.close()
    assert params.startswith('[{"key":"ignore_referrer"')
    assert ts == "1702651559604143" and rownum == 1 and types == "VARCHAR"


def test_zendesk_api_seed_loads_naive_times_as_utc(data_dir):
    """The Fivetran Zendesk seed is API-shaped with naive UTC times (the API's zone): every row loads."""
    paths = get_paths()
    _land(paths, "zendesk_tickets", SAMPLES / "service/zendesk_ticket__fivetran_seed.csv")
    (row,) = ingest_partition("zendesk_tickets", DAY, paths)
    assert row["status"] == "loaded"
    assert (row["rows_read"], row["rows_loaded"], row["rows_quarantined"]) == (10, 10, 0)
    con = duckdb.connect()
    try:
        (created,) = con.execute(
            "SELECT created_at FROM read_parquet(?) WHERE id = '1595'",
            [str(paths.raw / "zendesk_tickets" / "*" / "*.parquet")],
        ).fetchone()
    finally:
        con.close()
    assert created == "2020-02-19 01:54:52"  # kept as delivered; staging reads it as UTC


def test_zendesk_time_without_a_date_shape_is_quarantined(data_dir, tmp_path):
    paths = get_paths()
    sample = tmp_path / "tickets.csv"
    sample.write_text("Id,Created at,Updated at\n1,2023-12-14 09:15:00,2023-12-14T09:15:00\n2,yesterday 9am,\n")
    _land(paths, "zendesk_tickets", sample)
    (row,) = ingest_partition("zendesk_tickets", DAY, paths)
    assert (row["rows_read"], row["rows_loaded"], row["rows_quarantined"]) == (2, 1, 1)
    con = duckdb.connect()
    try:
        (reason,) = con.execute(
            "SELECT _reason FROM read_parquet(?)", [str(paths.quarantine / "zendesk_tickets" / "*" / "*.parquet")]
        ).fetchone()
    finally:
        con.close()
    assert reason.startswith("bad_timestamp: created_at 'yesterday 9am' is not a time like")


@pytest.mark.parametrize(
    ("table", "sample", "missing"),
    [
        ("mailchimp_audience", "email/mailchimp_member__fivetran_seed.csv", "email_address"),
        ("zendesk_tickets", "service/zendesk_user__fivetran_seed.csv", "created_at"),
        ("mailchimp_activity", "email/mailchimp_unsubscribe__fivetran_seed.csv", "action"),
    ],
)
def test_api_shaped_seed_without_our_columns_fails_clearly(data_dir, table, sample, missing):
    paths = get_paths()
    _land(paths, table, SAMPLES / sample)
    (row,) = ingest_partition(table, DAY, paths)
    if row["status"] == "loaded":  # the seed happens to carry our columns: then nothing may be lost
        assert row["rows_read"] == row["rows_loaded"] + row["rows_quarantined"]
        return
    assert row["status"] == "failed"
    assert Path(sample).name in row["error"] and "Fix:" in row["error"]
    assert missing in row["error"] or "required column" in row["error"]
    assert row["rows_loaded"] == 0


def test_summary_counts_every_table(data_dir):
    paths = get_paths()
    _land(paths, "ga4_events", SAMPLES / "ga4/ga4_bq_export_rows__dataform-ga4-sessions.ndjson")
    ingest_partition("ga4_events", DAY, paths)
    summary = {s["table"]: s for s in summarise(paths)}
    assert summary["ga4_events"]["rows_loaded"] == 16 and summary["ga4_events"]["files"] == 1
    assert summary["shopify_orders"]["files"] == 0
    assert ledger_frame(paths).num_rows == 1
