"""When things run: a daily schedule, a sensor for new landing files, and the warehouse build after
every successful ingestion run."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import dagster as dg

from orchestration.config import get_paths
from orchestration.dagster_defs.jobs import ingestion_job, warehouse_job
from orchestration.sources import TABLES

DAY_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")

daily_ingestion_schedule = dg.build_schedule_from_partitioned_job(
    ingestion_job,
    hour_of_day=int(os.environ.get("OMNI_SCHEDULE_HOUR", "6")),
    minute_of_hour=int(os.environ.get("OMNI_SCHEDULE_MINUTE", "0")),
    name="daily_ingestion_schedule",
    description="Every morning: ingest yesterday's landing folders (timezone: OMNI_TIMEZONE).",
)


def landing_signatures(landing: Path) -> dict[str, str]:
    """day -> fingerprint of every file (name, size, mtime) landed for that day, over all tables."""
    per_day: dict[str, list[str]] = {}
    for table in TABLES:
        table_dir = landing / table
        if not table_dir.is_dir():
            continue
        for day_dir in table_dir.iterdir():
            if not (day_dir.is_dir() and DAY_DIR.match(day_dir.name)):
                continue
            for f in sorted(day_dir.iterdir()):
                if f.is_file() and not f.name.startswith("."):
                    st = f.stat()
                    per_day.setdefault(day_dir.name, []).append(f"{table}/{f.name}:{st.st_size}:{st.st_mtime_ns}")
    return {day: hashlib.sha256("\n".join(sorted(v)).encode()).hexdigest()[:16] for day, v in per_day.items()}


@dg.sensor(job=ingestion_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def landing_files_sensor(context: dg.SensorEvaluationContext):
    """Requests an ingestion run for every landing day whose files changed since the last tick."""
    seen = json.loads(context.cursor) if context.cursor else {}
    current = landing_signatures(get_paths().landing)
    partitions = set(ingestion_job.partitions_def.get_partition_keys())
    for day, sig in sorted(current.items()):
        if seen.get(day) != sig and day in partitions:
            yield dg.RunRequest(run_key=f"{day}:{sig}", partition_key=day)
    context.update_cursor(json.dumps(current))


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingestion_job],
    request_job=warehouse_job,
    default_status=dg.DefaultSensorStatus.STOPPED,
    name="build_warehouse_after_ingestion",
)
def build_warehouse_after_ingestion(context: dg.RunStatusSensorContext):
    """dbt, the gates and publishing are unpartitioned: one build after each successful ingestion."""
    return dg.RunRequest(run_key=context.dagster_run.run_id)
