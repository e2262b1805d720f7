"""Gate results: what one expectation said about one batch, how it is reported and where it is kept."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from orchestration.config import Paths
from orchestration.lake_layout import STUB_NAME, STUB_PARTITION, write_parquet_atomic

CRITICAL = "critical"
WARNING = "warning"
SEVERITIES = (CRITICAL, WARNING)

GATE_RESULTS_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string()),
        pa.field("validated_at", pa.timestamp("us", tz="UTC")),
        pa.field("asset", pa.string()),  # raw.<table> or <schema>.<relation>
        pa.field("partition_key", pa.string()),  # landing day of a raw partition, null for marts
        pa.field("suite", pa.string()),
        pa.field("expectation", pa.string()),  # type(column...) - readable and stable per suite
        pa.field("expectation_type", pa.string()),
        pa.field("column_name", pa.string()),
        pa.field("severity", pa.string()),
        pa.field("success", pa.bool_()),
        pa.field("observed_value", pa.string()),
        pa.field("element_count", pa.int64()),
        pa.field("unexpected_count", pa.int64()),
        pa.field("failing_sample", pa.string()),  # JSON array of sample failing values
        pa.field("error", pa.string()),  # set when the expectation could not be evaluated
    ]
)


@dataclass
class GateResult:
    run_id: str
    asset: str
    suite: str
    expectation: str
    severity: str
    success: bool
    observed_value: str | None = None
    failing_sample: list = field(default_factory=list)
    partition_key: str | None = None
    expectation_type: str | None = None
    column_name: str | None = None
    element_count: int | None = None
    unexpected_count: int | None = None
    error: str | None = None
    validated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def raw_table(self) -> str | None:
        """The lake table of a raw partition's gate (asset `raw.<table>`), else None."""
        return self.asset.split(".", 1)[1] if self.asset.startswith("raw.") else None

    @property
    def is_blocking(self) -> bool:
        return self.severity == CRITICAL and not self.success

    def line(self) -> str:
        where = f"{self.asset}[{self.partition_key}]" if self.partition_key else self.asset
        what = self.error or f"observed {self.observed_value}"
        sample = (
            f"; sample failing values: {json.dumps(self.failing_sample, default=str)}" if (self.failing_sample) else ""
        )
        return f"[{self.severity}] suite {self.suite} on {where}: {self.expectation} failed ({what}){sample}"


def blocking(results: list[GateResult]) -> list[GateResult]:
    """The failed critical expectations: any of them stops the data from going further."""
    return [r for r in results if r.is_blocking]


def describe_failures(results: list[GateResult]) -> str:
    """One line per failed expectation, critical first: suitable as a Dagster run/check message."""
    failed = [r for r in results if not r.success]
    if not failed:
        return f"all {len(results)} expectations passed"
    failed.sort(key=lambda r: (r.severity != CRITICAL, r.suite, r.expectation))
    n_crit = sum(r.severity == CRITICAL for r in failed)
    head = f"{n_crit} critical and {len(failed) - n_crit} warning expectation(s) failed of {len(results)}:"
    return "\n".join([head, *(r.line() for r in failed)])


def gate_results_dir(paths: Paths) -> Path:
    return paths.lake / "quality" / "gate_results"


def ensure_gate_results_stub(paths: Paths) -> Path:
    """Zero-row file so the dbt source quality.gate_results resolves before the first validation."""
    stub = gate_results_dir(paths) / STUB_PARTITION / STUB_NAME
    if not stub.exists():
        write_parquet_atomic(GATE_RESULTS_SCHEMA.empty_table(), stub)
    return stub


def _row(r: GateResult) -> dict:
    d = asdict(r)
    d["failing_sample"] = json.dumps(r.failing_sample, default=str)
    return {f.name: d.get(f.name) for f in GATE_RESULTS_SCHEMA}


def record_gate_results(results: list[GateResult], paths: Paths) -> Path | None:
    """Append one Parquet file per call under lake/quality/gate_results/validated_date=<day>/ (atomic)."""
    ensure_gate_results_stub(paths)
    if not results:
        return None
    table = pa.Table.from_pylist([_row(r) for r in results], schema=GATE_RESULTS_SCHEMA)
    day = results[0].validated_at.date().isoformat()
    # Same partition folder name as the stub so one glob with hive partitioning reads both.
    target = gate_results_dir(paths) / f"ingest_date={day}" / f"{results[0].run_id}-{uuid.uuid4().hex}.parquet"
    write_parquet_atomic(table, target)
    return target


def read_gate_results(paths: Paths, run_id: str | None = None, latest_raw: bool = False) -> list[GateResult]:
    """Recorded results, oldest first: of one run (run_id), or with latest_raw the most recent
    validation of every raw partition, whichever run made it (ingestion and build are separate runs)."""
    import duckdb

    ensure_gate_results_stub(paths)
    glob = str(gate_results_dir(paths) / "*" / "*.parquet")
    con = duckdb.connect()
    try:
        sql = f"select * exclude (ingest_date) from read_parquet('{glob}', hive_partitioning=true, union_by_name=true)"
        params: list = []
        if run_id is not None:
            sql += " where run_id = ?"
            params.append(run_id)
        if latest_raw:
            sql = (
                f"select * from ({sql}) where asset like 'raw.%' "
                "qualify validated_at = max(validated_at) over (partition by asset, partition_key)"
            )
        cur = con.execute(f"select * from ({sql}) order by validated_at", params)
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()
    out = []
    for row in rows:
        row["failing_sample"] = json.loads(row["failing_sample"] or "[]")
        out.append(GateResult(**row))
    return out
