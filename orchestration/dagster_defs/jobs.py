"""The two jobs: partitioned ingestion, and the unpartitioned warehouse build (dbt, gates, publish)."""

from __future__ import annotations

import dagster as dg

INGESTION_GROUP = "ingestion"

ingestion_job = dg.define_asset_job(
    "ingestion_job",
    selection=dg.AssetSelection.groups(INGESTION_GROUP),
    description="Ingest one landing day (or a range, as one run) of every source into the lake.",
)

warehouse_job = dg.define_asset_job(
    "warehouse_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(INGESTION_GROUP),
    description="dbt build over the lake, the Great Expectations gates, then publish to serving.",
)
