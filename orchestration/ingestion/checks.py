"""Row checks: DuckDB SQL over the VARCHAR columns, one reason per failed check.

Each check is an expression that is NULL when the row passes and `<code>: <detail>` when it fails; a
row's `_reason` joins all its failures with "; ". Checks on optional columns run only when the file has
the column, and blank values are left to the required-value check (staging decides what blank means).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from orchestration.sources import TABLES

FUTURE_DAYS = 2  # late-arriving clocks are tolerated this far past the landing day

# name -> (SQL parsing the value `v` into a timestamp or NULL, "tz" or "naive", example for the reason)
_KINDS = {
    "ga4_micros": (
        "CASE WHEN regexp_full_match(trim(v), '\\d{10,17}') THEN make_timestamp(trim(v)::BIGINT) END",
        "naive", "microseconds since 1970 like 1702651559604143",
    ),
    "ga4_date": ("try_strptime(trim(v), '%Y%m%d')", "naive", "YYYYMMDD like 20231215"),
    "shopify": (
        "try_strptime(trim(v), '%Y-%m-%d %H:%M:%S %z')", "tz", "a Shopify time like 2021-05-13 11:01:12 +0200"
    ),
    "iso_offset": (
        "CASE WHEN regexp_full_match(trim(v), "
        "'\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?\\s?(Z|[+-]\\d{2}(:?\\d{2})?)') "
        "THEN try_cast(trim(v) AS TIMESTAMPTZ) END",
        "tz", "ISO 8601 with an offset like 2024-03-01T10:15:00+01:00 or ...Z",
    ),
    "zendesk": (
        "coalesce(try_strptime(trim(v), ['%Y-%m-%d %H:%M:%S %z', '%d %b %Y %H:%M:%S %z']), "
        "CASE WHEN regexp_full_match(trim(v), "
        "'\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?\\s?(Z|[+-]\\d{2}(:?\\d{2})?)') "
        "THEN try_cast(trim(v) AS TIMESTAMPTZ) END)",
        "tz", "a time with its offset like 2024-03-01 10:15:00 +0100 or 2024-03-01T10:15:00+01:00",
    ),
    "naive": ("try_strptime(trim(v), '%Y-%m-%d %H:%M:%S')", "naive", "YYYY-MM-DD HH:MM:SS"),
    "unix_seconds": (
        "CASE WHEN regexp_full_match(trim(v), '\\d{1,11}(\\.\\d+)?') THEN to_timestamp(trim(v)::DOUBLE) END",
        "tz", "Unix seconds like 1690000000",
    ),
}

_MONEY = {
    "shopify_orders": ["subtotal", "shipping", "taxes", "total", "discount_amount", "lineitem_price",
                       "lineitem_compare_at_price", "refunded_amount", "outstanding_balance",
                       "lineitem_discount"],
    "square_items": ["gross_sales", "discounts", "net_sales", "tax"],
    "canonical_orders": ["total"],
    "canonical_events": ["revenue"],
}  # fmt: skip

_TIMES = {
    "ga4_events": [("event_timestamp", "ga4_micros"), ("event_date", "ga4_date")],
    "shopify_orders": [("created_at", "shopify"), ("paid_at", "shopify"), ("fulfilled_at", "shopify"),
                       ("cancelled_at", "shopify")],
    "mailchimp_audience": [(c, "naive") for c in ("optin_time", "confirm_time", "last_changed",
                                                  "clean_time", "unsub_time")],
    "mailchimp_activity": [("timestamp", "naive")],
    "loyalty_members": [("updated_at", "iso_offset"), ("joined_at", "iso_offset")],
    "zendesk_tickets": [("created_at", "zendesk"), ("updated_at", "zendesk"), ("solved_at", "zendesk")],
    "delighted_responses": [("created_at", "unix_seconds"), ("updated_at", "unix_seconds")],
    "canonical_events": [("occurred_at", "iso_offset")],
    "canonical_identifier_links": [("occurred_at", "iso_offset")],
    "canonical_orders": [("ordered_at", "iso_offset")],
    "canonical_customers": [("updated_at", "iso_offset")],
}  # fmt: skip

MONEY_MACRO = r"""
CREATE OR REPLACE MACRO omni_money(v) AS try_cast(
    CASE WHEN regexp_full_match(m, '-?\d{1,3}(\.\d{3})*,\d+') THEN replace(replace(m, '.', ''), ',', '.')
         ELSE replace(m, ',', '') END AS DECIMAL(38, 6))
FROM (SELECT regexp_replace(regexp_replace(trim(v), '^\((.*)\)$', '-\1'), '[\s$€£¥]', '', 'g') AS m)
"""


@dataclass
class CheckPlan:
    reasons: list[str] = field(default_factory=list)  # SQL expressions, NULL when the row passes
    helpers: list[str] = field(default_factory=list)  # extra columns computed before the checks
    ordered: bool = False  # helpers use a window: restore file order explicitly


def _q(text: str) -> str:
    return text.replace("'", "''")


def _blank(col: str) -> str:
    return f"nullif(trim({col}), '') IS NULL"


def _time_check(col: str, kind: str, limit: dt.date, parsed_sql: str | None = None) -> str:
    parse, tz, example = _KINDS[kind]
    parsed = parsed_sql or parse.replace("v", col) if parsed_sql else _subst(parse, col)
    bound = f"TIMESTAMPTZ '{limit + dt.timedelta(days=1)} 00:00:00+00'" if tz == "tz" else (
        f"TIMESTAMP '{limit + dt.timedelta(days=1)} 00:00:00'"
    )
    return (
        f"CASE WHEN {_blank(col)} THEN NULL "
        f"WHEN ({parsed}) IS NULL THEN 'bad_timestamp: {col} ''' || {col} || ''' is not {_q(example)}' "
        f"WHEN ({parsed}) >= {bound} THEN 'future_timestamp: {col} ' || {col} || "
        f"' is after landing day + {FUTURE_DAYS} days ({limit})' END"
    )


def _subst(parse: str, col: str) -> str:
    # The kind templates name their input `v`; replace only that identifier.
    import re

    return re.sub(r"\bv\b", col, parse)


def plan_checks(table_name: str, columns: list[str], day: dt.date) -> CheckPlan:
    table = TABLES[table_name]
    have = set(columns)
    limit = day + dt.timedelta(days=FUTURE_DAYS)
    plan = CheckPlan()

    required = [c for c in table.required_columns if c in have]
    if table_name == "shopify_orders":
        # Order-level fields appear only on the first row of an order; continuation rows stay rows.
        plan.helpers.append("row_number() OVER (PARTITION BY name ORDER BY rowid) = 1 AS __first_row")
        plan.ordered = True
        for col in required:
            if col == "created_at":
                plan.reasons.append(
                    f"CASE WHEN __first_row AND {_blank(col)} THEN 'missing_value: {col} is blank on the "
                    "first row of order ' || coalesce(name, '?') END"
                )
            else:
                plan.reasons.append(f"CASE WHEN {_blank(col)} THEN 'missing_value: {col} is blank' END")
    else:
        for col in required:
            plan.reasons.append(f"CASE WHEN {_blank(col)} THEN 'missing_value: {col} is blank' END")

    if table_name == "square_items" and {"date", "time"} <= have:
        parsed = "try_strptime(trim(date) || ' ' || coalesce(trim(time), '00:00:00'), '%m/%d/%Y %H:%M:%S')"
        plan.reasons.append(
            f"CASE WHEN {_blank('date')} THEN NULL "
            f"WHEN ({parsed}) IS NULL THEN 'bad_timestamp: date/time ''' || date || ' ' || "
            "coalesce(time, '') || ''' is not MM/DD/YYYY HH:MM:SS like 12/27/2018 14:05:33' "
            f"WHEN ({parsed}) >= TIMESTAMP '{limit + dt.timedelta(days=1)} 00:00:00' THEN "
            f"'future_timestamp: date ' || date || ' is after landing day + {FUTURE_DAYS} days ({limit})' END"
        )
    for col, kind in _TIMES.get(table_name, []):
        if col in have:
            plan.reasons.append(_time_check(col, kind, limit))

    for col in _MONEY.get(table_name, []):
        if col in have:
            plan.reasons.append(
                f"CASE WHEN NOT {_blank(col)} AND omni_money({col}) IS NULL THEN "
                f"'bad_money: {col} ''' || {col} || ''' is not an amount' END"
            )

    if table_name == "shopify_orders" and "lineitem_quantity" in have:
        plan.reasons.append(_quantity_check("lineitem_quantity", "FALSE"))
    if table_name == "square_items" and "qty" in have:
        refund = "lower(trim(event_type)) = 'refund'" if "event_type" in have else "FALSE"
        plan.reasons.append(_quantity_check("qty", refund))
    if table_name == "delighted_responses" and "score" in have:
        plan.reasons.append(
            "CASE WHEN NOT " + _blank("score") + " AND NOT coalesce(regexp_full_match(trim(score), '\\d{1,2}') "
            "AND trim(score)::INTEGER <= 10, FALSE) THEN 'bad_score: score ''' || score || "
            "''' is not an integer 0-10' END"
        )
    return plan


def _quantity_check(col: str, negative_allowed: str) -> str:
    number = f"try_cast(trim({col}) AS DOUBLE)"
    return (
        f"CASE WHEN {_blank(col)} THEN NULL "
        f"WHEN {number} IS NULL THEN 'bad_quantity: {col} ''' || {col} || ''' is not a number' "
        f"WHEN {number} < 0 AND NOT ({negative_allowed}) THEN "
        f"'negative_quantity: {col} ' || {col} || ' is below 0' END"
    )


def reason_sql(plan: CheckPlan) -> str:
    if not plan.reasons:
        return "NULL::VARCHAR"
    return "nullif(concat_ws('; ', " + ", ".join(plan.reasons) + "), '')"
