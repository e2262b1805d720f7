"""The whole pipeline on a small demo, through the `omni` CLI and a real Dagster instance."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration.config import DBT_PROJECT_DIR, dbt_env, paths_under
from orchestration.dagster_defs.dbt import FULL_DATA_TESTS_ENV
from tests.conftest import omni

DBT = str(Path(sys.executable).parent / "dbt")

pytestmark = pytest.mark.integration

PERSONS, DAYS = "150", "8"


def lake_rows(data: Path) -> dict[str, int]:
    raw = data / "lake" / "raw"
    out = {}
    for table_dir in sorted(raw.iterdir()):
        glob = f"{table_dir}/*/*.parquet"
        sql = f"select count(*) from read_parquet('{glob}', union_by_name=true)"
        out[table_dir.name] = duckdb.sql(sql).fetchall()[0][0]
    return out


def last_landing_day(data: Path) -> str:
    return sorted(p.name for p in (data / "landing" / "ga4_events").iterdir() if p.is_dir())[-1]


def lake_files(data: Path) -> set[str]:
    return {str(p.relative_to(data)) for p in (data / "lake" / "raw").rglob("*.parquet")}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    data = tmp_path_factory.mktemp("pipeline") / "data"
    proc = omni("run", "--persons", PERSONS, "--days", DAYS, data=data)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return data, proc


def test_run_prints_the_summary(demo_run):
    data, proc = demo_run
    out = proc.stdout
    for expected in ("rows read", "quarantined", "persons recognised", "serving database", "shopify_orders"):
        assert expected in out, out
    assert "WARNING: rows read" not in out


def test_every_loaded_file_balances_in_the_ledger(demo_run):
    data, _ = demo_run
    ledger = f"{data}/lake/ledger/*/*/*.parquet"
    bad = duckdb.sql(
        f"""select source_file, rows_read, rows_loaded, rows_quarantined
            from read_parquet('{ledger}', union_by_name=true)
            where status in ('loaded', 'replaced') and rows_read <> rows_loaded + rows_quarantined"""
    ).fetchall()
    assert bad == []
    statuses = dict(
        duckdb.sql(f"select status, count(*) from read_parquet('{ledger}', union_by_name=true) group by 1").fetchall()
    )
    # The demo re-delivers one identical file under another name and rewrites GA4 days.
    assert statuses.get("duplicate", 0) >= 1
    assert statuses.get("replaced", 0) >= 1


def test_serving_database_has_the_marts_read_only(demo_run):
    data, _ = demo_run
    con = duckdb.connect(str(data / "warehouse" / "serving.duckdb"), read_only=True)
    try:
        persons = con.execute("select count(distinct person_id) from identity.person_identifiers").fetchone()[0]
        activities = con.execute("select count(*), count(person_id) from journeys.activities").fetchone()
    finally:
        con.close()
    assert persons > 0
    assert activities[0] > 0 and activities[0] == activities[1]


def test_second_run_loads_nothing_new(demo_run):
    data, _ = demo_run
    before_rows, before_files = lake_rows(data), lake_files(data)
    proc = omni("run", data=data)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert lake_rows(data) == before_rows
    assert lake_files(data) == before_files


@dataclass(frozen=True)
class DayRun:
    """One `omni day` of the last landing day, into which a renamed copy of an earlier day's export was landed."""

    copy_statuses: list[str]  # the ledger's statuses for the copy
    returncode: int  # `omni day`'s: a file of the day could not be ingested
    stderr: str
    published: bool  # the serving database was replaced by the run
    rows_before: dict[str, int]
    rows_after: dict[str, int]
    counts_before: tuple[int, int]  # journeys.activities, identity.person_identifiers
    counts_after: tuple[int, int]
    observation_runs: int  # distinct loaded_at in int_identifier_observations
    observation_rows: int
    observations_rewritten: int  # rows stamped by the day's run


@pytest.fixture(scope="module")
def day_run(demo_run) -> DayRun:
    """One `omni day` (a Dagster run costs a minute) serves both day checks. Tests run in file order, so
    it comes after test_second_run_loads_nothing_new when that is selected; that run loads nothing new,
    so the day's checks hold either way."""
    data, _ = demo_run
    build_db = str(data / "warehouse" / "build.duckdb")
    counts_sql = "select (select count(*) from journeys.activities), (select count(*) from identity.person_identifiers)"
    last_day = last_landing_day(data)
    ledger = f"{data}/lake/ledger/*/*/*.parquet"
    # An earlier day's loaded export with rows (a header-only one is not deduplicated), renamed into the
    # last day: if ingestion did not know its bytes, its rows would land under another day (lake files
    # are named by content and partitioned by landing day; a same-day copy would overwrite its own file).
    # fetchall: a result left half-read blocks duckdb's default connection (lake_rows uses it next)
    ((export,),) = duckdb.execute(
        f"""select source_file from read_parquet('{ledger}', union_by_name=true)
            where table_name = 'shopify_orders' and status = 'loaded' and rows_read > 0
                and landing_date < cast(? as date)
            order by landing_date, source_file limit 1""",
        [last_day],
    ).fetchall()
    copy = data / "landing" / "shopify_orders" / last_day / f"copy of {Path(export).name}"
    shutil.copy(data / "landing" / export, copy)
    # ... and an export that cannot be read (not UTF-8): the rest of the day is still built and published
    unreadable = data / "landing" / "shopify_orders" / last_day / "orders not utf-8.csv"
    unreadable.write_bytes(b"Name,Email\n#1,a@b.se\n#2,\xff\xfe broken\n")
    serving = data / "warehouse" / "serving.duckdb"
    serving_before = serving.stat().st_mtime_ns
    rows_before = lake_rows(data)
    with duckdb.connect(build_db, read_only=True) as con:
        counts_before = con.execute(counts_sql).fetchone()
    proc = omni("day", last_day, data=data)
    assert proc.returncode in (0, 2), proc.stdout[-4000:] + proc.stderr[-4000:]
    copy_statuses = [
        status
        for (status,) in duckdb.execute(
            f"select status from read_parquet('{ledger}', union_by_name=true) where source_file = ?",
            [f"shopify_orders/{last_day}/{copy.name}"],
        ).fetchall()
    ]
    with duckdb.connect(build_db, read_only=True) as con:
        counts_after = con.execute(counts_sql).fetchone()
        runs, rows, rewritten = con.execute(
            "select count(distinct loaded_at), count(*), count(*) filter (where loaded_at = "
            "(select max(loaded_at) from intermediate.int_identifier_observations)) "
            "from intermediate.int_identifier_observations"
        ).fetchone()
    published = serving.stat().st_mtime_ns != serving_before
    return DayRun(
        copy_statuses, proc.returncode, proc.stderr, published, rows_before, lake_rows(data), counts_before,
        counts_after, runs, rows, rewritten,
    )  # fmt: skip


def test_a_day_with_an_unreadable_export_is_published_and_exits_2(day_run, demo_run):
    """A scheduler must tell a day with a missing export from a good one (0) and a failed run (1)."""
    assert day_run.returncode == 2, day_run.stderr[-3000:]
    assert "raw/shopify_orders" in day_run.stderr and "orders not utf-8.csv" in day_run.stderr
    assert "is not valid utf-8" in day_run.stderr and "Fix: re-export" in day_run.stderr
    assert day_run.published


def test_same_export_under_another_name_adds_no_rows(day_run):
    assert day_run.rows_after == day_run.rows_before
    # and not because the copy was out of the run's scope: the run read it and knew its bytes
    assert day_run.copy_statuses == ["duplicate"]


def test_one_day_through_dagster_is_an_incremental_build(day_run):
    """`omni day` runs daily_job for one partition in-process: the window reaches dbt, so the incremental
    models rewrite only that day's window (a full build stamps every row with one loaded_at), and with
    no new data (the day's copy is a known export) the marts stay as they were."""
    assert day_run.counts_after == day_run.counts_before
    assert day_run.observation_runs >= 2, "the day's run rebuilt int_identifier_observations instead of its window"
    assert 0 < day_run.observations_rewritten < day_run.observation_rows


def _failed_dbt_nodes(data: Path) -> set[str]:
    results = json.loads((data / "warehouse" / "last_dbt_run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[2] for r in results if r["status"] in ("fail", "error")}


def test_build_after_a_failed_one_tests_whole_tables(demo_run, day_run):
    """A dbt build that fails through Dagster leaves its marker, and the next build runs the narrowed data
    tests (latest_run_keys, __loaded_in_latest_run__) over whole tables: a duplicate in rows older than
    the latest run, which the narrowed test skips, fails it. Runs last: it leaves the warehouse broken."""
    data, _ = demo_run
    build_db = str(data / "warehouse" / "build.duckdb")
    marker = data / "warehouse" / "dbt_build_unfinished"
    assert not marker.exists(), "the successful day run left its marker"
    last_day = last_landing_day(data)
    with duckdb.connect(build_db) as con:
        # a duplicate in a public mart (an activity before the day's re-stitch window, so that the run keeps
        # both copies): its uniqueness test is not narrowed, so this build fails
        con.execute(
            """insert into journeys.activities select * from journeys.activities
               where occurred_at < cast(? as date) - interval 5 day order by activity_id limit 1""",
            [last_day],
        )
        # a funnel step event written twice by an earlier run (both copies older than the table's latest
        # rows), of a person no day's run re-cuts (nothing after the first days): the narrowed test checks
        # only the keys the latest run wrote, so only a whole-table test sees it
        con.execute(
            """create temp table twice as
               select * replace (loaded_at - interval 1 day as loaded_at) from intermediate.int_funnel_step_events
               where person_id in (
                   select person_id from journeys.activities group by person_id
                   having max(occurred_at) < cast(? as date) - interval 5 day)
               order by activity_id limit 1""",
            [last_day],
        )
        key = "(funnel_name, unit_id, activity_id, step_index)"
        con.execute(f"delete from intermediate.int_funnel_step_events where {key} in (select {key} from twice)")
        con.execute("insert into intermediate.int_funnel_step_events select * from twice union all select * from twice")
        (found,) = con.execute("select count(*) from twice").fetchone()
    assert found == 1
    # the control: the narrowed test alone does not see that duplicate
    target = data.parent / "dbt_target_narrowed"
    narrowed = subprocess.run(
        [DBT, "test", "--select", "int_funnel_step_events,test_type:data", "--target-path", str(target)],
        cwd=DBT_PROJECT_DIR, env={**dbt_env(paths_under(data)), FULL_DATA_TESTS_ENV: ""},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert narrowed.returncode == 0 and "PASS journeys_unique_combination_int_funnel_step_events" in narrowed.stdout, (
        narrowed.stdout[-3000:]
    )
    failed = omni("day", last_day, data=data)
    assert failed.returncode != 0
    assert "unique_activities_activity_id" in _failed_dbt_nodes(data)
    assert marker.exists()

    with duckdb.connect(build_db) as con:
        con.execute(
            """delete from journeys.activities where rowid = (
                   select max(rowid) from journeys.activities where activity_id = (
                       select activity_id from journeys.activities group by 1 having count(*) > 1))"""
        )
    again = omni("day", last_day, data=data)
    assert again.returncode != 0, "the duplicate step event went unnoticed after a failed build"
    assert "OMNI_FULL_DATA_TESTS=1" in again.stdout + again.stderr
    failures = _failed_dbt_nodes(data)
    assert failures and all("int_funnel_step_events" in n for n in failures), failures
    assert marker.exists()


def test_no_clear_identifier_in_a_public_mart_but_the_restricted_one(demo_run):
    """README "Privacy": clear e-mails and phones only in identity.person_identifiers (restricted); every
    other mart carries hashed identifiers. Every text column of every relation of the serving database
    is checked against every identifier the demo emitted (data/truth): no value is one or has one as a
    `:`-separated part, and no value contains an e-mail, a phone or a Mailchimp member id (a URL with one
    inside)."""
    data, _ = demo_run
    con = duckdb.connect(str(data / "warehouse" / "serving.duckdb"), read_only=True)
    try:
        con.execute(
            "create temp table truth as select distinct identifier_type as kind, identifier_value as value "
            f"from read_csv('{data / 'truth' / 'identifiers.csv'}', all_varchar = true) "
            # (an order reference is no personal data: it is published as the order's id)
            "where length(identifier_value) >= 6 and identifier_type <> 'order_ref'"
        )
        assert con.execute("select count(distinct kind) from truth where kind in ('email', 'phone')").fetchone()[0] == 2
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_catalog <> 'temp' "
            "and not (table_schema = 'identity' and table_name = 'person_identifiers')"
        ).fetchall()
        assert ("journeys", "activities", "record_id") in columns
        found = {}
        for schema, table, column in columns:
            values = f'(select distinct "{column}" as v from "{schema}"."{table}" where "{column}" is not null)'
            hits = con.execute(
                f"select t.kind, min(m.v) from {values} m join truth t on m.v = t.value group by 1 "
                # a part of a composed id (`<source>:<record id>`, GA4's `<client id>:<session>`)
                "union all select t.kind, min(m.v) from ("
                f"select v, unnest(string_split(v, ':')) as part from {values}) m "
                "join truth t on m.part = t.value group by 1 "
                f"union all select t.kind, min(m.v) from {values} m join truth t "
                "on t.kind in ('email', 'phone') and contains(m.v, t.value) group by 1 "
                f"union all select 'e-mail pattern', min(v) from {values} m "
                "where regexp_matches(v, '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\\.[A-Za-z0-9.-]+') having count(*) > 0 "
                # Mailchimp's member id in a tracked link (the demo's e-mail landing pages carry it)
                f"union all select 'mc_eid', min(v) from {values} m "
                "where regexp_matches(replace(v, 'mc_eid=redacted', ''), 'mc_eid=') having count(*) > 0"
            ).fetchall()
            if hits:
                found[f"{schema}.{table}.{column}"] = sorted(set(hits))
    finally:
        con.close()
    assert found == {}
