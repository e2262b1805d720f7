"""Precision and recall of journeys.dropoff_alerts against the demo's planted incidents.

The demo generator (`--incident app_checkout:START:END`) writes <truth>/incidents.csv with columns
incident, channel, step, start_date, end_date: on those days the conversion INTO `step` collapses for
step events in `channel`. A flagged alert is a true positive when its to_step_name is that step, its
channel is the incident's channel (or '(all)', which includes it) and its day lies inside the incident.

- precision: true-positive flagged alerts / all flagged alerts (None when nothing is flagged)
- recall_all_days: incident days with a true-positive alert / every incident day (plain recall: a day
  too small to judge counts as missed)
- recall: incident days with a true-positive alert / incident days the mart could judge. A day is judged
  when the mart's row for the step and the incident's channel on that day is_detectable: its windows
  have closed and it had the volume to be flagged (with no conversion at all it would have been). A day
  without that volume cannot raise an alert under the stated test, however badly it converts, so it is
  reported (incident_days_with_row, incident_days_undetectable) but not counted as missed. A day flagged
  in '(all)' counts as judged and detected.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb


def _incidents(truth_dir: Path) -> list[dict]:
    path = Path(truth_dir) / "incidents.csv"
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["start_date"] = dt.date.fromisoformat(r["start_date"])
        r["end_date"] = dt.date.fromisoformat(r["end_date"])
    return rows


def _matches(alert: dict, incident: dict) -> bool:
    return (
        alert["to_step_name"] == incident["step"]
        and alert["channel"] in (incident["channel"], "(all)")
        and incident["start_date"] <= alert["period_date"] <= incident["end_date"]
    )


def evaluate(truth_dir: Path, warehouse_db: Path) -> dict:
    incidents = _incidents(truth_dir)
    # read-only, and closed at once: the build database has one writer
    con = duckdb.connect(str(warehouse_db), read_only=True)
    try:
        cols = ["funnel_name", "from_step_name", "to_step_name", "channel", "period_date", "units",
                "conversion", "baseline_conversion", "p_value", "is_flagged", "is_detectable",
                "flag_reason"]  # fmt: skip
        rows = con.execute(f"select {', '.join(cols)} from journeys.dropoff_alerts").fetchall()
    finally:
        con.close()
    judged = [dict(zip(cols, r, strict=True)) for r in rows]
    flagged = [a for a in judged if a["is_flagged"]]
    true_positive = [a for a in flagged if any(_matches(a, i) for i in incidents)]

    days_total, days_with_row, days_judged, days_detected = 0, 0, 0, 0
    for inc in incidents:
        day = inc["start_date"]
        while day <= inc["end_date"]:
            days_total += 1
            on_day = [a for a in judged if a["period_date"] == day and _matches(a, inc)
                      and a["channel"] == inc["channel"]]  # fmt: skip
            detected = any(a["is_flagged"] for a in judged if a["period_date"] == day and _matches(a, inc))
            days_with_row += bool(on_day)
            # a day flagged (in the channel or in '(all)') was evidently judgeable
            if detected or any(a["is_detectable"] for a in on_day):
                days_judged += 1
                days_detected += detected
            day += dt.timedelta(days=1)

    def show(a: dict) -> str:
        base = a["baseline_conversion"]
        return (
            f"{a['funnel_name']} {a['from_step_name']}->{a['to_step_name']} [{a['channel']}] {a['period_date']}: "
            f"{a['conversion']:.2f} vs baseline {'-' if base is None else f'{base:.2f}'} p={a['p_value']:.2g}"
            f" ({a['flag_reason']})"
        )

    return {
        "incidents": len(incidents),
        "rows_judged": len(judged),
        "alerts_flagged": len(flagged),
        "true_positive_alerts": len(true_positive),
        "precision": (len(true_positive) / len(flagged)) if flagged else None,
        "incident_days": days_total,
        "incident_days_with_row": days_with_row,
        "incident_days_undetectable": days_with_row - days_judged,
        "incident_days_judged": days_judged,
        "incident_days_detected": days_detected,
        "recall": (days_detected / days_judged) if days_judged else None,
        "recall_all_days": (days_detected / days_total) if days_total else None,
        "flagged": [show(a) for a in flagged][:20],
    }
