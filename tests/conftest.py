"""Shared fixtures: every test that touches data gets its own OMNI_DATA_DIR."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.config import REPO_ROOT

# `make test` runs the test files on two xdist workers: each keeps its own dbt target/ and logs/ (manifest,
# partial_parse.msgpack), as two dbt processes writing one of them at once could read it half-written.
# Set at import, before any test, so every dbt and `omni` child process inherits it.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if _WORKER:
    os.environ["DBT_TARGET_PATH"] = str(REPO_ROOT / "target" / f"pytest-{_WORKER}")
    os.environ["DBT_LOG_PATH"] = str(REPO_ROOT / "logs" / f"pytest-{_WORKER}")

PATH_VARS = ("OMNI_LANDING_DIR", "OMNI_LAKE_DIR", "OMNI_WAREHOUSE_PATH", "OMNI_SERVING_PATH", "DAGSTER_HOME")


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """A private data folder; get_paths() resolves everything below it."""
    data = tmp_path / "data"
    monkeypatch.setenv("OMNI_DATA_DIR", str(data))
    for var in PATH_VARS:
        monkeypatch.delenv(var, raising=False)
    return data


def scenario_warehouse(monkeypatch, folder: Path):
    """Paths of a fresh warehouse under `folder` for a dbt scenario test: schema stubs, the funnel
    configuration and the seeds in place (OMNI_DATA_DIR points there for the rest of the test)."""
    from orchestration.config import DBT_PROJECT_DIR, get_paths
    from orchestration.funnels.compile import compile_funnels
    from orchestration.identity.scenario import prepare, run_dbt

    monkeypatch.setenv("OMNI_DATA_DIR", str(folder))
    paths = get_paths()
    prepare(paths)
    compile_funnels(DBT_PROJECT_DIR / "funnels", paths)
    run_dbt(paths, "seed")
    return paths


def record_id_of(identifier_type: str, value: str) -> str:
    """A record keyed by an identifier (Mailchimp member, loyalty member) as the activity chain and the
    public marts know it: identifier_hash's sha256 of `type:value`, never the clear value."""
    return hashlib.sha256(f"{identifier_type}:{value}".encode()).hexdigest()


def ledger_row(table: str, day, name: str, **fields) -> dict:
    """An ingestion ledger row (orchestration/ingestion/ledger.py) for a test that writes attempts itself:
    a loaded file of `table` landed on `day` as `name`, unless `fields` say otherwise."""
    from orchestration.ingestion.ledger import now_utc

    return {
        "table_name": table, "landing_date": day, "source_file": f"{table}/{day}/{name}", "file_sha256": "b" * 64,
        "file_bytes": 9, "rows_read": 1, "rows_loaded": 1, "rows_quarantined": 0, "status": "loaded",
        "error": None, "replaces_sha256": None, "lake_file": None, "ingested_at": now_utc(), "run_id": "",
        **fields,
    }  # fmt: skip


def log_run_event(instance, run_id: str, event, timestamp: float = 0.0) -> None:
    """A Dagster event of a run in the instance's event log, as its worker writes it (no user message)."""
    import dagster as dg

    instance.handle_new_event(
        dg.EventLogEntry(
            error_info=None, level="DEBUG", user_message="", run_id=run_id, timestamp=timestamp, dagster_event=event
        )  # fmt: skip
    )


def start_run(instance, run, timestamp: float = 0.0) -> None:
    """Adds `run` to the instance, STARTED as its worker's RUN_START event makes it."""
    import dagster as dg

    instance.add_run(run)
    log_run_event(instance, run.run_id, dg.DagsterEvent(dg.DagsterEventType.RUN_START.value, job_name=run.job_name),
                  timestamp)  # fmt: skip
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED


def ended_pid() -> int:
    """The pid of a process that has ended (no process holds it now, short of a wrap-around)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def omni(*args: str, data: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run the `omni` CLI in a child process against a private data folder, as a user would."""
    env = {k: v for k, v in os.environ.items() if k not in PATH_VARS}
    env["OMNI_DATA_DIR"] = str(data)
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# The slowest test files (each builds warehouses through dbt or Dagster), slowest first: `make test`
# hands whole files to its two workers in collection order (--dist loadfile --no-loadscope-reorder), so
# starting with these lets both workers finish together instead of one starting a four-minute file last.
SLOW_FILES_FIRST = (
    "test_pipeline_integration.py",
    "test_incremental_equivalence.py",
    "test_journeys_incremental_lost_activity.py",
    "test_journeys_incremental_lost_subscribe.py",
    "test_identity_incremental_split.py",
    "test_identity_scenarios.py",
    "test_dbt_unit_tests.py",
    "test_identity_components.py",
    "test_dbt_staging.py",
    "test_identity_demo_quality.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOW_FILES_FIRST)}
    # a stable sort: the tests of one file keep their order (module fixtures rely on it)
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
