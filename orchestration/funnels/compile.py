"""Compile validated funnel definitions into Parquet tables that dbt reads as the source `funnel_config`.

The SQL never contains anything from the YAML: it joins these tables. Each file is replaced atomically,
so a dbt run reading them never sees a half-written definition set.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa

from orchestration.config import Paths
from orchestration.funnels.definitions import Funnel, load_funnels
from orchestration.lake_layout import write_parquet_atomic

SCHEMAS: dict[str, pa.Schema] = {
    "funnel_definitions": pa.schema([
        ("funnel_name", pa.string()), ("description", pa.string()), ("source_file", pa.string()),
        ("step_count", pa.int32()), ("window_seconds", pa.int64()), ("funnel_order", pa.string()),
        ("count_by", pa.string()), ("breakdown_by", pa.string()), ("breakdown_property", pa.string()),
        ("breakdown_attribution", pa.string()), ("entry_start", pa.date32()), ("entry_end", pa.date32()),
        ("interruption_scope", pa.string()), ("definition_hash", pa.string()),
    ]),
    # One row per (step, activity, channel); channel null = any channel.
    "funnel_step_matchers": pa.schema([
        ("funnel_name", pa.string()), ("step_index", pa.int32()), ("step_name", pa.string()),
        ("activity", pa.string()), ("channel", pa.string()), ("filter_count", pa.int32()),
    ]),
    "funnel_step_filters": pa.schema([
        ("funnel_name", pa.string()), ("step_index", pa.int32()), ("property_key", pa.string()),
        ("property_value", pa.string()),
    ]),
    "funnel_exclusions": pa.schema([
        ("funnel_name", pa.string()), ("exclusion_index", pa.int32()), ("after_step", pa.int32()),
        ("before_step", pa.int32()), ("activity", pa.string()), ("channel", pa.string()),
    ]),
    # Strict funnels only; activity null = any activity interrupts.
    "funnel_interruptions": pa.schema([("funnel_name", pa.string()), ("activity", pa.string())]),
}  # fmt: skip


def config_dir(paths: Paths) -> Path:
    """Must match the source `funnel_config` (models/intermediate/journeys/_funnel_config__sources.yml)."""
    return paths.lake / "funnel_config"


def _hash(f: Funnel) -> str:
    return hashlib.sha256(json.dumps(f.raw, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _rows(funnels: list[Funnel]) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {name: [] for name in SCHEMAS}
    for f in funnels:
        rows["funnel_definitions"].append(dict(
            funnel_name=f.name, description=f.description, source_file=f.source_file,
            step_count=len(f.steps), window_seconds=f.window_seconds, funnel_order=f.order,
            count_by=f.count_by, breakdown_by=f.breakdown_by, breakdown_property=f.breakdown_property,
            breakdown_attribution=f.breakdown_attribution, entry_start=f.entry_start, entry_end=f.entry_end,
            interruption_scope=f.interruption_scope, definition_hash=_hash(f),
        ))  # fmt: skip
        for s in f.steps:
            for activity in s.activities:
                for channel in s.channels or (None,):
                    rows["funnel_step_matchers"].append(dict(
                        funnel_name=f.name, step_index=s.index, step_name=s.name, activity=activity,
                        channel=channel, filter_count=len(s.where),
                    ))  # fmt: skip
            for key, value in s.where:
                rows["funnel_step_filters"].append(
                    dict(funnel_name=f.name, step_index=s.index, property_key=key, property_value=value)
                )
        for j, x in enumerate(f.exclusions, start=1):
            for activity in x.activities:
                for channel in x.channels or (None,):
                    rows["funnel_exclusions"].append(dict(
                        funnel_name=f.name, exclusion_index=j, after_step=x.after_step,
                        before_step=x.before_step, activity=activity, channel=channel,
                    ))  # fmt: skip
        if f.order == "strict":
            for activity in f.interruption_activities or (None,):
                rows["funnel_interruptions"].append(dict(funnel_name=f.name, activity=activity))
    return rows


def compile_funnels(funnels_dir: Path, paths: Paths) -> Path:
    """Validate every definition (raises FunnelDefinitionError listing all problems), then write the
    tables; returns the folder they are in."""
    funnels = load_funnels(Path(funnels_dir))
    out = config_dir(paths)
    for name, rows in _rows(funnels).items():
        write_parquet_atomic(pa.Table.from_pylist(rows, schema=SCHEMAS[name]), out / f"{name}.parquet")
    return out
