"""Row checks: DuckDB SQL over the VARCHAR columns, one reason per failed check.

Each check is an expression that is NULL when the row passes and `<code>: <detail>` when it fails; a
row's `_reason` joins all its failures with "; ". Checks on optional columns run only when the file has
the column, and blank values are left to the required-value check (staging decides what blank means).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from orchestration.sources import TABLES

FUTURE_DAYS = 2  # late-arriving clocks are tolerated this far past the landing day
# No time before this is loaded: the daily models take 1900-01-01 as "the person's whole history"
# (macros journeys_changed_from, incremental components), so an earlier time would escape a recompute.
EARLIEST_TIME = dt.date(1900, 1, 1)

# The ISO shape with an offset or Z, read by DuckDB's cast (as staging's timestamp_from_offset_text does).
_ISO_CAST = (
    "CASE WHEN regexp_full_match(v, "
    "'\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?\\s?(Z|[+-]\\d{2}(:?\\d{2})?)') "
    "THEN try_cast(v AS TIMESTAMPTZ) END"
)

# name -> (SQL parsing the value `v` into a timestamp or NULL, "tz" or "naive", example for the reason).
# Values are not trimmed (a string copy per cell): exports do not pad times, and a padded one is reported.
_KINDS = {
    "ga4_micros": (
        "CASE WHEN length(v) BETWEEN 10 AND 17 THEN make_timestamp(try_cast(v AS BIGINT)) END",
        "naive",
        "microseconds since 1970 like 1702651559604143",
    ),
    "ga4_date": ("try_strptime(v, '%Y%m%d')", "naive", "YYYYMMDD like 20231215"),
    "shopify": ("try_strptime(v, '%Y-%m-%d %H:%M:%S %z')", "tz", "a Shopify time like 2021-05-13 11:01:12 +0200"),
    # staging's reader (timestamp_from_offset_text): DuckDB's cast takes no space before the offset,
    # strptime's %z does (2024-03-01 10:15:00 +01:00)
    "iso_offset": (
        f"coalesce({_ISO_CAST}, try_strptime(v, '%Y-%m-%d %H:%M:%S %z'))",
        "tz",
        "ISO 8601 with an offset like 2024-03-01T10:15:00+01:00 or ...Z",
    ),
    # Naive Zendesk times are UTC: the API writes UTC, and API syncs (Fivetran, Airbyte) store it without
    # the zone; staging's timestamp_from_offset_text reads naive text as UTC too.
    "zendesk": (
        f"coalesce(try_strptime(v, ['%Y-%m-%d %H:%M:%S %z', '%d %b %Y %H:%M:%S %z']), {_ISO_CAST}, "
        "timezone('UTC', try_strptime(v, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S.%f'])))",
        "tz",
        "a time like 2024-03-01 10:15:00 +0100, 2024-03-01T10:15:00+01:00 or 2024-03-01 09:15:00 (UTC)",
    ),
    "naive": ("try_strptime(v, '%Y-%m-%d %H:%M:%S')", "naive", "YYYY-MM-DD HH:MM:SS"),
    "unix_seconds": (
        "CASE WHEN regexp_full_match(v, '\\d{1,11}(\\.\\d+)?') THEN to_timestamp(v::DOUBLE) END",
        "tz",
        "Unix seconds like 1690000000",
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

# A money cell is parseable when it has this shape (one regex per cell; casting is staging's job):
# `$8.00`, `"$1,149.00 "`, `($33.62)` (negative), `-$3.00`, `525.33`, `1.234,50` / `12,50` (decimal
# comma), `1,234` (thousands). Currency symbols go before the number; a currency code or text fails, and
# so does an unbalanced parenthesis (`(3.00` would be read as positive).
# One grouping separator per number, and a decimal part staging's parse_money reads as one (a comma
# before 3 digits groups thousands, so `1.234,567` and `1.234.5` fail rather than become 1.23 or null).
_NUMBER = (
    r"(\d+(\.\d+|,\d{1,3})?|\d{1,3}(,\d{3})+(\.\d+)?|\d{1,3}(\.\d{3})+(,\d{1,2})?"
    r"|\d{1,3}(\s\d{3})+(\.\d+|,\d{1,2})?)"
)
_AMOUNT = rf"-?[$€£¥]?\s?-?{_NUMBER}"
MONEY_PATTERN = rf"\s*(\({_AMOUNT}\s*\)|{_AMOUNT})\s*"


@dataclass
class CheckPlan:
    # (condition, message): the condition is TRUE when the row fails; the message is SQL text.
    checks: list[tuple[str, str]] = field(default_factory=list)
    helpers: list[str] = field(default_factory=list)  # extra columns computed before the checks

    def helper(self, sql: str) -> str:
        """Register an expression computed once per row before the checks; returns its column name."""
        name = f"__h{len(self.helpers)}"
        self.helpers.append(f"{sql} AS {name}")
        return name

    def add(self, condition: str, message: str) -> None:
        self.checks.append((condition, message))


def _q(text: str) -> str:
    return text.replace("'", "''")


def _c(col: str) -> str:
    """Quoted identifier: export columns such as `timestamp`, `date` or `name` are SQL keywords."""
    return '"' + col + '"'


def _blank(col: str) -> str:
    # Cheap tests first: trim() (a string copy) only runs on values that start with a space.
    c = _c(col)
    return f"({c} IS NULL OR {c} = '' OR (starts_with({c}, ' ') AND trim({c}) = ''))"


def _midnight(day: dt.date, tz: str) -> str:
    """The SQL literal of `day` at 00:00, UTC for "tz" kinds, naive otherwise (compared with the parsed value)."""
    return f"TIMESTAMPTZ '{day} 00:00:00+00'" if tz == "tz" else f"TIMESTAMP '{day} 00:00:00'"


def _time_check(plan: CheckPlan, col: str, parsed: str, tz: str, example: str, limit: dt.date, shown: str = "") -> None:
    # The parsed value is a helper column: parsed once per row, used by both checks.
    name = plan.helper(parsed)
    end = limit + dt.timedelta(days=1)
    bound = _midnight(end, tz)
    # a naive time may be local (Square): a day later, so that no zone puts it before EARLIEST_TIME in UTC
    earliest_day = EARLIEST_TIME if tz == "tz" else EARLIEST_TIME + dt.timedelta(days=1)
    earliest = _midnight(earliest_day, tz)
    shown = shown or _c(col)
    plan.add(
        f"NOT {_blank(col)} AND {name} IS NULL",
        f"'bad_timestamp: {col} ''' || {shown} || ''' is not {_q(example)}'",
    )
    plan.add(
        f"{name} >= {bound}",
        f"'future_timestamp: {col} ' || {shown} || ' is after landing day + {FUTURE_DAYS} days ({limit})'",
    )
    plan.add(
        f"{name} < {earliest}",
        f"'ancient_timestamp: {col} ' || {shown} || ' is before {earliest_day}, the earliest time the warehouse "
        "holds (a placeholder date? export the field blank)'",
    )


def _quantity_check(plan: CheckPlan, col: str, negative_allowed: str) -> None:
    number = plan.helper(f"try_cast({_c(col)} AS DOUBLE)")
    plan.add(
        f"NOT {_blank(col)} AND {number} IS NULL", f"'bad_quantity: {col} ''' || {_c(col)} || ''' is not a number'"
    )
    plan.add(
        f"{number} < 0 AND NOT coalesce({negative_allowed}, FALSE)",
        f"'negative_quantity: {col} ' || {_c(col)} || ' is below 0'",
    )


def plan_checks(table_name: str, columns: list[str], day: dt.date) -> CheckPlan:
    table = TABLES[table_name]
    have = set(columns)
    limit = day + dt.timedelta(days=FUTURE_DAYS)
    plan = CheckPlan()

    for col in (c for c in table.required_columns if c in have):
        if table_name == "shopify_orders" and col == "created_at":
            # Order-level fields appear only on the first row of an order; continuation rows stay rows.
            # A semi-join on the first row per order: a window would drag every column through a sort.
            first = plan.helper('__rowid IN (SELECT min(__rowid) FROM src GROUP BY "name")')
            plan.add(f"{first} AND {_blank(col)}", f"'missing_value: {col} is blank on the first row of its order'")
        else:
            plan.add(_blank(col), f"'missing_value: {col} is blank'")

    if table_name == "square_items" and {"date", "time"} <= have:
        both = """trim("date") || ' ' || coalesce(trim("time"), '')"""
        parsed = f"try_strptime({both}, '%m/%d/%Y %H:%M:%S')"
        example = "MM/DD/YYYY HH:MM:SS (Date and Time) like 12/27/2018 14:05:33"
        _time_check(plan, "date", parsed, "naive", example, limit, shown=f"({both})")
    for col, kind in _TIMES.get(table_name, []):
        if col in have:
            parse, tz, example = _KINDS[kind]
            _time_check(plan, col, re.sub(r"\bv\b", _c(col), parse), tz, example, limit)

    for col in _MONEY.get(table_name, []):
        if col in have:
            plan.add(
                f"NOT {_blank(col)} AND NOT regexp_full_match({_c(col)}, '{MONEY_PATTERN}')",
                f"'bad_money: {col} ''' || {_c(col)} || ''' is not an amount'",
            )

    if table_name == "shopify_orders" and "lineitem_quantity" in have:
        _quantity_check(plan, "lineitem_quantity", "FALSE")
    if table_name == "square_items" and "qty" in have:
        refund = """lower(trim("event_type")) = 'refund'""" if "event_type" in have else "FALSE"
        _quantity_check(plan, "qty", refund)
    if table_name == "delighted_responses" and "score" in have:
        score = _c("score")
        plan.add(
            f"NOT {_blank('score')} AND NOT coalesce(regexp_full_match(trim({score}), '\\d{{1,2}}') "
            f"AND trim({score})::INTEGER <= 10, FALSE)",
            f"'bad_score: score ''' || {score} || ''' is not an integer 0-10'",
        )
    return plan


def failing_sql(plan: CheckPlan) -> str:
    """TRUE for a row that fails any check (cheap: no strings are built for passing rows)."""
    if not plan.checks:
        return "FALSE"
    return " OR ".join(f"coalesce({cond}, FALSE)" for cond, _ in plan.checks)


def reason_sql(plan: CheckPlan) -> str:
    """`code: detail` of every failed check, joined by "; " (only evaluated on failing rows)."""
    if not plan.checks:
        return "NULL::VARCHAR"
    parts = ", ".join(f"CASE WHEN {cond} THEN {msg} END" for cond, msg in plan.checks)
    return f"nullif(concat_ws('; ', {parts}), '')"
