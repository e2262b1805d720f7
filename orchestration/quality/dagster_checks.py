"""Dagster glue: blocking GX checks on the raw lake assets and on the public marts, and the publish asset.

Raw suites are one partition-aware check per raw asset; mart suites are one check per public mart
(`gx_mart_suite`), all run by one op that reads the build database once after dbt build. Both are
blocking: a failed critical expectation fails the check with ERROR severity, and Dagster then runs
nothing downstream of that asset (the publish asset among them).
"""

from collections.abc import Callable, Sequence
from pathlib import Path

import dagster as dg

from orchestration.config import Paths, get_paths
from orchestration.lake_layout import STUB_PARTITION, raw_dir
from orchestration.quality.publish import PublishBlocked, publish
from orchestration.quality.results import GateResult, blocking, describe_failures, record_gate_results
from orchestration.quality.runner import validate_marts, validate_raw_partition
from orchestration.quality.suites import MARTS_DIR, mart_suites
from orchestration.sources import TABLES

MAX_FAILURES_IN_METADATA = 20
MART_CHECK_NAME = "gx_mart_suite"


def _latest_partition(paths: Paths, table: str) -> str | None:
    folders = raw_dir(paths, table).glob("ingest_date=*")
    days = sorted(p.name.split("=", 1)[1] for p in folders if p.name != STUB_PARTITION)
    return days[-1] if days else None


def _other_days_written(paths: Paths, table: str, run_id: str, days: Sequence[str]) -> list[str]:
    """Landing days outside `days` into whose raw partition this run's ingestion wrote: a re-delivery's
    own bytes, loaded again under its landing day when the other file that held them changed. Their
    gate is run again, or the latest one (from before the file) would pass it unseen at publish."""
    from orchestration.ingestion.ledger import LIVE, latest_attempts

    written = {
        row["landing_date"].isoformat()
        for row in latest_attempts(paths, [table], run_id=run_id).values()
        if row["status"] in LIVE and row["lake_file"]
    }
    return sorted(written - set(days))


def check_result(
    results: list[GateResult],
    days: Sequence[str],
    *,
    asset_key: dg.AssetKey | None = None,
    check_name: str | None = None,
    extra_metadata: dict | None = None,
) -> dg.AssetCheckResult:
    """Failed critical expectations -> ERROR (blocks downstream); failed warnings -> WARN.

    asset_key and check_name say which check the result is for when one op runs several (a multi-asset check).
    """
    failed = [r for r in results if not r.success]
    crit = blocking(results)
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=check_name,
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
            **(extra_metadata or {}),
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
        run_id = context.op_execution_context.run_id
        days += _other_days_written(paths, table, run_id, days)
        results: list[GateResult] = []
        for day in days:
            results += validate_raw_partition(table, day, paths, run_id=run_id)
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


def mart_relation(key: dg.AssetKey) -> str:
    """The relation a mart asset is (dbt assets are keyed [schema, relation]), as its suite names it."""
    return ".".join(key.path)


def _run_days(context: dg.AssetCheckExecutionContext) -> list[str]:
    """The landing days of the run (the marts were just built for them); none for an unpartitioned run."""
    op_context = context.op_execution_context
    try:
        if op_context.has_partition_key or op_context.has_partition_key_range:
            return list(op_context.partition_keys)
    except dg.DagsterInvariantViolationError:
        pass
    return []


def mart_asset_checks(mart_keys: Sequence[dg.AssetKey]) -> dg.AssetChecksDefinition | None:
    """One blocking `gx_mart_suite` check per public mart that has a suite expectations/marts/<schema>.<relation>.json.

    One op runs them all: it opens the build database once (read-only, closed before validating), validates
    the selected marts and records their results in the gate results, once per run (the publish step reuses
    them). A mart the dbt step should have built but that is absent from the build database fails its check.
    """
    suites = mart_suites()
    keys = sorted((k for k in mart_keys if mart_relation(k) in suites), key=lambda k: k.path)
    if not keys:
        return None
    specs = [
        dg.AssetCheckSpec(
            MART_CHECK_NAME,
            asset=key,
            blocking=True,
            description=f"GX suite {MARTS_DIR.name}/{mart_relation(key)}.json on the mart in the build database, "
            "after dbt build and before publish; a failed critical expectation blocks the publish.",
            metadata={"suite": suites[mart_relation(key)]["name"]},
        )
        for key in keys
    ]

    @dg.multi_asset_check(
        specs=specs,
        name="gx_mart_suites",
        can_subset=True,
        description="Great Expectations suites of the public marts, one blocking check per mart.",
    )
    def _checks(context: dg.AssetCheckExecutionContext):
        paths = get_paths()
        selected = sorted(
            (ck.asset_key for ck in context.selected_asset_check_keys if ck.name == MART_CHECK_NAME),
            key=lambda k: k.path,
        )
        if not selected:
            return
        relations = [mart_relation(k) for k in selected]
        results = validate_marts(paths, context.op_execution_context.run_id, relations=relations)
        record_gate_results(results, paths)
        days = _run_days(context)
        for key, rel in zip(selected, relations, strict=True):
            mine = [r for r in results if r.asset == rel]
            meta = {"relation": rel, "build_database": dg.MetadataValue.path(str(paths.warehouse))}
            if not mine:
                message = (
                    f"[critical] suite {suites[rel]['name']} on {rel}: the relation is not in the build database "
                    f"{paths.warehouse}"
                )
                context.log.error(message)
                yield dg.AssetCheckResult(
                    asset_key=key,
                    check_name=MART_CHECK_NAME,
                    passed=False,
                    severity=dg.AssetCheckSeverity.ERROR,
                    description=message,
                    metadata=meta,
                )
                continue
            if blocking(mine):
                context.log.error(describe_failures(mine))
            elif not all(r.success for r in mine):
                context.log.warning(describe_failures(mine))
            yield check_result(mine, days, asset_key=key, check_name=MART_CHECK_NAME, extra_metadata=meta)

    return _checks


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
        description="Audits the build database (GX mart suites as checked in this run, else validated here; "
        "the raw gates; dbt tests) and, only if no critical expectation failed, atomically replaces the serving "
        "DuckDB file and the Parquet copies.",
    )
    def _publish(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        paths = get_paths()
        try:
            # The mart checks of this run (blocking, upstream of this asset) validated and recorded the marts.
            out = publish(
                paths, context.run.run_id, dbt_run_results() if dbt_run_results else None, reuse_mart_results=True
            )
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
