"""The Dagster code location: a thin module that loads one module per capability."""

from __future__ import annotations

import dagster as dg

from orchestration.dagster_defs.dbt import build_dbt_assets, dbt_resource
from orchestration.dagster_defs.ingestion import ingestion_assets
from orchestration.dagster_defs.jobs import ingestion_job, warehouse_job
from orchestration.dagster_defs.schedules import (
    build_warehouse_after_ingestion,
    daily_ingestion_schedule,
    landing_files_sensor,
)

defs = dg.Definitions(
    assets=[*ingestion_assets, build_dbt_assets()],
    jobs=[ingestion_job, warehouse_job],
    schedules=[daily_ingestion_schedule],
    sensors=[landing_files_sensor, build_warehouse_after_ingestion],
    resources={"dbt": dbt_resource()},
)
