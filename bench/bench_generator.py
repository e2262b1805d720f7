"""Benchmark of the demo export generator: activities simulated and written per second, peak memory.

`seconds` is wall time; `cpu_seconds` is the CPU time of this process (all its threads) over the same
run. On a shared machine wall time also counts waiting for a core, so compare rates on CPU time too.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from orchestration.demo import DEFAULT_START, generate


def run(persons: int = 100_000, days: int = 7, seed: int = 1) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-gen-") as tmp:
        cpu0 = time.process_time()
        s = generate(persons, days, DEFAULT_START, seed, Path(tmp) / "landing", Path(tmp) / "truth")
        cpu = time.process_time() - cpu0
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return {
        "persons": persons,
        "days": days,
        "activities": s["activities"],
        "rows": sum(s["rows"].values()),
        "files": s["files"],
        "seconds": s["seconds"],
        "cpu_seconds": round(cpu, 3),
        "activities_per_second": round(s["activities"] / s["seconds"], 1),
        "activities_per_minute": round(60 * s["activities"] / s["seconds"]),
        "activities_per_cpu_minute": round(60 * s["activities"] / cpu),
        "peak_rss_mb": round(rss_kb / 1024, 1),
    }


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    print(run(*args))
