"""A daily run drops the subscribe activity of a Mailchimp member whose newer version has no opt-in and
no confirmation time, as a full refresh of the same files does.

int_activities_unioned writes an `email_subscribe` for a member with either time. Three members land
on day 1 in the subscribed export; day 2 lands an unrelated member (so the activity chain has consumed
a daily run before day 3); day 3's export carries each member again: `lost` without either time
(its activity must leave the activity chain and its session), `gained` with the opt-in time it lacked
(its activity appears) and `moved` with a later opt-in (its activity moves). Every day is a daily run
(a window), the first one building from scratch. Compared with one build of the final files, without
person ids.
"""

from __future__ import annotations

from datetime import date

import pytest

from orchestration.identity.scenario import query, run_dbt, write_rows
from tests.conftest import record_id_of, scenario_warehouse

pytestmark = pytest.mark.integration

AUDIENCE = "mailchimp_audience"
DAYS = (date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3))
MODELS = ["+sessions"]
LOST, GAINED, MOVED = "lost@example.com", "gained@example.com", "moved@example.com"


def _member(email: str, optin: str = "", confirm: str = "", changed: str = "2026-01-01 08:00:00") -> dict:
    return {"email_address": email, "optin_time": optin, "confirm_time": confirm, "last_changed": changed}


def _land(paths, day: int) -> None:
    if day == 0:
        members = [
            _member(LOST, "2026-01-01 10:00:00", "2026-01-01 10:05:00"),
            _member(GAINED),
            _member(MOVED, "2026-01-01 11:00:00"),
        ]
    elif day == 1:
        members = [_member("other@example.com", "2026-01-02 09:00:00")]
    else:
        changed = "2026-01-03 08:00:00"
        members = [
            _member(LOST, changed=changed),
            _member(GAINED, "2026-01-03 07:00:00", changed=changed),
            _member(MOVED, "2026-01-03 07:30:00", changed=changed),
        ]
    write_rows(paths, AUDIENCE, members, DAYS[day], "subscribed_members_export_test.csv")


def _window(day: date) -> str:
    return f'{{"min_date": "{day}", "max_date": "{day}"}}'


def _subscribes(paths) -> dict[str, str]:
    """Subscribe times by member e-mail (the activities carry the hash of it, never the address)."""
    emails = {record_id_of("email", e): e for e in (LOST, GAINED, MOVED, "other@example.com")}
    rows = query(
        paths,
        "select record_id, cast(occurred_at as varchar) from journeys.activities "
        "where source = 'mailchimp_audience' and activity = 'email_subscribe'",
    )
    return {emails.get(record_id, record_id): at for record_id, at in rows}


def _sessions(paths) -> list[tuple]:
    return query(
        paths,
        "select channel, session_scope, started_at, ended_at, activity_count, first_activity, last_activity "
        "from journeys.sessions order by all",
    )


def _activities(paths) -> list[tuple]:
    return query(
        paths,
        "select a.activity_id, a.occurred_at, a.activity, a.properties, s.session_id is not null "
        "from journeys.activities a left join intermediate.int_activities_sessionized s using (activity_id) "
        "order by all",
    )


def test_daily_run_drops_the_subscribe_of_a_member_without_times(data_dir, monkeypatch):
    daily = scenario_warehouse(monkeypatch, data_dir / "daily")
    for i, day in enumerate(DAYS):
        _land(daily, i)
        run_dbt(daily, "run", "--select", *MODELS, variables=_window(day))
        if i == 0:
            assert set(_subscribes(daily)) == {LOST, MOVED}
            sql = "select count(*) from intermediate.int_activities_sessionized where activity_id = ?"
            assert query(daily, sql.replace("?", f"'{AUDIENCE}:{record_id_of('email', LOST)}'")) == [(1,)]

    full = scenario_warehouse(monkeypatch, data_dir / "full")
    for i in range(len(DAYS)):
        _land(full, i)
    run_dbt(full, "run", "--select", *MODELS)

    assert _subscribes(full) == {
        GAINED: "2026-01-03 07:00:00",
        MOVED: "2026-01-03 07:30:00",
        "other@example.com": "2026-01-02 09:00:00",
    }
    assert _subscribes(daily) == _subscribes(full)
    assert _activities(daily) == _activities(full)
    assert _sessions(daily) == _sessions(full)
    # (logged once, without a file: its staging row is replaced, not removed)
    logged = query(daily, "select record_id, source_file from staging.stg_lake__removed_records")
    assert logged == [(record_id_of("email", LOST), None)]
