"""The journeys models under dbt on nothing but the journeys.activities contract: every journeys model
builds (empty) with its mart contract enforced, the funnel config source resolving from compiled
definitions. journeys.activities is created empty from its contract (activities.yml) instead of being
built, so the journeys SQL depends only on that contract, not on the staging and identity models
upstream of it (apart from what the incremental models record their progress against:
int_incremental_watermarks, built empty, and int_activities_unioned's loaded_at, a stub here).
The dbt unit tests of these models (the funnel semantics of docs/funnels.md) run with every other
unit test in tests/test_dbt_unit_tests.py."""

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

CONFIG = [
    "int_funnel_definitions", "int_funnel_step_matchers", "int_funnel_step_filters", "int_funnel_exclusions",
    "int_funnel_interruptions",
]  # fmt: skip
INTERMEDIATE = [
    "int_activities_sessionized", "int_channel_transitions", "int_journeys_person_attributes",
    "int_funnel_step_events", "int_funnel_attempts", "int_funnel_units", "int_funnel_unit_steps",
    "int_funnel_changed_days", "int_funnel_step_occurrences", "int_funnel_transition_days", "int_purchase_paths",
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


def test_journeys_models_build_on_the_activities_contract(data_dir, tmp_path):
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
    # int_activities_sessionized records the newest loaded_at of int_activities_unioned it consumed
    # (a post-hook): only that column of the upstream model is needed here
    con.execute("create schema intermediate")
    con.execute("create table intermediate.int_activities_unioned (loaded_at timestamp)")
    con.close()
    # contracts are enforced on the marts; int_incremental_watermarks: the incremental journeys models
    # record what they consumed there
    selected = ["int_incremental_watermarks", *CONFIG, *MARTS, *INTERMEDIATE]
    built = _dbt(paths, target, "run", "--empty", "-s", *selected)
    assert built.returncode == 0, built.stdout[-3000:]
    done = re.search(r"PASS=(\d+) WARN=\d+ ERROR=(\d+) SKIP=(\d+)", built.stdout)
    assert done and int(done.group(1)) == len(selected) and done.group(2) == "0" and done.group(3) == "0", built.stdout[
        -3000:
    ]
