"""Every dbt unit test of the project, on a private empty warehouse.

The scheduled `dbt build` (the Dagster dbt asset) leaves unit tests out: they check SQL logic on
fixtures, not the day's data, and cost the same every day (dbt recommends them for development and
CI). This test is where they run: every model is created empty (`dbt run --empty`, so unit-test
fixtures get their column types from the relations), then `dbt test --select test_type:unit` must run
and pass every unit test the project defines."""

from __future__ import annotations

import re

import pytest

from orchestration.config import REPO_ROOT, get_paths
from orchestration.funnels import compile_funnels
from orchestration.identity.scenario import prepare, run_dbt
from orchestration.quality.results import ensure_gate_results_stub

pytestmark = pytest.mark.integration  # runs dbt


def test_every_dbt_unit_test_passes(data_dir):
    paths = get_paths()
    prepare(paths)  # lake stubs, warehouse folder
    ensure_gate_results_stub(paths)
    compile_funnels(REPO_ROOT / "funnels", paths)

    listed = run_dbt(paths, "ls", "--resource-type", "unit_test", "--quiet", check=False)
    assert listed.returncode == 0, listed.stdout[-3000:]
    unit_tests = [line for line in listed.stdout.splitlines() if line.strip()]
    assert unit_tests, "the project defines no dbt unit test"

    for step in (["seed"], ["run", "--empty"]):
        done = run_dbt(paths, *step, check=False)
        assert done.returncode == 0, f"dbt {' '.join(step)}:\n{done.stdout[-3000:]}"

    tested = run_dbt(paths, "test", "--select", "test_type:unit", check=False)
    assert tested.returncode == 0, tested.stdout[-6000:]
    summary = re.search(r"PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)", tested.stdout)
    assert summary, tested.stdout[-3000:]
    passed, warned, errors, skipped = map(int, summary.groups())
    assert (passed, errors, skipped) == (len(unit_tests), 0, 0), tested.stdout[-3000:]
