"""The dbt project as Dagster assets: one cached DbtProject; dbt tests become asset checks.

dbt sources carry `meta.dagster.asset_key: ["raw", <table>]`, so the ingestion assets are their
upstream keys without any mapping code here.

The dbt assets share the ingestion assets' daily partitions with a single-run backfill policy: a day,
or a range of days, is one `dbt build` with `--vars '{"min_date": first day, "max_date": last day}'`.
Incremental models reprocess the landing window widened by var lookback_days (late data); a run
without a partition, or with `full_refresh: true` in the op config, rebuilds everything.
"""

import json
import os
import shutil
import sys
from datetime import timedelta
from functools import cache
from pathlib import Path

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from orchestration.config import DBT_PROJECT_DIR, dbt_env, dbt_target, get_paths
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


@cache
def dbt_project() -> DbtProject:
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target=dbt_target())
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


def dbt_build_args(window, full_refresh: bool = False, command: str = "build") -> list[str]:
    """`dbt build` arguments for a partition window (first, last landing day) or everything (None)."""
    args = [command]
    if window is not None:
        first, last = window
        args += ["--vars", json.dumps({"min_date": first.isoformat(), "max_date": last.isoformat()})]
    if full_refresh:
        args.append("--full-refresh")
    return args


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
        args = dbt_build_args(partition_days(context), full_refresh=config.full_refresh)
        context.log.info(f"dbt {' '.join(args)}")
        invocation = dbt.cli(args, context=context, raise_on_error=False)
        yield from invocation.stream()
        # The publish step (maybe another process) blocks on failed dbt tests: keep the results where
        # it can find them.
        results = Path(invocation.target_path) / "run_results.json"
        if results.exists():
            shutil.copyfile(results, last_run_results_path())
        if not invocation.is_successful():
            # A failed model or test is not transient: do not retry it (RetryPolicy covers exceptions
            # such as a locked database file or a killed subprocess).
            raise dg.Failure(f"dbt build failed; see {last_run_results_path()} and the step's log", allow_retries=False)

    return warehouse_dbt_models


def dbt_resource() -> DbtCliResource:
    # The dbt installed beside this Python: works without an activated virtualenv.
    return DbtCliResource(
        project_dir=dbt_project(), target=dbt_target(), dbt_executable=str(Path(sys.executable).parent / "dbt")
    )
