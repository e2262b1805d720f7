"""Read one landed file into a DuckDB temporary table `src`: every data column VARCHAR, named by snake_case.

Bytes are scanned once in Python (content hash + encoding check/conversion, a few chunks, never per row);
parsing is DuckDB's. The header is parsed here so that columns are matched by name, wrong delimiters and
missing columns are reported before DuckDB runs, and DuckDB's sniffer (which hides the real error of a
broken file behind "could not detect the dialect") is never used.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.ingestion.errors import FileRejected, duckdb_csv_message, missing_columns_message
from orchestration.sources import JSON_LINE_EXTENSIONS, Table, snake

CHUNK = 8 << 20
BOM = b"\xef\xbb\xbf"


@dataclass
class Scan:
    sha256: str
    size: int
    utf8_path: Path  # the file itself, or a UTF-8 copy for tables delivered in another encoding
    blank: bool  # nothing but a BOM and white space
    encoding_error: str | None  # cause, with byte offset and line


def scan_file(path: Path, encoding: str, scratch: Path) -> Scan:
    """Hash the bytes and check (or convert) the declared encoding in one pass."""
    digest = hashlib.sha256()
    size = 0
    newlines = 0
    blank = True
    error = None
    utf8 = codecs.lookup(encoding).name == "utf-8"
    decoder = codecs.getincrementaldecoder("utf-8" if utf8 else encoding)()
    out = None
    target = path
    if not utf8:
        target = scratch / (path.name + ".utf8")
        out = open(target, "wb")  # noqa: SIM115 - closed in finally
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                if blank:
                    blank = not chunk.removeprefix(BOM if size == 0 else b"").strip()
                if error is None:
                    pending = len(decoder.getstate()[0])
                    try:
                        text = decoder.decode(chunk)
                        if out is not None:
                            out.write(text.encode("utf-8"))
                    except UnicodeDecodeError as exc:
                        offset = size - pending + exc.start
                        line = newlines + chunk[: max(exc.start - pending, 0)].count(b"\n") + 1
                        bad = exc.object[exc.start : exc.start + 4]
                        error = (
                            f"byte {bad[:1].hex()} at byte offset {offset} (line {line}) is not valid "
                            f"{encoding}"
                        )
                    newlines += chunk.count(b"\n")
                size += len(chunk)
        if error is None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                error = f"the file ends inside a multi-byte {encoding} character (byte offset {size})"
    finally:
        if out is not None:
            out.close()
    return Scan(digest.hexdigest(), size, target, blank, error)


def is_json_lines(table: Table, path: Path) -> bool:
    return table.format == "ndjson" or path.suffix.lower() in JSON_LINE_EXTENSIONS


def unique_names(raw: list[str]) -> list[str]:
    """snake_case names, made unique with a numeric suffix so no export column is ever dropped."""
    seen: dict[str, int] = {}
    names = []
    for name in raw:
        base = snake(name)
        n = seen.get(base, 0) + 1
        seen[base] = n
        names.append(base if n == 1 else f"{base}_{n}")
    return names


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def read_header(path: Path, source_file: str) -> list[str]:
    with open(path, "rb") as fh:
        head = fh.read(1 << 20).removeprefix(BOM)
    text = head.decode("utf-8", errors="replace")
    try:
        return next(csv.reader(io.StringIO(text, newline="")))
    except (StopIteration, csv.Error) as exc:
        raise FileRejected(source_file, f"the header row cannot be parsed ({exc})",
                           "re-export the file with a header row") from exc


def load_csv(con: duckdb.DuckDBPyConnection, table: Table, path: Path, source_file: str) -> list[str]:
    raw = read_header(path, source_file)
    names = unique_names(raw)
    problem = missing_columns_message(table.required_columns, names, raw)
    if problem:
        raise FileRejected(source_file, *problem)
    columns = "{" + ", ".join(f"{_sql_str(n)}: 'VARCHAR'" for n in names) + "}"
    sql = (
        f"CREATE OR REPLACE TEMP TABLE src AS SELECT * FROM read_csv({_sql_str(str(path))}, "
        f"header=true, auto_detect=false, columns={columns}, delim=',', quote='\"', escape='\"', "
        "strict_mode=true, null_padding=false, encoding='utf-8', max_line_size=16777216)"
    )
    try:
        con.execute(sql)
    except duckdb.Error as exc:
        raise FileRejected(
            source_file,
            f"not readable as CSV at {duckdb_csv_message(exc)} (a truncated file, an unclosed quote or a "
            "row with a different number of fields)",
            "re-export the complete file from the source tool and land it again",
        ) from exc
    return names


def load_json_lines(con: duckdb.DuckDBPyConnection, table: Table, path: Path, source_file: str) -> list[str]:
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE lines AS SELECT json FROM "
            f"read_ndjson_objects({_sql_str(str(path))}, maximum_object_size=67108864)"
        )
        bad = con.execute(
            "SELECT rowid + 1, json_type(json) FROM lines WHERE json_type(json) <> 'OBJECT' LIMIT 1"
        ).fetchone()
    except duckdb.Error as exc:
        msg = str(exc).split("\n")[0].replace("Invalid Input Error: ", "")
        raise FileRejected(source_file, f"not readable as JSON lines: {msg}",
                           "re-export the complete file (one JSON object per line) and land it again") from exc
    if bad:
        raise FileRejected(source_file, f"JSON line {bad[0]} is a {bad[1]}, not an object",
                           "export one JSON object per line and land the file again")
    keys = [
        r[0]
        for r in con.execute(
            "SELECT k FROM (SELECT rowid AS r, unnest(json_keys(json)) AS k, "
            "generate_subscripts(json_keys(json), 1) AS i FROM lines) GROUP BY k ORDER BY min(r), min(i)"
        ).fetchall()
    ]
    names = unique_names(keys)
    problem = missing_columns_message(table.required_columns, names, keys)
    if problem:
        raise FileRejected(source_file, *problem)
    paths = "[" + ", ".join(_sql_str('$."' + k.replace("\\", "\\\\").replace('"', '\\"') + '"') for k in keys)
    # One JSON parse per line (a list of paths), then scalars as text and nested values as JSON text.
    cols = ", ".join(
        f"CASE WHEN json_type(v[{i + 1}]) IN ('OBJECT', 'ARRAY') THEN v[{i + 1}]::VARCHAR "
        f"ELSE v[{i + 1}] ->> '$' END AS {n}"
        for i, n in enumerate(names)
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE src AS SELECT {cols} FROM "
        f"(SELECT json_extract(json, {paths}]) AS v FROM lines)"
    )
    con.execute("DROP TABLE lines")
    return names


def load_file(
    con: duckdb.DuckDBPyConnection, table: Table, scan: Scan, original: Path, source_file: str
) -> list[str]:
    """Fill temp table `src` from the file; returns its data column names. Raises FileRejected."""
    if is_json_lines(table, original):
        return load_json_lines(con, table, scan.utf8_path, source_file)
    return load_csv(con, table, scan.utf8_path, source_file)


def remove_scratch(scan: Scan, original: Path) -> None:
    if scan.utf8_path != original:
        try:
            os.unlink(scan.utf8_path)
        except FileNotFoundError:
            pass
