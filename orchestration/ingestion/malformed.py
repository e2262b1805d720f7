"""Malformed CSV rows: rows that cannot be split into the header's columns go to quarantine one by one.

When a plain read of a file fails (readers.load_csv), it is read again: DuckDB's CSV reader skips those
rows (`ignore_errors`) and keeps each in a rejects table (`store_rejects`) with its record number and raw
text. Its record number counts CSV records (header = 1, a blank line counts, a
quoted value spanning several lines counts once), which is not the line an editor shows when multi-line
values (Shopify notes) come before. So on the rare file that has rejects, one pass of Python's csv reader
(same dialect) maps record numbers to physical lines: a reason says `line N` with N the file's line
(header = line 1, every newline inside a quoted value counts). Where the two parsers disagree about a
broken row, the reason says `CSV record N` instead of guessing a line.

A file is rejected whole instead (FileRejected, kept in landing) when it is evidently not the format:
- a quote opened on some line is never closed before the file ends (it swallows the rest of the file, or
  the file was cut off in the middle of a row);
- more than MAX_MALFORMED_SHARE of its data lines are in malformed rows, and at least
  MIN_MALFORMED_LINES_TO_REJECT lines (a small file with one or two bad lines keeps its good rows).

JSON lines: a line that is not valid JSON or not an object is a malformed row (same rule).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.ingestion.errors import FileRejected

# More malformed data lines than this share means "not this format" (wrong export, wrong separator in
# the rows, a quote that broke the rest of the file): a whole-file rejection with the cause is more
# useful than a quarantine full of rows. Counted in physical lines, so one unclosed quote that swallows
# thousands of lines weighs as thousands.
MAX_MALFORMED_SHARE = 0.10
# ... but a share says little about a small file: one bad line of a 5-row export is 20%. Fewer malformed
# lines than this never reject a file (they are quarantined one by one; nothing is lost either way).
MIN_MALFORMED_LINES_TO_REJECT = 3


def taken_for_another_format(malformed_lines: int, data_lines: int) -> bool:
    """Whether a file with that many malformed data lines is rejected whole rather than row by row."""
    return malformed_lines >= MIN_MALFORMED_LINES_TO_REJECT and malformed_lines > MAX_MALFORMED_SHARE * data_lines


MAX_LINE_BYTES = 16 << 20  # read_csv max_line_size; Python's csv field limit is raised to match
REJECTS_TABLE = "csv_rejects"
REJECTS_SCAN = "csv_reject_scans"
TABLE = "malformed"  # temp table: __row_number, _raw_line, _reason (read by ingest._load)

REJECT_OPTIONS = (
    f"ignore_errors=true, store_rejects=true, rejects_table='{REJECTS_TABLE}', rejects_scan='{REJECTS_SCAN}'"
)


@dataclass
class Reject:
    record: int  # DuckDB's record number, header = 1
    error_type: str
    message: str
    raw: str  # the record's text as DuckDB read it
    line: int | None = None  # physical line where the record starts (None: the parsers disagree)
    lines: int = 1  # physical lines the record spans
    data_row: int = 0  # 1-based data row (header and blank lines not counted), like _row_number
    fields: int | None = None


def drop_rejects(con: duckdb.DuckDBPyConnection) -> None:
    # DuckDB appends to existing rejects tables: each file starts from none.
    con.execute(f"DROP TABLE IF EXISTS {REJECTS_TABLE}")
    con.execute(f"DROP TABLE IF EXISTS {REJECTS_SCAN}")
    con.execute(f"DROP TABLE IF EXISTS {TABLE}")


def _clean_raw(text: str) -> str:
    # After a CRLF line DuckDB starts the next record's text at the "\n"; the record ends before its newline.
    return text.removeprefix("\n").removesuffix("\n").removesuffix("\r")


def _read_rejects(con: duckdb.DuckDBPyConnection) -> list[Reject]:
    # A record missing several columns has one rejects row per missing column: one Reject per record.
    rows = con.execute(
        f"SELECT line, min(error_type), min(error_message), any_value(csv_line) FROM {REJECTS_TABLE} "
        "GROUP BY line ORDER BY line"
    ).fetchall()
    return [Reject(int(r[0]), r[1], r[2] or "", _clean_raw(r[3] or "")) for r in rows]


def _locate(path: Path, rejects: list[Reject]) -> int:
    """Fill line / lines / data_row / fields of each reject; returns the file's number of physical lines."""
    wanted = {r.record: r for r in rejects}
    pending: list[str] = []

    def physical_lines(fh):
        for text in fh:
            pending.append(text)
            yield text

    previous = 0  # physical lines consumed before the current record
    blanks = 0
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, MAX_LINE_BYTES))
    try:
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
            reader = csv.reader(physical_lines(fh), strict=False)
            for record, fields in enumerate(reader, start=1):
                reject = wanted.get(record)
                if reject is not None:
                    first = pending[0].rstrip("\r\n") if pending else None
                    # Trust the mapping only where both parsers saw this record start on the same text.
                    if first is not None and reject.raw.split("\n", 1)[0].rstrip("\r") == first:
                        reject.line = previous + 1
                        reject.lines = reader.line_num - previous
                        reject.fields = len(fields)
                    reject.data_row = record - 1 - blanks
                if not fields:
                    blanks += 1
                previous = reader.line_num
                pending.clear()
            total = reader.line_num
    except csv.Error:  # leave the rest unlocated (the reasons fall back to record numbers); count lines
        with open(path, "rb") as fh:
            total = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(8 << 20), b""))
    finally:
        csv.field_size_limit(limit)
    for r in rejects:
        if r.line is None:
            r.lines = r.raw.count("\n") + 1
            r.data_row = r.data_row or r.record - 1
    return total


def _where(r: Reject) -> str:
    return f"line {r.line}" if r.line is not None else f"CSV record {r.record} (header = 1)"


def _detail(r: Reject, header_fields: int) -> str:
    """What is wrong with the row, without the fix."""
    if r.error_type in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
        if r.fields is not None:
            return f"has {r.fields} field(s), the header has {header_fields}"
        return f"does not have the header's {header_fields} fields ({r.message})"
    if r.error_type == "UNQUOTED VALUE":
        if r.lines > 1:
            return (
                f"opens a quote that is not closed where its value ends: the row runs over {r.lines} lines "
                "(they may hold other rows)"
            )
        return "has an unterminated quote (no closing quote, or text after the closing quote)"
    if r.error_type == "LINE SIZE OVER MAXIMUM":
        return f"is longer than {MAX_LINE_BYTES} bytes"
    return r.message.rstrip(".") or r.error_type.lower()


def _reason(r: Reject, header_fields: int) -> str:
    return (
        f"malformed_row: {_where(r)} {_detail(r, header_fields)}: re-export the file or fix the quoting of "
        "that line (a quote inside a quoted value is written twice)"
    )


def collect(con: duckdb.DuckDBPyConnection, path: Path, header_fields: int, source_file: str) -> int:
    """After read_csv with REJECT_OPTIONS: apply the whole-file rules, else fill temp table `malformed`.

    Returns the number of malformed rows (0: no table). Raises FileRejected for a broken file.
    """
    rejects = _read_rejects(con)
    if not rejects:
        return 0
    encoding = next((r for r in rejects if r.error_type == "INVALID ENCODING"), None)
    if encoding is not None:
        # A file-level problem; the ingestion names the first bad byte (find_invalid_bytes).
        raise FileRejected(source_file, f"invalid UTF-8 in CSV record {encoding.record}", "re-export as UTF-8")
    total = _locate(path, rejects)
    fix = "re-export the complete file from the source tool and land it again"
    last = rejects[-1]
    if last.error_type == "UNQUOTED VALUE" and last.line and last.line + last.lines - 1 >= total:
        # still inside a quote when the file ends: cut off in transfer, or a quote that ate the rest
        swallowed = (
            f"so the remaining {last.lines} lines of the file read as one value"
            if last.lines > 1
            else "before the file ends (a file cut off mid-row?)"
        )
        raise FileRejected(
            source_file,
            f"not readable as CSV at line {last.line}: unterminated quote: the quote opened there is never "
            f"closed, {swallowed}",
            fix + f" (or close the quote on line {last.line})",
        )
    data_lines = max(total - 1, sum(r.lines for r in rejects), 1)
    bad_lines = sum(r.lines for r in rejects)
    if taken_for_another_format(bad_lines, data_lines):
        first = rejects[0]
        raise FileRejected(
            source_file,
            f"not readable as CSV at {_where(first)}: it {_detail(first, header_fields)}; {bad_lines} of "
            f"{data_lines} data line(s) are in malformed rows, more than the {MAX_MALFORMED_SHARE:.0%} a file "
            "may have before it is taken for another format",
            fix + " as a comma-separated CSV with the documented columns",
        )
    _store(con, [(r.data_row, r.raw, _reason(r, header_fields)) for r in rejects])
    return len(rejects)


# --- JSON lines ---------------------------------------------------------------------------------------

_JSON_KINDS = {list: "ARRAY", str: "VARCHAR", int: "BIGINT", float: "DOUBLE", bool: "BOOLEAN", type(None): "NULL"}


def _json_problem(text: bytes) -> str | None:
    """Why a JSON line is not an object, or None if it is one."""
    try:
        value = json.loads(text.rstrip(b"\r\n"))  # else a cut-off line fails "at column 1" of the next
    except (ValueError, RecursionError) as exc:
        where = f" at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        return f"is not valid JSON ({getattr(exc, 'msg', str(exc))}{where})"
    if isinstance(value, dict):
        return None
    return f"is a {_JSON_KINDS.get(type(value), type(value).__name__)}, not an object"


def split_json_lines(con: duckdb.DuckDBPyConnection, path: Path, scratch: Path, source_file: str) -> tuple[Path, int]:
    """Rare path, for a JSON-lines file DuckDB could not read as objects: one Python pass writes its object
    lines to a copy in `scratch` and the others to temp table `malformed`. Returns (copy, malformed lines),
    or raises FileRejected when taken_for_another_format."""
    copy = scratch / (path.name + ".objects")
    rows: list[tuple[int, str, str]] = []  # (data row, raw text, reason)
    data_row = 0
    first = None
    with open(path, "rb") as src, open(copy, "wb") as dst:
        for line_no, text in enumerate(src, start=1):
            if not text.strip():
                continue  # blank lines are not rows (DuckDB's reader skips them too)
            data_row += 1
            try:
                text.decode("utf-8")
            except UnicodeDecodeError as exc:  # a file-level problem: the ingestion names the first bad byte
                raise FileRejected(source_file, f"invalid UTF-8 on line {line_no}", "re-export as UTF-8") from exc
            problem = _json_problem(text)
            if problem is None:
                dst.write(text if text.endswith(b"\n") else text + b"\n")
                continue
            first = first or (line_no, problem)
            raw = text.rstrip(b"\r\n").decode("utf-8", errors="replace")
            rows.append((data_row, raw, f"malformed_row: line {line_no} {problem}: {JSON_FIX}"))
    if not rows:
        copy.unlink()
        return path, 0
    if taken_for_another_format(len(rows), data_row):
        line_no, problem = first
        raise FileRejected(
            source_file,
            f"not readable as JSON lines: JSON line {line_no} {problem}; {len(rows)} of {data_row} line(s) are "
            f"malformed, more than the {MAX_MALFORMED_SHARE:.0%} a file may have before it is taken for another "
            "format",
            "re-export the complete file (one JSON object per line) and land it again",
        )
    _store(con, rows)
    return copy, len(rows)


JSON_FIX = "re-export the file (one JSON object per line) or fix that line"


def _store(con: duckdb.DuckDBPyConnection, rows: list[tuple[int, str, str]]) -> None:
    table = pa.table(
        {
            "__row_number": pa.array([r[0] for r in rows], pa.int64()),
            "_raw_line": pa.array([r[1] for r in rows], pa.string()),
            "_reason": pa.array([r[2] for r in rows], pa.string()),
        }
    )
    con.register("__malformed_arrow", table)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {TABLE} AS SELECT * FROM __malformed_arrow")
    finally:
        con.unregister("__malformed_arrow")
