"""Benchmark of the customer profile build (models/intermediate/customers + models/marts/customers).

`run(build_db)` copies the given build database (so the original is never written or locked), times
one DuckDB aggregation pass over journeys.activities as the yardstick, then builds the customers
models with dbt in a subprocess against the copy and reports their time as a ratio to that pass
(goal <= 3x) and the subprocess's peak memory (dbt + DuckDB + the CLV fit, all in-process).

Two numerators, labelled: `ratio_to_aggregation_pass` is the profile build itself (the models' summed
execution_time from run_results.json, one thread), `end_to_end_ratio_to_aggregation_pass` the whole
dbt process (start-up and project parse included: a fixed cost of some tens of seconds on a loaded
machine, whatever the size). Also reported: per-model seconds, the CLV models' breakdown (transfer,
fit, scoring) and the acceptance check that every person of journeys.activities has exactly one
profile row.

`--scale N` measures a demo N times its size without building one through the pipeline (hours on a
small machine): the copy's relations that the customers models read (journeys.activities,
identity.person_identifiers and the staging relations of customer_consents) are replaced by N disjoint
copies of their rows, copy k > 0 with every person id, identifier and record key suffixed `~k`. The
data is the demo's data N times over, so the ratio tests how the build grows with volume (not with
more varied data); the output says so (`scale`). (The staging relations are tables, as a build writes
them; a view, from a warehouse built before they were, is replaced by a table of its rows.)

Usage: .venv/bin/python bench/bench_profiles.py [--scale N] [path/to/build.duckdb [project_dir]]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from orchestration.duckdb_files import copy_database

REPO = Path(__file__).resolve().parent.parent
SELECT = ["path:models/intermediate/customers", "path:models/marts/customers"]
CLV_MODELS = ("int_customer_clv_parameters", "int_customer_clv")
BASELINE_SQL = """
create or replace table main._bench_activity_pass as
select
    person_id,
    count(*) as activities,
    count(distinct channel) as channels,
    min(occurred_at) as first_at,
    max(occurred_at) as last_at,
    sum(revenue) as revenue
from journeys.activities
group by person_id
"""


# relation -> columns that identify a person, an identifier or a record: suffixed per copy so the copies
# are disjoint (the same customers in N separate shops) and every join between them stays inside a copy
SCALED_RELATIONS = {
    "journeys.activities": ("person_id", "activity_id", "device_id", "session_id"),
    "identity.person_identifiers": ("person_id", "identifier_value", "identifier_hash"),
    "staging.stg_loyalty__members": ("loyalty_id", "email"),
    "staging.stg_canonical__customers": ("customer_id", "email"),
    "staging.stg_mailchimp__members": ("email", "esp_member_id", "leid"),
    "staging.stg_shopify__orders": ("order_id", "email"),
}


def _replicate(db: Path, copies: int) -> dict:
    """Replace each relation of SCALED_RELATIONS by `copies` disjoint copies of its rows (a view becomes
    a table of its rows). Returns the row counts after."""
    con = duckdb.connect(str(db))
    counts = {}
    try:
        con.execute("set preserve_insertion_order = false")
        con.execute("set enable_progress_bar = false")
        for relation, keys in SCALED_RELATIONS.items():
            schema, name = relation.split(".")
            columns = [
                r[0]
                for r in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
                    "order by ordinal_position",
                    [schema, name],
                ).fetchall()
            ]
            kind = con.execute(
                "select table_type from information_schema.tables where table_schema = ? and table_name = ?",
                [schema, name],
            ).fetchone()[0]
            select = ", ".join(
                f"case when copy = 0 then {c} else {c} || '~' || copy end as {c}" if c in keys else c for c in columns
            )
            con.execute(
                f"create table {schema}._bench_scaled as select {select} "
                f"from {relation} cross join range({int(copies)}) as copies(copy)"
            )
            con.execute(f"drop {'view' if kind == 'VIEW' else 'table'} {relation}")
            con.execute(f"alter table {schema}._bench_scaled rename to {name}")
            counts[relation] = con.execute(f"select count(*) from {relation}").fetchone()[0]
        con.execute("checkpoint")
    finally:
        con.close()
    return counts


def _baseline_seconds(db: Path, repeats: int = 3) -> tuple[float, float, int, int]:
    """Best of a few runs of one group-by-person pass (the first also warms the file cache): wall and
    process CPU seconds (DuckDB's worker threads included) of the fastest run."""
    con = duckdb.connect(str(db))
    try:
        activities = con.execute("select count(*) from journeys.activities").fetchone()[0]
        persons = con.execute("select count(distinct person_id) from journeys.activities").fetchone()[0]
        best, best_cpu = float("inf"), 0.0
        for _ in range(repeats):
            start, cpu_start = time.perf_counter(), time.process_time()
            con.execute(BASELINE_SQL)
            if time.perf_counter() - start < best:
                best, best_cpu = time.perf_counter() - start, time.process_time() - cpu_start
        con.execute("drop table main._bench_activity_pass")
    finally:
        con.close()
    return best, best_cpu, activities, persons


def _dbt_build(db: Path, work: Path, project: Path) -> tuple[float, float, float, dict, int]:
    env = dict(os.environ)
    env.update(
        OMNI_WAREHOUSE_PATH=str(db),
        DBT_PROFILES_DIR=str(project),
        OMNI_DBT_TARGET=env.get("OMNI_DBT_TARGET", "duckdb"),
    )
    dbt = Path(sys.executable).parent / "dbt"
    cmd = [
        str(dbt), "run", "--project-dir", str(project), "--profiles-dir", str(project),
        "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
        "--select", *SELECT,
        "--threads", "1",  # one model at a time: per-model times are not inflated by each other
    ]  # fmt: skip
    # a wrapper process waits for dbt alone, so its RUSAGE_CHILDREN peak is dbt's own (not any earlier
    # child of the caller)
    wrapper = (
        "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
        "print('PEAK_KIB', u.ru_maxrss, file=sys.stderr); "
        "print('CPU_SECONDS', u.ru_utime + u.ru_stime, file=sys.stderr); "
        "sys.exit(r.returncode)"
    )
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", wrapper, *cmd], env=env, cwd=project, capture_output=True, text=True)
    wall = time.perf_counter() - start
    peak_kib = next((int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("PEAK_KIB")), 0)
    cpu = next((float(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("CPU_SECONDS")), 0.0)
    if proc.returncode != 0:
        raise RuntimeError(f"dbt run of the customers models failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    results = json.loads((work / "target" / "run_results.json").read_text())
    per_model = {r["unique_id"].split(".")[-1]: round(float(r["execution_time"]), 3) for r in results["results"]}
    execution = float(results.get("elapsed_time") or sum(per_model.values()))
    return execution, wall, cpu, per_model, peak_kib


def _coverage(con) -> dict:
    """The issue's acceptance check: every person of journeys.activities has exactly one profile row."""
    missing, duplicated = con.execute(
        """
        select
            (select count(*) from (select distinct person_id from journeys.activities) as a
                where not exists (select 1 from customers.customer_profiles as p where p.person_id = a.person_id)),
            (select count(*) from (select person_id from customers.customer_profiles group by 1 having count(*) > 1))
        """
    ).fetchone()
    return {"activity_persons_without_profile": int(missing), "persons_with_several_profiles": int(duplicated)}


def _clv_breakdown(con) -> dict:
    """Where the CLV Python models' time goes, re-run in this process on the built copy (the dbt run
    pays the same, plus the first import of pandas/scipy): DuckDB -> pandas transfer, the two fits
    (with their L-BFGS-B iterations) and the scoring of every buyer."""
    t0 = time.perf_counter()
    import pandas as pd

    from orchestration.clv import scoring

    imports = time.perf_counter() - t0
    t0 = time.perf_counter()
    summary = con.execute(
        "select person_id, frequency, recency_days, tenure_days, repeat_average_value "
        "from intermediate.int_customer_orders"
    ).df()
    as_of = con.execute("select as_of_date from intermediate.int_customer_as_of").fetchone()[0]
    summary["as_of_date"] = pd.Timestamp(as_of)
    transfer = time.perf_counter() - t0
    t0 = time.perf_counter()
    params = scoring.fit_parameters(summary)
    fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    scores = scoring.score(summary, params)
    scoring_seconds = time.perf_counter() - t0
    return {
        "buyers": len(summary),
        "buyers_fitted": int(params["customers_fitted"].max()) if len(params) else 0,
        "imports_seconds": round(imports, 3),
        "to_pandas_seconds": round(transfer, 3),
        "fit_seconds": round(fit, 3),
        "score_seconds": round(scoring_seconds, 3),
        "scored_rows": len(scores),
        "status": sorted(set(params["status"])),
        # absent from parameters written before issue #4's reliability columns
        "is_reliable": bool(params["is_reliable"].all()) if "is_reliable" in params and len(params) else None,
        "calibration_days": int(params["calibration_days"].max()) if "calibration_days" in params else None,
    }


def run(build_db: Path, project_dir: Path = REPO, scale: int = 1) -> dict:
    build_db = Path(build_db)
    if not build_db.exists():
        raise FileNotFoundError(build_db)
    with tempfile.TemporaryDirectory(prefix="bench_profiles_") as tmp:
        work = Path(tmp)
        db = work / "build.duckdb"
        copy_database(build_db, db)
        scaled_rows = _replicate(db, scale) if scale > 1 else None
        baseline_before, baseline_cpu, activities, persons = _baseline_seconds(db)
        execution, wall, dbt_cpu, per_model, peak_kib = _dbt_build(db, work, Path(project_dir))
        # the yardstick again after the build: on a shared machine the load moves during a long build,
        # so the ratios use the mean of the two
        baseline_after = _baseline_seconds(db)[0]
        baseline = (baseline_before + baseline_after) / 2
        con = duckdb.connect(str(db), read_only=True)
        try:
            profiles = con.execute("select count(*) from customers.customer_profiles").fetchone()[0]
            coverage = _coverage(con)
            clv = _clv_breakdown(con)
        finally:
            con.close()
    # models run one at a time (--threads 1): their summed time is the build cost
    model_seconds = sum(per_model.values())
    # the CLV Python models (fit + scoring) are reported apart from the SQL models as well
    clv_seconds = sum(v for k, v in per_model.items() if k in CLV_MODELS)
    sql_seconds = model_seconds - clv_seconds

    def ratio(seconds: float):
        return round(seconds / baseline, 2) if baseline > 0 else None

    return {
        "scale": (
            {"copies": scale, "note": "the demo's data replicated with ids suffixed per copy", "rows": scaled_rows}
            if scale > 1
            else 1
        ),
        "activities": int(activities),
        "persons": int(persons),
        "profiles": int(profiles),
        "baseline_aggregation_seconds": round(baseline, 3),
        "baseline_aggregation_seconds_before_after": [round(baseline_before, 3), round(baseline_after, 3)],
        "baseline_aggregation_cpu_seconds": round(baseline_cpu, 3),
        "profile_models_seconds": round(model_seconds, 3),
        "profile_build_elapsed_seconds": round(execution, 3),
        "dbt_wall_seconds": round(wall, 3),
        "ratio_to_aggregation_pass": ratio(model_seconds),
        "sql_models_seconds": round(sql_seconds, 3),
        "sql_models_ratio_to_aggregation_pass": ratio(sql_seconds),
        "clv_models_seconds": round(clv_seconds, 3),
        "clv_models_ratio_to_aggregation_pass": ratio(clv_seconds),
        "dbt_cpu_seconds": round(dbt_cpu, 3),  # whole dbt process incl. parse/startup (user + sys)
        "elapsed_ratio_to_aggregation_pass": round(execution / baseline, 2) if baseline > 0 else None,
        # end to end: the dbt process from start to exit; its start-up + parse is a fixed cost whatever the size
        "end_to_end_ratio_to_aggregation_pass": ratio(wall),
        "dbt_startup_parse_seconds": round(wall - execution, 3),
        "goal_ratio": 3.0,
        "peak_memory_mib": round(peak_kib / 1024, 1),  # Linux ru_maxrss is KiB
        "model_seconds": per_model,
        **coverage,
        "clv_breakdown": clv,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


if __name__ == "__main__":
    from orchestration.config import get_paths

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_db", nargs="?", type=Path, help="a built warehouse (default: OMNI_DATA_DIR's)")
    parser.add_argument("project_dir", nargs="?", type=Path, default=REPO)
    parser.add_argument("--scale", type=int, default=1, help="replicate the demo's persons N times (default 1)")
    args = parser.parse_args()
    target = args.build_db or get_paths().warehouse
    print(json.dumps(run(target, args.project_dir, scale=args.scale), indent=2))
