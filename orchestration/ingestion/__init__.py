"""Ingestion: landing/<table>/<YYYY-MM-DD>/<file> -> lake raw / quarantine Parquet + ledger rows.

Status of a ledger row: loaded, replaced (loaded, superseding an earlier version of the same file),
duplicate (same bytes already loaded), stale (older than the loaded version), empty (0 bytes), failed
(the file as a whole could not be loaded; `error` names the file, the cause and the fix). A header-only
file is `loaded` with 0 rows: the export was valid, it just had no data that day.
"""

from orchestration.ingestion.ingest import ingest_partition, landing_days
from orchestration.ingestion.ledger import ledger_frame, summarise

__all__ = ["ingest_partition", "landing_days", "ledger_frame", "summarise"]
