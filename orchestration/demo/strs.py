"""Vectorised string building on numpy/pyarrow arrays (no per-row Python)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
ALNUM_UPPER = np.frombuffer(b"0123456789ABCDEFGHJKMNPQRSTVWXYZ", dtype=np.uint8)  # Crockford base32


def random_chars(rng: np.random.Generator, n: int, width: int, alphabet: np.ndarray) -> np.ndarray:
    """n random strings of `width` characters from `alphabet` (uint8 codes), as a numpy str array."""
    codes = alphabet[rng.integers(0, len(alphabet), size=(n, width))]
    return np.ascontiguousarray(codes).view(f"S{width}").ravel().astype(f"U{width}")


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as zero-padded decimal strings."""
    return np.strings.zfill(np.asarray(values, dtype=np.int64).astype(str), width)


def cat(*parts) -> np.ndarray:
    """Element-wise concatenation of numpy string arrays and/or scalars."""
    out = parts[0]
    for p in parts[1:]:
        out = np.strings.add(out, p)
    return np.asarray(out)


def to_arrow(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """numpy (or Arrow) strings -> arrow strings, null where mask is False (so CSV cells come out blank)."""
    if isinstance(values, pa.Array):
        arr = values if values.type == pa.string() else values.cast(pa.string())
        if mask is not None:
            arr = pc.if_else(pa.array(np.asarray(mask, dtype=bool)), arr, pa.scalar(None, pa.string()))
        return arr
    values = np.asarray(values)
    if values.dtype.kind != "U":
        values = values.astype(str)
    null = None if mask is None else ~np.asarray(mask, dtype=bool)
    return pa.array(values, type=pa.string(), mask=null)


def money(values: np.ndarray) -> np.ndarray:
    """Plain two-decimals money (`149.00`)."""
    return np.char.mod("%.2f", np.round(np.asarray(values, dtype=float), 2))


def square_money(values: np.ndarray) -> np.ndarray:
    """Square's money: `$149.00`, `$1,149.00 ` (thousands comma, trailing space), `($33.62)` negatives."""
    v = np.round(np.asarray(values, dtype=float), 2)
    cents = np.rint(np.abs(v) * 100).astype(np.int64)
    whole, frac = cents // 100, cents % 100
    thousands, rest = whole // 1000, whole % 1000
    big = thousands > 0
    body = np.where(
        big,
        cat(thousands.astype(str), ",", digits(rest, 3), ".", digits(frac, 2), " "),
        cat(whole.astype(str), ".", digits(frac, 2)),
    )
    return np.where(v < 0, cat("($", body, ")"), cat("$", body))
