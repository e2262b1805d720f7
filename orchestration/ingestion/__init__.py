"""Ingestion: landing/<table>/<YYYY-MM-DD>/<file> -> lake raw / quarantine Parquet + ledger rows.

Status of a ledger row: loaded, replaced (loaded, superseding an earlier version of the same file),
duplicate (same bytes already loaded), stale (older than the loaded version), empty (0 bytes), failed
(the file as a whole could not be loaded; `error` names the file, the cause and the fix). A header-only
file is `loaded` with 0 rows: the export was valid, it just had no data that day. A `failed` row with
NULL counts is an error of the ingestion (out of memory, I/O), not of the file: the next run tries the
file again, and ingest_partition raises IngestionError once the partition's other files ran.
"""

from orchestration.ingestion.errors import IngestionError
from orchestration.ingestion.ingest import ingest_partition, landing_days
from orchestration.ingestion.ledger import ledger_frame, summarise

__all__ = ["IngestionError", "ingest_partition", "landing_days", "ledger_frame", "summarise"]
