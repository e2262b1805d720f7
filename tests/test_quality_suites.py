"""Every lake table and every contracted public mart has a suite; no suite is unused or malformed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from orchestration.config import REPO_ROOT
from orchestration.quality.results import SEVERITIES
from orchestration.quality.runner import PARSERS
from orchestration.quality.suites import MARTS_DIR, RAW_DIR, all_suite_files, expectation_label
from orchestration.sources import METADATA_COLUMNS, TABLES, lake_columns

MARTS = REPO_ROOT / "models" / "marts"
PUBLIC_SCHEMAS = {"identity", "customers", "journeys", "quality"}
# The public contract of DESIGN.md: these must have suites even before their models are written.
DESIGN_CONTRACT = {
    "identity.person_identifiers", "identity.identity_edges", "identity.identity_merges",
    "identity.identity_quality", "customers.customer_profiles", "journeys.activities", "journeys.sessions",
    "journeys.channel_transitions", "journeys.funnel_steps", "journeys.funnel_progress",
    "journeys.funnel_dropoffs", "journeys.dropoff_alerts", "quality.ingestion_ledger",
    "quality.quarantine_rows", "quality.gate_results",
}  # fmt: skip


def _folder_schemas() -> dict[str, str]:
    project = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())
    marts = project["models"]["omni_warehouse"]["marts"]
    return {k: v["+schema"] for k, v in marts.items() if isinstance(v, dict) and "+schema" in v}


def contracted_marts() -> dict[str, dict]:
    """schema.relation -> model YAML entry, for every model under models/marts/ with an enforced contract."""
    schemas = _folder_schemas()
    out = {}
    for f in sorted(MARTS.rglob("*.yml")):
        doc = yaml.safe_load(f.read_text()) or {}
        folder = f.relative_to(MARTS).parts[0]
        for m in doc.get("models") or []:
            cfg = m.get("config") or {}
            contract = cfg.get("contract") or m.get("contract") or {}
            if not contract.get("enforced"):
                continue
            schema = cfg.get("schema") or schemas.get(folder, folder)
            out[f"{schema}.{cfg.get('alias') or m['name']}"] = m
    return out


SQL_WORDS = {"epoch", "cast", "as", "integer", "bigint", "double", "varchar", "coalesce", "null", "is", "not"}


def _suites() -> dict[Path, dict]:
    return {p: json.loads(p.read_text()) for p in all_suite_files()}


def test_every_lake_table_has_a_raw_suite_and_no_raw_suite_is_unused():
    have = {p.stem for p in RAW_DIR.glob("*.json")}
    assert sorted(set(TABLES) - have) == [], "lake tables without a suite in expectations/raw/"
    assert sorted(have - set(TABLES)) == [], "raw suites for tables not in orchestration/sources.py"


def test_every_public_mart_has_a_suite_and_no_mart_suite_is_unused():
    have = {p.stem for p in MARTS_DIR.glob("*.json")}
    wanted = DESIGN_CONTRACT | {r for r in contracted_marts() if r.split(".")[0] in PUBLIC_SCHEMAS}
    assert sorted(wanted - have) == [], "public marts without a suite in expectations/marts/"
    assert sorted(have - wanted) == [], "mart suites that validate no public mart"


@pytest.mark.parametrize("path", all_suite_files(), ids=lambda p: p.name)
def test_suite_is_well_formed(path):
    import great_expectations as gx

    suite = json.loads(path.read_text())
    expected_name = f"raw.{path.stem}" if path.parent == RAW_DIR else path.stem
    assert suite["name"] == expected_name == suite["meta"]["asset"]
    assert suite["expectations"], f"{path.name} has no expectations"
    labels = [expectation_label(e) for e in suite["expectations"]]
    assert len(labels) == len(set(labels)), f"{path.name}: expectation names repeat, give them meta.id"
    for e in suite["expectations"]:
        assert (e.get("meta") or {}).get("severity") in SEVERITIES, f"{path.name}: {e} lacks a severity"
    # GX itself accepts every expectation and kwarg (unknown types or bad kwargs raise here).
    gx.ExpectationSuite(name=suite["name"], expectations=suite["expectations"])
    for d in (suite["meta"].get("derived_columns") or {}).values():
        assert d["parse"] in PARSERS


def _kwarg_columns(exp: dict) -> set[str]:
    kw = exp.get("kwargs") or {}
    cols = set(kw.get("column_list") or [])
    if "column" in kw:
        cols.add(kw["column"])
    rc = kw.get("row_condition")
    if isinstance(rc, dict):
        cols.add(rc["column"]["name"])
    return cols


@pytest.mark.parametrize("table", sorted(TABLES))
def test_raw_suite_columns_exist_in_the_lake_table(table):
    suite = json.loads((RAW_DIR / f"{table}.json").read_text())
    derived = suite["meta"].get("derived_columns") or {}
    known = set(lake_columns(TABLES[table])) | set(METADATA_COLUMNS)
    used = set().union(*(_kwarg_columns(e) for e in suite["expectations"])) - set(derived)
    used |= {d["from"] for d in derived.values()} | {d["by"] for d in derived.values() if "by" in d}
    assert sorted(used - known) == [], f"raw.{table} suite names columns the lake table does not have"


def test_mart_suite_columns_exist_in_the_model_yaml():
    """A mart suite naming a column its model's contract lacks would fail every publish: catch it here."""
    models = contracted_marts()
    problems = {}
    for path in sorted(MARTS_DIR.glob("*.json")):
        if path.stem not in models:
            continue  # not written yet: validated once it exists
        suite = json.loads(path.read_text())
        meta = suite["meta"]
        columns = {c["name"] for c in models[path.stem].get("columns") or []}
        computed = set(meta.get("derived_sql") or {}) | {r["as"] for r in meta.get("references") or []}
        used = set().union(*(_kwarg_columns(e) for e in suite["expectations"])) - computed
        used |= {r["column"] for r in meta.get("references") or []}
        for expr in (meta.get("derived_sql") or {}).values():
            used |= set(re.findall(r"[a-z_][a-z0-9_]*", expr.lower())) - SQL_WORDS
        if used - columns:
            problems[path.stem] = sorted(used - columns)
    assert problems == {}, "mart suites name columns their model does not declare"
