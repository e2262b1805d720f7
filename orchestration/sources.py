"""The registry of landed tables: the contract between the demo generator, ingestion and dbt staging.

One entry per lake table. A table's landing folder, lake folder, Dagster asset key (["raw", name]) and
dbt source table (source `lake`) all carry the same name.

Lake conventions (what staging can rely on):
- every data column is VARCHAR, named by the snake_case of the export's header
  (`Lineitem quantity` -> `lineitem_quantity`, `Email Address` -> `email_address`); nested JSON values
  (GA4 `event_params`, Delighted `person`) are kept as JSON text; unknown columns are kept.
- metadata columns: `_file_sha256`, `_source_file` (path below the landing folder), `_row_number`
  (1-based data row or line), `_landing_date` (the landing folder's date, DATE), `_ingested_at`
  (TIMESTAMP, UTC); the hive partition folder is `ingest_date=<landing date>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SHOPIFY_ORDER_COLUMNS = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at",
    "Accepts Marketing", "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code",
    "Discount Amount", "Shipping Method", "Created at", "Lineitem quantity", "Lineitem name",
    "Lineitem price", "Lineitem compare at price", "Lineitem sku", "Lineitem requires shipping",
    "Lineitem taxable", "Lineitem fulfillment status", "Billing Name", "Billing Street",
    "Billing Address1", "Billing Address2", "Billing Company", "Billing City", "Billing Zip",
    "Billing Province", "Billing Country", "Billing Phone", "Shipping Name", "Shipping Street",
    "Shipping Address1", "Shipping Address2", "Shipping Company", "Shipping City", "Shipping Zip",
    "Shipping Province", "Shipping Country", "Shipping Phone", "Notes", "Note Attributes",
    "Cancelled at", "Payment Method", "Payment Reference", "Refunded Amount", "Vendor",
    "Outstanding Balance", "Employee", "Location", "Device ID", "Id", "Tags", "Risk Level", "Source",
    "Lineitem discount", "Tax 1 Name", "Tax 1 Value", "Tax 2 Name", "Tax 2 Value", "Tax 3 Name",
    "Tax 3 Value", "Tax 4 Name", "Tax 4 Value", "Tax 5 Name", "Tax 5 Value", "Phone",
    "Receipt Number", "Duties", "Billing Province Name", "Shipping Province Name", "Payment ID",
    "Payment Terms Name", "Next Payment Due At", "Payment References",
]  # fmt: skip

MAILCHIMP_AUDIENCE_COLUMNS = [
    "Email Address", "First Name", "Last Name", "Phone Number", "MEMBER_RATING", "OPTIN_TIME",
    "OPTIN_IP", "CONFIRM_TIME", "CONFIRM_IP", "LATITUDE", "LONGITUDE", "GMTOFF", "DSTOFF",
    "TIMEZONE", "CC", "REGION", "LAST_CHANGED", "LEID", "EUID", "NOTES", "TAGS",
]  # fmt: skip
MAILCHIMP_UNSUBSCRIBED_EXTRA = [
    "UNSUB_TIME", "UNSUB_CAMPAIGN_TITLE", "UNSUB_CAMPAIGN_ID", "UNSUB_REASON", "UNSUB_REASON_OTHER",
]  # fmt: skip
MAILCHIMP_CLEANED_EXTRA = ["CLEAN_TIME", "CLEAN_CAMPAIGN_TITLE", "CLEAN_CAMPAIGN_ID"]

# Mailchimp's API-shaped email activity (as in ../shared/samples), plus the address the export carries.
MAILCHIMP_ACTIVITY_COLUMNS = [
    "action", "campaign_id", "member_id", "timestamp", "bounce_type", "combination_id", "ip",
    "list_id", "url", "email_address", "campaign_title",
]  # fmt: skip

SQUARE_ITEMS_COLUMNS = [
    "Date", "Time", "Time Zone", "Category", "Item", "Qty", "Price Point Name", "SKU",
    "Modifiers Applied", "Gross Sales", "Discounts", "Net Sales", "Tax", "Transaction ID",
    "Payment ID", "Device Name", "Notes", "Details", "Event Type", "Location", "Dining Option",
    "Customer ID", "Customer Name", "Customer Reference ID", "Unit", "Count", "GTIN",
    "Itemization Type", "Commission", "Employee", "Fulfillment Note", "Channel", "Token",
    "Card Brand", "PAN Suffix",
]  # fmt: skip

LOYALTY_MEMBER_COLUMNS = [
    "member_id", "updated_at", "joined_at", "email", "phone", "first_name", "last_name",
    "birth_date", "postcode", "city", "country", "home_store", "tier", "consent_email",
    "consent_sms", "consent_push", "consent_profiling",
]  # fmt: skip

ZENDESK_TICKET_COLUMNS = [
    "Id", "Requester", "Requester id", "Requester external id", "Requester email",
    "Requester phone", "Group", "Subject", "Tags", "Status", "Priority", "Via", "Ticket type",
    "Created at", "Updated at", "Solved at", "Satisfaction Score",
]  # fmt: skip

# Top-level keys of the NDJSON exports (nested values land as JSON text).
GA4_EVENT_KEYS = [
    "event_date", "event_timestamp", "event_name", "event_params", "event_previous_timestamp",
    "event_value_in_usd", "event_bundle_sequence_id", "event_server_timestamp_offset", "user_id",
    "user_pseudo_id", "privacy_info", "user_properties", "user_first_touch_timestamp", "user_ltv",
    "device", "geo", "app_info", "traffic_source", "stream_id", "platform", "event_dimensions",
    "ecommerce", "items", "collected_traffic_source", "is_active_user",
]  # fmt: skip
DELIGHTED_RESPONSE_KEYS = [
    "id", "person", "survey_type", "score", "comment", "permalink", "created_at", "updated_at",
    "person_properties", "notes", "tags", "additional_answers",
]  # fmt: skip
IDENTIFIER_LINK_COLUMNS = [
    "occurred_at", "source", "email", "phone", "customer_id", "loyalty_id", "ga_client_id",
    "app_instance_id", "site_user_id", "pos_customer_id", "esp_member_id", "service_requester_id",
]  # fmt: skip

CANONICAL_EVENT_COLUMNS = [
    "event_id", "occurred_at", "activity", "channel", "anonymous_id", "user_id", "email", "phone",
    "session_id", "revenue", "currency", "properties",
]  # fmt: skip
CANONICAL_ORDER_COLUMNS = [
    "order_id", "ordered_at", "channel", "total", "currency", "customer_id", "email", "phone",
    "loyalty_id", "store_id", "status", "lines",
]  # fmt: skip
CANONICAL_CUSTOMER_COLUMNS = [
    "customer_id", "updated_at", "email", "phone", "first_name", "last_name", "birth_date",
    "postcode", "city", "country", "consent_email", "consent_sms", "consent_push",
    "consent_profiling",
]  # fmt: skip


PARTITION_KEY = "ingest_date"  # lake folders are <table>/ingest_date=<landing day>/


def snake(name: str) -> str:
    """Lake column name of an export header: lower snake_case, so SQL needs no quoting on any engine."""
    s = re.sub(r"[^0-9a-zA-Z]+", "_", name.strip()).strip("_").lower()
    if s == PARTITION_KEY:
        # the lake's hive partition key: read with hive_partitioning, the folder's value would replace the export's
        return f"export_{s}"
    return s or "column"


@dataclass(frozen=True)
class Table:
    name: str  # landing folder, lake folder, dbt source table, asset key ["raw", name]
    format: str  # "csv" or "ndjson"
    description: str
    required_columns: tuple[str, ...]  # lake (snake_case) names; a file missing one fails whole
    natural_key: tuple[str, ...]  # lake names; unique per row once continuation rows are folded
    encoding: str = "utf-8"  # declared encoding of the delivered files
    # How a changed re-delivery is recognised: "day_and_name" (same landing day and file name) or
    # "name" (same file name on any day, e.g. GA4's events_YYYYMMDD rewritten up to 3 days later).
    replace_by: str = "day_and_name"
    header: tuple[str, ...] = field(default=())  # the columns the demo writes, as the tool names them


TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "ga4_events", "ndjson",
            "GA4 BigQuery export rows (web and app streams), one file per event day, events_YYYYMMDD.",
            ("event_date", "event_timestamp", "event_name", "user_pseudo_id"),
            ("user_pseudo_id", "event_timestamp", "event_name", "event_bundle_sequence_id"),
            replace_by="name",
            header=tuple(GA4_EVENT_KEYS),
        ),
        Table(
            "shopify_orders", "csv",
            "Shopify orders export: one row per line item; order fields blank on continuation rows.",
            ("name", "created_at", "lineitem_quantity", "lineitem_price"),
            ("name", "lineitem_sku"),
            header=tuple(SHOPIFY_ORDER_COLUMNS),
        ),
        Table(
            "mailchimp_audience", "csv",
            "Mailchimp audience export: subscribed, unsubscribed and cleaned CSVs of one list.",
            ("email_address",),
            ("email_address",),
            header=tuple(MAILCHIMP_AUDIENCE_COLUMNS),
        ),
        Table(
            "mailchimp_activity", "csv",
            "Mailchimp campaign activity: sent, open, click, bounce, unsub per member and campaign.",
            ("action", "campaign_id", "timestamp"),
            ("action", "campaign_id", "member_id", "timestamp", "url"),
            header=tuple(MAILCHIMP_ACTIVITY_COLUMNS),
        ),
        Table(
            "square_items", "csv",
            "Square Items Detail export from the store tills, delivered in Windows-1252.",
            ("date", "time", "time_zone", "transaction_id", "qty", "gross_sales"),
            ("transaction_id", "payment_id", "sku", "item", "price_point_name", "event_type"),
            encoding="cp1252",
            header=tuple(SQUARE_ITEMS_COLUMNS),
        ),
        Table(
            "loyalty_members", "csv",
            "Loyalty club members (canonical CSV documented in README): one row per member change.",
            ("member_id", "updated_at"),
            ("member_id", "updated_at"),
            header=tuple(LOYALTY_MEMBER_COLUMNS),
        ),
        Table(
            "zendesk_tickets", "csv",
            "Zendesk ticket export CSV (times with their offset; naive times are UTC, as the API writes them).",
            ("id", "created_at"),
            ("id", "updated_at"),
            header=tuple(ZENDESK_TICKET_COLUMNS),
        ),
        Table(
            "delighted_responses", "ndjson",
            "Delighted NPS survey responses as JSON lines (API objects, Unix-second times).",
            ("id", "score", "created_at"),
            ("id", "updated_at"),
            header=tuple(DELIGHTED_RESPONSE_KEYS),
        ),
        Table(
            "canonical_events", "csv",
            "Canonical events from any other tool (CSV or JSON lines), see DESIGN.md.",
            ("event_id", "occurred_at", "activity", "channel"),
            ("event_id",),
            header=tuple(CANONICAL_EVENT_COLUMNS),
        ),
        Table(
            "canonical_identifier_links", "csv",
            "Canonical identifier links: all non-empty identifier columns on a row are one person.",
            ("occurred_at", "source"),
            (),
            header=tuple(IDENTIFIER_LINK_COLUMNS),
        ),
        Table(
            "canonical_orders", "csv",
            "Canonical orders from any other commerce tool; lines as a JSON array.",
            ("order_id", "ordered_at", "channel", "total"),
            ("order_id",),
            header=tuple(CANONICAL_ORDER_COLUMNS),
        ),
        Table(
            "canonical_customers", "csv",
            "Canonical customer records from any other CRM.",
            ("customer_id", "updated_at"),
            ("customer_id", "updated_at"),
            header=tuple(CANONICAL_CUSTOMER_COLUMNS),
        ),
    ]
}  # fmt: skip

# Canonical tables accept JSON lines as well as CSV (picked per file by extension .jsonl/.ndjson/.json).
JSON_LINE_EXTENSIONS = (".jsonl", ".ndjson", ".json")


def lake_columns(table: Table) -> list[str]:
    """Every data column staging may reference for a table (lake names, in header order)."""
    cols = [snake(c) for c in table.header]
    cols += [c for c in table.required_columns if c not in cols]
    return cols


METADATA_COLUMNS = ("_file_sha256", "_source_file", "_row_number", "_landing_date", "_ingested_at")
