"""Benchmark of daily operation: one more day's incremental dbt build as a ratio to a full refresh.

`run(days, persons)` generates a demo of `days` landing days, ingests all but the last into a lake,
builds the warehouse once (full), then in the same process:
  1. times the daily `dbt build` of the day before the last (already in the lake): the first daily run
     after a rebuild, which compares every held row once (a rebuild may have dropped rows, so the
     incremental models' shortcuts wait for a daily run to have read it); reported, not the figure;
  2. ingests the last day and times `dbt build` with the window last..last in OMNI_MIN_DATE /
     OMNI_MAX_DATE (what the Dagster dbt asset runs for that partition, the day after a daily run:
     incremental models reprocess the day minus lookback_days, tests on incremental models check the
     reprocessed window);
  3. times `dbt build --full-refresh` over the same lake (every day, every test on whole tables).
The ratio of 2 to 3 is the figure (goal <= 0.05). Per-node seconds of 2 and 3 (models and tests) show
where the incremental run still spends its time.

--data DIR keeps the generated landing folder and the lake of all but the last day in DIR and re-uses
them on the next call with the same DIR (generation and ingestion of a 365-day demo take longer than
the builds; comparing two versions of the models on one lake needs them once). Every call builds in a
fresh copy of that lake.

--nodes FILE writes the seconds of every node of both runs there (the summary keeps the slowest).

Usage: .venv/bin/python bench/bench_incremental.py [--days 365] [--persons 2000] [--command build|run]
                                                   [--exclude SELECTOR] [--data DIR] [--keep] [--nodes FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from orchestration.config import DBT_PROJECT_DIR, dbt_env, paths_under  # noqa: E402
from orchestration.dagster_defs.dbt import WINDOW_ENV_VARS, dbt_build_args, dbt_window_env  # noqa: E402
from orchestration.sources import TABLES  # noqa: E402

DEFAULT_PERSONS = 2000
START = date(2025, 10, 1)
TOP = 12
_TIMING: dict[str, dict[str, list[float]]] = {}  # per node of the last _dbt call: phase -> [start, seconds]


def _since(start: str, end: str) -> float:
    parse = lambda v: datetime.fromisoformat(v.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def _node_name(unique_id: str) -> str:
    # model.omni_warehouse.activities -> activities; test.omni_warehouse.not_null_x.abc123 -> test:not_null_x
    parts = unique_id.split(".")
    return f"test:{parts[2]}" if parts[0] == "test" else parts[-1]


def _dbt(paths, args: list[str], target: Path, extra: list[str], window=None) -> tuple[float, dict[str, float]]:
    dbt = str(Path(sys.executable).parent / "dbt")
    cmd = [dbt, *args, "--target-path", str(target), *(extra if args[0] in ("run", "build") else [])]
    env = {k: v for k, v in dbt_env(paths).items() if k not in WINDOW_ENV_VARS.values()}  # no stale window
    _TIMING.clear()
    t0 = time.perf_counter()
    t0_wall = datetime.now(UTC).isoformat()
    proc = subprocess.run(
        cmd, cwd=DBT_PROJECT_DIR, env={**env, **dbt_window_env(window)}, capture_output=True, text=True
    )
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    per_node: dict[str, float] = {}
    results = target / "run_results.json"
    if results.exists() and args[0] in ("run", "build"):
        for r in json.loads(results.read_text())["results"]:
            per_node[_node_name(r["unique_id"])] = round(r["execution_time"], 3)
            # compile (incl. introspective queries) and execute, each as [start offset, seconds] from t0
            _TIMING[_node_name(r["unique_id"])] = {
                t["name"]: [
                    round(_since(t0_wall, t["started_at"]), 3),
                    round(_since(t["started_at"], t["completed_at"]), 3),
                ]
                for t in r.get("timing", [])
            }
    return seconds, per_node


def _prepare_lake(data: Path, days: int, persons: int) -> dict:
    """Landing folder of `days` days and the lake of all but the last one, in `data` (re-used if done)."""
    from orchestration import demo
    from orchestration.ingestion import ingest_partition

    marker = data / "bench-prepared.json"
    wanted = {"days": days, "persons": persons, "start": START.isoformat()}
    if marker.exists():
        done = json.loads(marker.read_text())
        if {k: done.get(k) for k in wanted} == wanted:
            return {**done, "reused": True}
        raise SystemExit(f"{data} holds a different demo ({done}); use another --data folder")
    paths = paths_under(data)
    t0 = time.perf_counter()
    demo.generate(persons=persons, days=days, start=START, seed=11, landing_dir=paths.landing, truth_dir=paths.truth)
    generate_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for day in [START + timedelta(days=i) for i in range(days - 1)]:
        for table in TABLES:
            ingest_partition(table, day, paths, run_id="bench")
    done = {
        **wanted,
        "generate_seconds": round(generate_s, 1),
        "ingest_seconds_all_but_last_day": round(time.perf_counter() - t0, 1),
    }
    marker.write_text(json.dumps(done))
    return {**done, "reused": False}


def run(
    days: int = 365,
    persons: int = DEFAULT_PERSONS,
    exclude: str | None = None,
    keep: bool = False,
    command: str = "build",
    data_dir: Path | None = None,
    nodes_file: Path | None = None,
    threads: int | None = None,
) -> dict:
    from orchestration.funnels.compile import compile_funnels
    from orchestration.ingestion import ingest_partition
    from orchestration.lake_layout import ensure_schema_stubs
    from orchestration.quality.results import ensure_gate_results_stub

    work = Path(tempfile.mkdtemp(prefix="omni-bench-incremental-"))
    extra = (["--exclude", exclude] if exclude else []) + (["--threads", str(threads)] if threads else [])
    try:
        prepared_dir = data_dir or work / "prepared"
        prepared_dir.mkdir(parents=True, exist_ok=True)
        prepared = _prepare_lake(prepared_dir, days, persons)
        source = paths_under(prepared_dir)
        data = work / "data"
        data.mkdir()
        (data / "landing").symlink_to(source.landing)
        shutil.copytree(source.lake, data / "lake")
        paths = paths_under(data)
        paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
        ensure_schema_stubs(paths)
        ensure_gate_results_stub(paths)
        compile_funnels(DBT_PROJECT_DIR / "funnels", paths)
        target = work / "target"
        _dbt(paths, ["parse", "--quiet"], target, extra)
        _dbt(paths, ["seed", "--quiet"], target, extra)
        initial_s, _ = _dbt(paths, dbt_build_args(full_refresh=True, command="run"), target, extra)

        last = START + timedelta(days=days - 1)
        before = last - timedelta(days=1)
        first_day_s, _ = _dbt(paths, dbt_build_args(command=command), target, extra, (before, before))
        for table in TABLES:
            ingest_partition(table, last, paths, run_id="bench")
        incremental_s, incremental_nodes = _dbt(paths, dbt_build_args(command=command), target, extra, (last, last))
        incremental_timing = dict(_TIMING)
        full_s, full_nodes = _dbt(paths, dbt_build_args(full_refresh=True, command=command), target, extra)

        import duckdb

        con = duckdb.connect(str(paths.warehouse), read_only=True)
        activities = con.execute("select count(*) from journeys.activities").fetchall()[0][0]
        con.close()
        if nodes_file:
            nodes_file.write_text(
                json.dumps(
                    {
                        "incremental": incremental_nodes,
                        "full_refresh": full_nodes,
                        "incremental_timing": incremental_timing,
                    },
                    indent=1,
                    sort_keys=True,
                )
            )
        slowest = sorted(incremental_nodes.items(), key=lambda kv: -kv[1])[:TOP]
        full_slowest = sorted(full_nodes.items(), key=lambda kv: -kv[1])[:TOP]

        def _sum(nodes: dict[str, float], tests: bool) -> float:
            return round(sum(v for k, v in nodes.items() if k.startswith("test:") == tests), 2)

        return {
            "days": days,
            "persons": persons,
            "command": command,
            "threads": threads,
            "exclude": exclude,
            "activities": activities,
            "prepared": prepared,
            "initial_full_run_seconds": round(initial_s, 1),
            "first_day_after_full_run_seconds": round(first_day_s, 2),
            "incremental_one_day_seconds": round(incremental_s, 2),
            "full_refresh_seconds": round(full_s, 2),
            "ratio_incremental_to_full": round(incremental_s / full_s, 4),
            "goal_ratio": 0.05,
            "incremental_models_seconds": _sum(incremental_nodes, tests=False),
            "incremental_tests_seconds": _sum(incremental_nodes, tests=True),
            "full_models_seconds": _sum(full_nodes, tests=False),
            "full_tests_seconds": _sum(full_nodes, tests=True),
            "incremental_slowest_nodes": dict(slowest),
            "full_seconds_of_those_nodes": {k: full_nodes.get(k) for k, _ in slowest},
            "full_slowest_nodes": dict(full_slowest),
            "incremental_seconds_of_those_nodes": {k: incremental_nodes.get(k) for k, _ in full_slowest},
            "work_dir": str(work) if keep else None,
        }
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--persons", type=int, default=DEFAULT_PERSONS)
    parser.add_argument("--command", choices=["build", "run"], default="build", help="build = what the daily job runs")
    parser.add_argument("--exclude", default=None, help="dbt selector to leave out (e.g. a model being fixed)")
    parser.add_argument("--data", type=Path, default=None, help="keep / re-use the landing folder and lake here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--threads", type=int, default=None, help="dbt threads (default: profiles.yml's)")
    parser.add_argument("--nodes", type=Path, default=None, help="write every node's seconds (JSON) here")
    args = parser.parse_args()
    result = run(args.days, args.persons, args.exclude, args.keep, args.command, args.data, args.nodes, args.threads)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
