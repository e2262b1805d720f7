"""Benchmark: the shipped 5-step funnel (first_purchase) over all activities, against

- one DuckDB scan + sort of journeys.activities (by person and time): the floor any funnel engine pays,
  goal: funnel <= 3x that;
- a naive self-join formulation (each step joins every attempt to every later candidate event of the
  next step inside the window, keeping the earliest), in the same run; its per-step counts must equal
  ours, which doubles as a cross-check of the SQL.

The funnel is timed as dbt executes it (models int_funnel_step_events, int_funnel_attempts,
int_funnel_units; dbt's own start-up excluded) on a private copy of the build database, with only that
funnel compiled, so the shared database is never written.

    python bench/bench_funnels.py data/warehouse/build.duckdb
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import duckdb
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from orchestration.config import dbt_env, get_paths  # noqa: E402
from orchestration.funnels import compile_funnels, load_funnels  # noqa: E402

FUNNEL = "first_purchase"
TIMED_MODELS = ["int_funnel_step_events", "int_funnel_attempts", "int_funnel_units"]
CONFIG_VIEWS = [
    "int_funnel_definitions", "int_funnel_step_matchers", "int_funnel_step_filters", "int_funnel_exclusions",
    "int_funnel_interruptions",
]  # fmt: skip

# Ordered funnel by plain self-joins. Steps and window come from the compiled definitions (data).
NAIVE_SQL = """
with m as (select * from intermediate.int_funnel_step_matchers where funnel_name = $funnel),
d as (select * from intermediate.int_funnel_definitions where funnel_name = $funnel),
ev as (
    select a.person_id, a.occurred_at as ts, m.step_index
    from intermediate.int_activities_sessionized a
    join m on a.activity = m.activity and (m.channel is null or a.channel = m.channel)
),
s1 as (
    select person_id, ts as t1, ts + to_seconds((select window_seconds from d)) as deadline
    from ev where step_index = 1
),
s2 as (select s.person_id, s.t1, s.deadline, min(e.ts) as t2 from s1 s left join ev e
       on e.person_id = s.person_id and e.step_index = 2 and e.ts >= s.t1 and e.ts <= s.deadline
       group by all),
s3 as (select s.person_id, s.t1, s.deadline, s.t2, min(e.ts) as t3 from s2 s left join ev e
       on e.person_id = s.person_id and e.step_index = 3 and e.ts >= s.t2 and e.ts <= s.deadline
       group by all),
s4 as (select s.person_id, s.t1, s.deadline, s.t2, s.t3, min(e.ts) as t4 from s3 s left join ev e
       on e.person_id = s.person_id and e.step_index = 4 and e.ts >= s.t3 and e.ts <= s.deadline
       group by all),
s5 as (select s.person_id, s.t2, s.t3, s.t4, min(e.ts) as t5 from s4 s left join ev e
       on e.person_id = s.person_id and e.step_index = 5 and e.ts >= s.t4 and e.ts <= s.deadline
       group by all),
per_person as (
    select person_id, max(case when t5 is not null then 5 when t4 is not null then 4
                               when t3 is not null then 3 when t2 is not null then 2 else 1 end) as furthest
    from s5 group by person_id
)
select furthest, count(*) from per_person group by furthest order by furthest
"""


def _timed(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None, repeat: int = 3):
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = con.execute(sql, params or {}).fetchall()
        best = min(best, time.perf_counter() - t)
    return best, result


def _run_dbt(env: dict[str, str]) -> dict[str, float]:
    from dbt.cli.main import dbtRunner

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        args = ["run", "--project-dir", str(REPO), "--profiles-dir", str(REPO), "--target-path",
                env["OMNI_BENCH_TARGET"], "--log-path", env["OMNI_BENCH_TARGET"], "--quiet",
                "-s", *CONFIG_VIEWS, *TIMED_MODELS]  # fmt: skip
        res = dbtRunner().invoke(args)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if not res.success:
        raise RuntimeError(f"dbt run failed: {res.exception or [r.message for r in res.result]}")
    return {r.node.name: float(r.execution_time) for r in res.result.results}


def run(build_db: Path) -> dict:
    build_db = Path(build_db)
    with tempfile.TemporaryDirectory(prefix="bench-funnels-") as tmp:
        tmp = Path(tmp)
        copy = tmp / "build.duckdb"
        shutil.copyfile(build_db, copy)
        # only the benchmarked funnel, compiled exactly as the pipeline does
        (funnel,) = [f for f in load_funnels(REPO / "funnels") if f.name == FUNNEL]
        (tmp / "funnels").mkdir()
        (tmp / "funnels" / "bench.yml").write_text(yaml.safe_dump({"version": 1, "funnels": [funnel.raw]}))
        paths = replace(get_paths(), data=tmp, lake=tmp / "lake", warehouse=copy)
        compile_funnels(tmp / "funnels", paths)
        env = dbt_env(paths) | {"OMNI_BENCH_TARGET": str(tmp / "target")}
        timings = _run_dbt(env)
        funnel_seconds = sum(timings[m] for m in TIMED_MODELS)

        con = duckdb.connect(str(copy), read_only=True)
        try:
            rows = con.execute("select count(*) from journeys.activities").fetchone()[0]
            scan_sort, _ = _timed(
                con,
                "select count(*) from (select * from journeys.activities order by person_id, occurred_at, activity_id"
                " offset 0)",
            )
            naive_seconds, naive_counts = _timed(con, NAIVE_SQL, {"funnel": FUNNEL}, repeat=1)
            ours = con.execute(
                "select furthest_step_index, count(*) from intermediate.int_funnel_units"
                " where funnel_name = ? group by 1 order by 1",
                [FUNNEL],
            ).fetchall()
        finally:
            con.close()
    return {
        "funnel": FUNNEL,
        "activities": rows,
        "scan_sort_seconds": round(scan_sort, 4),
        "funnel_seconds": round(funnel_seconds, 4),
        "funnel_model_seconds": {k: round(v, 4) for k, v in timings.items() if k in TIMED_MODELS},
        "ratio_to_scan_sort": round(funnel_seconds / scan_sort, 2) if scan_sort else None,
        "goal_ratio": 3.0,
        "naive_self_join_seconds": round(naive_seconds, 4),
        "ratio_naive_to_ours": round(naive_seconds / funnel_seconds, 2) if funnel_seconds else None,
        "furthest_step_counts": {int(k): int(v) for k, v in ours},
        "naive_matches": [tuple(r) for r in ours] == [tuple(r) for r in naive_counts],
    }


if __name__ == "__main__":
    db = Path(sys.argv[1]) if len(sys.argv) > 1 else get_paths().warehouse
    print(json.dumps(run(db), indent=2))
