"""Benchmark: the shipped 5-step funnel (first_purchase) over all activities, against

- one DuckDB scan + sort of journeys.activities (by person and time, materialised): the floor any funnel
  engine pays; goal: funnel <= 3x that;
- a naive self-join formulation (each step joins every attempt to every candidate event of the next
  step inside the window and keeps the earliest), in the same run. Its per-step counts must equal ours,
  which doubles as a cross-check of the SQL.

The funnel is the SQL dbt compiles for int_funnel_step_events, int_funnel_attempts and int_funnel_units,
executed as `create table ... as` in DuckDB (what dbt runs, without its per-model overhead), on a
private copy of the build database with only that funnel compiled, so the shared database is never
written. Each timing is the best of `repeat` runs. `scale` > 1 first multiplies the activities (each
copy a new set of persons, or with `dense` onto the same persons) to measure how the cost grows.

    python bench/bench_funnels.py data/warehouse/build.duckdb [scale [--dense]]
"""

from __future__ import annotations

import json
import subprocess
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
from orchestration.duckdb_files import copy_database  # noqa: E402
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
select * from per_person
"""


def _timed(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None, repeat: int = 3):
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = con.execute(sql, params or {}).fetchall()
        best = min(best, time.perf_counter() - t)
    return best, result


def _run_dbt(env: dict[str, str], target: Path) -> None:
    """dbt in a subprocess: dbt-duckdb keeps its connection open in-process."""
    cmd = [str(Path(sys.executable).parent / "dbt"), "run", "--project-dir", str(REPO), "--profiles-dir",
           str(REPO), "--target-path", str(target), "--log-path", str(target), "--quiet",
           "-s", *CONFIG_VIEWS, *TIMED_MODELS]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"dbt run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


def _scale(copy: Path, scale: int, dense: bool) -> None:
    """Multiply the activities: as new persons (same density), or - dense - onto the same persons,
    each copy shifted by 7 hours, so every person has `scale` times the events (heavy users)."""
    person = "person_id" if dense else "person_id || '#' || k"
    shift = "occurred_at + k * interval 7 hour" if dense else "occurred_at"
    con = duckdb.connect(str(copy))
    try:
        for rel in ("journeys.activities", "intermediate.int_activities_sessionized"):
            con.execute(f"create temp table base as select * from {rel}")
            con.execute(
                f"insert into {rel} by name select base.* replace ({person} as person_id,"
                f" activity_id || '#' || k as activity_id, {shift} as occurred_at)"
                f" from base, range(1, {scale}) as copies(k)"
            )
            con.execute("drop table base")
    finally:
        con.close()


def run(build_db: Path, repeat: int = 3, scale: int = 1, dense: bool = False) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-funnels-") as tmp:
        tmp = Path(tmp)
        copy = tmp / "build.duckdb"
        copy_database(build_db, copy)
        if scale > 1:
            _scale(copy, scale, dense)
        # only the benchmarked funnel, compiled exactly as the pipeline does
        (funnel,) = [f for f in load_funnels(REPO / "funnels") if f.name == FUNNEL]
        (tmp / "funnels").mkdir()
        (tmp / "funnels" / "bench.yml").write_text(yaml.safe_dump({"version": 1, "funnels": [funnel.raw]}))
        paths = replace(get_paths(), data=tmp, lake=tmp / "lake", warehouse=copy)
        compile_funnels(tmp / "funnels", paths)
        target = tmp / "target"
        _run_dbt(dbt_env(paths), target)  # config views, and the compiled SQL of the timed models
        compiled = target / "compiled" / "omni_warehouse" / "models" / "intermediate" / "journeys"

        con = duckdb.connect(str(copy))
        try:
            rows = con.execute("select count(*) from journeys.activities").fetchone()[0]
            scan_sort, _ = _timed(
                con,
                "create or replace temp table bench_sorted as"
                " select * from journeys.activities order by person_id, occurred_at, activity_id",
                repeat=repeat,
            )
            model_seconds = {}
            for model in TIMED_MODELS:
                sql = (compiled / f"{model}.sql").read_text()
                model_seconds[model], _ = _timed(
                    con, f"create or replace table intermediate.{model} as {sql}", repeat=repeat
                )
            funnel_seconds = sum(model_seconds.values())
            # materialised per person, as ours is, so both pay for writing their result
            naive_seconds, _ = _timed(
                con, f"create or replace temp table naive as {NAIVE_SQL}", {"funnel": FUNNEL}, repeat=repeat
            )
            naive_counts = con.execute("select furthest, count(*) from naive group by 1 order by 1").fetchall()
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
        "scale": scale,
        "dense": dense,
        "scan_sort_seconds": round(scan_sort, 4),
        "funnel_seconds": round(funnel_seconds, 4),
        "funnel_model_seconds": {k: round(v, 4) for k, v in model_seconds.items()},
        "ratio_to_scan_sort": round(funnel_seconds / scan_sort, 2) if scan_sort else None,
        "goal_ratio": 3.0,
        "naive_self_join_seconds": round(naive_seconds, 4),
        "ratio_naive_to_ours": round(naive_seconds / funnel_seconds, 2) if funnel_seconds else None,
        "furthest_step_counts": {int(k): int(v) for k, v in ours},
        "naive_matches": [tuple(r) for r in ours] == [tuple(r) for r in naive_counts],
    }


if __name__ == "__main__":
    db = Path(sys.argv[1]) if len(sys.argv) > 1 else get_paths().warehouse
    scale = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    print(json.dumps(run(db, scale=scale, dense="--dense" in sys.argv), indent=2))
