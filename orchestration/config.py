"""Where everything lives: one data folder, each part overridable by an environment variable.

Dagster, the CLI and dbt's profiles.yml read the same variables, so one process can run an isolated
pipeline on any folder (tests do exactly that with a temporary OMNI_DATA_DIR).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT


@dataclass(frozen=True)
class Paths:
    data: Path
    landing: Path
    lake: Path
    warehouse: Path  # build database, written by dbt
    serving: Path  # serving database, opened read-only by BI tools
    truth: Path  # demo ground truth, never read by the pipeline
    dagster_home: Path

    @property
    def raw(self) -> Path:
        return self.lake / "raw"

    @property
    def quarantine(self) -> Path:
        return self.lake / "quarantine"

    @property
    def ledger(self) -> Path:
        return self.lake / "ledger"

    @property
    def marts_parquet(self) -> Path:
        return self.lake / "marts"


def _path(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value).expanduser().resolve() if value else default


def paths_under(data: Path) -> Paths:
    """Every path in its default place below one data folder, whatever this process's environment says
    (tests and benchmarks build several isolated warehouses in one process)."""
    return _below(Path(data).expanduser().resolve())


def _below(data: Path) -> Paths:
    return Paths(
        data=data,
        landing=data / "landing",
        lake=data / "lake",
        warehouse=data / "warehouse" / "build.duckdb",
        serving=data / "warehouse" / "serving.duckdb",
        truth=data / "truth",
        dagster_home=data / "dagster",
    )


def get_paths() -> Paths:
    """Read the environment now (not at import) so tests can point a process at a temporary folder."""
    default = _below(_path("OMNI_DATA_DIR", REPO_ROOT / "data"))
    return Paths(
        data=default.data,
        landing=_path("OMNI_LANDING_DIR", default.landing),
        lake=_path("OMNI_LAKE_DIR", default.lake),
        warehouse=_path("OMNI_WAREHOUSE_PATH", default.warehouse),
        serving=_path("OMNI_SERVING_PATH", default.serving),
        truth=default.truth,
        dagster_home=_path("DAGSTER_HOME", default.dagster_home),
    )


def dbt_target() -> str:
    return os.environ.get("OMNI_DBT_TARGET", "duckdb")


def dbt_target_path() -> Path:
    """dbt's target folder (manifest, partial parse): DBT_TARGET_PATH as dbt and dagster-dbt read it, else
    the project's target/. Two processes building at once (parallel test workers) each set their own."""
    return Path(os.environ.get("DBT_TARGET_PATH") or DBT_PROJECT_DIR / "target")


def dbt_env(paths: Paths | None = None) -> dict[str, str]:
    """Environment for a dbt subprocess: every path absolute, so dbt's working directory never matters."""
    p = paths or get_paths()
    env = dict(os.environ)
    env.update(
        OMNI_DATA_DIR=str(p.data),
        OMNI_LANDING_DIR=str(p.landing),
        OMNI_LAKE_DIR=str(p.lake),
        OMNI_WAREHOUSE_PATH=str(p.warehouse),
        OMNI_SERVING_PATH=str(p.serving),
        OMNI_DBT_TARGET=dbt_target(),
        DBT_PROFILES_DIR=str(DBT_PROJECT_DIR),
    )
    return env
