"""File-level rejection: a landed file that cannot be loaded as a whole.

The message always names the file, the cause and the fix, because it lands in the ledger where an
operator reads it without access to this code.
"""

from __future__ import annotations

import difflib
import re

import duckdb

# DuckDB's errors about a file's content (parse, encoding, conversion): the file is bad. Any other error
# (out of memory, I/O, an interrupt) says nothing about the file and must not mark it failed for good.
CONTENT_ERRORS = (duckdb.InvalidInputException, duckdb.ConversionException)


class FileRejected(Exception):
    """Raised by the readers for a bad file; the ingestion turns it into a `failed` ledger row."""

    def __init__(self, source_file: str, cause: str, fix: str):
        super().__init__(f"{source_file}: {cause}. Fix: {fix}")
        self.source_file = source_file
        self.cause = cause
        self.fix = fix


class IngestionError(Exception):
    """Raised by ingest_partition after its other files ran, when files hit an error of the ingestion
    itself rather than of their content; each has a `failed` ledger row that the next run retries.
    `rows`: every ledger row the call wrote (those files' and the others')."""

    def __init__(self, message: str, rows: list[dict] | None = None):
        super().__init__(message)
        self.rows = rows or []


_SEPARATORS = {";": "';'", "\t": "tab", "|": "'|'"}


def missing_columns_message(
    required: tuple[str, ...], present: list[str], raw_header: list[str]
) -> tuple[str, str] | None:
    """(cause, fix) when required columns are missing, with a hint at the likely reason; None if complete."""
    missing = [c for c in required if c not in present]
    if not missing:
        return None
    if len(raw_header) == 1:
        for sep, label in _SEPARATORS.items():
            if sep in raw_header[0]:
                return (
                    f"required column(s) {', '.join(missing)} missing: the header is one column "
                    f"{raw_header[0][:80]!r}, it looks like {label}-separated",
                    "export the file comma-separated (or convert it) and land it again",
                )
    hints = []
    for col in missing:
        close = difflib.get_close_matches(col, [p for p in present if p not in required], n=1, cutoff=0.6)
        if close:
            hints.append(f"{close[0]!r} looks like a renamed {col!r}")
    cause = (
        f"required column(s) {', '.join(missing)} missing; the file has {len(present)} column(s): "
        f"{', '.join(present[:40])}{' ...' if len(present) > 40 else ''}"
    )
    if hints:
        return cause + " (" + "; ".join(hints) + ")", "rename the column back in the export and land it again"
    return cause, "export the file with the standard columns of this source and land it again"


def duckdb_csv_message(error: Exception) -> str:
    """The useful part of a DuckDB CSV error: the line and the problem, without the option dump."""
    text = str(error)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    head = text.split("Possible fixes:")[0]
    lines = [c.strip() for c in head.splitlines() if c.strip()]
    # The problem statement is the last line before DuckDB's list of fixes (the original line may span lines).
    problem = lines[-1].rstrip(".") if len(lines) > 1 else ""
    where = f"line {line.group(1)}" if line else "unknown line"
    return f"{where}: {problem or text.splitlines()[0]}"
