"""The Dagster code location: a thin module that loads one module per capability."""

from __future__ import annotations

import dagster as dg

from orchestration.dagster_defs.dbt import build_dbt_assets, dbt_resource, last_run_results_path, public_mart_keys
from orchestration.dagster_defs.funnels import funnel_config
from orchestration.dagster_defs.ingestion import ingestion_assets
from orchestration.dagster_defs.jobs import daily_job, ingestion_job
from orchestration.dagster_defs.partitions import daily_partitions
from orchestration.dagster_defs.schedules import daily_ingestion_schedule, landing_files_sensor
from orchestration.dagster_defs.stale_runs import stale_runs_sensor
from orchestration.quality.dagster_checks import mart_asset_checks, publish_asset, raw_asset_checks

dbt_models = build_dbt_assets()
# One blocking GX check per public mart, run after the dbt step; publish waits for them.
mart_checks = mart_asset_checks(public_mart_keys(dbt_models))
serving = publish_asset(
    deps=[dbt_models],
    dbt_run_results=lambda: last_run_results_path() if last_run_results_path().exists() else None,
)

defs = dg.Definitions(
    assets=[*ingestion_assets, funnel_config, dbt_models, serving],
    asset_checks=[*raw_asset_checks(partitions_def=daily_partitions), *([mart_checks] if mart_checks else [])],
    jobs=[daily_job, ingestion_job],
    schedules=[daily_ingestion_schedule],
    sensors=[landing_files_sensor, stale_runs_sensor],
    resources={"dbt": dbt_resource()},
)
