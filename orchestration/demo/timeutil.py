"""Time zones of the retailer (Europe/Copenhagen = Europe/Stockholm) and the tools' time formats."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa


def _last_sunday_utc1(year: int, month: int) -> int:
    """EU summer time switches at 01:00 UTC on the last Sunday of March and October."""
    d = dt.date(year, month, 31)
    d -= dt.timedelta(days=(d.weekday() + 1) % 7)
    return int(dt.datetime(d.year, d.month, d.day, 1, tzinfo=dt.UTC).timestamp())


def utc_offset_seconds(utc: np.ndarray) -> np.ndarray:
    """UTC offset of Central European Time (+3600, +7200 in summer) at each UTC epoch second."""
    utc = np.asarray(utc, dtype=np.int64)
    out = np.full(utc.shape, 3600, dtype=np.int64)
    if utc.size == 0:
        return out
    years = range(
        dt.datetime.fromtimestamp(int(utc.min()), dt.UTC).year,
        dt.datetime.fromtimestamp(int(utc.max()), dt.UTC).year + 1,
    )
    for y in years:
        out[(utc >= _last_sunday_utc1(y, 3)) & (utc < _last_sunday_utc1(y, 10))] = 7200
    return out


def local_midnight_utc(day: dt.date) -> int:
    """Epoch second at which the local (CET/CEST) calendar day starts."""
    naive = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
    return naive - int(utc_offset_seconds(np.array([naive - 7200]))[0])


_FIELDS = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2}


def _civil(epoch: np.ndarray) -> dict[str, np.ndarray]:
    """Calendar fields of epoch seconds (proleptic Gregorian, days-from-civil inverted), vectorised."""
    days, secs = np.divmod(np.asarray(epoch, dtype=np.int64), 86400)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    month = mp + np.where(mp < 10, 3, -9)
    year = yoe + era * 400 + (month <= 2)
    return {"Y": year, "m": month, "d": doy - (153 * mp + 2) // 5 + 1,
            "H": secs // 3600, "M": secs // 60 % 60, "S": secs % 60}  # fmt: skip


def _strftime(epoch: np.ndarray, fmt: str, extra: dict[str, np.ndarray] | None = None) -> pa.Array:
    """Fixed-width times as an Arrow string array, written digit by digit into one byte buffer.

    Understands %Y %m %d %H %M %S (years 1000-9999) and, via `extra`, more 1-digit fields (%o: the UTC
    offset hour); anything else is copied literally.
    """
    epoch = np.asarray(epoch, dtype=np.int64)
    n = len(epoch)
    fields = _civil(epoch) | (extra or {})
    widths = _FIELDS | dict.fromkeys(extra or {}, 1)
    tokens, i = [], 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt) and fmt[i + 1] in widths:
            tokens.append(fmt[i + 1])
            i += 2
        else:
            tokens.append(fmt[i].encode())
            i += 1
    width = sum(widths[t] if isinstance(t, str) else len(t) for t in tokens)
    buf = np.empty((n, width), dtype=np.uint8)
    col = 0
    for t in tokens:
        if isinstance(t, bytes):
            buf[:, col : col + len(t)] = np.frombuffer(t, dtype=np.uint8)
            col += len(t)
            continue
        v = fields[t]
        if n and t == "Y" and (v.min() < 1000 or v.max() > 9999):
            raise ValueError("years outside 1000-9999 cannot be formatted")
        for k in range(widths[t] - 1, -1, -1):
            buf[:, col + k] = 48 + v % 10
            v = v // 10
        col += widths[t]
    offsets = pa.py_buffer((np.arange(n + 1, dtype=np.int32) * width).tobytes())
    return pa.StringArray.from_buffers(n, offsets, pa.py_buffer(buf.tobytes()))


def fmt_local(utc: np.ndarray, sep: str = " ", offset_style: str = "compact") -> pa.Array:
    """Local time with its offset: `2026-10-03 11:01:12 +0200` (compact) or `2026-10-03T11:01:12+02:00`."""
    off = utc_offset_seconds(utc)
    tail = " +0%o00" if offset_style == "compact" else "+0%o:00"
    return _strftime(np.asarray(utc) + off, f"%Y-%m-%d{sep}%H:%M:%S{tail}", {"o": off // 3600})


def fmt_utc(utc: np.ndarray, fmt: str = "%Y-%m-%d %H:%M:%S") -> pa.Array:
    return _strftime(utc, fmt)


def fmt_iso_z(utc: np.ndarray) -> pa.Array:
    return _strftime(utc, "%Y-%m-%dT%H:%M:%SZ")


def fmt_local_pattern(utc: np.ndarray, fmt: str) -> pa.Array:
    """Local wall-clock time in any supported pattern (Square's `10/03/2026`, `14:05:33`)."""
    return _strftime(np.asarray(utc) + utc_offset_seconds(utc), fmt)
