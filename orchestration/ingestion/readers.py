"""Read one landed file into a DuckDB temporary table `src`: every data column VARCHAR, named by snake_case.

`src` also has `__rowid`, the row's 0-based position among its rows in file order. DuckDB's own `rowid`
is not used: an export column of that name hides it; snake_case names never start with `_`, so no export
column is named `__rowid`.

Bytes are scanned once in Python (content hash + encoding check/conversion, a few chunks, never per row);
parsing is DuckDB's. The header is parsed here so that columns are matched by name, wrong delimiters and
missing columns are reported before DuckDB runs, and DuckDB's sniffer (which hides the real error of a
broken file behind "could not detect the dialect") is never used.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import os
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.ingestion import malformed
from orchestration.ingestion.errors import (
    CONTENT_ERRORS,
    FileRejected,
    duckdb_csv_message,
    missing_columns_message,
)
from orchestration.sources import JSON_LINE_EXTENSIONS, Table, lake_columns, snake

CHUNK = 8 << 20
# row_number() over an empty window keeps the scan's order (DuckDB's documented order preservation).
_NUMBERED = "row_number() OVER () - 1 AS __rowid"
BOM = b"\xef\xbb\xbf"
GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class Scan:
    sha256: str
    size: int
    utf8_path: Path  # the file itself, or a UTF-8 copy for tables delivered in another encoding
    blank: bool  # nothing but a BOM and white space
    has_bom: bool
    scratch: Path  # private folder for converted copies
    encoding_error: str | None  # cause, with byte offset and line (non-UTF-8 tables, found while converting)
    gzip_error: str | None = None  # a gzip delivery that cannot be decompressed (truncated, corrupt)
    encoding: str = "utf-8"  # what the file is read as: the table's encoding, or UTF-8 after a BOM


def content_name(path: Path) -> Path:
    """The name the content has once decompressed: `orders.csv.gz` -> `orders.csv`."""
    return path.with_suffix("") if path.suffix.lower() == ".gz" else path


def is_gzip(path: Path) -> bool:
    """By magic bytes, not by name: a gzip file landed as `.csv` is read too."""
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def scan_file(path: Path, encoding: str, scratch: Path) -> Scan:
    """Hash the content; for a table delivered in another encoding, convert to UTF-8 in the same pass.

    A gzip delivery is decompressed into the scratch folder in the same pass, and the hash is the hash
    of its content: the same export landed plain and compressed is the same delivery (a duplicate).
    UTF-8 files are not decoded here: DuckDB's readers reject invalid UTF-8 themselves, and only then
    does `find_invalid_bytes` locate the first bad byte for the error message (no cost on good files).
    """
    digest = hashlib.sha256()
    size = 0
    blank = True
    has_bom = False
    error = None
    gzip_error = None
    compressed = is_gzip(path)
    opener = gzip.open if compressed else open
    # A UTF-8 BOM makes the file UTF-8 whatever the table's encoding (Excel's "CSV UTF-8" of a cp1252 tool).
    if codecs.lookup(encoding).name != "utf-8" and _starts_with_bom(path, opener):
        encoding = "utf-8"
    utf8 = codecs.lookup(encoding).name == "utf-8"
    target = path if utf8 and not compressed else scratch / (content_name(path).name + ".utf8")
    out = None if target == path else open(target, "wb")  # noqa: SIM115 - closed in finally
    try:
        with opener(path, "rb") as fh:
            while chunk := _read_chunk(fh, path, compressed):
                if isinstance(chunk, str):  # the gzip stream broke here
                    gzip_error = chunk
                    break
                digest.update(chunk)
                if size == 0:
                    has_bom = chunk.startswith(BOM)
                if blank:
                    blank = not (chunk.removeprefix(BOM) if size == 0 else chunk).strip()
                if out is not None and error is None:
                    if utf8:
                        out.write(chunk)
                    else:
                        try:
                            # Single-byte code pages have no characters split across chunks.
                            out.write(chunk.decode(encoding).encode("utf-8"))
                        except UnicodeDecodeError:
                            error = find_invalid_bytes(path, encoding)
                size += len(chunk)
    finally:
        if out is not None:
            out.close()
    return Scan(digest.hexdigest(), size, target, blank, has_bom, scratch, error, gzip_error, encoding)


def _starts_with_bom(path: Path, opener) -> bool:
    try:
        with opener(path, "rb") as fh:
            return fh.read(len(BOM)) == BOM
    except (OSError, EOFError, zlib.error):  # a broken gzip stream: scan_file reports it
        return False


def _read_chunk(fh, path: Path, compressed: bool) -> bytes | str:
    """The next chunk, or for a broken gzip stream the cause as text (never raises for bad input)."""
    try:
        return fh.read(CHUNK)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        if not compressed:
            raise
        return f"the gzip stream of {path.name} is broken ({exc})"


def find_invalid_bytes(path: Path, encoding: str) -> str | None:
    """Where the content stops being valid in `encoding` (of a gzip file: the decompressed content): byte
    offset and line, or None if it is valid."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    newlines = 0
    with (gzip.open if is_gzip(path) else open)(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                at = exc.start - pending  # position inside this chunk
                line = newlines + chunk[: max(at, 0)].count(b"\n") + 1
                return (
                    f"byte {exc.object[exc.start : exc.start + 1].hex()} at byte offset {offset + at} "
                    f"(line {line}) is not valid {encoding}"
                )
            newlines += chunk.count(b"\n")
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return f"the file ends inside a multi-byte {encoding} character (byte offset {offset})"
    return None


def is_json_lines(table: Table, path: Path) -> bool:
    return table.format == "ndjson" or content_name(path).suffix.lower() in JSON_LINE_EXTENSIONS


def unique_names(raw: list[str]) -> list[str]:
    """snake_case names, made unique with a numeric suffix so no export column is ever dropped.

    A suffixed name never collides with another column of the file (`a, a, a_2` -> `a, a_3, a_2`).
    """
    bases = [snake(name) for name in raw]
    taken = set(bases)
    seen: set[str] = set()
    names = []
    for base in bases:
        name, n = base, 1
        while name in seen or (n > 1 and name in taken):
            n += 1
            name = f"{base}_{n}"
        seen.add(name)
        names.append(name)
    return names


def duplicated_column_message(table: Table, raw: list[str], what: str = "column") -> tuple[str, str] | None:
    """(cause, fix) when a documented column appears twice (compared like the header match: snake_case).

    Staging reads the first one; a second copy renamed `<name>_2` would hide which value is right, so
    the file is rejected. A duplicated unknown column keeps the `_2` rename (it is only carried along).
    """
    documented = set(lake_columns(table))
    first: dict[str, int] = {}
    for position, name in enumerate(raw, start=1):
        base = snake(name)
        if base in first and base in documented:
            earlier = first[base]
            where = (
                f"positions {earlier} and {position} ({raw[earlier - 1]!r} and {name!r})"
                if what == "column"
                else f"keys {raw[earlier - 1]!r} and {name!r}"
            )
            return (
                f"the documented {what} {base!r} appears twice, at {where}",
                f"export the file with one {raw[earlier - 1].strip()!r} {what} (remove or rename the other) and "
                "land it again",
            )
        first.setdefault(base, position)
    return None


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def read_header(path: Path, source_file: str) -> list[str]:
    with open(path, "rb") as fh:
        head = fh.read(1 << 20).removeprefix(BOM)
    text = head.decode("utf-8", errors="replace")
    try:
        return next(csv.reader(io.StringIO(text, newline="")))
    except (StopIteration, csv.Error) as exc:
        raise FileRejected(
            source_file, f"the header row cannot be parsed ({exc})", "re-export the file with a header row"
        ) from exc


def load_csv(con: duckdb.DuckDBPyConnection, table: Table, path: Path, source_file: str) -> tuple[list[str], int]:
    """Well-formed rows into `src`; malformed rows (wrong number of fields, broken quoting) into temp table
    `malformed` one by one (see malformed.py). Returns (column names, malformed rows)."""
    raw = read_header(path, source_file)
    names = unique_names(raw)
    problem = missing_columns_message(table.required_columns, names, raw) or duplicated_column_message(table, raw)
    if problem:
        raise FileRejected(source_file, *problem)
    columns = "{" + ", ".join(f"{_sql_str(n)}: 'VARCHAR'" for n in names) + "}"
    read = (
        f"CREATE OR REPLACE TEMP TABLE src AS SELECT *, {_NUMBERED} FROM read_csv({_sql_str(str(path))}, "
        f"header=true, auto_detect=false, columns={columns}, delim=',', quote='\"', escape='\"', "
        "strict_mode=true, null_padding=false, encoding='utf-8', "
        f"max_line_size={malformed.MAX_LINE_BYTES}"
    )
    # A well-formed file (nearly every one) is read once, without the rejects tables' per-file cost
    # (about 15% of ingesting a small file); only a file that fails is read again, keeping its rejects.
    try:
        con.execute(read + ")")
        return names, 0
    except CONTENT_ERRORS:  # others (out of memory, I/O) propagate: a retry may succeed
        pass
    malformed.drop_rejects(con)
    try:
        con.execute(f"{read}, {malformed.REJECT_OPTIONS})")
        return names, malformed.collect(con, path, len(raw), source_file)
    except CONTENT_ERRORS as exc:  # errors ignore_errors does not cover (e.g. an unreadable file)
        raise FileRejected(
            source_file,
            f"not readable as CSV at {duckdb_csv_message(exc)}",
            "re-export the complete file from the source tool and land it again",
        ) from exc
    finally:
        con.execute(f"DROP TABLE IF EXISTS {malformed.REJECTS_TABLE}")
        con.execute(f"DROP TABLE IF EXISTS {malformed.REJECTS_SCAN}")


NOT_OBJECT = "\x00not an object"


def _first_non_object(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[int, str]:
    # Rare path (the file is rejected): materialise to get a reliable line number.
    con.execute(f"CREATE OR REPLACE TEMP TABLE lines AS SELECT json FROM read_ndjson_objects({_sql_str(str(path))})")
    line, kind = con.execute(
        "SELECT rowid + 1, json_type(json) FROM lines WHERE json_type(json) <> 'OBJECT' ORDER BY rowid LIMIT 1"
    ).fetchone()
    con.execute("DROP TABLE lines")
    return line, kind


def _json_keys(con: duckdb.DuckDBPyConnection, path: Path) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT unnest(CASE WHEN json_type(json) = 'OBJECT' THEN json_keys(json) "
            f"ELSE [{_sql_str(NOT_OBJECT)}] END) FROM read_ndjson_objects({_sql_str(str(path))})"
        ).fetchall()
    }


def load_json_lines(
    con: duckdb.DuckDBPyConnection, table: Table, path: Path, source_file: str, scratch: Path
) -> tuple[list[str], int]:
    """Two passes: every top-level key of the whole file (unknown keys are kept), then read_json with
    those keys as VARCHAR columns, which keeps nested objects and arrays as their JSON text.

    Lines that are not JSON objects go to temp table `malformed` (malformed.split_json_lines, only run
    when DuckDB's pass fails). Returns (column names, malformed lines)."""
    fix = "re-export the complete file (one JSON object per line) and land it again"
    malformed_rows = 0
    try:
        found = _json_keys(con, path)
    except CONTENT_ERRORS:
        found = None
    if found is None or NOT_OBJECT in found:
        path, malformed_rows = malformed.split_json_lines(con, path, scratch, source_file)
        try:
            found = _json_keys(con, path)
        except CONTENT_ERRORS as exc:  # what Python's parser accepts and DuckDB's does not: the file fails
            msg = str(exc).split("\n")[0].replace("Invalid Input Error: ", "")
            raise FileRejected(source_file, f"not readable as JSON lines: {msg}", fix) from exc
        if NOT_OBJECT in found:
            line, kind = _first_non_object(con, path)
            raise FileRejected(source_file, f"JSON line {line} is a {kind}, not an object", fix)
    # Known keys in the documented order, then unknown ones alphabetically: stable across files.
    keys = [k for k in table.header if k in found] + sorted(found - set(table.header))
    names = unique_names(keys)
    problem = missing_columns_message(table.required_columns, names, keys) or duplicated_column_message(
        table, keys, what="key"
    )
    if problem:
        raise FileRejected(source_file, *problem)
    columns = "{" + ", ".join(f"{_sql_str(k)}: 'VARCHAR'" for k in keys) + "}"
    select = ", ".join(f"{_ident(k)} AS {_ident(n)}" for k, n in zip(keys, names, strict=True))
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE src AS SELECT {select}, {_NUMBERED} FROM read_json({_sql_str(str(path))}, "
            f"format='newline_delimited', records=true, columns={columns}, maximum_object_size=67108864)"
        )
    except CONTENT_ERRORS as exc:
        msg = str(exc).split("\n")[0].replace("Invalid Input Error: ", "")
        raise FileRejected(source_file, f"not readable as JSON lines: {msg}", fix) from exc
    finally:
        if path.parent == scratch and path.suffix == ".objects":
            path.unlink(missing_ok=True)  # the copy without the malformed lines
    return names, malformed_rows


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load_file(
    con: duckdb.DuckDBPyConnection, table: Table, scan: Scan, original: Path, source_file: str
) -> tuple[list[str], int]:
    """Fill temp table `src` from the file (and temp table `malformed` with its malformed rows, if any);
    returns (data column names, malformed rows). Raises FileRejected."""
    if is_json_lines(table, original):
        if scan.has_bom:  # DuckDB's JSON reader refuses a BOM: read a copy without it
            stripped = scan.scratch / (content_name(original).name + ".nobom")
            with open(scan.utf8_path, "rb") as src, open(stripped, "wb") as dst:
                src.seek(len(BOM))
                shutil.copyfileobj(src, dst, CHUNK)
            remove_scratch(scan, original)
            scan.utf8_path = stripped
        return load_json_lines(con, table, scan.utf8_path, source_file, scan.scratch)
    return load_csv(con, table, scan.utf8_path, source_file)


def remove_scratch(scan: Scan, original: Path) -> None:
    if scan.utf8_path != original:
        try:
            os.unlink(scan.utf8_path)
        except FileNotFoundError:
            pass
