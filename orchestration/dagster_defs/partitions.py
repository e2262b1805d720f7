"""The daily partitions shared by every partitioned asset: one partition per landing day."""

from __future__ import annotations

import os

import dagster as dg

# The first landing day a deployment cares about; the demo starts 2026-10-01.
START_DATE = os.environ.get("OMNI_START_DATE", "2026-01-01")
TIMEZONE = os.environ.get("OMNI_TIMEZONE", "Europe/Copenhagen")

daily_partitions = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone=TIMEZONE, end_offset=1)
