"""Write small identity scenarios into a lake and build the identity models on them.

canonical_identifier_links rows are exactly "identifiers observed on one record", so a scenario is a
list of such rows. Used by tests/test_identity_*.py and bench/bench_identity.py.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.config import DBT_PROJECT_DIR, Paths, dbt_env
from orchestration.lake_layout import data_schema, ensure_schema_stubs, raw_dir, write_parquet_atomic
from orchestration.sources import TABLES

IDENTITY_MARTS = ["person_identifiers", "identity_edges", "identity_merges", "identity_quality", "activities"]


def project_dir() -> Path:
    # overridable so the models can be exercised from a scratch copy of the project
    return Path(os.environ.get("OMNI_IDENTITY_DBT_PROJECT_DIR", DBT_PROJECT_DIR))


def write_rows(
    paths: Paths, table: str, rows: Iterable[Mapping[str, str | None]], landing_day: date, name: str
) -> Path:
    """One lake file of `table` (as ingestion would write it); returns its path so a test can remove it."""
    spec = TABLES[table]
    schema = data_schema(spec)
    rows = list(rows)
    sha = hashlib.sha256(f"{table}/{landing_day}/{name}".encode()).hexdigest()
    now = datetime.now(UTC)
    columns: dict[str, list] = {f.name: [] for f in schema}
    for i, row in enumerate(rows, start=1):
        unknown = set(row) - set(columns)
        if unknown:
            raise ValueError(f"{table} has no columns {sorted(unknown)}")
        for f in schema:
            if f.name == "_file_sha256":
                columns[f.name].append(sha)
            elif f.name == "_source_file":
                columns[f.name].append(f"{table}/{landing_day}/{name}")
            elif f.name == "_row_number":
                columns[f.name].append(i)
            elif f.name == "_landing_date":
                columns[f.name].append(landing_day)
            elif f.name == "_ingested_at":
                columns[f.name].append(now)
            else:
                columns[f.name].append(row.get(f.name))
    target = raw_dir(paths, table) / f"ingest_date={landing_day}" / f"{sha}.parquet"
    write_parquet_atomic(pa.table(columns, schema=schema), target)
    return target


def link(occurred_at: str = "2026-01-01T10:00:00Z", source: str = "test", **identifiers: str) -> dict:
    """A canonical_identifier_links row: every identifier given belongs to one person."""
    return {"occurred_at": occurred_at, "source": source, **identifiers}


def prepare(paths: Paths) -> None:
    ensure_schema_stubs(paths)
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)


def run_dbt(paths: Paths, *args: str, check: bool = True, variables: str | None = None) -> subprocess.CompletedProcess:
    cmd = [
        str(Path(sys.executable).parent / "dbt"),
        *args,
        "--project-dir",
        str(project_dir()),
        "--profiles-dir",
        str(project_dir()),
    ]
    if variables:
        cmd += ["--vars", variables]
    env = dbt_env(paths)
    env["DBT_PROFILES_DIR"] = str(project_dir())
    # target/ and logs/ outside the shared project folder (the profile's path differs per data
    # folder, so dbt re-parses anyway and a private target costs nothing)
    env["DBT_TARGET_PATH"] = str(paths.data / "dbt_target")
    env["DBT_LOG_PATH"] = str(paths.data / "dbt_logs")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=project_dir())
    if check and proc.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args)} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}")
    return proc


def build_identity(
    paths: Paths, check: bool = True, variables: str | None = None, tests: bool = True
) -> subprocess.CompletedProcess:
    select = [f"+{m}" for m in IDENTITY_MARTS]
    # upstream models are built, but only identity's own tests run (staging tests are staging's job)
    exclude = [f"{kind},path:{p}" for kind in ("resource_type:test", "resource_type:unit_test")
               for p in ("models/staging", "models/intermediate/unioned")]  # fmt: skip
    return run_dbt(
        paths, "build" if tests else "run", "--select", *select, "--exclude", *exclude,
        # a test that also needs another capability's mart (not built here) is not identity's to run
        "--indirect-selection", "cautious",
        check=check, variables=variables,
    )  # fmt: skip


def query(paths: Paths, sql: str) -> list[tuple]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def persons_by_value(paths: Paths) -> dict[str, str]:
    """identifier value -> person_id (scenario values are unique across types)."""
    return dict(query(paths, "select identifier_value, person_id from identity.person_identifiers"))
