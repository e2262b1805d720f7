"""`make bench`: every benchmark, each against a baseline run in the same process; figures + ratios.

  python -m bench.run                       all sections at the default sizes
  python -m bench.run --only generator,identity
  python -m bench.run --persons 100000      size of the demo used by the build-based sections

Sections: generator (rows/s), ingestion (ratio to bare DuckDB read + COPY TO parquet), identity
(SQL components vs networkx and scipy on a 1M-person graph), pipeline (end to end on a demo),
profiles and funnels (ratio to one DuckDB pass over journeys.activities of that demo; profiles on
--profiles-scale N disjoint copies of it), incremental
(issue 7: one more day's scheduled dbt build as a ratio to a full refresh in the same run, on a
--incremental-days demo of --incremental-persons; --incremental-data DIR re-uses its lake).
Results are printed and written to bench/results/latest.json.
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
import traceback
from pathlib import Path

from orchestration.config import REPO_ROOT

SECTIONS = ("generator", "ingestion", "identity", "pipeline", "profiles", "funnels", "incremental")


def _print(name: str, figures: dict) -> None:
    print(f"\n== {name}")
    for k, v in figures.items():
        if isinstance(v, float):
            v = f"{v:,.3f}"
        elif isinstance(v, int):
            v = f"{v:,}"
        print(f"  {k:<40} {v}")
    sys.stdout.flush()


# A 365-day demo small enough for `make bench` (generation and ingestion of 365 landing days dominate).
INCREMENTAL_PERSONS = 300


def _demo_pipeline(work: Path, persons: int, days: int) -> dict:
    """Generate a demo of `persons` and run the whole pipeline on it, in a child process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNI_") and k != "DAGSTER_HOME"}
    env["OMNI_DATA_DIR"] = str(work / "data")
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", "--persons", str(persons), "--days", str(days)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"pipeline failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return {"persons": persons, "days": days, "end_to_end_seconds": time.perf_counter() - t0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--only", default=",".join(SECTIONS))
    parser.add_argument("--persons", type=int, default=100_000, help="demo size for build-based sections")
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--graph-persons", type=int, default=1_000_000, help="identity graph size")
    parser.add_argument(
        "--profiles-scale", type=int, default=1, help="profiles section: replicate the demo's persons N times"
    )
    parser.add_argument("--keep", help="keep the work folder here instead of a temporary one")
    parser.add_argument("--incremental-days", type=int, default=365, help="days of the incremental section's demo")
    parser.add_argument("--incremental-persons", type=int, default=INCREMENTAL_PERSONS, help="its persons")
    parser.add_argument("--incremental-data", help="keep / re-use that demo's landing folder and lake here")
    args = parser.parse_args()
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="omni-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    failed: list[str] = []

    def section(name: str, fn) -> None:
        if name not in only:
            return
        try:
            results[name] = fn()
            _print(name, results[name])
        except Exception:  # a broken section must not hide the others' figures
            failed.append(name)
            print(f"\n== {name}: FAILED\n{traceback.format_exc()}")

    def generator():
        from bench.bench_generator import run

        return run(persons=args.persons, days=7, seed=1)

    def ingestion():
        from bench.bench_ingestion import run
        from orchestration import demo

        landing = work / "ingest-landing"
        if not landing.exists():
            demo.generate(args.persons, 7, demo.DEFAULT_START, 1, landing, work / "ingest-truth")
        return run(landing, work / "ingest-work")

    def identity():
        from bench.bench_identity import run

        return run(persons=args.graph_persons, seed=1)

    def pipeline():
        return _demo_pipeline(work, args.persons, args.days)

    build_db = work / "data" / "warehouse" / "build.duckdb"

    def profiles():
        from bench.bench_profiles import run

        return run(build_db, scale=args.profiles_scale)

    def funnels():
        from bench.bench_funnels import run

        return run(build_db)

    def incremental():
        from bench.bench_incremental import run

        data = Path(args.incremental_data) if args.incremental_data else work / "incremental"
        r = run(days=args.incremental_days, persons=args.incremental_persons, data_dir=data)
        slowest = ", ".join(f"{k} {v:.1f}s" for k, v in list(r["incremental_slowest_nodes"].items())[:6])
        return {
            "days": r["days"],
            "persons": r["persons"],
            "activities": r["activities"],
            "first_day_after_full_run_seconds": r["first_day_after_full_run_seconds"],
            "incremental_one_day_seconds": r["incremental_one_day_seconds"],
            "full_refresh_seconds": r["full_refresh_seconds"],
            "ratio_incremental_to_full": r["ratio_incremental_to_full"],
            "goal_ratio": r["goal_ratio"],
            "incremental_models_node_seconds": r["incremental_models_seconds"],
            "incremental_tests_node_seconds": r["incremental_tests_seconds"],
            "incremental_slowest_nodes": slowest,
        }

    for name, fn in [
        ("generator", generator),
        ("ingestion", ingestion),
        ("identity", identity),
        ("pipeline", pipeline),
        ("profiles", profiles),
        ("funnels", funnels),
        ("incremental", incremental),
    ]:
        section(name, fn)

    out = REPO_ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\nresults: {out / 'latest.json'}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    if failed:
        print(f"FAILED sections: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
