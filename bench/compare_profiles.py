"""Row-by-row comparison of customers.customer_profiles and customers.customer_consents between two
built warehouses (e.g. before / after a change of the customers models on the same demo data).

Every column is compared per key (person_id; consent_event_id): exact for text, dates, booleans and
integers, floats and decimals within a relative tolerance. Prints the number of rows only on one side
and of differing rows per column, with samples; exit status 1 when anything differs.

Usage: .venv/bin/python bench/compare_profiles.py BEFORE.duckdb AFTER.duckdb [--tolerance 1e-6]
"""

from __future__ import annotations

import argparse
import json
import sys

import duckdb

TABLES = {"customers.customer_profiles": "person_id", "customers.customer_consents": "consent_event_id"}


def compare(before: str, after: str, tolerance: float = 1e-6) -> dict:
    con = duckdb.connect()
    con.execute(f"attach '{before}' as b (read_only)")
    con.execute(f"attach '{after}' as a (read_only)")
    report = {}
    for table, key in TABLES.items():
        schema, name = table.split(".")
        cols = con.execute(
            "select column_name, data_type from duckdb_columns() where database_name = 'b' and schema_name = ? "
            "and table_name = ? order by column_index",
            [schema, name],
        ).fetchall()
        after_cols = {
            r[0]
            for r in con.execute(
                "select column_name from duckdb_columns() where database_name = 'a' and schema_name = ? "
                "and table_name = ?",
                [schema, name],
            ).fetchall()
        }
        only = con.execute(
            f"select (select count(*) from b.{table} where {key} not in (select {key} from a.{table})), "
            f"(select count(*) from a.{table} where {key} not in (select {key} from b.{table})), "
            f"(select count(*) from b.{table}), (select count(*) from a.{table})"
        ).fetchone()
        diffs = {}
        for col, dtype in cols:
            if col == key:
                continue
            if col not in after_cols:
                diffs[col] = "missing after"
                continue
            numeric = dtype.startswith(("DOUBLE", "FLOAT", "DECIMAL"))
            differs = (
                f"(x.{col} is null) != (y.{col} is null) or abs(x.{col} - y.{col}) > "
                f"{tolerance} * greatest(1, abs(x.{col}))"
                if numeric
                else f"x.{col} is distinct from y.{col}"
            )
            n, sample = con.execute(
                f"select count(*), list(struct_pack(k := x.{key}, before := cast(x.{col} as varchar), "
                f"after := cast(y.{col} as varchar)))[1:3] "
                f"from b.{table} as x join a.{table} as y on x.{key} = y.{key} where {differs}"
            ).fetchone()
            if n:
                diffs[col] = {"rows": n, "sample": sample}
        report[table] = {
            "rows_before": only[2],
            "rows_after": only[3],
            "only_before": only[0],
            "only_after": only[1],
            "columns_compared": len(cols) - 1,
            "differing_columns": diffs,
        }
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--tolerance", type=float, default=1e-6)
    args = parser.parse_args()
    result = compare(args.before, args.after, args.tolerance)
    print(json.dumps(result, indent=2, default=str))
    same = all(not r["only_before"] and not r["only_after"] and not r["differing_columns"] for r in result.values())
    sys.exit(0 if same else 1)
