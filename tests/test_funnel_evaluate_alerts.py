"""Alert precision / recall against planted incidents (a synthetic dropoff_alerts table, no dbt)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from orchestration.funnels.evaluate_alerts import evaluate

COLUMNS = (
    "funnel_name varchar, from_step_name varchar, to_step_name varchar, channel varchar, period_date date,"
    " units bigint, conversion double, baseline_conversion double, p_value double, is_flagged boolean,"
    " is_detectable boolean, flag_reason varchar"
)


def build(tmp_path, alerts, incidents=True):
    db = tmp_path / "build.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema journeys")
    con.execute(f"create table journeys.dropoff_alerts ({COLUMNS})")
    for day, channel, to_step, flagged, *detectable in alerts:
        con.execute(
            "insert into journeys.dropoff_alerts"
            " values ('first_purchase', 'checkout', ?, ?, ?, 10, 0.1, 0.7, ?, ?, ?, ?)",
            [
                to_step,
                channel,
                dt.date.fromisoformat(day),
                0.0001 if flagged else 0.5,
                flagged,
                detectable[0] if detectable else True,
                "significant_drop" if flagged else None,
            ],
        )
    con.close()
    truth = tmp_path / "truth"
    truth.mkdir()
    if incidents:
        (truth / "incidents.csv").write_text(
            "incident,channel,step,start_date,end_date\napp_checkout,app,purchase,2026-10-15,2026-10-17\n"
        )
    return truth, db


def test_precision_and_recall(tmp_path):
    truth, db = build(
        tmp_path,
        [
            ("2026-10-14", "app", "purchase", False),
            ("2026-10-15", "app", "purchase", True),  # true positive
            ("2026-10-15", "(all)", "purchase", True),  # true positive: (all) includes app
            ("2026-10-16", "app", "purchase", False),  # judged, missed
            ("2026-10-16", "web", "purchase", True),  # wrong channel: false positive
            ("2026-10-20", "app", "purchase", True),  # outside the incident: false positive
            ("2026-10-15", "app", "checkout", True),  # wrong step: false positive
        ],
    )
    result = evaluate(truth, db)
    assert result["alerts_flagged"] == 5
    assert result["true_positive_alerts"] == 2
    assert result["precision"] == pytest.approx(2 / 5)
    # 10-17 has no row for app/purchase (not judged); 10-15 detected, 10-16 missed
    assert result["incident_days_judged"] == 2
    assert result["incident_days_detected"] == 1
    assert result["recall"] == pytest.approx(0.5)
    # plain recall over all 3 incident days: 10-17 (no row) counts as missed
    assert result["incident_days"] == 3
    assert result["recall_all_days"] == pytest.approx(1 / 3)


def test_days_without_the_volume_to_flag_are_not_counted_as_missed(tmp_path):
    truth, db = build(
        tmp_path,
        [
            ("2026-10-15", "app", "purchase", True),  # judged, detected
            ("2026-10-16", "app", "purchase", False, False),  # too few units to ever flag: not judged
            ("2026-10-17", "app", "purchase", False, False),  # undetectable in app ...
            ("2026-10-17", "(all)", "purchase", True, True),  # ... but flagged over all channels
        ],
    )
    result = evaluate(truth, db)
    assert result["incident_days_with_row"] == 3
    assert result["incident_days_undetectable"] == 1
    assert result["incident_days_judged"] == 2
    assert result["incident_days_detected"] == 2
    assert result["recall"] == pytest.approx(1.0)
    # 10-16 was too small to judge: not missed for recall, missed for the plain recall
    assert result["recall_all_days"] == pytest.approx(2 / 3)
    assert result["precision"] == pytest.approx(1.0)


def test_summary_prints_plain_and_judgeable_recall(tmp_path, capsys):
    from orchestration.summary import print_alert_evaluation

    truth, db = build(
        tmp_path,
        [
            ("2026-10-15", "app", "purchase", True),
            ("2026-10-16", "app", "purchase", True),
            ("2026-10-17", "app", "purchase", False, False),  # too small to judge
        ],
    )

    class Paths:  # the two paths print_alert_evaluation reads
        pass

    paths = Paths()
    paths.truth, paths.serving = truth, db
    print_alert_evaluation(paths)
    line = capsys.readouterr().out
    assert "precision 1.000" in line
    assert "recall 0.667 over all 3 incident days, 1.000 over the 2 judgeable" in line
    assert "1 too small to judge" in line


def test_a_detectable_day_without_an_alert_is_a_miss(tmp_path):
    truth, db = build(tmp_path, [("2026-10-16", "app", "purchase", False, True)])
    result = evaluate(truth, db)
    assert result["incident_days_judged"] == 1 and result["incident_days_detected"] == 0
    assert result["recall"] == pytest.approx(0.0) and result["precision"] is None


def test_no_incidents_and_no_alerts(tmp_path):
    truth, db = build(tmp_path, [("2026-10-14", "app", "purchase", False)], incidents=False)
    result = evaluate(truth, db)
    assert result["incidents"] == 0 and result["alerts_flagged"] == 0
    assert result["precision"] is None and result["recall"] is None


def test_the_demo_app_checkout_incident_is_an_outage(tmp_path):
    """The planted incident must make the app checkout -> purchase transition collapse, not dip: no app
    session that begins checkout on an incident day ends in a purchase, while app sessions do on other days."""
    from orchestration.demo import generate

    generate(600, 4, dt.date(2026, 10, 1), 7, tmp_path / "landing", tmp_path / "truth",
             incident="app_checkout:2026-10-02:2026-10-03")  # fmt: skip
    con = duckdb.connect()
    rows = con.execute(
        "select event_date, count(distinct event_timestamp) filter (where event_name = 'purchase')"
        " from read_json_auto(?, union_by_name = true, sample_size = -1)"
        " where platform <> 'WEB' group by event_date",
        [str(tmp_path / "landing" / "ga4_events" / "*" / "*.ndjson")],
    ).fetchall()
    app_purchases = dict(rows)
    assert app_purchases.get("20261002", 0) == 0 and app_purchases.get("20261003", 0) == 0
    assert app_purchases.get("20261001", 0) + app_purchases.get("20261004", 0) > 0
