"""Ingestion speed against its floor: a bare DuckDB read + COPY TO parquet of the same files.

  python -m bench.bench_ingestion [LANDING_DIR] [--rows N]

Without LANDING_DIR a synthetic landing folder of N rows per table is written first (GA4 NDJSON, Shopify
CSV with BOM/CRLF, Square CP-1252 CSV, loyalty CSV), so the benchmark runs before the demo exists.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from orchestration.config import Paths
from orchestration.ingestion import ingest_partition, landing_days
from orchestration.ingestion.readers import is_json_lines
from orchestration.lake_layout import ensure_schema_stubs
from orchestration.sources import TABLES


def _paths(landing: Path, work: Path) -> Paths:
    return Paths(
        data=work, landing=landing, lake=work / "lake", warehouse=work / "warehouse" / "build.duckdb",
        serving=work / "warehouse" / "serving.duckdb", truth=work / "truth", dagster_home=work / "dagster",
    )  # fmt: skip


def _partitions(landing: Path) -> list[tuple[str, dt.date, list[Path]]]:
    paths = _paths(landing, landing)
    out = []
    for table in TABLES:
        for day in landing_days(table, paths):
            files = sorted(p for p in (landing / table / day.isoformat()).iterdir() if p.is_file())
            out.append((table, day, files))
    return out


def _baseline(partitions: list, out: Path) -> tuple[float, int]:
    """Bare DuckDB: read each file with the sniffer defaults and COPY it to Parquet (a CP-1252 file is
    first re-encoded to UTF-8, as DuckDB cannot read it). Returns (seconds, files it could not read)."""
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    unreadable = 0
    start = time.perf_counter()
    for n, (table, _day, files) in enumerate(partitions):
        for i, f in enumerate(files):
            if f.stat().st_size == 0:
                continue
            source = f
            if TABLES[table].encoding != "utf-8":
                source = out / f"{n}-{i}.utf8"
                source.write_bytes(f.read_bytes().decode(TABLES[table].encoding, errors="replace").encode())
            reader = (
                f"read_json('{source}', format='newline_delimited')"
                if is_json_lines(TABLES[table], f)
                else f"read_csv('{source}', header=true, all_varchar=true)"
            )
            try:
                con.execute(f"COPY (SELECT * FROM {reader}) TO '{out / f'{n}-{i}.parquet'}' (FORMAT parquet)")
            except duckdb.Error:
                unreadable += 1  # a deliberately broken delivery (demo incidents): the baseline skips it
    seconds = time.perf_counter() - start
    con.close()
    return seconds, unreadable


def run(landing_dir: Path, work_dir: Path) -> dict:
    landing_dir, work_dir = Path(landing_dir), Path(work_dir)
    if work_dir.exists():
        shutil.rmtree(work_dir)
    work_dir.mkdir(parents=True)
    partitions = _partitions(landing_dir)
    for _t, _d, files in partitions:  # warm the page cache so neither side pays for the first read
        for f in files:
            f.read_bytes()
    baseline_seconds, baseline_unreadable = _baseline(partitions, work_dir / "baseline")
    paths = _paths(landing_dir, work_dir)
    # The zero-row schema stubs are written once per lake (the first pyarrow write in a process costs ~1 s
    # of library start-up); every later run only checks them, so they are timed apart.
    stubs_start = time.perf_counter()
    ensure_schema_stubs(paths)
    stubs_seconds = time.perf_counter() - stubs_start
    start = time.perf_counter()
    rows = 0
    statuses: dict[str, int] = {}
    for table, day, _files in partitions:
        for row in ingest_partition(table, day, paths, run_id="bench"):
            rows += row["rows_read"]
            statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    seconds = time.perf_counter() - start
    return {
        "files": sum(len(f) for _t, _d, f in partitions),
        "rows": rows,
        "seconds": seconds,
        "rows_per_second": rows / seconds if seconds else 0.0,
        "baseline_seconds": baseline_seconds,
        "baseline_unreadable_files": baseline_unreadable,
        "ratio": seconds / baseline_seconds if baseline_seconds else 0.0,
        "stubs_seconds": stubs_seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "statuses": statuses,
    }


def synthetic_landing(folder: Path, rows: int, day: dt.date = dt.date(2024, 3, 1)) -> Path:
    """A landing folder with `rows` rows per table, written by DuckDB (no Python per row)."""
    con = duckdb.connect()
    d = day.isoformat()

    def target(table: str, name: str) -> Path:
        p = folder / table / d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    ga4 = target("ga4_events", f"events_{day:%Y%m%d}.ndjson")
    con.execute(
        f"COPY (SELECT '{day:%Y%m%d}' AS event_date, (1709251200000000 + i * 1000)::VARCHAR AS event_timestamp, "
        "'page_view' AS event_name, (i % 5000)::VARCHAR || '.1709251200' AS user_pseudo_id, "
        "[{'key': 'ga_session_id', 'value': {'int_value': (i % 700)::VARCHAR}}] AS event_params, "
        "{'category': 'mobile', 'os': 'iOS'} AS device, i::VARCHAR AS event_bundle_sequence_id "
        f"FROM range({rows}) t(i)) TO '{ga4}' (FORMAT json)"
    )
    shop = target("shopify_orders", "orders_export.csv")
    con.execute(
        "COPY (SELECT '#' || (1000 + i // 2) AS \"Name\", CASE WHEN i % 2 = 0 THEN 'c' || i || '@example.com' END "
        'AS "Email", CASE WHEN i % 2 = 0 THEN \'2024-03-01 10:00:00 +0100\' END AS "Created at", '
        "(1 + i % 3)::VARCHAR AS \"Lineitem quantity\", '$' || (i % 90 + 10) || '.00' AS \"Lineitem price\", "
        "'SKU-' || (i % 300) AS \"Lineitem sku\", 'Note, with comma' AS \"Notes\" "
        f"FROM range({rows}) t(i)) TO '{shop}' (HEADER, DELIMITER ',', QUOTE '\"', FORCE_QUOTE (\"Notes\"))"
    )
    shop.write_bytes(b"\xef\xbb\xbf" + shop.read_bytes().replace(b"\n", b"\r\n"))
    square = target("square_items", "items-2024-03-01.csv")
    con.execute(
        "COPY (SELECT '03/01/2024' AS \"Date\", '14:05:33' AS \"Time\", 'Eastern Time (US & Canada)' AS "
        "\"Time Zone\", 'Coffee' AS \"Item\", CASE WHEN i % 50 = 0 THEN '-1.0' ELSE '1.0' END AS \"Qty\", "
        '\'"$1,149.00 "\' AS "Gross Sales", \'T\' || (i // 3) AS "Transaction ID", '
        "CASE WHEN i % 50 = 0 THEN 'Refund' ELSE 'Payment' END AS \"Event Type\" "
        f"FROM range({rows}) t(i)) TO '{square}' (HEADER, DELIMITER ',', QUOTE '')"
    )
    loyalty = target("loyalty_members", "members.csv")
    con.execute(
        "COPY (SELECT 'M' || i AS member_id, '2024-03-01T09:00:00Z' AS updated_at, 'm' || i || '@example.com' "
        f"AS email FROM range({rows}) t(i)) TO '{loyalty}' (HEADER, DELIMITER ',')"
    )
    con.close()
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("landing", nargs="?", type=Path)
    parser.add_argument("--rows", type=int, default=500_000, help="rows per table of the synthetic landing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="omni-bench-ingest-") as tmp:
        landing = args.landing or synthetic_landing(Path(tmp) / "landing", args.rows)
        print(json.dumps(run(landing, Path(tmp) / "work"), indent=2))


if __name__ == "__main__":
    main()
