"""When things run: a daily schedule at a configurable time and timezone, and a sensor for new landing
files. Both request partitions of `daily_job` (ingest, build, gates, publish for that landing day)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg

from orchestration.config import get_paths
from orchestration.dagster_defs.jobs import daily_job
from orchestration.dagster_defs.partitions import TIMEZONE, daily_partitions
from orchestration.ingestion.ingest import landed_files
from orchestration.sources import TABLES

DAY_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")

SCHEDULE_HOUR = int(os.environ.get("OMNI_SCHEDULE_HOUR", "6"))
SCHEDULE_MINUTE = int(os.environ.get("OMNI_SCHEDULE_MINUTE", "0"))
# Which landing day a tick builds: 1 = yesterday's folder (the exports of a day land overnight).
SCHEDULE_DAY_OFFSET = int(os.environ.get("OMNI_SCHEDULE_DAY_OFFSET", "1"))


def scheduled_partition_key(tick: datetime) -> str:
    """The landing day a tick at `tick` (in TIMEZONE) builds."""
    return (tick.date() - timedelta(days=SCHEDULE_DAY_OFFSET)).isoformat()


@dg.schedule(
    job=daily_job,
    cron_schedule=f"{SCHEDULE_MINUTE} {SCHEDULE_HOUR} * * *",
    execution_timezone=TIMEZONE,
    name="daily_ingestion_schedule",
    description="Every day at OMNI_SCHEDULE_HOUR:OMNI_SCHEDULE_MINUTE in OMNI_TIMEZONE: ingest the landing day "
    "OMNI_SCHEDULE_DAY_OFFSET days back (default yesterday), build incrementally, gate and publish.",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def daily_ingestion_schedule(context: dg.ScheduleEvaluationContext):
    key = scheduled_partition_key(context.scheduled_execution_time)
    if key not in daily_partitions.get_partition_keys():
        return dg.SkipReason(f"{key} is before OMNI_START_DATE")
    return dg.RunRequest(run_key=f"scheduled:{key}", partition_key=key)


def _landed_by_day(landing: Path) -> dict[str, list[tuple[str, os.stat_result]]]:
    """day -> (table/day/name, stat) of every file landed for that day, over all tables."""
    per_day: dict[str, list[tuple[str, os.stat_result]]] = {}
    for table in TABLES:
        table_dir = landing / table
        if not table_dir.is_dir():
            continue
        for day_dir in table_dir.iterdir():
            if not (day_dir.is_dir() and DAY_DIR.match(day_dir.name)):
                continue
            for f in landed_files(day_dir):  # what ingestion reads (no hidden or editor temp files)
                per_day.setdefault(day_dir.name, []).append((f"{table}/{day_dir.name}/{f.name}", f.stat()))
    return per_day


def landing_signatures(landing: Path) -> dict[str, str]:
    """day -> fingerprint of every file (name, size, mtime) landed for that day, over all tables."""
    return {
        day: hashlib.sha256(
            "\n".join(sorted(f"{name}:{st.st_size}:{st.st_mtime_ns}" for name, st in files)).encode()
        ).hexdigest()[:16]
        for day, files in _landed_by_day(landing).items()
    }


def days_with_unhandled_files(paths, days: set[str]) -> set[str]:
    """Those of `days` with a landed file that ingestion has not tried since it was last written: no
    ledger row for its path, or only rows older than the file (or an ingestion error to try again). For
    days the sensor has not seen (no cursor yet, or a new day): a sensor switched on over a landing folder
    `omni run` already ingested must not request every old day again."""
    from orchestration.ingestion.ledger import read_attempts, retryable

    attempts = read_attempts(paths).select(["source_file", "ingested_at", "status", "rows_read"]).to_pylist()
    tried: dict[str, float] = {}
    for row in attempts:
        if retryable(row):  # an error of the ingestion: the file is still to be tried
            continue
        at = row["ingested_at"].timestamp()
        tried[row["source_file"]] = max(at, tried.get(row["source_file"], at))
    return {
        day
        for day, files in _landed_by_day(paths.landing).items()
        if day in days and any(tried.get(name, -1.0) < st.st_mtime for name, st in files)
    }


@dg.sensor(job=daily_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def landing_files_sensor(context: dg.SensorEvaluationContext):
    """Requests a daily_job run for every landing day whose files changed since the last tick, and for a
    day it has not seen that holds a file ingestion has not tried since it was written. A day that is not
    a partition yet (a folder named by a later date than today in OMNI_TIMEZONE) stays out of the cursor,
    so it is requested once its partition exists. A run that ended on an ingestion error is not requested
    again by itself: run the day again (`omni day`, or re-execute the run in the UI)."""
    cursor = json.loads(context.cursor) if context.cursor else {}
    if "days" not in cursor:  # a cursor of an earlier release: the days alone
        cursor = {"days": cursor, "requests": 0}
    seen, requests = cursor["days"], cursor["requests"]
    paths = get_paths()
    partitions = set(daily_partitions.get_partition_keys())
    current = {day: sig for day, sig in landing_signatures(paths.landing).items() if day in partitions}
    changed = {day for day, sig in current.items() if day in seen and seen[day] != sig}
    # a day seen before whose files changed is requested whatever the ledger says (a re-delivery copied
    # with its old mtime, clock skew); a day not seen before only if something in it is still to ingest
    unseen = {day for day in current if day not in seen}
    for day in sorted(changed | (days_with_unhandled_files(paths, unseen) if unseen else set())):
        # numbered: Dagster drops a request whose run key it has seen, and files restored to an earlier
        # state bring back an earlier signature
        requests += 1
        yield dg.RunRequest(run_key=f"{day}:{current[day]}:{requests}", partition_key=day)
    # days whose files are gone for a while stay seen: when they come back changed, they are requested
    context.update_cursor(json.dumps({"days": {**seen, **current}, "requests": requests}))
