"""When things run: a daily schedule at a configurable time and timezone, and a sensor for new landing
files. Both request partitions of `daily_job` (ingest, build, gates, publish for that landing day)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import datetime, timedelta

import dagster as dg

from orchestration.config import get_paths
from orchestration.dagster_defs.jobs import daily_job
from orchestration.dagster_defs.partitions import TIMEZONE, daily_partitions
from orchestration.dagster_defs.stale_runs import IN_PROGRESS
from orchestration.ingestion.ingest import landed_files, landing_days
from orchestration.sources import TABLES

SCHEDULE_HOUR = int(os.environ.get("OMNI_SCHEDULE_HOUR", "6"))
SCHEDULE_MINUTE = int(os.environ.get("OMNI_SCHEDULE_MINUTE", "0"))
# Which landing day a tick builds: 1 = yesterday's folder (the exports of a day land overnight).
SCHEDULE_DAY_OFFSET = int(os.environ.get("OMNI_SCHEDULE_DAY_OFFSET", "1"))
# A day whose run ended on an ingestion error (out of memory, I/O: the ledger's retryable rows) is
# requested again by the sensor at most this often, and this many times for the same landed files.
RETRY_MINUTES = float(os.environ.get("OMNI_SENSOR_RETRY_MINUTES", "60"))
RETRY_LIMIT = int(os.environ.get("OMNI_SENSOR_RETRY_LIMIT", "3"))


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


def _landed_by_day(paths) -> dict[str, list[tuple[str, os.stat_result]]]:
    """day -> (table/day/name, stat) of every file ingestion would read for that day, over all tables."""
    per_day: dict[str, list[tuple[str, os.stat_result]]] = {}
    for table in TABLES:
        for day in landing_days(table, paths):
            folder = paths.landing / table / day.isoformat()
            for f in landed_files(folder):
                per_day.setdefault(day.isoformat(), []).append((f"{table}/{day.isoformat()}/{f.name}", f.stat()))
    return per_day


def landing_signatures(landed: dict[str, list[tuple[str, os.stat_result]]]) -> dict[str, str]:
    """day -> fingerprint of every file (name, size, mtime) landed for that day (_landed_by_day)."""
    return {
        day: hashlib.sha256(
            "\n".join(sorted(f"{name}:{st.st_size}:{st.st_mtime_ns}" for name, st in files)).encode()
        ).hexdigest()[:16]
        for day, files in landed.items()
    }


def days_with_unhandled_files(paths, landed: dict[str, list[tuple[str, os.stat_result]]], days: set[str]) -> set[str]:
    """Those of `days` with a landed file that ingestion has not tried since it was last written: no
    ledger row for its path, or only rows older than the file (or an ingestion error to try again). For
    days the sensor has not seen (no cursor yet, or a new day): a sensor switched on over a landing folder
    `omni run` already ingested must not request every old day again."""
    from orchestration.ingestion.ledger import latest_attempts

    # an error of the ingestion (retryable) leaves the file still to be tried
    latest = latest_attempts(paths, skip_retryable=True)
    tried = {name: row["ingested_at"].timestamp() for name, row in latest.items()}
    return {
        day
        for day, files in landed.items()
        if day in days and any(tried.get(name, -1.0) < st.st_mtime for name, st in files)
    }


def days_with_retryable_files(paths, landed: dict[str, list[tuple[str, os.stat_result]]]) -> set[str]:
    """Landing days holding a file whose latest ingestion attempt ended on an error of the ingestion
    (ledger.retryable: not of the file), which no later attempt has followed."""
    from orchestration.ingestion.ledger import latest_attempts, retryable

    pending = {name for name, row in latest_attempts(paths).items() if retryable(row)}
    return {day for day, files in landed.items() if any(name in pending for name, _ in files)}


# a run of the day waiting in the queue counts too
_QUEUED_OR_IN_PROGRESS = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, *IN_PROGRESS]


def _busy(instance: dg.DagsterInstance, day: str) -> bool:
    """Whether a run of `day` is queued or in progress: a run of its partition, or of a range holding it
    (`omni day`, `omni backfill` and single-run backfills tag the range's ends)."""
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=_QUEUED_OR_IN_PROGRESS)):
        tags = run.tags
        if tags.get("dagster/partition") == day:
            return True
        start, end = tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")
        if start and end and start <= day <= end:
            return True
    return False


def _retry_requests(context, paths, landed, current: dict[str, str], cursor: dict, skip: set[str]) -> list[str]:
    """The days to request again for a retryable ingestion error (days_with_retryable_files), checked at
    most every RETRY_MINUTES, each at most RETRY_LIMIT times for the same files (a changed day starts
    again), never while a run of that day is queued or in progress. Updates cursor["retries"]."""
    now = time.time()
    if now - cursor.get("retry_checked", 0.0) < RETRY_MINUTES * 60:
        return []
    cursor["retry_checked"] = now
    retries = cursor.setdefault("retries", {})
    days = []
    for day in sorted(days_with_retryable_files(paths, landed) & set(current) - skip):
        done = retries.get(day, {})
        count = done.get("count", 0) if done.get("signature") == current[day] else 0
        if count >= RETRY_LIMIT:
            continue
        if _busy(context.instance, day):
            continue
        retries[day] = {"signature": current[day], "count": count + 1}
        days.append(day)
    return days


@dg.sensor(job=daily_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def landing_files_sensor(context: dg.SensorEvaluationContext):
    """Requests a daily_job run for every landing day whose files changed since the last tick, and for a
    day it has not seen that holds a file ingestion has not tried since it was written. A day that is not
    a partition yet (a folder named by a later date than today in OMNI_TIMEZONE) stays out of the cursor,
    so it is requested once its partition exists. A day whose run ended on an ingestion error (not a bad
    file: out of memory, I/O) is requested again every RETRY_MINUTES, up to RETRY_LIMIT times."""
    cursor = json.loads(context.cursor) if context.cursor else {}
    if "days" not in cursor:  # a cursor of an earlier release: the days alone
        cursor = {"days": cursor, "requests": 0}
    seen, requests = cursor["days"], cursor["requests"]
    paths = get_paths()
    partitions = set(daily_partitions.get_partition_keys())
    landed = _landed_by_day(paths)
    current = {day: sig for day, sig in landing_signatures(landed).items() if day in partitions}
    changed = {day for day, sig in current.items() if day in seen and seen[day] != sig}
    # a day seen before whose files changed is requested whatever the ledger says (a re-delivery copied
    # with its old mtime, clock skew); a day not seen before only if something in it is still to ingest
    unseen = {day for day in current if day not in seen}
    requested = changed | (days_with_unhandled_files(paths, landed, unseen) if unseen else set())
    retried = _retry_requests(context, paths, landed, current, cursor, requested)
    for day, kind in sorted([(d, "") for d in requested] + [(d, "retry:") for d in retried]):
        # numbered: Dagster drops a request whose run key it has seen, and files restored to an earlier
        # state bring back an earlier signature
        requests += 1
        yield dg.RunRequest(run_key=f"{day}:{kind}{current[day]}:{requests}", partition_key=day)
    # days whose files are gone for a while stay seen: when they come back changed, they are requested
    cursor.update({"days": {**seen, **current}, "requests": requests})
    context.update_cursor(json.dumps(cursor))
