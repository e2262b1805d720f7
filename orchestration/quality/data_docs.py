"""GX Data Docs for every validation: results are kept as JSON, the HTML site is rebuilt after each run.

Validation runs in ephemeral GX contexts (several Dagster processes at once, no shared GX project
files to corrupt), so each validation result is stored by us under data/quality/validations/ and the
site is rendered by a fresh ephemeral context whose stores are loaded from those files.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import uuid
from datetime import datetime
from pathlib import Path

from orchestration.config import Paths
from orchestration.quality.suites import all_suite_files

log = logging.getLogger(__name__)

MAX_VALIDATIONS_IN_DOCS = 300  # newest first; older result files stay on disk


def validations_dir(paths: Paths) -> Path:
    return paths.data / "quality" / "validations"


def data_docs_dir(paths: Paths) -> Path:
    return paths.data / "quality" / "data_docs"


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def store_validation(
    paths: Paths,
    *,
    suite: str,
    asset: str,
    partition_key: str | None,
    run_id: str,
    validated_at: datetime,
    result: dict,
) -> Path:
    """One JSON file per validated batch, written under a temporary name and renamed."""
    folder = validations_dir(paths) / _safe(suite)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{_safe(run_id)}__{_safe(partition_key or 'all')}__{uuid.uuid4().hex[:8]}.json"
    doc = {
        "suite": suite,
        "asset": asset,
        "partition_key": partition_key,
        "run_id": run_id,
        "validated_at": validated_at.isoformat(),
        "result": result,
    }
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=folder)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh, default=str)
    os.replace(tmp, target)
    return target


def build_data_docs(paths: Paths) -> Path:
    """Render the site into data/quality/data_docs (index.html); returns the index path.

    Built in a temporary folder and swapped in, so a browser never sees a half-written site.
    """
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import expectationSuiteValidationResultSchema
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    site = data_docs_dir(paths)
    site.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".data_docs-", dir=site.parent))
    try:
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        context.add_data_docs_site(
            "omni",
            {
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(staging)},
            },
        )
        for path in all_suite_files():
            suite = json.loads(path.read_text())
            context.suites.add(
                gx.ExpectationSuite(name=suite["name"], expectations=suite["expectations"], meta=suite["meta"])
            )
        files = sorted(validations_dir(paths).glob("*/*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for f in files[:MAX_VALIDATIONS_IN_DOCS]:
            doc = json.loads(f.read_text())
            result = expectationSuiteValidationResultSchema.load(doc["result"])
            key = ValidationResultIdentifier(
                ExpectationSuiteIdentifier(name=doc["suite"]),
                RunIdentifier(run_name=doc["run_id"], run_time=datetime.fromisoformat(doc["validated_at"])),
                _safe(f"{doc['asset']}-{doc['partition_key'] or 'all'}"),
            )
            context.validation_results_store.set(key, result)
        context.build_data_docs(site_names=["omni"])
        old = site.parent / f".data_docs-old-{uuid.uuid4().hex[:8]}"
        if site.exists():
            os.replace(site, old)
        os.replace(staging, site)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return site / "index.html"


def try_build_data_docs(paths: Paths) -> str | None:
    """Docs are a report: a rendering problem is logged, never a reason to fail a run or a publish."""
    try:
        return str(build_data_docs(paths))
    except Exception:  # noqa: BLE001 - any GX rendering error
        log.exception("building GX Data Docs failed")
        return None
