"""Funnel definitions (funnels/*.yml) as Dagster assets: validated, then compiled into the Parquet
tables the dbt source `funnel_config` reads. A bad definition fails here, before anything is built."""

import dagster as dg

from orchestration.config import REPO_ROOT, get_paths
from orchestration.funnels.compile import SCHEMAS, compile_funnels

FUNNELS_DIR = REPO_ROOT / "funnels"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["funnel_config", table], group_name="funnel_config", kinds={"yaml", "parquet"})
        for table in SCHEMAS
    ],
    name="compile_funnel_definitions",
)
def funnel_config(context: dg.AssetExecutionContext):
    out = compile_funnels(FUNNELS_DIR, get_paths())
    context.log.info(f"compiled {FUNNELS_DIR} into {out}")
    for table in SCHEMAS:
        yield dg.MaterializeResult(asset_key=["funnel_config", table], metadata={"path": str(out / f"{table}.parquet")})
