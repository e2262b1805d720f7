"""`make lint` for SQL: sqlfluff (dbt templater, duckdb dialect) over every model.

The dbt templater compiles the project, so it gets its own throwaway data folder: linting never
touches the user's warehouse and works on a fresh clone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from orchestration.config import DBT_PROJECT_DIR, dbt_env, get_paths

# A whole lint takes about 2 minutes on two cores. sqlfluff's worker pool waits for ever when a worker
# dies (seen once under memory pressure), so a lint that outlasts this is stopped and run again on one
# process, which has no pool.
TIMEOUT_SECONDS = int(os.environ.get("OMNI_LINT_TIMEOUT_SECONDS", "900"))


def _lint(cmd: list[str], env: dict[str, str]) -> int | None:
    """sqlfluff's exit code, None when it outlasted TIMEOUT_SECONDS (it and its workers are stopped)."""
    proc = subprocess.Popen(cmd, cwd=DBT_PROJECT_DIR, env=env, start_new_session=True)
    try:
        return proc.wait(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="omni-lint-") as tmp:
        os.environ["OMNI_DATA_DIR"] = str(Path(tmp) / "data")
        for var in ("OMNI_LANDING_DIR", "OMNI_LAKE_DIR", "OMNI_WAREHOUSE_PATH", "OMNI_SERVING_PATH"):
            os.environ.pop(var, None)
        paths = get_paths()
        from orchestration.lake_layout import ensure_schema_stubs

        ensure_schema_stubs(paths)
        paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
        sqlfluff = str(Path(sys.executable).parent / "sqlfluff")
        for processes in ("2", "1"):
            cmd = [sqlfluff, "lint", "models", "--dialect", "duckdb", "--processes", processes, *sys.argv[1:]]
            code = _lint(cmd, dbt_env(paths))
            if code is not None:
                return code
            print(f"sqlfluff on {processes} process(es) did not finish in {TIMEOUT_SECONDS} s", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
