"""What `make run` prints at the end: the lake per source, persons, evaluations, where the data is."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.config import Paths


def _serving_scalar(serving: Path, sql: str):
    """Read the serving database the way a BI tool does: read-only, never blocking a build."""
    if not serving.exists():
        return None
    con = duckdb.connect(str(serving), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    except duckdb.CatalogException:
        return None
    finally:
        con.close()


def print_ingestion(paths: Paths) -> None:
    from orchestration.ingestion import summarise

    rows = summarise(paths)
    header = f"{'source':<28}{'files':>7}{'failed':>8}{'rows read':>12}{'loaded':>12}{'quarantined':>13}"
    print(header)
    print("-" * len(header))
    totals = [0, 0, 0, 0, 0]
    for r in rows:
        vals = [r["files"], r["failed_files"], r["rows_read"], r["rows_loaded"], r["rows_quarantined"]]
        totals = [a + b for a, b in zip(totals, vals, strict=True)]
        print(f"{r['table']:<28}{vals[0]:>7}{vals[1]:>8}{vals[2]:>12,}{vals[3]:>12,}{vals[4]:>13,}")
    print("-" * len(header))
    print(f"{'total':<28}{totals[0]:>7}{totals[1]:>8}{totals[2]:>12,}{totals[3]:>12,}{totals[4]:>13,}")
    if totals[2] != totals[3] + totals[4]:
        print(f"WARNING: rows read {totals[2]:,} != loaded + quarantined {totals[3] + totals[4]:,}")


def print_identity_evaluation(paths: Paths) -> None:
    truth = paths.truth / "identifiers.csv"
    if not truth.exists():
        print(f"identity evaluation: no ground truth at {truth} (only the demo has one)")
        return
    from orchestration.identity.evaluate import evaluate

    m = evaluate(truth, paths.serving)
    print(
        "identity vs demo truth: "
        f"precision {m['precision']:.4f}, recall {m['recall']:.4f}, F1 {m['f1']:.4f}, "
        f"over-merged persons {m['over_merged_persons']}, split persons {m['split_persons']}"
    )
    if "linkable_recall" in m:  # pairs no record ever connected are data, not method loss
        print(
            f"  linkable upper bound: {m['linkable_share']:.4f} of true pairs are connected by observed records; "
            f"recall on those {m['linkable_recall']:.4f}"
        )


def print_alert_evaluation(paths: Paths) -> None:
    incidents = paths.truth / "incidents.csv"
    if not incidents.exists():
        return
    from orchestration.funnels.evaluate_alerts import evaluate

    m = evaluate(paths.truth, paths.serving)

    def share(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"  # None: nothing flagged / no day could be judged

    # both recalls, named: judgeable days only vs every incident day (a day too small to judge is a miss)
    print(
        f"drop-off alerts vs planted incident: precision {share(m['precision'])}, "
        f"recall {share(m['recall_all_days'])} over all {m['incident_days']} incident days, "
        f"{share(m['recall'])} over the {m['incident_days_judged']} judgeable "
        f"({m['alerts_flagged']} flagged, {m['true_positive_alerts']} on the incident; "
        f"{m['incident_days_detected']} incident days detected, {m['incident_days_undetectable']} too small to judge)"
    )


def print_summary(paths: Paths, demo: dict | None = None, seconds: float | None = None) -> None:
    print()
    print("=" * 80)
    if demo:
        print(f"demo exports: {demo.get('persons'):,} persons, {demo.get('activities'):,} activities simulated")
    print_ingestion(paths)
    persons = _serving_scalar(paths.serving, "select count(distinct person_id) from identity.person_identifiers")
    activities = _serving_scalar(paths.serving, "select count(*) from journeys.activities")
    profiles = _serving_scalar(paths.serving, "select count(*) from customers.customer_profiles")
    print()
    print(f"persons recognised: {persons if persons is not None else 'n/a'}")
    print(f"activities stitched: {activities if activities is not None else 'n/a'}")
    print(f"customer profiles: {profiles if profiles is not None else 'n/a'}")
    print_identity_evaluation(paths)
    print_alert_evaluation(paths)
    print()
    print(f"landing folder:    {paths.landing}")
    print(f"Parquet lake:      {paths.lake}")
    print(f"build database:    {paths.warehouse}   (dbt writes here)")
    print(f"serving database:  {paths.serving}   (BI tools: open read-only)")
    print(f"mart Parquet:      {paths.marts_parquet}")
    print(f"Dagster instance:  {paths.dagster_home}   (make dev shows the runs)")
    if seconds is not None:
        print(f"took {seconds:,.0f} s")
    print("=" * 80)
