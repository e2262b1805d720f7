"""Run GX suites on pandas frames read with DuckDB.

GX's SQL datasource returns empty results on DuckDB in GX 1.24, so every batch is read by DuckDB into
pandas and validated through an ephemeral GX context (pandas datasource, whole-dataframe batch).
"""

from __future__ import annotations

import json
import math
import statistics
import uuid
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from orchestration.config import Paths
from orchestration.lake_layout import STUB_PARTITION, data_schema, raw_dir, raw_partition_files
from orchestration.quality.data_docs import store_validation
from orchestration.quality.results import CRITICAL, WARNING, GateResult
from orchestration.quality.suites import expectation_label, mart_suites, raw_suite
from orchestration.sources import TABLES

SAMPLE_SIZE = 5
# A `mostly` share measured on fewer rows than this cannot tell a broken export from chance (1 missing
# e-mail of 3 orders is 33%): such a failure is reported as a warning, not blocking. Per expectation:
# meta.min_rows_to_block.
MIN_ROWS_TO_BLOCK_ON_SHARE = 20
DEFAULT_FUTURE_TOLERANCE_HOURS = 48


@cache
def _batch_definition():
    # Imported on first use: GX takes seconds to import, which Dagster's code loading should not pay.
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # Progress bars would spam Dagster's captured stderr for every batch.
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas("omni_quality").add_dataframe_asset("batch")
    return context, asset.add_batch_definition_whole_dataframe("whole")


def gx_context():
    return _batch_definition()[0]


# ---- derived columns (raw columns are VARCHAR: parse them so ranges can be checked) ----------------


def _parse_number(s: pd.Series) -> pd.Series:
    """Money and counts as exported: `$1,149.00 `, `(33.62)` for negatives, `1.0`."""
    t = s.astype("string").str.strip()
    neg = t.str.match(r"^\(.*\)$", na=False)
    t = t.str.replace(r"[()$€£kr\s,]", "", regex=True)
    num = pd.to_numeric(t, errors="coerce")
    return num.where(~neg, -num)


def _epoch(ts: pd.Series) -> pd.Series:
    return (ts - pd.Timestamp("1970-01-01", tz="UTC")) / pd.Timedelta(seconds=1)


def _parse_timestamp(s: pd.Series) -> pd.Series:
    """Any ISO-like or US-style timestamp, offsets honoured, naive taken as UTC -> epoch seconds."""
    t = s.astype("string").str.strip()
    return _epoch(pd.to_datetime(t, utc=True, format="mixed", errors="coerce"))


def _parse_unix(s: pd.Series, unit: str) -> pd.Series:
    return _epoch(pd.to_datetime(pd.to_numeric(s, errors="coerce"), unit=unit, utc=True, errors="coerce"))


def _parse_yyyymmdd(s: pd.Series) -> pd.Series:
    return _epoch(pd.to_datetime(s.astype("string").str.strip(), format="%Y%m%d", utc=True, errors="coerce"))


def _forward_fill(df: pd.DataFrame, col: str, by: str | None = None) -> pd.Series:
    """Order-level values carried onto continuation rows (Shopify), within one landed file (and `by`)."""
    keys = [k for k in ("_source_file", by) if k and k in df.columns]
    ordered = df.sort_values("_row_number") if "_row_number" in df.columns else df
    filled = ordered.groupby(keys, sort=False, dropna=False)[col].ffill() if keys else ordered[col].ffill()
    return filled.reindex(df.index)


PARSERS = {
    "number": lambda df, c, **_: _parse_number(df[c]),
    "timestamp": lambda df, c, **_: _parse_timestamp(df[c]),
    "epoch_seconds": lambda df, c, **_: _parse_unix(df[c], "s"),
    "epoch_micros": lambda df, c, **_: _parse_unix(df[c], "us"),
    "yyyymmdd": lambda df, c, **_: _parse_yyyymmdd(df[c]),
    "forward_fill": lambda df, c, by=None: _forward_fill(df, c, by),
    "lower": lambda df, c, **_: df[c].astype("string").str.strip().str.lower(),
}


def add_derived_columns(df: pd.DataFrame, spec: dict) -> pd.DataFrame:
    df = df.copy()
    for name, d in (spec or {}).items():
        src, how = d["from"], d["parse"]
        if how not in PARSERS:
            raise ValueError(f"unknown derived column parser {how!r} for {name}")
        # A missing source column stays missing: the expectations on it then fail loudly.
        if src in df.columns:
            df[name] = PARSERS[how](df, src, **{k: v for k, v in d.items() if k not in ("from", "parse")})
    return df


# ---- running a suite ---------------------------------------------------------------------------


def _jsonable(v):
    if hasattr(v, "item") and not isinstance(v, (list, dict, str)):
        v = v.item()  # numpy scalars
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (str, int, bool, float)):
        return v
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return str(v)


def _error_message(exception_info) -> str | None:
    if not exception_info:
        return None
    if "raised_exception" in exception_info:
        infos = [exception_info]
    else:
        infos = [v for v in exception_info.values() if isinstance(v, dict)]
    msgs = [i.get("exception_message") for i in infos if i.get("raised_exception")]
    return "; ".join(m for m in msgs if m) or None


def _sample(result: dict, df: pd.DataFrame, kwargs: dict, derived: dict) -> list:
    """Failing values as the source wrote them, located by file and row when the batch has them."""
    idx = result.get("partial_unexpected_index_list") or []
    col = kwargs.get("column")
    shown = derived.get(col, {}).get("from", col) if col else None
    if idx and shown in df.columns:
        out = []
        for i in idx[:SAMPLE_SIZE]:
            if i not in df.index:
                continue
            row = df.loc[i]
            item = {"value": _jsonable(row[shown])}
            if "_source_file" in df.columns:
                item["at"] = f"{row['_source_file']}#{_jsonable(row.get('_row_number'))}"
            out.append(item)
        if out:
            return out
    return [_jsonable(v) for v in (result.get("partial_unexpected_list") or [])[:SAMPLE_SIZE]]


def _observed(result: dict) -> str | None:
    if "observed_value" in result:
        return json.dumps(_jsonable(result["observed_value"]))
    if "unexpected_count" in result and result.get("element_count") is not None:
        pct = result.get("unexpected_percent")
        pct_txt = f"{pct:.1f}%" if isinstance(pct, (int, float)) else "?"
        return f"{result['unexpected_count']} of {result['element_count']} rows unexpected ({pct_txt})"
    return None


def run_suite(
    suite_json: dict,
    df: pd.DataFrame,
    *,
    asset: str,
    run_id: str,
    parameters: dict | None = None,
    partition_key: str | None = None,
    paths: Paths | None = None,
) -> list[GateResult]:
    """Validate one frame against one suite; every expectation yields one GateResult.

    With paths, the GX validation result is also kept for Data Docs (data/quality/validations/).
    """
    import great_expectations as gx

    _, batch_definition = _batch_definition()
    derived = suite_json["meta"].get("derived_columns") or {}
    exps = suite_json["expectations"]
    suite = gx.ExpectationSuite(
        name=suite_json["name"],
        expectations=[{k: v for k, v in e.items() if k in ("type", "kwargs", "meta")} for e in exps],
    )
    batch = batch_definition.get_batch(batch_parameters={"dataframe": df.reset_index(drop=True)})
    validation = batch.validate(
        suite,
        expectation_parameters=parameters or {},
        result_format={
            "result_format": "COMPLETE",
            "partial_unexpected_count": SAMPLE_SIZE,
            "include_unexpected_rows": False,
        },
    )
    validated_at = datetime.now(UTC)
    if paths is not None:
        store_validation(
            paths,
            suite=suite_json["name"],
            asset=asset,
            partition_key=partition_key,
            run_id=run_id,
            validated_at=validated_at,
            result=validation.to_json_dict(),
        )
    by_label = {expectation_label(e): e for e in exps}
    frame = df.reset_index(drop=True)
    out: list[GateResult] = []
    for r in validation.results:
        cfg = r.expectation_config
        exp = {"type": cfg.type, "kwargs": cfg.kwargs, "meta": cfg.meta or {}}
        label = expectation_label(exp)
        declared = by_label.get(label, exp)
        result = r.result or {}
        error = _error_message(r.exception_info)
        unexpected = result.get("unexpected_count")
        kw = declared.get("kwargs") or {}
        observed = _observed(result)
        if cfg.type == "expect_table_row_count_to_be_between" and parameters:
            # Say what was expected: the bounds come from earlier partitions, not from the suite file.
            lo, hi = parameters.get("trailing_min_rows"), parameters.get("trailing_max_rows")
            observed = f"{observed} rows, expected {lo}..{'' if hi is None else hi} from the trailing average"
        col = kw.get("column") or (",".join(kw["column_list"]) if kw.get("column_list") else None)
        meta = declared.get("meta") or {}
        severity = meta.get("severity", CRITICAL)
        counted = result.get("element_count")
        min_rows = int(meta.get("min_rows_to_block", MIN_ROWS_TO_BLOCK_ON_SHARE))
        if severity == CRITICAL and kw.get("mostly") is not None and counted is not None and counted < min_rows:
            severity = WARNING
            if not r.success:
                observed = f"{observed} (on {counted} rows only: below {min_rows} rows a share does not block)"
        out.append(
            GateResult(
                run_id=run_id,
                asset=asset,
                suite=suite_json["name"],
                expectation=label,
                severity=severity,
                success=bool(r.success) and error is None,
                observed_value=observed,
                failing_sample=[] if r.success else _sample(result, frame, kw, derived),
                partition_key=partition_key,
                expectation_type=cfg.type,
                column_name=col,
                element_count=result.get("element_count"),
                unexpected_count=int(unexpected) if unexpected is not None else None,
                error=error,
                validated_at=validated_at,
            )
        )
    return out


# ---- raw partitions ----------------------------------------------------------------------------


def read_raw_partition(table: str, day: date | str, paths: Paths) -> pd.DataFrame:
    """All loaded rows of one landing day; an absent or empty partition is an empty frame with the schema."""
    files = raw_partition_files(paths, table, str(day))
    if not files:
        return data_schema(TABLES[table]).empty_table().to_pandas()
    con = duckdb.connect()
    try:
        listing = ", ".join(f"'{f}'" for f in files)
        return con.execute(
            f"select * from read_parquet([{listing}], union_by_name=true, hive_partitioning=false)"
        ).fetchdf()
    finally:
        con.close()


def trailing_row_bounds(table: str, day: date | str, paths: Paths, row_count: dict) -> tuple[int, int | None]:
    """Bounds from the median row count of the last `window_partitions` earlier partitions (file footers
    only). The median, so that one bulk export (a first full audience dump, a backfill) does not make the
    ordinary days after it look thin; no judgement before `min_partitions` earlier partitions exist, and no
    upper bound when the typical day had no rows (a source that starts delivering is not an excess)."""
    window = int(row_count.get("window_partitions", 7))
    folder = raw_dir(paths, table)
    earlier = sorted(
        p for p in folder.glob("ingest_date=*") if p.name != STUB_PARTITION and p.name.split("=", 1)[1] < str(day)
    )[-window:]
    if len(earlier) < int(row_count.get("min_partitions", 3)):
        return 0, None  # too little history to compare with
    typical = statistics.median(sum(pq.ParquetFile(f).metadata.num_rows for f in p.glob("*.parquet")) for p in earlier)
    if typical == 0:
        return 0, None
    return (
        int(math.floor(typical * float(row_count.get("min_ratio", 0.25)))),
        int(math.ceil(typical * float(row_count.get("max_ratio", 4.0)))),
    )


def run_parameters(suite_json: dict, *, now: datetime | None = None, day: date | str | None = None) -> dict:
    """Values for $PARAMETER kwargs: the latest acceptable epoch second (future tolerance)."""
    now = now or datetime.now(UTC)
    hours = float(suite_json["meta"].get("future_tolerance_hours", DEFAULT_FUTURE_TOLERANCE_HOURS))
    latest = now
    if day is not None:
        # A partition may hold events up to the end of its landing day, even when replayed earlier.
        day_end = datetime.combine(date.fromisoformat(str(day)) + timedelta(days=1), datetime.min.time(), UTC)
        latest = max(latest, day_end)
    return {"max_epoch": (latest + timedelta(hours=hours)).timestamp()}


def validate_raw_partition(
    table: str, day: date | str, paths: Paths, run_id: str | None = None, now: datetime | None = None
) -> list[GateResult]:
    """Validate the batch of one landing day of one lake table (its rows already passed row checks)."""
    if table not in TABLES:
        raise KeyError(f"unknown lake table {table!r}")
    suite = raw_suite(table)
    df = add_derived_columns(read_raw_partition(table, day, paths), suite["meta"].get("derived_columns"))
    params = run_parameters(suite, now=now, day=day)
    lo, hi = trailing_row_bounds(table, day, paths, suite["meta"].get("row_count") or {})
    params.update(trailing_min_rows=lo, trailing_max_rows=hi)
    return run_suite(
        suite,
        df,
        asset=f"raw.{table}",
        run_id=run_id or _adhoc_run_id(),
        parameters=params,
        partition_key=str(day),
        paths=paths,
    )


# ---- marts -------------------------------------------------------------------------------------


def _relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_catalog = current_database()"
    ).fetchall()
    return {r[0] for r in rows}


def mart_query(relation: str, meta: dict, existing: set[str]) -> str:
    """The mart plus derived and referential-integrity columns, computed by DuckDB."""
    extra = [f"{expr} as {name}" for name, expr in (meta.get("derived_sql") or {}).items()]
    for ref in meta.get("references") or []:
        # An absent referenced relation leaves the flag column out: its expectation then fails loudly.
        if ref["to"] in existing:
            extra.append(
                f"(m.{ref['column']} is null or m.{ref['column']} in "
                f"(select {ref['to_column']} from {ref['to']})) as {ref['as']}"
            )
    cols = ", ".join(["m.*", *extra])
    return f"select {cols} from {relation} m"


def validate_marts(
    paths: Paths, run_id: str | None = None, relations: list[str] | None = None, now: datetime | None = None
) -> list[GateResult]:
    """Validate every public mart present in the build database (opened read-only, closed at once)."""
    run_id = run_id or _adhoc_run_id()
    suites = mart_suites()
    wanted = relations or list(suites)
    if not Path(paths.warehouse).exists():
        raise FileNotFoundError(f"build database {paths.warehouse} does not exist: run dbt first")
    frames: dict[str, pd.DataFrame] = {}
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        existing = _relations(con)
        for rel in wanted:
            if rel in existing:  # marts not built yet are simply not validated
                frames[rel] = con.execute(mart_query(rel, suites[rel]["meta"], existing)).fetchdf()
    finally:
        con.close()
    out: list[GateResult] = []
    for rel, df in frames.items():
        suite = suites[rel]
        out += run_suite(suite, df, asset=rel, run_id=run_id, parameters=run_parameters(suite, now=now), paths=paths)
    return out


def _adhoc_run_id() -> str:
    return f"adhoc-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
