"""Time zones of the retailer (Europe/Copenhagen = Europe/Stockholm) and the tools' time formats."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.demo.strs import cat


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


def _strftime(epoch: np.ndarray, fmt: str) -> np.ndarray:
    ts = pa.array(np.asarray(epoch, dtype=np.int64), type=pa.timestamp("s"))
    return pc.strftime(ts, format=fmt).to_numpy(zero_copy_only=False).astype(str)


def fmt_local(utc: np.ndarray, sep: str = " ", offset_style: str = "compact") -> np.ndarray:
    """Local time with its offset: `2026-10-03 11:01:12 +0200` (compact) or `2026-10-03T11:01:12+02:00`."""
    off = utc_offset_seconds(utc)
    body = _strftime(np.asarray(utc) + off, f"%Y-%m-%d{sep}%H:%M:%S")
    hours = (off // 3600).astype(str)
    if offset_style == "compact":
        return cat(body, " +0", hours, "00")
    return cat(body, "+0", hours, ":00")


def fmt_utc(utc: np.ndarray, fmt: str = "%Y-%m-%d %H:%M:%S") -> np.ndarray:
    return _strftime(utc, fmt)


def fmt_iso_z(utc: np.ndarray) -> np.ndarray:
    return _strftime(utc, "%Y-%m-%dT%H:%M:%SZ")


def fmt_local_pattern(utc: np.ndarray, fmt: str) -> np.ndarray:
    """Local wall-clock time in any strftime pattern (Square's `10/03/2026`, `14:05:33`)."""
    return _strftime(np.asarray(utc) + utc_offset_seconds(utc), fmt)
