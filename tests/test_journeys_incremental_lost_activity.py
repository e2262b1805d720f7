"""A daily run recomputes a person's funnel rows from the earliest activity it LOST, not only from the
earliest one it still has.

Person P is device `lost-g` (a page view on 1 June) logged in as `lost-u`, who also browses on device
`lost-g2` on 1 August. The login is re-delivered without the user: the device and its June page view
leave P for a person of their own. P keeps only August, so every row int_activities_sessionized
re-cuts for P is from August; the June visit P held in int_funnel_step_occurrences (and the June
session a purchase path could pass through) must still go, as a full refresh of the final files
decides. Compared without person ids: the per-day funnel counts and the purchase paths.
The day the login is corrected, the funnel models are left out of the run (a failure, or a run that
did not select them); the next day P browses again in August, so that run re-cuts P from August only:
the funnel models must still know that P lost June.
"""

from __future__ import annotations

from datetime import date

import pytest

from orchestration.identity.scenario import query, run_dbt, write_rows
from tests.conftest import scenario_warehouse

pytestmark = pytest.mark.integration

EVENTS = "canonical_events"
DAY1, DAY2 = date(2026, 1, 1), date(2026, 1, 2)
WINDOW = '{"min_date": "2026-01-02", "max_date": "2026-01-02"}'
MODELS = ["+int_funnel_transition_days", "+int_purchase_paths"]


def _event(event_id: str, at: str, activity: str, device: str, user: str | None = None) -> dict:
    return {"event_id": event_id, "occurred_at": at, "activity": activity, "channel": "web",
            "anonymous_id": device, "user_id": user}  # fmt: skip


def _land(paths, corrected: bool) -> None:
    june = [_event("lost-view", "2025-06-01T10:00:00Z", "page_view", "lost-g")]
    login = _event("lost-login", "2025-06-01T10:01:00Z", "login", "lost-g", None if corrected else "lost-u")
    august = [
        _event("lost-aug-login", "2025-08-01T10:00:00Z", "login", "lost-g2", "lost-u"),
        _event("lost-aug-view", "2025-08-01T10:01:00Z", "page_view", "lost-g2", "lost-u"),
        _event("lost-aug-buy", "2025-08-01T10:05:00Z", "purchase", "lost-g2", "lost-u"),
    ]
    write_rows(paths, EVENTS, june + august, DAY1, "events.csv")
    if corrected:  # the corrected login, landed (re-delivered) on day 2
        write_rows(paths, EVENTS, [login], DAY2, "login-corrected.csv")
    else:
        write_rows(paths, EVENTS, [login], DAY1, "login.csv")


def _land_more(paths) -> None:
    more = _event("lost-aug-more", "2025-08-01T10:20:00Z", "page_view", "lost-g2", "lost-u")
    write_rows(paths, EVENTS, [more], DAY2, "events-more.csv")


def _build(paths, variables: str | None = None, *exclude: str) -> None:
    run_dbt(paths, "run", "--select", *MODELS, *(["--exclude", *exclude] if exclude else []), variables=variables)


def _counts(paths) -> list[tuple]:
    return query(
        paths,
        "select funnel_name, from_step_index, channel, period_date, units, converted_any_channel, "
        "converted_same_channel from intermediate.int_funnel_transition_days order by all",
    )


def _paths(paths) -> list[tuple]:
    return query(paths, "select channel_path, count(*) from intermediate.int_purchase_paths group by 1 order by 1")


def test_daily_run_drops_the_funnel_rows_of_a_lost_activity(data_dir, monkeypatch):
    daily = scenario_warehouse(monkeypatch, data_dir / "daily")
    _land(daily, corrected=False)
    _build(daily)
    _land(daily, corrected=True)
    _build(daily, WINDOW, "int_funnel_step_occurrences+", "int_purchase_paths+")
    _land_more(daily)
    _build(daily, variables=WINDOW)

    full = scenario_warehouse(monkeypatch, data_dir / "full")
    _land(full, corrected=False)
    _land(full, corrected=True)
    _land_more(full)
    _build(full)

    june_visits = [r for r in _counts(full) if str(r[3]) == "2025-06-01" and r[1] == 1]
    assert june_visits and all(r[4] == 1 for r in june_visits), june_visits  # only the device's own person
    assert _counts(daily) == _counts(full)
    assert _paths(daily) == _paths(full)
