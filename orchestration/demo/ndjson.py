"""JSON-lines text assembled column-wise with Arrow string kernels (no per-row Python, no SQL engine).

A line is a concatenation of literal text and columns already rendered as JSON values. Rendering matches
what DuckDB's `COPY ... (FORMAT json)` wrote before (compact separators, UTF-8 kept as is, `/` not
escaped, VARCHAR values quoted), so the files stay byte for byte what they were.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NULL = "null"
_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"), ("\b", "\\b"),
            ("\f", "\\f"))  # fmt: skip


def as_string(values) -> pa.Array:
    """Any array-like (numpy, Arrow, chunked) as one Arrow string array; integers in decimal."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        values = np.asarray(values)
        values = pa.array(values if values.dtype.kind in "iub" else values.astype(str))
    if values.type != pa.string():
        values = pc.cast(values, pa.string())
    return values


def _may_need_escape(values: pa.Array) -> bool:
    """Scan the value bytes for `"`, `\\` or control characters (a byte scan; no per-value work)."""
    if len(values) == 0 or values.buffers()[2] is None:
        return False
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[values.offset : values.offset + len(values) + 1]
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)[int(offsets[0]) : int(offsets[-1])]
    return bool(((data < 32) | (data == 34) | (data == 92)).any())


def escape(values: pa.Array) -> pa.Array:
    """JSON string escaping; a no-op pass-through when no value needs it (the usual case)."""
    if not _may_need_escape(values):
        return values
    for raw, esc in _ESCAPES:
        values = pc.replace_substring(values, raw, esc)
    if pc.any(pc.match_substring_regex(values, r"[\x00-\x1f]")).as_py():
        for code in [c for c in range(32) if chr(c) not in "\n\r\t\b\f"]:
            values = pc.replace_substring(values, chr(code), f"\\u{code:04x}")
    return values


def quoted(values) -> pa.Array:
    """A JSON string per value; null stays null (for optional objects built around it).

    Dictionary-encoded values are rendered once per dictionary entry and gathered."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.DictionaryArray):
        return quoted(values.dictionary).take(values.indices)
    return pc.binary_join_element_wise('"', escape(as_string(values)), '"', "")


def jstr(values) -> pa.Array:
    """A JSON string per value, `null` for null."""
    q = quoted(values)
    return pc.fill_null(q, NULL) if q.null_count else q


def float_str(values: np.ndarray) -> pa.Array:
    """Doubles as DuckDB casts them to VARCHAR (`769.0`, `153.8`); NaN is null."""
    v = np.asarray(values, dtype=np.float64)
    nan = np.isnan(v)
    finite = v[~nan]
    if finite.size and (np.abs(finite).max() >= 1e15 or np.any((finite != 0) & (np.abs(finite) < 1e-3))):
        out = pa.array(v.astype(str))  # exponent territory: numpy's repr rules (shortest round trip)
    else:
        s = pc.cast(pa.array(v), pa.string())  # shortest round trip, but "769" for 769.0
        out = pc.if_else(pc.match_substring(s, "."), s, pc.binary_join_element_wise(s, ".0", ""))
    return pc.if_else(pa.array(nan), pa.scalar(None, pa.string()), out) if nan.any() else out


def concat(*pieces) -> pa.Array:
    """Element-wise concatenation of literal text (str) and string arrays; null if any array is null."""
    merged: list = []
    for p in pieces:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] += p
        else:
            merged.append(p)
    return pc.binary_join_element_wise(*merged, "")


def obj(fields: list[tuple[str, object]]) -> list:
    """Pieces of a JSON object: fields as (key, rendered array or literal JSON text)."""
    pieces: list = ["{"]
    for i, (key, value) in enumerate(fields):
        pieces.append(("," if i else "") + f'"{key}":')
        pieces.append(value)
    pieces.append("}")
    return pieces


def scatter(mask, rendered: pa.Array, otherwise: str) -> pa.Array:
    """Rendered values (one per true mask position) spread over all rows, `otherwise` elsewhere."""
    mask = np.asarray(mask, dtype=bool)
    idx = np.cumsum(mask)
    idx[~mask] = 0
    return pa.concat_arrays([pa.array([otherwise], pa.string()), rendered]).take(pa.array(idx))


def list_json(values: pa.Array, offsets: np.ndarray) -> pa.Array:
    """Per row, a JSON array of already rendered values: `[a,b]`, `[]` for none."""
    lists = pa.ListArray.from_arrays(pa.array(np.asarray(offsets, dtype=np.int32)), values)
    return concat("[", pc.binary_join(lists, ","), "]")


def write_lines(lines: pa.Array, out: BinaryIO) -> None:
    """Write rendered lines (each ending in a newline) straight from the Arrow value buffer."""
    if len(lines) == 0:
        return
    if lines.null_count:
        raise ValueError("a JSON line rendered as null")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset : lines.offset + len(lines) + 1]
    out.write(memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])])
