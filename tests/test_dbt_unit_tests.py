"""Every dbt unit test of the project, on a private empty warehouse.

The scheduled `dbt build` (the Dagster dbt asset) leaves unit tests out: they check SQL logic on
fixtures, not the day's data, and cost the same every day (dbt recommends them for development and
CI). This test is where they run: every model is created empty (`dbt run --empty`, so unit-test
fixtures get their column types from the relations), then `dbt test --select test_type:unit` must run
and pass every unit test the project defines."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.config import DBT_PROJECT_DIR, REPO_ROOT, dbt_env, get_paths
from orchestration.funnels import compile_funnels
from orchestration.lake_layout import ensure_schema_stubs
from orchestration.quality.results import ensure_gate_results_stub

pytestmark = pytest.mark.integration  # runs dbt


def _dbt(paths, target: Path, *args: str) -> subprocess.CompletedProcess:
    dbt = str(Path(sys.executable).parent / "dbt")
    cmd = [dbt, *args, "--target-path", str(target), "--log-path", str(target)]
    return subprocess.run(cmd, cwd=DBT_PROJECT_DIR, env=dbt_env(paths), capture_output=True, text=True, timeout=900)


def test_every_dbt_unit_test_passes(data_dir, tmp_path):
    paths = get_paths()
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    ensure_schema_stubs(paths)
    ensure_gate_results_stub(paths)
    compile_funnels(REPO_ROOT / "funnels", paths)
    target = tmp_path / "target"

    listed = _dbt(paths, target, "ls", "--resource-type", "unit_test", "--quiet")
    assert listed.returncode == 0, listed.stdout[-3000:]
    unit_tests = [line for line in listed.stdout.splitlines() if line.strip()]
    assert unit_tests, "the project defines no dbt unit test"

    for step in (["seed"], ["run", "--empty"]):
        done = _dbt(paths, target, *step)
        assert done.returncode == 0, f"dbt {' '.join(step)}:\n{done.stdout[-3000:]}"

    tested = _dbt(paths, target, "test", "--select", "test_type:unit")
    assert tested.returncode == 0, tested.stdout[-6000:]
    summary = re.search(r"PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)", tested.stdout)
    assert summary, tested.stdout[-3000:]
    passed, warned, errors, skipped = map(int, summary.groups())
    assert (passed, errors, skipped) == (len(unit_tests), 0, 0), tested.stdout[-3000:]
