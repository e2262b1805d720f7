"""Planted incidents: a spec string `name:start:end` and what it does to the simulation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# name -> (channel, funnel step whose conversion collapses, factor applied to that step's probability).
# app_checkout is an outage: payment in the app fails, so no app checkout ends in an app purchase on those
# days (factor 0). A customer can still buy on the web or in a store, which the funnel's "purchase in any
# channel" step counts, as it would in a real outage.
KNOWN = {"app_checkout": ("app", "purchase", 0.0)}


@dataclass(frozen=True)
class Incident:
    name: str
    channel: str
    step: str
    factor: float
    start: dt.date
    end: dt.date

    def active(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def row(self) -> dict:
        return dict(incident=self.name, channel=self.channel, step=self.step,
                    start_date=self.start.isoformat(), end_date=self.end.isoformat())  # fmt: skip


def parse_incident(spec: str | None, start: dt.date, days: int) -> Incident | None:
    if not spec:
        return None
    parts = spec.split(":")
    if len(parts) != 3 or parts[0] not in KNOWN:
        raise ValueError(f"incident must look like 'app_checkout:YYYY-MM-DD:YYYY-MM-DD', got {spec!r} "
                         f"(known incidents: {', '.join(KNOWN)})")  # fmt: skip
    try:
        s, e = dt.date.fromisoformat(parts[1]), dt.date.fromisoformat(parts[2])
    except ValueError as exc:
        raise ValueError(f"incident {spec!r}: bad date ({exc})") from None
    last = start + dt.timedelta(days=days - 1)
    if e < s or e < start or s > last:
        raise ValueError(f"incident {spec!r} does not overlap the simulated days {start}..{last}")
    channel, step, factor = KNOWN[parts[0]]
    return Incident(parts[0], channel, step, factor, s, e)
