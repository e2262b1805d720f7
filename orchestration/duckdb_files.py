"""Copying a DuckDB database file whole.

A database's last committed transactions may still be in its write-ahead log (`<file>.wal`) until a
checkpoint folds them in (the dbt profile checkpoints only after 1 GB of log): a copy of the file
alone can lack them, so the log is copied with it.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def wal_of(database: Path) -> Path:
    return database.with_name(database.name + ".wal")


def copy_database(source: Path, target: Path) -> None:
    """Copy `source` and its write-ahead log, if any, to `target` (a stale log at `target` is removed)."""
    source, target = Path(source), Path(target)
    shutil.copyfile(source, target)
    if wal_of(source).exists():
        shutil.copyfile(wal_of(source), wal_of(target))
    else:
        wal_of(target).unlink(missing_ok=True)
