"""The dbt project as Dagster assets: one cached DbtProject; dbt tests become asset checks.

dbt sources carry `meta.dagster.asset_key: ["raw", <table>]`, so the ingestion assets are their
upstream keys without any mapping code here.
"""

from __future__ import annotations

import os
from functools import cache

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from orchestration.config import DBT_PROJECT_DIR, dbt_env, dbt_target


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
        yield from dbt.cli(["build"], context=context).stream()

    return warehouse_dbt_models


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project(), target=dbt_target())
