"""Suite files: expectations/raw/<table>.json and expectations/marts/<schema>.<relation>.json.

A suite is a GX Core 1.x ExpectationSuite as JSON. Our conventions live in `meta`:
- suite meta `asset`: "raw.<table>" or "<schema>.<relation>" (the relation it validates)
- suite meta `derived_columns` (raw): parsed copies of VARCHAR columns, e.g. timestamps as epoch seconds
- suite meta `derived_sql` (marts): extra select expressions computed in DuckDB next to the mart
- suite meta `references` (marts): referential-integrity flags computed against another relation
- suite meta `row_count` (raw): window / minimum history / ratios for the trailing (median) row-count bounds
- expectation meta `severity`: "critical" blocks, "warning" reports; `id` names it when type+column repeat
Kwargs may use {"$PARAMETER": name} for values known only at run time (see runner.run_parameters).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from orchestration.config import REPO_ROOT

EXPECTATIONS_DIR = REPO_ROOT / "expectations"
RAW_DIR = EXPECTATIONS_DIR / "raw"
MARTS_DIR = EXPECTATIONS_DIR / "marts"


class SuiteError(ValueError):
    pass


def _load(path: Path) -> dict:
    try:
        suite = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise SuiteError(f"suite file {path} is not valid JSON: {exc}") from exc
    for key in ("name", "expectations", "meta"):
        if key not in suite:
            raise SuiteError(f"suite file {path} lacks '{key}'")
    return suite


@cache
def raw_suite(table: str) -> dict:
    path = RAW_DIR / f"{table}.json"
    if not path.exists():
        raise SuiteError(f"no suite for raw table {table}: expected {path}")
    return _load(path)


@cache
def mart_suites() -> dict[str, dict]:
    """relation ("schema.relation") -> suite, for every file in expectations/marts/."""
    return {p.stem: _load(p) for p in sorted(MARTS_DIR.glob("*.json"))}


def all_suite_files() -> list[Path]:
    return sorted(RAW_DIR.glob("*.json")) + sorted(MARTS_DIR.glob("*.json"))


def expectation_label(exp: dict) -> str:
    """How an expectation is named in results and messages: its meta id, else type(columns)."""
    meta = exp.get("meta") or {}
    if meta.get("id"):
        return str(meta["id"])
    kw = exp.get("kwargs") or {}
    cols = kw.get("column_list") or ([kw["column"]] if "column" in kw else [])
    return f"{exp['type']}({', '.join(cols)})"
