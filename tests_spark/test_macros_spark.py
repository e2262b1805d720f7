"""The Spark variants (default__*) of the project's dispatched macros give the values the DuckDB
variants give: each expression is rendered by its macro, run on Spark, read back as text and compared
with a value computed independently here. Spark runs with the session time zone UTC (conftest), as the
warehouse's timestamps are naive UTC."""

from __future__ import annotations

import hashlib

# (column, SQL expression with macro calls, expected text)
CASES = [
    ("micros", "{{ timestamp_from_micros(\"'1760529600123456'\") }}", "2025-10-15 12:00:00.123456"),
    ("unix_seconds", "{{ timestamp_from_unix_seconds(\"'1760529600'\") }}", "2025-10-15 12:00:00"),
    ("offset_text", "{{ timestamp_from_offset_text(\"'2026-10-15 14:00:00 +02:00'\") }}", "2026-10-15 12:00:00"),
    ("offset_compact", "{{ timestamp_from_offset_text(\"'2026-10-15 07:30:00 -0430'\") }}", "2026-10-15 12:00:00"),
    ("offset_hours", "{{ timestamp_from_offset_text(\"'2024-03-01T10:15:00+01'\") }}", "2024-03-01 09:15:00"),
    ("offset_hours_space", "{{ timestamp_from_offset_text(\"'2021-05-13 11:01:12 +02'\") }}", "2021-05-13 09:01:12"),
    ("offset_no_seconds", "{{ timestamp_from_offset_text(\"'2024-03-01T10:15+01:00'\") }}", "2024-03-01 09:15:00"),
    ("offset_zulu", "{{ timestamp_from_offset_text(\"'2024-03-01 10:15Z'\") }}", "2024-03-01 10:15:00"),
    ("zendesk_month", "{{ timestamp_from_offset_text(\"'01 Mar 2024 10:15:00 +0100'\") }}", "2024-03-01 09:15:00"),
    ("zendesk_month_lower", "{{ timestamp_from_offset_text(\"'2 dec 2024 03:15:00 -06'\") }}", "2024-12-02 09:15:00"),
    ("naive_utc", "{{ timestamp_from_offset_text(\"'2024-03-01 09:15:00'\") }}", "2024-03-01 09:15:00"),
    ("money_minus_after_symbol", "{{ parse_money(\"'$-3.00'\") }}", "-3.00"),
    ("money_minus_comma", "{{ parse_money(\"'€ -3,00'\") }}", "-3.00"),
    ("money_accounting", "{{ parse_money(\"'($33.62)'\") }}", "-33.62"),
    ("money_dot_groups", "{{ parse_money(\"'1.234.567'\") }}", "1234567.00"),
    ("money_comma_decimal", "{{ parse_money(\"'kr 1.234,50'\") }}", "1234.50"),
    (
        "to_local_summer",
        "{{ utc_to_local_timestamp(\"timestamp '2026-07-01 12:00:00'\", \"'Europe/Copenhagen'\") }}",
        "2026-07-01 14:00:00",
    ),
    (
        "to_utc_winter",
        "{{ local_to_utc_timestamp(\"timestamp '2026-12-01 10:00:00'\", \"'Europe/Copenhagen'\") }}",
        "2026-12-01 09:00:00",
    ),
    (
        "square_local",
        "{{ timestamp_from_local(\"'10/15/2026'\", \"'14:05:00'\", \"'America/New_York'\") }}",
        "2026-10-15 18:05:00",
    ),
    ("sha256", "{{ identity_sha256(\"'anna@example.com'\") }}", hashlib.sha256(b"anna@example.com").hexdigest()),
    ("regexp_replace", "{{ regexp_replace_all(\"'+46 70-123 45 67'\", '[^0-9+]', '') }}", "+46701234567"),
    ("regexp_like", "{{ regexp_like(\"'abc123'\", '^[a-z]+[0-9]+$') }}", "true"),
    ("json_text", '{{ json_text("\'{\\"a\\": {\\"b\\": \\"x\\"}}\'", \'$.a.b\') }}', "x"),
]


def test_dispatched_macros_on_spark(dbt_spark):
    columns = ",\n".join(f"cast({expr} as string) as {name}" for name, expr, _ in CASES)
    result = dbt_spark("show", "--inline", f"select\n{columns}", "--limit", "1")
    assert result.success, dbt_spark.messages()[-3000:]
    table = result.result.results[0].agate_table
    row = zip(table.column_names, table.rows[0], strict=True)
    got = {name: None if value is None else str(value) for name, value in row}
    expected = {name: value for name, _, value in CASES}
    assert got == expected


def test_previous_non_null_window_on_spark(dbt_spark):
    """customers_previous_non_null (lag ignoring nulls) over a named window: Spark writes IGNORE NULLS
    after the call, DuckDB inside it."""
    values = [(1, "a"), (2, None), (3, "c"), (4, None), (5, None)]
    rows = ", ".join(f"({k}, {'null' if v is None else repr(v)})" for k, v in values)
    sql = (
        "select k, cast({{ customers_previous_non_null('v', 'w') }} as string) as previous_v "
        f"from values {rows} as t(k, v) window w as (order by k) order by k"
    )
    result = dbt_spark("show", "--inline", sql, "--limit", "10")
    assert result.success, dbt_spark.messages()[-3000:]
    got = [(int(r[0]), r[1]) for r in result.result.results[0].agate_table.rows]
    expected, last = [], None
    for k, v in values:
        expected.append((k, last))
        last = v if v is not None else last
    assert got == expected


def test_merge_sorted_lists_on_spark(dbt_spark):
    """customers_merge_sorted_lists (two comma lists -> one sorted comma list) gives Python's answer."""
    pairs = [("app,web", "kiosk"), ("email", "marketplace,zz_partner"), ("store,web", "b2b")]
    rows = ", ".join(f"({i}, {a!r}, {b!r})" for i, (a, b) in enumerate(pairs))
    sql = (
        "select k, {{ customers_merge_sorted_lists('a', 'b') }} as merged "
        f"from values {rows} as t(k, a, b) order by k"
    )
    result = dbt_spark("show", "--inline", sql, "--limit", "10")
    assert result.success, dbt_spark.messages()[-3000:]
    got = [r[1] for r in result.result.results[0].agate_table.rows]
    assert got == [",".join(sorted(a.split(",") + b.split(","))) for a, b in pairs]
