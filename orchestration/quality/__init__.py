"""Quality gates and safe publishing: GX suites on raw partitions and marts, write-audit-publish.

Public functions (the lead wires them into Dagster):
- validate_raw_partition(table, day, paths) / validate_marts(paths) -> list[GateResult]
- blocking(results), describe_failures(results), record_gate_results(results, paths)
- publish(paths, run_id): audit the build database, then atomically replace the serving file
"""

from orchestration.quality.results import GateResult, blocking, describe_failures, record_gate_results

__all__ = ["GateResult", "blocking", "describe_failures", "record_gate_results"]
