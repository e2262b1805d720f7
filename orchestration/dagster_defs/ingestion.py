"""One partitioned Dagster asset per lake table: landing/<table>/<day>/ -> lake/raw/<table>/.

A backfill over a range is one run (single-run backfill policy); each file's fate is in the ledger.
"""

from datetime import date

import dagster as dg

from orchestration.config import get_paths
from orchestration.dagster_defs.jobs import INGESTION_GROUP
from orchestration.dagster_defs.partitions import daily_partitions
from orchestration.ingestion import ingest_partition
from orchestration.ingestion.errors import IngestionError
from orchestration.ingestion.ledger import latest_attempts
from orchestration.sources import TABLES

# A landed file that could not be ingested (kept in landing, none of its rows in the lake): a warning on the
# table's asset, so the rest of the day is still built and published, and `omni` exits 2 naming the file.
FILES_INGESTED_CHECK = "export_files_ingested"


INGESTION_RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)


def _failed_in_run(paths, table: str, run_id: str) -> list[dict]:
    """The files of this run whose latest attempt failed, over every attempt of the step (all in the
    ledger): a retry does not try again a file an earlier attempt found bad (its bytes are handled), so the
    last attempt's rows alone would miss it."""
    return [r for r in latest_attempts(paths, [table], run_id=run_id).values() if r["status"] == "failed"]


def _days(context: dg.AssetExecutionContext) -> list[date]:
    return [date.fromisoformat(k) for k in context.partition_keys]


def _ingestion_asset(table: str) -> dg.AssetsDefinition:
    spec = TABLES[table]

    @dg.asset(
        key=["raw", table],
        group_name=INGESTION_GROUP,
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        retry_policy=INGESTION_RETRY_POLICY,
        description=f"{spec.description} Landed files -> Parquet lake, one file per landed file.",
        kinds={"parquet", "duckdb"},
        check_specs=[
            dg.AssetCheckSpec(
                FILES_INGESTED_CHECK,
                asset=["raw", table],
                description="Every file this run tried to ingest was read (none failed); a failed file is "
                "named with its error and the fix, and stays in landing.",
            )
        ],
    )
    def _asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        paths = get_paths()
        rows: list[dict] = []
        errors: list[IngestionError] = []
        for day in _days(context):
            try:
                rows += ingest_partition(table, day, paths, run_id=context.run.run_id)
            except IngestionError as exc:  # an error of the ingestion: the range's other days first
                errors.append(exc)
                rows += exc.rows
        if errors and context.retry_number < INGESTION_RETRY_POLICY.max_retries:
            raise errors[0]  # retried; each file's error is in the ledger
        # Still failing after the retries (e.g. a file too large for the memory limit): reported like a bad
        # file (the check below, `omni` exits 2) so that the rest of the day is built and published; its
        # ledger row stays retryable, so the next run of the day tries it again.
        failed = _failed_in_run(paths, table, context.run.run_id)
        for r in failed:
            context.log.error(f"{table}: {r['source_file']}: {r['error']}")
        for r in rows:
            if r["status"] == "replaced" and r["error"]:  # e.g. a re-delivery without rows emptied the file
                context.log.warning(f"{table}: {r['error']}")
            elif r["status"] == "duplicate" and r["replaces_sha256"]:  # its own earlier version left the lake
                context.log.info(f"{table}: {r['error']}")
        totals = {k: sum(int(r[k] or 0) for r in rows) for k in ("rows_read", "rows_loaded", "rows_quarantined")}
        statuses: dict[str, int] = {}
        for r in rows:
            statuses[r["status"]] = statuses.get(r["status"], 0) + 1
        failures = "\n".join(f"{r['source_file']}: {r['error']}" for r in failed)
        return dg.MaterializeResult(
            check_results=[
                dg.AssetCheckResult(
                    check_name=FILES_INGESTED_CHECK,
                    passed=not failed,
                    severity=dg.AssetCheckSeverity.WARN,
                    description=f"{len(failed)} file(s) could not be ingested:\n{failures}" if failed else None,
                    metadata={"failed_files": len(failed)},
                )
            ],
            metadata={
                "files": len(rows),
                **totals,
                "files_by_status": dg.MetadataValue.json(statuses),
                "failed_files": dg.MetadataValue.json(
                    [{"file": r["source_file"], "error": r["error"]} for r in failed]
                ),
                "lake_folder": dg.MetadataValue.path(str(paths.raw / table)),
            },
        )

    return _asset


ingestion_assets = [_ingestion_asset(t) for t in TABLES]
