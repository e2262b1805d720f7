"""The dbt project as Dagster assets: one cached DbtProject; dbt tests become asset checks.

dbt sources carry `meta.dagster.asset_key: ["raw", <table>]`, so the ingestion assets are their
upstream keys without any mapping code here.

The dbt assets share the ingestion assets' daily partitions with a single-run backfill policy: a day,
or a range of days, is one `dbt build` with the window min_date / max_date (first day, last day) in the
environment (OMNI_MIN_DATE / OMNI_MAX_DATE; the same as `--vars` for the models, without the full
re-parse a change of CLI vars costs). Incremental models reprocess the landing window widened by var
lookback_days (late data); a run without a partition, or with `full_refresh: true` in the op config,
rebuilds everything. dbt unit tests are left out of this build (they test SQL logic, not data; the
pytest suite runs them).
"""

import json
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import cache
from pathlib import Path

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from orchestration.config import DBT_PROJECT_DIR, dbt_env, dbt_target, dbt_target_path, get_paths
from orchestration.dagster_defs.partitions import daily_partitions, partition_days

# Transient failures (a locked DuckDB file, a slow disk) are retried; a failed dbt test is not transient
# but retrying it costs one incremental build, which is cheap.
DBT_RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL)

# The public marts should be no older than a day and a bit: the daily schedule plus slack for a late
# export. Hours are configurable per deployment.
FRESHNESS_FAIL_HOURS = int(os.environ.get("OMNI_FRESHNESS_FAIL_HOURS", "30"))
FRESHNESS_WARN_HOURS = int(os.environ.get("OMNI_FRESHNESS_WARN_HOURS", "26"))
PUBLIC_MART_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=FRESHNESS_FAIL_HOURS), warn_window=timedelta(hours=FRESHNESS_WARN_HOURS)
)


def last_run_results_path() -> Path:
    """run_results.json of the latest dbt build, beside the build database it describes."""
    return get_paths().warehouse.parent / "last_dbt_run_results.json"


# Data tests narrowed to what the latest run wrote (`__loaded_in_latest_run__`, `latest_run_keys`) trust
# that older rows passed when they were written. Rows of a build that failed (a test failed after its
# model committed) or never finished (killed) did not: the next build checks whole tables again.
FULL_DATA_TESTS_ENV = "OMNI_FULL_DATA_TESTS"


def unfinished_build_marker() -> Path:
    """Present while a dbt build runs, and after one that failed or was killed."""
    return get_paths().warehouse.parent / "dbt_build_unfinished"


def data_tests_env(marker: Path) -> dict[str, str]:
    """{FULL_DATA_TESTS_ENV: "1"} when the previous build did not succeed (its marker is still there)."""
    return {FULL_DATA_TESTS_ENV: "1"} if marker.exists() else {}


@cache
def dbt_project() -> DbtProject:
    project = DbtProject(
        project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target=dbt_target(), target_path=dbt_target_path()
    )
    # `dagster dev` (and DAGSTER_DBT_PARSE_PROJECT_ON_LOAD=1) parses the project on load; the CLI runs
    # `dbt parse` itself before loading definitions.
    project.prepare_if_dev()
    return project


def _is_public_mart(dbt_resource_props) -> bool:
    fqn = dbt_resource_props.get("fqn") or []
    return dbt_resource_props.get("resource_type") == "model" and len(fqn) > 2 and fqn[1] == "marts"


class OmniTranslator(DagsterDbtTranslator):
    """Models are grouped by their top folder below models/ (staging, intermediate, marts); the public
    marts carry a freshness policy."""

    def get_group_name(self, dbt_resource_props):
        fqn = dbt_resource_props.get("fqn") or []
        if dbt_resource_props.get("resource_type") == "model" and len(fqn) > 2:
            return fqn[1] if fqn[1] != "marts" else f"marts_{fqn[2]}"
        return super().get_group_name(dbt_resource_props) or "dbt"

    def get_asset_spec(self, manifest, unique_id, project):
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if _is_public_mart(props):
            spec = spec.replace_attributes(freshness_policy=PUBLIC_MART_FRESHNESS)
        return spec


def public_mart_keys(dbt_assets_def: dg.AssetsDefinition) -> list[dg.AssetKey]:
    """Asset keys ([schema, relation]) of the public marts (models/marts/**) among the dbt assets."""
    return sorted(
        (spec.key for spec in dbt_assets_def.specs if (spec.group_name or "").startswith("marts_")),
        key=lambda k: k.path,
    )


translator = OmniTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


class DbtBuildConfig(dg.Config):
    """Op config of the dbt step (launchpad or run_config)."""

    full_refresh: bool = False  # rebuild incremental models from scratch (dbt --full-refresh)


# The window as the dbt macros read it when no var min_date / max_date is given
# (macros/identity/incremental_window.sql, incremental_min_date).
WINDOW_ENV_VARS = {"min_date": "OMNI_MIN_DATE", "max_date": "OMNI_MAX_DATE"}


def dbt_window_env(window) -> dict[str, str]:
    """Environment variables carrying a partition window (first, last landing day); {} for everything.

    Not `--vars`: dbt re-parses the whole project when CLI vars change (every day), but only the files
    that read a changed environment variable."""
    if window is None:
        return {}
    first, last = window
    return {WINDOW_ENV_VARS["min_date"]: first.isoformat(), WINDOW_ENV_VARS["max_date"]: last.isoformat()}


@contextmanager
def window_in_environ(window, extra: dict[str, str] | None = None) -> Iterator[dict[str, str]]:
    """os.environ carries the window and `extra` (FULL_DATA_TESTS_ENV; nothing of a previous build's)
    for the dbt subprocesses started inside."""
    names = [*WINDOW_ENV_VARS.values(), FULL_DATA_TESTS_ENV]
    saved = {name: os.environ.get(name) for name in names}
    for name in names:
        os.environ.pop(name, None)
    env = {**dbt_window_env(window), **(extra or {})}
    os.environ.update(env)
    try:
        yield env
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def dbt_build_args(full_refresh: bool = False, command: str = "build") -> list[str]:
    """Arguments of the scheduled dbt step (the window travels in the environment: dbt_window_env).

    Unit tests are excluded: they check SQL logic on fixtures, cost the same every day and are run by
    the pytest suite (tests/test_dbt_unit_tests.py), as dbt recommends (dev and CI, not production)."""
    args = [command]
    if command == "build":
        args += ["--exclude-resource-type", "unit_test"]
    if full_refresh:
        args.append("--full-refresh")
    return args


def dbt_failure_is_transient(returncode: int | None, results: Path | None) -> bool:
    """A dbt build that failed for a reason a retry can clear: dbt killed by a signal (negative exit code),
    dbt's own runtime error (exit 2, e.g. the database file could not be opened), or a node that could not
    take the database file's lock (another process had it open). A failed model or test is not one."""
    if returncode is not None and (returncode < 0 or returncode == 2):
        return True
    if results is None or not results.exists():
        return True
    try:
        nodes = json.loads(results.read_text()).get("results", [])
    except (OSError, ValueError):
        return True
    return any("Could not set lock on file" in (node.get("message") or "") for node in nodes)


def build_dbt_assets() -> dg.AssetsDefinition:
    project = dbt_project()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=translator,
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        retry_policy=DBT_RETRY_POLICY,
    )
    def warehouse_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
        # Absolute paths for the subprocess: dbt reads them in profiles.yml and source locations.
        os.environ.update(dbt_env())
        args = dbt_build_args(full_refresh=config.full_refresh)
        marker = unfinished_build_marker()
        full_tests = data_tests_env(marker)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        with window_in_environ(partition_days(context), full_tests) as env:
            context.log.info(f"{' '.join(f'{k}={v}' for k, v in env.items())} dbt {' '.join(args)}".strip())
            invocation = dbt.cli(args, context=context, raise_on_error=False)
            yield from invocation.stream()
        # The publish step (maybe another process) blocks on failed dbt tests: keep the results where
        # it can find them.
        results = Path(invocation.target_path) / "run_results.json"
        if results.exists():
            shutil.copyfile(results, last_run_results_path())
        if not invocation.is_successful():
            # A failed model or test is not transient: only what dbt_failure_is_transient says is retried
            # (DBT_RETRY_POLICY), so a locked database file or a killed dbt gets its retries.
            transient = dbt_failure_is_transient(invocation.process.returncode, results)
            raise dg.Failure(
                f"dbt build failed (exit code {invocation.process.returncode}"
                f"{'; retried: a transient failure' if transient else ''}); see {last_run_results_path()} "
                "and the step's log",
                allow_retries=transient,
            )
        marker.unlink(missing_ok=True)

    return warehouse_dbt_models


def dbt_resource() -> DbtCliResource:
    # The dbt installed beside this Python: works without an activated virtualenv.
    return DbtCliResource(
        project_dir=dbt_project(), target=dbt_target(), dbt_executable=str(Path(sys.executable).parent / "dbt")
    )
