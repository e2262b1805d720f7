"""The daily partitions shared by every partitioned asset: one partition per landing day."""

from __future__ import annotations

import os
from datetime import date

import dagster as dg

# The first landing day a deployment cares about; the demo starts 2026-10-01.
START_DATE = os.environ.get("OMNI_START_DATE", "2026-01-01")
# Days are cut, and the schedule fires, in this timezone.
TIMEZONE = os.environ.get("OMNI_TIMEZONE", "Europe/Copenhagen")

# end_offset=1: today's partition exists, so exports landing during the day can be ingested the same day.
daily_partitions = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone=TIMEZONE, end_offset=1)


def partition_days(context: dg.AssetExecutionContext) -> tuple[date, date] | None:
    """First and last landing day of the run's partition (key or range), or None when unpartitioned."""
    if not (context.has_partition_key or context.has_partition_key_range):
        return None
    keys = context.partition_keys
    return date.fromisoformat(keys[0]), date.fromisoformat(keys[-1])
