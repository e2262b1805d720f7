"""`make lint` for SQL: sqlfluff (dbt templater, duckdb dialect) over every model.

The dbt templater compiles the project, so it gets its own throwaway data folder: linting never
touches the user's warehouse and works on a fresh clone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from orchestration.config import DBT_PROJECT_DIR, dbt_env, get_paths


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
        cmd = [sqlfluff, "lint", "models", "--dialect", "duckdb", "--processes", "2", *sys.argv[1:]]
        return subprocess.run(cmd, cwd=DBT_PROJECT_DIR, env=dbt_env(paths)).returncode


if __name__ == "__main__":
    sys.exit(main())
