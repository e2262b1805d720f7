"""Benchmark of daily operation: one more day's incremental dbt run as a ratio to a full refresh.

`run(days, persons)` generates a demo of `days` landing days, ingests all but the last into a private
lake, builds the warehouse once (full), then in the same process:
  1. ingests the last day and times `dbt run --vars {min_date: last, max_date: last}` (what the Dagster
     dbt asset runs for that partition: incremental models reprocess the day minus lookback_days);
  2. times `dbt run --full-refresh` over the same lake (every day).
The ratio incremental / full is the figure (goal <= 0.05). Per-model seconds of both runs show where
the incremental run still spends its time (staging views and full-table intermediate models).

Usage: .venv/bin/python bench/bench_incremental.py [--days 365] [--persons 2000] [--exclude SELECTOR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from orchestration.config import DBT_PROJECT_DIR, dbt_env, get_paths  # noqa: E402
from orchestration.dagster_defs.dbt import dbt_build_args  # noqa: E402
from orchestration.sources import TABLES  # noqa: E402

DEFAULT_PERSONS = 2000
START = date(2025, 10, 1)


def _paths(data: Path):
    saved = dict(os.environ)
    try:
        for k in [k for k in os.environ if k.startswith("OMNI_")]:
            os.environ.pop(k)
        os.environ["OMNI_DATA_DIR"] = str(data)
        return get_paths()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _dbt(paths, args: list[str], target: Path, extra: list[str]) -> tuple[float, dict[str, float]]:
    dbt = str(Path(sys.executable).parent / "dbt")
    cmd = [dbt, *args, "--target-path", str(target), *(extra if args[0] in ("run", "build") else [])]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=DBT_PROJECT_DIR, env=dbt_env(paths), capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    per_model: dict[str, float] = {}
    results = target / "run_results.json"
    if results.exists() and args[0] in ("run", "build"):
        for r in json.loads(results.read_text())["results"]:
            per_model[r["unique_id"].split(".")[-1]] = round(r["execution_time"], 3)
    return seconds, per_model


def run(days: int = 365, persons: int = DEFAULT_PERSONS, exclude: str | None = None, keep: bool = False) -> dict:
    from orchestration import demo
    from orchestration.funnels.compile import compile_funnels
    from orchestration.ingestion import ingest_partition
    from orchestration.lake_layout import ensure_schema_stubs
    from orchestration.quality.results import ensure_gate_results_stub

    work = Path(tempfile.mkdtemp(prefix="omni-bench-incremental-"))
    extra = ["--exclude", exclude] if exclude else []
    try:
        data = work / "data"
        paths = _paths(data)
        t0 = time.perf_counter()
        demo.generate(
            persons=persons, days=days, start=START, seed=11, landing_dir=paths.landing, truth_dir=paths.truth
        )
        generate_s = time.perf_counter() - t0
        paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
        ensure_schema_stubs(paths)
        ensure_gate_results_stub(paths)
        compile_funnels(DBT_PROJECT_DIR / "funnels", paths)
        all_days = [START + timedelta(days=i) for i in range(days)]
        t0 = time.perf_counter()
        for day in all_days[:-1]:
            for table in TABLES:
                ingest_partition(table, day, paths, run_id="bench")
        ingest_s = time.perf_counter() - t0
        target = work / "target"
        _dbt(paths, ["parse", "--quiet"], target, extra)
        _dbt(paths, ["seed", "--quiet"], target, extra)
        initial_s, _ = _dbt(paths, dbt_build_args(None, full_refresh=True, command="run"), target, extra)

        last = all_days[-1]
        for table in TABLES:
            ingest_partition(table, last, paths, run_id="bench")
        incremental_s, incremental_models = _dbt(paths, dbt_build_args((last, last), command="run"), target, extra)
        full_s, full_models = _dbt(paths, dbt_build_args(None, full_refresh=True, command="run"), target, extra)

        import duckdb

        con = duckdb.connect(str(paths.warehouse), read_only=True)
        activities = con.execute("select count(*) from journeys.activities").fetchall()[0][0]
        con.close()
        slowest = sorted(incremental_models.items(), key=lambda kv: -kv[1])[:10]
        return {
            "days": days,
            "persons": persons,
            "activities": activities,
            "generate_seconds": round(generate_s, 1),
            "ingest_seconds_all_but_last_day": round(ingest_s, 1),
            "initial_full_build_seconds": round(initial_s, 1),
            "incremental_one_day_seconds": round(incremental_s, 2),
            "full_refresh_seconds": round(full_s, 2),
            "ratio_incremental_to_full": round(incremental_s / full_s, 4),
            "goal_ratio": 0.05,
            "incremental_models_seconds": round(sum(incremental_models.values()), 2),
            "full_models_seconds": round(sum(full_models.values()), 2),
            "incremental_slowest_models": dict(slowest),
            "full_seconds_of_those_models": {k: full_models.get(k) for k, _ in slowest},
            "work_dir": str(work) if keep else None,
        }
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--persons", type=int, default=DEFAULT_PERSONS)
    parser.add_argument("--exclude", default=None, help="dbt selector to leave out (e.g. a model being fixed)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    print(json.dumps(run(args.days, args.persons, args.exclude, args.keep), indent=2))


if __name__ == "__main__":
    main()
