"""The journeys SQL under dbt: every dbt unit test of the sessions / funnel / alert models (the funnel
semantics of docs/funnels.md) and the mart contracts, on a private empty warehouse, with the funnel
config source resolving from compiled definitions.

journeys.activities is created empty from its contract (activities.yml) instead of being built, so this
test depends only on that contract, not on the staging and identity models upstream of it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.config import DBT_PROJECT_DIR, REPO_ROOT, dbt_env, get_paths
from orchestration.funnels import compile_funnels
from orchestration.lake_layout import ensure_schema_stubs

pytestmark = pytest.mark.integration  # runs dbt

MODELS = [
    "int_activities_sessionized", "int_funnel_step_events", "int_funnel_attempts", "int_funnel_units",
    "funnel_steps", "dropoff_alerts",
]  # fmt: skip
CONFIG = [
    "int_funnel_definitions", "int_funnel_step_matchers", "int_funnel_step_filters", "int_funnel_exclusions",
    "int_funnel_interruptions",
]  # fmt: skip
INTERMEDIATE = [
    "int_activities_sessionized", "int_channel_transitions", "int_journeys_person_attributes",
    "int_funnel_step_events", "int_funnel_attempts", "int_funnel_units", "int_funnel_unit_steps",
]  # fmt: skip
MARTS = [
    "sessions", "channel_transitions", "purchase_paths", "funnel_progress", "funnel_steps", "funnel_dropoffs",
    "dropoff_alerts",
]  # fmt: skip


def _dbt(paths, target: Path, *args: str) -> subprocess.CompletedProcess:
    dbt = str(Path(sys.executable).parent / "dbt")
    # without the customers capability: this test must not depend on its models (the full pipeline
    # build covers the profile-backed breakdowns)
    cmd = [dbt, *args, "--target-path", str(target), "--log-path", str(target),
           "--vars", "{customers_enabled: false}"]  # fmt: skip
    return subprocess.run(cmd, cwd=DBT_PROJECT_DIR, env=dbt_env(paths), capture_output=True, text=True)


def test_journeys_unit_tests_and_contracts(data_dir, tmp_path):
    paths = get_paths()
    ensure_schema_stubs(paths)
    compile_funnels(REPO_ROOT / "funnels", paths)
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    target = tmp_path / "target"

    contract = yaml.safe_load((DBT_PROJECT_DIR / "models/marts/journeys/activities.yml").read_text())
    (activities,) = [m for m in contract["models"] if m["name"] == "activities"]
    columns = ", ".join(f"{c['name']} {c['data_type']}" for c in activities["columns"])
    con = duckdb.connect(str(paths.warehouse))
    con.execute("create schema journeys")
    con.execute(f"create table journeys.activities ({columns})")
    con.close()
    # the models exist (empty) so unit-test fixtures get their column types; contracts are checked too
    built = _dbt(paths, target, "run", "--empty", "-s", *CONFIG, *MARTS, *INTERMEDIATE)
    assert built.returncode == 0, built.stdout[-3000:]

    tested = _dbt(paths, target, "test", "-s", *[f"{m},test_type:unit" for m in MODELS])
    assert tested.returncode == 0, tested.stdout[-5000:]
    done = re.search(r"PASS=(\d+) WARN=\d+ ERROR=(\d+)", tested.stdout)
    assert done and int(done.group(1)) >= 10 and done.group(2) == "0", tested.stdout[-3000:]
