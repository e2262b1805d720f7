"""A daily (windowed) run splits a person whose only linking edge vanished from a rewritten record.

A GA4-style correction: the event that logged device `split-g` in as `split-u1` is re-delivered without
the login (no user id) or with another user id. The pair (split-g, split-u1) becomes a tombstone in
int_identity_edge_pairs; the daily run must recompute the component that edge held together, so
`split-u1` (with its e-mail) and the device end up apart, exactly as a full refresh of the final files
decides, and identity_merges records the split with the edge that was lost. Without a new identifier or
a new edge in the corrected record, nothing else marks that component as touched.
"""

from __future__ import annotations

from datetime import date

import pytest

from orchestration.config import get_paths
from orchestration.identity.scenario import build_identity, link, prepare, query, write_rows

pytestmark = pytest.mark.integration

LINKS = "canonical_identifier_links"
EVENTS = "canonical_events"
DAY1, DAY2 = date(2026, 1, 1), date(2026, 1, 2)
WINDOW = '{"min_date": "2026-01-02", "max_date": "2026-01-02"}'


def _login(user_id: str | None) -> dict:
    return {"event_id": "split-ev", "occurred_at": "2026-01-01T12:00:00Z", "activity": "login",
            "channel": "web", "anonymous_id": "split-g", "user_id": user_id}  # fmt: skip


def _land(paths, rewritten: bool, corrected_user: str | None = None) -> None:
    # an unrelated person, so the run is not about one component only
    write_rows(paths, LINKS, [link(email="other@x.dk", customer_id="other-c")], DAY1, "links.csv")
    write_rows(paths, LINKS, [link(email="u1@x.dk", site_user_id="split-u1")], DAY1, "crm.csv")
    if rewritten:
        # the corrected export of day 1, landed (re-delivered) on day 2
        write_rows(paths, EVENTS, [_login(corrected_user)], DAY2, "events-corrected.csv")
    else:
        write_rows(paths, EVENTS, [_login("split-u1")], DAY1, "events.csv")


def _groups(paths) -> set[frozenset[str]]:
    rows = query(paths, "select person_id, identifier_value from identity.person_identifiers")
    by_person: dict[str, set[str]] = {}
    for person, value in rows:
        by_person.setdefault(person, set()).add(value)
    return {frozenset(v) for v in by_person.values()}


def _warehouse(monkeypatch, folder):
    """Point the process at `folder` (conftest's data_dir cleared the other path variables)."""
    monkeypatch.setenv("OMNI_DATA_DIR", str(folder))
    paths = get_paths()
    prepare(paths)
    return paths


@pytest.mark.parametrize("corrected_user", [None, "split-u2"], ids=["login-removed", "other-user"])
def test_daily_run_splits_a_person_whose_edge_vanished(data_dir, monkeypatch, corrected_user):
    daily = _warehouse(monkeypatch, data_dir / "daily")
    _land(daily, rewritten=False)
    build_identity(daily)
    assert frozenset({"split-g", "split-u1", "u1@x.dk"}) in _groups(daily)

    # day 2: the corrected event (same event id) supersedes day 1's
    _land(daily, rewritten=True, corrected_user=corrected_user)
    build_identity(daily, variables=WINDOW)
    daily_groups = _groups(daily)

    full = _warehouse(monkeypatch, data_dir / "full")
    _land(full, rewritten=False)
    _land(full, rewritten=True, corrected_user=corrected_user)
    build_identity(full)
    full_groups = _groups(full)

    assert frozenset({"split-g", corrected_user} - {None}) in full_groups
    assert frozenset({"split-u1", "u1@x.dk"}) in full_groups
    assert daily_groups == full_groups

    splits = query(
        daily,
        "select cause from identity.identity_merges where event_type = 'split'",
    )
    assert splits == [("trusted edge no longer observed",)], splits
