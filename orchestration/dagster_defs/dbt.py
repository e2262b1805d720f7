"""The dbt project as Dagster assets: one cached DbtProject; dbt tests become asset checks.

dbt sources carry `meta.dagster.asset_key: ["raw", <table>]`, so the ingestion assets are their
upstream keys without any mapping code here.
"""

import os
import shutil
from functools import cache
from pathlib import Path

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from orchestration.config import DBT_PROJECT_DIR, dbt_env, dbt_target, get_paths


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


class OmniTranslator(DagsterDbtTranslator):
    """Models are grouped by their top folder below models/ (staging, intermediate, marts)."""

    def get_group_name(self, dbt_resource_props):
        fqn = dbt_resource_props.get("fqn") or []
        if dbt_resource_props.get("resource_type") == "model" and len(fqn) > 2:
            return fqn[1] if fqn[1] != "marts" else f"marts_{fqn[2]}"
        return super().get_group_name(dbt_resource_props) or "dbt"


translator = OmniTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def build_dbt_assets() -> dg.AssetsDefinition:
    project = dbt_project()

    @dbt_assets(manifest=project.manifest_path, project=project, dagster_dbt_translator=translator)
    def warehouse_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        # Absolute paths for the subprocess: dbt reads them in profiles.yml and source locations.
        os.environ.update(dbt_env())
        invocation = dbt.cli(["build"], context=context, raise_on_error=False)
        yield from invocation.stream()
        # The publish step (maybe another process) blocks on failed dbt tests: keep the results where
        # it can find them.
        results = Path(invocation.target_path) / "run_results.json"
        if results.exists():
            shutil.copyfile(results, last_run_results_path())
        if not invocation.is_successful():
            raise dg.Failure(f"dbt build failed; see {last_run_results_path()} and the step's log")

    return warehouse_dbt_models


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project(), target=dbt_target())
