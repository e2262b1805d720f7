"""The jobs. `daily_job` is the product: one partitioned run ingests a landing day (or a range of days,
as one run) and builds, gates and publishes the warehouse for it. `ingestion_job` only ingests
(re-delivered files, lake repairs) without building."""

from __future__ import annotations

import dagster as dg

INGESTION_GROUP = "ingestion"

daily_job = dg.define_asset_job(
    "daily_job",
    selection=dg.AssetSelection.all(),
    description="Ingest the partition's landing days into the lake, dbt build (incremental models reprocess "
    "the window minus var lookback_days), the Great Expectations gates, then publish to serving.",
)

ingestion_job = dg.define_asset_job(
    "ingestion_job",
    selection=dg.AssetSelection.groups(INGESTION_GROUP),
    description="Ingest one landing day (or a range, as one run) of every source into the lake.",
)
