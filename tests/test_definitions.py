"""The Dagster code location loads, has its schedule and sensors, and materialises one partition."""

from __future__ import annotations

import shutil
from datetime import date

import dagster as dg
import pytest

from orchestration.config import get_paths
from orchestration.sources import TABLES
from tests.conftest import ledger_row

GA4_SAMPLE = "/work/shared/samples/ga4/ga4_bq_export_rows__dataform-ga4-sessions.ndjson"


@pytest.fixture(scope="module")
def defs():
    import os
    import tempfile

    from orchestration.cli import _prepare_environment, dbt_parse
    from tests.conftest import PATH_VARS

    saved = dict(os.environ)
    tmp = tempfile.mkdtemp(prefix="omni-defs-")
    os.environ["OMNI_DATA_DIR"] = f"{tmp}/data"
    for var in PATH_VARS:  # never a developer's own instance or folders
        os.environ.pop(var, None)
    try:
        paths = get_paths()
        _prepare_environment(paths)
        dbt_parse(paths)
        from orchestration.definitions import defs as loaded

        yield loaded
    finally:
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(tmp, ignore_errors=True)


def test_definitions_load_with_one_ingestion_asset_per_table(defs):
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert {f"raw/{t}" for t in TABLES} <= keys
    assert any(k.startswith("stg_") or "/stg_" in k for k in keys), "dbt models are assets"


def test_dbt_sources_are_wired_to_ingestion_assets(defs):
    graph = defs.resolve_asset_graph()
    stg = next(k for k in graph.get_all_asset_keys() if k.path[-1] == "stg_shopify__orders")
    assert dg.AssetKey(["raw", "shopify_orders"]) in graph.get(stg).parent_keys


def test_schedule_and_sensors_exist(defs):
    assert defs.resolve_schedule_def("daily_ingestion_schedule").cron_schedule == "0 6 * * *"
    sensor = defs.resolve_sensor_def("landing_files_sensor")
    assert sensor.job_name == "daily_job"
    stale = defs.resolve_sensor_def("stale_runs_sensor")
    assert stale.default_status == dg.DefaultSensorStatus.RUNNING and stale.job_name == "daily_job"


def test_sensor_requests_a_run_for_changed_landing_days(defs, data_dir):
    paths = get_paths()
    day_dir = paths.landing / "ga4_events" / "2026-10-02"
    day_dir.mkdir(parents=True)
    shutil.copy(GA4_SAMPLE, day_dir / "events_20261002.ndjson")
    sensor = defs.resolve_sensor_def("landing_files_sensor")
    ctx = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral())
    first = list(sensor(ctx))
    assert [r.partition_key for r in first] == ["2026-10-02"]
    # Nothing changed: no new request on the next tick.
    ctx2 = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), cursor=ctx.cursor)
    assert list(sensor(ctx2)) == []


def test_sensor_switched_on_over_an_ingested_landing_requests_nothing(defs, data_dir):
    import os

    from orchestration.ingestion import ingest_partition

    paths = get_paths()
    day = date(2026, 10, 2)
    day_dir = paths.landing / "ga4_events" / day.isoformat()
    day_dir.mkdir(parents=True)
    landed = day_dir / "events_20261002.ndjson"
    shutil.copy(GA4_SAMPLE, landed)
    assert [r["status"] for r in ingest_partition("ga4_events", day, paths)] == ["loaded"]  # e.g. by `omni run`
    sensor = defs.resolve_sensor_def("landing_files_sensor")
    ctx = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral())  # first tick: no cursor
    assert list(sensor(ctx)) == []
    # the file written again after it was ingested: the day is requested
    later = landed.stat().st_mtime + 60
    os.utime(landed, (later, later))
    ctx2 = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), cursor=ctx.cursor)
    second = list(sensor(ctx2))
    assert [r.partition_key for r in second] == [day.isoformat()]
    # a re-delivery copied with its old mtime (cp -p, rsync -a), older than the ingestion: still requested
    old = landed.stat().st_mtime - 3600
    landed.write_text(landed.read_text() + "\n")
    os.utime(landed, (old, old))
    ctx3 = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), cursor=ctx2.cursor)
    third = list(sensor(ctx3))
    assert [r.partition_key for r in third] == [day.isoformat()]
    # ... and the file restored as it was on the second tick (same name, size and mtime, so the same
    # signature): requested under a new run key (Dagster drops a request whose run key it has seen)
    landed.write_text(landed.read_text()[:-1])
    os.utime(landed, (later, later))
    ctx4 = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), cursor=ctx3.cursor)
    fourth = list(sensor(ctx4))
    assert [r.partition_key for r in fourth] == [day.isoformat()] and fourth[0].run_key != second[0].run_key


def test_sensor_requests_a_day_landed_before_its_partition_exists_once_it_does(defs, data_dir, monkeypatch):
    import json
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from orchestration.dagster_defs import schedules
    from orchestration.dagster_defs.partitions import START_DATE, TIMEZONE

    paths = get_paths()
    # an exporter naming its folders by a date ahead of today in OMNI_TIMEZONE
    early = (datetime.now(ZoneInfo(TIMEZONE)).date() + timedelta(days=2)).isoformat()
    day_dir = paths.landing / "ga4_events" / early
    day_dir.mkdir(parents=True)
    shutil.copy(GA4_SAMPLE, day_dir / "events.ndjson")
    sensor = defs.resolve_sensor_def("landing_files_sensor")
    ctx = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral())
    assert list(sensor(ctx)) == [] and early not in json.loads(ctx.cursor)["days"]
    # two days later (the partitions reach that day), the unchanged folder is requested
    later = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone=TIMEZONE, end_offset=3)
    monkeypatch.setattr(schedules, "daily_partitions", later)
    ctx2 = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), cursor=ctx.cursor)
    assert [r.partition_key for r in sensor(ctx2)] == [early]


def test_materialise_one_ingestion_partition_in_process(defs, data_dir):
    paths = get_paths()
    day = date(2026, 10, 2)
    day_dir = paths.landing / "ga4_events" / day.isoformat()
    day_dir.mkdir(parents=True)
    shutil.copy(GA4_SAMPLE, day_dir / "events_20261002.ndjson")
    asset = next(a for a in defs.assets if getattr(a, "key", None) == dg.AssetKey(["raw", "ga4_events"]))
    result = dg.materialize([asset], partition_key=day.isoformat(), instance=dg.DagsterInstance.ephemeral())
    assert result.success
    meta = result.asset_materializations_for_node(asset.node_def.name)[0].metadata
    assert meta["rows_read"].value == 16
    assert meta["rows_read"].value == meta["rows_loaded"].value + meta["rows_quarantined"].value
    assert list((paths.raw / "ga4_events" / f"ingest_date={day}").glob("*.parquet"))


def test_one_daily_job_carries_ingestion_dbt_and_publish_on_daily_partitions(defs):
    from orchestration.dagster_defs.partitions import daily_partitions

    job = defs.resolve_job_def("daily_job")
    assert job.partitions_def == daily_partitions
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"raw/ga4_events", "journeys/activities", "serving/warehouse"} <= keys
    activities = graph.get(dg.AssetKey(["journeys", "activities"]))
    assert activities.partitions_def == daily_partitions
    # a range of days is one run and one dbt invocation
    assert activities.backfill_policy == dg.BackfillPolicy.single_run()
    assert graph.get(dg.AssetKey(["raw", "ga4_events"])).backfill_policy == dg.BackfillPolicy.single_run()


def test_dbt_gets_the_partition_window_in_its_environment():
    import os

    from orchestration.dagster_defs.dbt import dbt_build_args, dbt_window_env, window_in_environ

    window = (date(2026, 10, 1), date(2026, 10, 6))
    assert dbt_window_env(window) == {"OMNI_MIN_DATE": "2026-10-01", "OMNI_MAX_DATE": "2026-10-06"}
    assert dbt_window_env(None) == {}
    # no CLI vars (a change of them re-parses the whole project); unit tests are left to pytest
    assert dbt_build_args() == ["build", "--exclude-resource-type", "unit_test"]
    assert dbt_build_args(full_refresh=True) == ["build", "--exclude-resource-type", "unit_test", "--full-refresh"]
    assert dbt_build_args(command="run") == ["run"]
    # the window is set for the dbt subprocess only, and a stale one never leaks into a full build
    os.environ["OMNI_MIN_DATE"] = "2026-01-01"
    try:
        with window_in_environ(window):
            assert os.environ["OMNI_MIN_DATE"] == "2026-10-01" and os.environ["OMNI_MAX_DATE"] == "2026-10-06"
        with window_in_environ(None):
            assert "OMNI_MIN_DATE" not in os.environ and "OMNI_MAX_DATE" not in os.environ
        assert os.environ["OMNI_MIN_DATE"] == "2026-01-01" and "OMNI_MAX_DATE" not in os.environ
    finally:
        os.environ.pop("OMNI_MIN_DATE", None)


def test_whole_table_data_tests_after_a_build_that_did_not_succeed(tmp_path):
    from orchestration.dagster_defs.dbt import FULL_DATA_TESTS_ENV, data_tests_env

    marker = tmp_path / "dbt_build_unfinished"
    assert data_tests_env(marker) == {}
    # the asset touches it before dbt starts and removes it only after a successful build
    marker.touch()
    assert data_tests_env(marker) == {FULL_DATA_TESTS_ENV: "1"}


def test_retries_and_freshness_on_public_marts(defs):
    graph = defs.resolve_asset_graph()
    dbt_assets = next(a for a in defs.assets if dg.AssetKey(["journeys", "activities"]) in getattr(a, "keys", ()))
    assert dbt_assets.op.retry_policy is not None and dbt_assets.op.retry_policy.max_retries >= 1
    for key in (["journeys", "activities"], ["customers", "customer_profiles"], ["identity", "person_identifiers"]):
        policy = graph.get(dg.AssetKey(key)).freshness_policy
        assert policy is not None, key
    staging = next(k for k in graph.get_all_asset_keys() if k.path[-1] == "stg_shopify__orders")
    assert graph.get(staging).freshness_policy is None


def test_schedule_requests_yesterdays_partition(defs):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from orchestration.dagster_defs.partitions import TIMEZONE

    schedule = defs.resolve_schedule_def("daily_ingestion_schedule")
    assert schedule.execution_timezone == TIMEZONE
    assert schedule.job_name == "daily_job"
    tick = datetime(2026, 10, 7, 6, 0, tzinfo=ZoneInfo(TIMEZONE))
    ctx = dg.build_schedule_context(scheduled_execution_time=tick, repository_def=defs.get_repository_def())
    requests = schedule.evaluate_tick(ctx).run_requests
    assert [r.partition_key for r in requests] == ["2026-10-06"]


def test_every_public_mart_has_one_blocking_gx_check_and_every_mart_suite_a_mart(defs):
    from orchestration.dagster_defs.dbt import public_mart_keys
    from orchestration.quality.dagster_checks import MART_CHECK_NAME
    from orchestration.quality.suites import mart_suites

    dbt_assets = next(a for a in defs.assets if dg.AssetKey(["journeys", "activities"]) in getattr(a, "keys", ()))
    marts = public_mart_keys(dbt_assets)
    assert dg.AssetKey(["customers", "customer_profiles"]) in marts
    assert all(k.path[0] in ("identity", "customers", "journeys", "quality") for k in marts)
    graph = defs.resolve_asset_graph()
    gx = [ck for ck in graph.asset_check_keys if ck.name == MART_CHECK_NAME]
    assert sorted(ck.asset_key for ck in gx) == sorted(marts)  # exactly one per public mart, none elsewhere
    assert {".".join(k.path) for k in marts} == set(mart_suites())  # no mart without a suite, no orphan suite
    assert all(graph.get(ck).blocking for ck in gx)
    # They run in daily_job, after the dbt step and before publish (which waits for the blocking checks).
    job = defs.resolve_job_def("daily_job")
    assert set(gx) <= set(job.asset_layer.asset_graph.asset_check_keys)
    deps = job.graph.dependency_structure

    def upstream(node: str) -> set[str]:
        return {o.node.name for o in deps.all_upstream_outputs_from_node(node)}

    assert {"gx_mart_suites", "warehouse_dbt_models"} <= upstream("serving__warehouse")
    assert upstream("gx_mart_suites") == {"warehouse_dbt_models"}


def test_only_transient_dbt_failures_are_retried(tmp_path):
    import json

    from orchestration.dagster_defs.dbt import dbt_failure_is_transient

    results = tmp_path / "run_results.json"

    def with_messages(*messages: str):
        results.write_text(json.dumps({"results": [{"status": "error", "message": m} for m in messages]}))
        return results

    failed_test = with_messages("Got 2 results, configured to fail if != 0")
    assert not dbt_failure_is_transient(1, failed_test)  # a failed model or test: not retried
    assert dbt_failure_is_transient(-9, failed_test)  # dbt killed (e.g. out of memory)
    assert dbt_failure_is_transient(2, failed_test)  # dbt's own runtime error
    assert dbt_failure_is_transient(1, tmp_path / "absent.json")  # ended before writing its results
    locked = with_messages('IO Error: Could not set lock on file "build.duckdb": Conflicting lock is held')
    assert dbt_failure_is_transient(1, locked)


def test_an_ingestion_error_outlasting_the_retries_is_reported_not_fatal(defs, data_dir, monkeypatch):
    """A file that fails the ingestion itself on every attempt (e.g. too large for the memory limit) must not
    stop the rest of the day: after the retries it fails export_files_ingested, as a bad file does."""
    from orchestration.dagster_defs import ingestion
    from orchestration.ingestion import IngestionError
    from orchestration.ingestion.ledger import write_attempt

    calls = []

    def failing(table, day, paths, run_id=""):
        row = ledger_row(table, day, "big.csv", rows_read=None, rows_loaded=None, rows_quarantined=None,
                         status="failed", error="not ingested: OutOfMemory", run_id=run_id)  # fmt: skip
        # the first attempt also finds a bad file, which later attempts do not try again (bytes handled)
        bad = {**row, "source_file": f"{table}/{day}/bad.csv", "file_sha256": "a" * 64, "rows_read": 0,
               "rows_loaded": 0, "rows_quarantined": 0, "error": "not valid utf-8"}  # fmt: skip
        written = [row, bad] if not calls else [row]
        for r in written:
            write_attempt(paths, r)
        calls.append(day)
        raise IngestionError("1 file(s) not ingested", written)

    monkeypatch.setattr(ingestion, "ingest_partition", failing)
    asset = next(a for a in defs.assets if getattr(a, "key", None) == dg.AssetKey(["raw", "ga4_events"]))
    result = dg.materialize([asset], partition_key="2026-10-02", instance=dg.DagsterInstance.ephemeral())
    assert result.success and len(calls) == 1 + ingestion.INGESTION_RETRY_POLICY.max_retries
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed and "big.csv: not ingested: OutOfMemory" in check.description
    assert "bad.csv: not valid utf-8" in check.description and "2 file(s)" in check.description


def test_sensor_requests_a_day_again_after_an_ingestion_error_a_limited_number_of_times(defs, data_dir, monkeypatch):
    """A run that ended on an error of the ingestion (not of the file: the ledger's retryable row) leaves
    the file to try again: the sensor requests its day again, at most every RETRY_MINUTES, RETRY_LIMIT times
    for the same files, and not while a run of that day is in progress; a bad file is never requested again."""
    import json

    from dagster._core.test_utils import create_run_for_test

    from orchestration.dagster_defs import schedules
    from orchestration.ingestion.ledger import now_utc, write_attempt

    paths = get_paths()
    day = "2026-10-02"
    day_dir = paths.landing / "ga4_events" / day
    day_dir.mkdir(parents=True)
    landed = day_dir / "events.ndjson"
    shutil.copy(GA4_SAMPLE, landed)
    row = ledger_row("ga4_events", date.fromisoformat(day), "events.ndjson", rows_read=0, rows_loaded=0,
                     status="failed", error="not valid utf-8", run_id="r1")  # fmt: skip
    write_attempt(paths, row)  # a bad file: handled, not to try again
    sensor = defs.resolve_sensor_def("landing_files_sensor")
    instance = dg.DagsterInstance.ephemeral()

    def tick(cursor):
        ctx = dg.build_sensor_context(instance=instance, cursor=cursor)
        return [r.run_key for r in sensor(ctx)], ctx.cursor

    keys, cursor = tick(None)
    assert keys == []
    write_attempt(paths, {**row, "rows_read": None, "rows_loaded": None, "rows_quarantined": None,
                          "error": "not ingested: OutOfMemory", "ingested_at": now_utc()})  # fmt: skip
    keys, cursor = tick(cursor)
    assert keys == [], "checked at most every RETRY_MINUTES (the first tick checked)"
    monkeypatch.setattr(schedules, "RETRY_MINUTES", 0)
    requested = []
    for _ in range(schedules.RETRY_LIMIT + 1):
        keys, cursor = tick(cursor)
        requested += keys
    assert len(requested) == schedules.RETRY_LIMIT and all(k.startswith(f"{day}:retry:") for k in requested)
    # the files changed: the day is requested as changed, and may be retried again afterwards
    landed.write_text(landed.read_text() + "\n")
    keys, cursor = tick(cursor)
    assert len(keys) == 1 and ":retry:" not in keys[0]
    starting = create_run_for_test(instance, job_name="daily_job", status=dg.DagsterRunStatus.STARTING,
                                   tags={"dagster/partition": day})  # fmt: skip
    keys, cursor = tick(cursor)
    assert keys == [], "not while a run of the day is in progress"
    instance.report_run_canceled(starting)
    in_range = {"dagster/asset_partition_range_start": "2026-10-01", "dagster/asset_partition_range_end": "2026-10-03"}
    backfill = create_run_for_test(instance, job_name="daily_job", status=dg.DagsterRunStatus.STARTED, tags=in_range)
    keys, cursor = tick(cursor)
    assert keys == [], "not while a range holding the day is in progress (omni day, omni backfill)"
    instance.report_run_canceled(backfill)
    keys, cursor = tick(cursor)
    assert len(keys) == 1 and ":retry:" in keys[0]
    assert json.loads(cursor)["retries"][day]["count"] == 1
    # the day ingested since: nothing to retry
    write_attempt(paths, {**row, "status": "loaded", "error": None, "ingested_at": now_utc()})
    keys, cursor = tick(cursor)
    assert keys == []
