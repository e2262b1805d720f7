"""`python -m orchestration.demo --persons N --days D --start YYYY-MM-DD --seed S --out LANDING --truth TRUTH`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from orchestration.config import get_paths
from orchestration.demo import DEFAULT_DAYS, DEFAULT_PERSONS, DEFAULT_SEED, DEFAULT_START, generate


def main(argv: list[str] | None = None) -> int:
    paths = get_paths()
    ap = argparse.ArgumentParser(prog="python -m orchestration.demo", description=__doc__)
    ap.add_argument("--persons", type=int, default=DEFAULT_PERSONS)
    ap.add_argument("--days", type=int, default=DEFAULT_DAYS)
    ap.add_argument("--start", type=dt.date.fromisoformat, default=DEFAULT_START, help="YYYY-MM-DD")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", type=Path, default=paths.landing, help="landing folder")
    ap.add_argument("--truth", type=Path, default=paths.truth, help="ground-truth folder")
    ap.add_argument("--incident", default=None, help="e.g. app_checkout:2026-10-15:2026-10-17")
    ap.add_argument("--no-progress", action="store_true")
    a = ap.parse_args(argv)
    try:
        summary = generate(a.persons, a.days, a.start, a.seed, a.out, a.truth,
                           progress=not a.no_progress, incident=a.incident)  # fmt: skip
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
