"""Shared fixtures: every test that touches data gets its own OMNI_DATA_DIR."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.config import REPO_ROOT

PATH_VARS = ("OMNI_LANDING_DIR", "OMNI_LAKE_DIR", "OMNI_WAREHOUSE_PATH", "OMNI_SERVING_PATH", "DAGSTER_HOME")


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """A private data folder; get_paths() resolves everything below it."""
    data = tmp_path / "data"
    monkeypatch.setenv("OMNI_DATA_DIR", str(data))
    for var in PATH_VARS:
        monkeypatch.delenv(var, raising=False)
    return data


def omni(*args: str, data: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run the `omni` CLI in a child process against a private data folder, as a user would."""
    env = {k: v for k, v in os.environ.items() if k not in PATH_VARS}
    env["OMNI_DATA_DIR"] = str(data)
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
