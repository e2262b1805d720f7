"""Dagster glue: blocking GX checks on the raw lake assets and the publish asset (the lead wires them in)."""

from collections.abc import Callable, Sequence
from pathlib import Path

import dagster as dg

from orchestration.config import Paths, get_paths
from orchestration.lake_layout import STUB_PARTITION, raw_dir
from orchestration.quality.publish import PublishBlocked, publish
from orchestration.quality.results import GateResult, blocking, describe_failures, record_gate_results
from orchestration.quality.runner import validate_raw_partition
from orchestration.sources import TABLES

MAX_FAILURES_IN_METADATA = 20


def _latest_partition(paths: Paths, table: str) -> str | None:
    folders = raw_dir(paths, table).glob("ingest_date=*")
    days = sorted(p.name.split("=", 1)[1] for p in folders if p.name != STUB_PARTITION)
    return days[-1] if days else None


def check_result(results: list[GateResult], days: Sequence[str]) -> dg.AssetCheckResult:
    """Failed critical expectations -> ERROR (blocks downstream); failed warnings -> WARN."""
    failed = [r for r in results if not r.success]
    crit = blocking(results)
    return dg.AssetCheckResult(
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if crit else dg.AssetCheckSeverity.WARN,
        description=describe_failures(results)[:2000],
        metadata={
            "partitions": dg.MetadataValue.json(list(days)),
            "expectations": len(results),
            "failed_critical": len(crit),
            "failed_warning": len(failed) - len(crit),
            "failures": dg.MetadataValue.json(
                [
                    {
                        "suite": r.suite,
                        "expectation": r.expectation,
                        "severity": r.severity,
                        "partition": r.partition_key,
                        "observed": r.observed_value,
                        "error": r.error,
                        "sample": r.failing_sample,
                    }
                    for r in sorted(failed, key=lambda r: r.severity != "critical")[:MAX_FAILURES_IN_METADATA]
                ]
            ),
        },
    )


def _raw_check(table: str, partitions_def: dg.PartitionsDefinition | None) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["raw", table]),
        name="raw_batch_gate",
        blocking=True,
        partitions_def=partitions_def,
        description=f"GX suite expectations/raw/{table}.json on the batch of each landing day; "
        "a failed critical expectation blocks everything downstream.",
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        paths = get_paths()
        if partitions_def is not None and (context.has_partition_key or context.has_partition_key_range):
            days = list(context.partition_keys)
        else:
            latest = _latest_partition(paths, table)
            days = [latest] if latest else []
        results: list[GateResult] = []
        for day in days:
            results += validate_raw_partition(table, day, paths, run_id=context.op_execution_context.run_id)
        record_gate_results(results, paths)
        if blocking(results):
            context.log.error(describe_failures(results))
        return check_result(results, days)

    return _check


def raw_asset_checks(
    tables: Sequence[str] | None = None, partitions_def: dg.PartitionsDefinition | None = None
) -> list[dg.AssetChecksDefinition]:
    """One blocking check per raw asset ["raw", table]; pass the assets' partitions_def to make them
    partition-aware (Dagster 1.13 supports partitioned asset checks), else each validates the latest day."""
    return [_raw_check(t, partitions_def) for t in (tables or list(TABLES))]


def publish_asset(
    deps: Sequence[dg.AssetKey | dg.AssetsDefinition | dg.AssetDep | str],
    key: Sequence[str] = ("serving", "warehouse"),
    dbt_run_results: Callable[[], Path | None] | None = None,
) -> dg.AssetsDefinition:
    """The write-audit-publish step as an asset downstream of the marts (pass the dbt assets as deps).

    dbt_run_results returns the run_results.json of the dbt build that just ran (failed tests block);
    without it the mart suites and this run's raw gates decide.
    """

    @dg.asset(
        key=list(key),
        deps=deps,
        group_name="publish",
        kinds={"duckdb", "parquet"},
        description="Audits the build database (GX mart suites, this run's raw gates, dbt tests) and, only "
        "if no critical expectation failed, atomically replaces the serving DuckDB file and the Parquet copies.",
    )
    def _publish(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        paths = get_paths()
        try:
            out = publish(paths, context.run_id, dbt_run_results() if dbt_run_results else None)
        except PublishBlocked as exc:
            context.log.error(str(exc))
            raise dg.Failure(
                description=str(exc)[:4000], metadata={"failed_critical": len(blocking(exc.results))}
            ) from exc
        return dg.MaterializeResult(
            metadata={
                "relations": dg.MetadataValue.json(out["relations"]),
                "expectations": out["expectations"],
                "failed_warning": out["failed_warning"],
                "serving_path": dg.MetadataValue.path(out["serving_path"]),
                "seconds": out["seconds"],
            }
        )

    return _publish
