"""The Dagster glue: blocking GX checks (partition-aware on raw assets, per mart after dbt) stop what is downstream."""

from __future__ import annotations

from collections import Counter
from datetime import date

import dagster as dg
import duckdb
import pytest

from orchestration.config import get_paths
from orchestration.lake_layout import ensure_schema_stubs
from orchestration.quality.dagster_checks import MART_CHECK_NAME, mart_asset_checks, publish_asset, raw_asset_checks
from orchestration.quality.publish import PublishBlocked, publish
from orchestration.quality.results import read_gate_results, record_gate_results
from orchestration.quality.suites import mart_suites
from orchestration.sources import TABLES
from tests.conftest import ledger_row
from tests.test_quality_lake import corrupt_shopify, good_rows, write_partition

PARTITIONS = dg.DailyPartitionsDefinition(start_date="2026-10-01")


@dg.asset(key=["raw", "shopify_orders"], partitions_def=PARTITIONS)
def raw_shopify_orders() -> None:
    """Stands in for the ingestion asset: the lake partition is written by the test."""


@dg.asset(deps=[dg.AssetKey(["raw", "shopify_orders"])], partitions_def=PARTITIONS)
def downstream() -> None:
    pass


def _run(day: str):
    checks = raw_asset_checks(["shopify_orders"], partitions_def=PARTITIONS)
    return dg.materialize([raw_shopify_orders, downstream, *checks], partition_key=day, raise_on_error=False)


def test_factories_cover_every_table_and_publish(data_dir):
    checks = raw_asset_checks(partitions_def=PARTITIONS)
    keys = {k.asset_key for c in checks for k in c.check_keys}
    assert keys == {dg.AssetKey(["raw", t]) for t in TABLES}
    assert all(spec.blocking for c in checks for spec in c.check_specs)
    asset = publish_asset(deps=[dg.AssetKey(["journeys", "activities"])])
    assert asset.key == dg.AssetKey(["serving", "warehouse"])


def test_bad_day_fails_the_check_and_blocks_downstream(data_dir):
    paths = get_paths()
    ensure_schema_stubs(paths)
    day = date(2026, 10, 12)
    write_partition(paths, "shopify_orders", day, corrupt_shopify(good_rows("shopify_orders", day)))
    result = _run(str(day))
    evals = result.get_asset_check_evaluations()
    assert len(evals) == 1 and not evals[0].passed
    assert evals[0].severity == dg.AssetCheckSeverity.ERROR
    failures = evals[0].metadata["failures"].value
    assert any(
        f["suite"] == "raw.shopify_orders" and f["expectation"] == "range(total)" and f["sample"] for f in failures
    )
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert dg.AssetKey(["downstream"]) not in materialized
    recorded = read_gate_results(paths)
    assert {r.partition_key for r in recorded} == {"2026-10-12"} and any(r.is_blocking for r in recorded)


def test_good_day_passes_and_downstream_runs(data_dir):
    paths = get_paths()
    ensure_schema_stubs(paths)
    day = date(2026, 10, 13)
    write_partition(paths, "shopify_orders", day, good_rows("shopify_orders", day))
    result = _run(str(day))
    assert result.success
    assert [e.passed for e in result.get_asset_check_evaluations()] == [True]
    assert dg.AssetKey(["downstream"]) in {e.asset_key for e in result.get_asset_materialization_events()}


# ---- mart suites as per-mart checks ---------------------------------------------------------------

MART_KEYS = [
    dg.AssetKey(["customers", "customer_profiles"]),
    dg.AssetKey(["identity", "person_identifiers"]),
    dg.AssetKey(["journeys", "activities"]),
]


def _mart_job_assets(duplicate_person: str | None):
    """Stand-ins for the dbt marts (they write a small build database, as dbt would), the mart checks
    and the publish asset, wired as in orchestration/definitions.py."""
    from tests.test_publish_wap import build_warehouse

    @dg.multi_asset(specs=[dg.AssetSpec(k) for k in MART_KEYS], partitions_def=PARTITIONS, name="dbt_marts")
    def marts():
        paths = get_paths()
        build_warehouse(paths.warehouse, 2)
        if duplicate_person:
            con = duckdb.connect(str(paths.warehouse))
            try:
                con.execute(
                    "insert into customers.customer_profiles select * from customers.customer_profiles "
                    "where person_id = ?",
                    [duplicate_person],
                )
            finally:
                con.close()
        for k in MART_KEYS:
            yield dg.MaterializeResult(asset_key=k)

    return [marts, mart_asset_checks(MART_KEYS), publish_asset(deps=MART_KEYS)]


def _mart_evaluations(instance: dg.DagsterInstance, run_id: str) -> dict[dg.AssetKey, dg.AssetCheckEvaluation]:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    evals = [r.event_log_entry.dagster_event.event_specific_data for r in records]
    return {e.asset_key: e for e in evals if e.check_name == MART_CHECK_NAME}


def test_every_mart_suite_is_a_blocking_check_on_its_asset():
    keys = [dg.AssetKey(rel.split(".")) for rel in mart_suites()]
    checks = mart_asset_checks([*keys, dg.AssetKey(["staging", "stg_without_suite"])])
    specs = list(checks.check_specs)
    assert sorted(s.asset_key for s in specs) == sorted(keys)  # one per suite file, none for unchecked assets
    assert all(s.name == MART_CHECK_NAME and s.blocking for s in specs)
    assert mart_asset_checks([dg.AssetKey(["staging", "stg_without_suite"])]) is None


def test_failed_mart_check_names_suite_expectation_sample_and_blocks_publish(data_dir):
    paths = get_paths()
    ensure_schema_stubs(paths)
    from tests.test_publish_wap import build_warehouse, serving_version

    build_warehouse(paths.warehouse, 1)
    publish(paths, "earlier-run", build_docs=False)
    assert serving_version(paths.serving) == 1

    with dg.instance_for_test() as instance:
        result = dg.materialize(
            _mart_job_assets(duplicate_person="p7"), partition_key="2026-10-12", instance=instance, raise_on_error=False
        )
        assert not result.success
        evals = _mart_evaluations(instance, result.run_id)
    assert set(evals) == set(MART_KEYS)
    bad = evals[dg.AssetKey(["customers", "customer_profiles"])]
    assert not bad.passed and bad.severity == dg.AssetCheckSeverity.ERROR and bad.blocking
    assert "suite customers.customer_profiles" in bad.description
    assert "expect_column_values_to_be_unique(person_id)" in bad.description
    assert '"p7"' in bad.description  # the sample failing value
    assert bad.metadata["failed_critical"].value == 1
    assert [f["sample"][0]["value"] for f in bad.metadata["failures"].value] == ["p7"]
    assert all(evals[k].passed for k in MART_KEYS if k != bad.asset_key)
    # Nothing downstream: publish did not run, the serving file keeps the previous version.
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert dg.AssetKey(["serving", "warehouse"]) not in materialized and set(MART_KEYS) <= materialized
    assert serving_version(paths.serving) == 1
    # Recorded once, by the check (publish never ran).
    recorded = read_gate_results(paths, run_id=result.run_id)
    per_expectation = Counter((r.asset, r.expectation) for r in recorded)
    assert set(per_expectation.values()) == {1}
    assert {r.asset for r in recorded} == {".".join(k.path) for k in MART_KEYS}
    assert any(r.is_blocking and r.asset == "customers.customer_profiles" for r in recorded)


def test_passing_mart_checks_publish_and_results_are_recorded_once(data_dir):
    paths = get_paths()
    ensure_schema_stubs(paths)
    from tests.test_publish_wap import serving_version

    with dg.instance_for_test() as instance:
        result = dg.materialize(
            _mart_job_assets(duplicate_person=None), partition_key="2026-10-12", instance=instance, raise_on_error=False
        )
        assert result.success
        evals = _mart_evaluations(instance, result.run_id)
    assert set(evals) == set(MART_KEYS) and all(e.passed for e in evals.values())
    assert dg.AssetKey(["serving", "warehouse"]) in {e.asset_key for e in result.get_asset_materialization_events()}
    assert serving_version(paths.serving) == 2
    # The publish step reused the checks' results instead of validating and recording the marts again.
    recorded = [r for r in read_gate_results(paths, run_id=result.run_id) if r.asset in mart_suites()]
    assert recorded and set(Counter((r.asset, r.expectation) for r in recorded).values()) == {1}


def test_publish_reuses_this_runs_mart_results_and_still_blocks_on_them(data_dir):
    """Outside Dagster publish validates the marts itself; inside, a critical failure recorded by the
    check of the same run blocks it even if the build database was repaired in between."""
    paths = get_paths()
    ensure_schema_stubs(paths)
    from tests.test_publish_wap import build_warehouse

    build_warehouse(paths.warehouse, 1)
    con = duckdb.connect(str(paths.warehouse))
    try:
        con.execute("update customers.customer_profiles set latest_nps_score = 42 where person_id = 'p1'")
    finally:
        con.close()
    from orchestration.quality.runner import validate_marts

    record_gate_results(validate_marts(paths, "run-x"), paths)
    build_warehouse(paths.warehouse, 2)  # repaired after the check
    with pytest.raises(PublishBlocked, match="range\\(latest_nps_score\\)"):
        publish(paths, "run-x", build_docs=False, reuse_mart_results=True)
    before = len(read_gate_results(paths, run_id="run-x"))
    assert publish(paths, "run-y", build_docs=False)["status"] == "published"  # validates the repaired marts
    assert len(read_gate_results(paths, run_id="run-x")) == before


def test_a_run_that_wrote_into_another_days_partition_gates_that_day_too(data_dir):
    """A run of one day can load a file of another (a re-delivery's own bytes, loaded again under its
    landing day once the other file holding them changed): that day's gate runs again in this run, or
    publish would go by its earlier gate, which never saw the file."""
    from orchestration.ingestion.ledger import write_attempt

    paths = get_paths()
    ensure_schema_stubs(paths)
    day, other = date(2026, 10, 14), date(2026, 10, 11)
    write_partition(paths, "shopify_orders", day, good_rows("shopify_orders", day))
    write_partition(paths, "shopify_orders", other, corrupt_shopify(good_rows("shopify_orders", other)))

    @dg.asset(key=["raw", "shopify_orders"], partitions_def=PARTITIONS)
    def raw_loading_another_day(context) -> None:
        row = ledger_row("shopify_orders", other, "export.csv", file_sha256="c" * 64, lake_file="raw/x.parquet",
                         run_id=context.run.run_id)  # fmt: skip
        write_attempt(paths, row)

    checks = raw_asset_checks(["shopify_orders"], partitions_def=PARTITIONS)
    result = dg.materialize(
        [raw_loading_another_day, downstream, *checks], partition_key=str(day), raise_on_error=False
    )
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed and check.metadata["partitions"].value == [str(day), str(other)]
    assert {f["partition"] for f in check.metadata["failures"].value} == {str(other)}
    assert dg.AssetKey(["downstream"]) not in {e.asset_key for e in result.get_asset_materialization_events()}
    # the same partition without the other day's load passes: only this run's writes widen the gate
    assert _run(str(day)).success
