"""The Dagster glue: a blocking, partition-aware raw check stops downstream assets on a bad day."""

from __future__ import annotations

from datetime import date

import dagster as dg

from orchestration.config import get_paths
from orchestration.lake_layout import ensure_schema_stubs
from orchestration.quality.dagster_checks import publish_asset, raw_asset_checks
from orchestration.quality.results import read_gate_results
from orchestration.sources import TABLES
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
