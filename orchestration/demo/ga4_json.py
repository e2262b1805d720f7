"""GA4 BigQuery-export rows rendered as NDJSON (nested like the real export) from flat event columns.

Field order, nesting and null handling follow the export schema; see `ga4_lines` for the one place that
defines a line. Rendering is column-wise (Arrow string kernels), in row chunks to bound memory.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.demo.ndjson import NULL, concat, float_str, join_present, jstr, list_json, obj, quoted, when

# (key, column, kind): event_params in export order, present when the column is not null
PARAMS = [
    ("ga_session_id", "sid", "int_value"),
    ("ga_session_number", "snum", "int_value"),
    ("engagement_time_msec", "eng_ms", "int_value"),
    ("page_location", "page_location", "string_value"),
    ("page_title", "page_title", "string_value"),
    ("firebase_screen", "screen", "string_value"),
    ("search_term", "search_term", "string_value"),
    ("transaction_id", "transaction_id", "string_value"),
    ("currency", "currency", "string_value"),
    ("value", "value", "double_value"),
    ("source", "p_source", "string_value"),
    ("medium", "p_medium", "string_value"),
    ("campaign", "p_campaign", "string_value"),
]
_KINDS = ("string_value", "int_value", "float_value", "double_value")


def _param(key: str, kind: str, rendered: pa.Array) -> pa.Array:
    """`{"key":...,"value":{...}}`, null where the value is null."""
    value = [(k, rendered if k == kind else NULL) for k in _KINDS]
    return concat(f'{{"key":"{key}","value":', *obj(value), "}")


def item_json(items: pa.Table) -> pa.Array:
    """One rendered GA4 `items` struct per item row."""
    price = items.column("price").to_numpy()
    qty = items.column("quantity").to_numpy()
    return concat(*obj([
        ("item_id", jstr(items.column("item_id"))), ("item_name", jstr(items.column("item_name"))),
        ("item_brand", '"Nordvik"'), ("item_variant", NULL),
        ("item_category", jstr(items.column("item_category"))), ("price_in_usd", NULL),
        ("price", jstr(pa.array(price.astype(str)))), ("quantity", jstr(pa.array(qty.astype(str)))),
        ("item_revenue_in_usd", NULL), ("item_revenue", jstr(pa.array(np.round(price * qty, 2).astype(str)))),
        ("coupon", NULL), ("affiliation", NULL), ("item_list_name", NULL),
    ]))  # fmt: skip


def _round2(v: np.ndarray) -> np.ndarray:
    """SQL round(x, 2): half away from zero on x * 100."""
    return np.sign(v) * np.floor(np.abs(v) * 100 + 0.5) / 100


def ga4_lines(e: pa.Table, items: pa.Array) -> pa.Array:
    """One NDJSON line (with its newline) per event row; `items` is a list of rendered items per event."""
    n = e.num_rows
    col = e.column
    name = col("event_name").to_numpy(zero_copy_only=False)
    purchase = name == "purchase"
    platform = col("platform").to_numpy(zero_copy_only=False)
    web = platform == "WEB"
    value = col("value").to_numpy(zero_copy_only=False).astype(np.float64)
    value_s = float_str(value)
    user_id = col("user_id").combine_chunks()

    params = []
    for key, column, kind in PARAMS:
        rendered = value_s if column == "value" else col(column).combine_chunks()
        params.append(_param(key, kind, quoted(rendered)))
    user_properties = when(~np.asarray(user_id.is_null(), dtype=bool), [
        '[{"key":"logged_in","value":{"string_value":"yes","int_value":null,"float_value":null,'
        '"double_value":null,"set_timestamp_micros":', jstr(col("t_us")), "}}]"], n, "[]")  # fmt: skip
    tz = col("tz_offset")
    device = obj([
        ("category", jstr(col("dev_category"))), ("mobile_brand_name", jstr(col("dev_brand"))),
        ("mobile_model_name", jstr(col("dev_model"))), ("mobile_marketing_name", NULL),
        ("mobile_os_hardware_model", NULL), ("operating_system", jstr(col("dev_os"))),
        ("operating_system_version", jstr(col("dev_os_version"))), ("vendor_id", NULL), ("advertising_id", NULL),
        ("language", jstr(col("dev_language"))), ("is_limited_ad_tracking", '"No"'),
        ("time_zone_offset_seconds", jstr(tz)), ("browser", NULL), ("browser_version", NULL),
        ("web_info", when(web, obj([("browser", jstr(col("dev_browser"))),
                                    ("browser_version", jstr(col("dev_browser_version"))),
                                    ("hostname", '"www.nordvik.example"')]), n)),
    ])  # fmt: skip
    stream = jstr(col("stream_id"))
    app_info = when(~web, obj([
        ("id", '"com.nordvik.shop"'), ("version", '"4.12.0"'),
        ("install_store", pa.array(np.where(platform == "IOS", '"iTunes"', '"com.android.vending"'))),
        ("firebase_app_id", stream), ("install_source", NULL),
    ]), n)  # fmt: skip
    ecommerce = when(purchase, obj([
        ("total_item_quantity", jstr(col("n_qty"))), ("purchase_revenue_in_usd", NULL),
        ("purchase_revenue", jstr(value_s)), ("refund_value_in_usd", NULL), ("refund_value", NULL),
        ("shipping_value_in_usd", NULL), ("shipping_value", jstr(float_str(col("shipping").to_numpy()))),
        ("tax_value_in_usd", NULL), ("tax_value", jstr(float_str(_round2(value * 0.2)))),
        ("unique_items", jstr(col("n_items"))), ("transaction_id", jstr(col("transaction_id"))),
    ]), n)  # fmt: skip
    p_source = col("p_source").combine_chunks()
    traffic = when(~np.asarray(p_source.is_null(), dtype=bool), obj([
        ("manual_campaign_id", NULL), ("manual_campaign_name", jstr(col("p_campaign"))),
        ("manual_source", jstr(p_source)), ("manual_medium", jstr(col("p_medium"))), ("manual_term", NULL),
        ("manual_content", NULL), ("gclid", NULL), ("dclid", NULL), ("srsltid", NULL),
    ]), n)  # fmt: skip
    line = obj([
        ("event_date", jstr(col("event_date"))),
        ("event_timestamp", jstr(col("t_us"))),
        ("event_name", jstr(col("event_name"))),
        ("event_params", concat("[", join_present(params, n), "]")),
        ("event_previous_timestamp", NULL),
        ("event_value_in_usd", NULL),
        ("event_bundle_sequence_id", jstr(col("bundle"))),
        ("event_server_timestamp_offset", NULL),
        ("user_id", jstr(user_id)),
        ("user_pseudo_id", jstr(col("user_pseudo_id"))),
        ("privacy_info", concat(*obj([("analytics_storage", '"Yes"'), ("ads_storage", jstr(col("ads_storage"))),
                                      ("uses_transient_token", '"No"')]))),
        ("user_properties", user_properties),
        ("user_first_touch_timestamp", jstr(col("first_touch_us"))),
        ("user_ltv", when(purchase, obj([("revenue", jstr(value_s)), ("currency", jstr(col("currency")))]), n)),
        ("device", concat(*device)),
        ("geo", concat(*obj([("city", jstr(col("geo_city"))), ("country", jstr(col("geo_country"))),
                             ("continent", '"Europe"'), ("region", jstr(col("geo_region"))),
                             ("sub_continent", '"Northern Europe"'), ("metro", '"(not set)"')]))),
        ("app_info", app_info),
        ("traffic_source", concat(*obj([("name", jstr(col("ft_name"))), ("medium", jstr(col("ft_medium"))),
                                        ("source", jstr(col("ft_source")))]))),
        ("stream_id", stream),
        ("platform", jstr(col("platform"))),
        ("event_dimensions", NULL),
        ("ecommerce", ecommerce),
        ("items", items),
        ("collected_traffic_source", traffic),
        ("is_active_user", "true"),
    ])  # fmt: skip
    return concat(*line, "\n")


def item_lists(events: pa.Table, items: pa.Table) -> pa.Array:
    """Rendered `items` arrays per event (events sorted by ev id); built here, a SQL join is much slower."""
    ev = events.column("ev").to_numpy()
    it_ev = items.column("ev").to_numpy()
    order = np.lexsort((items.column("pos").to_numpy(), it_ev))
    row = np.searchsorted(ev, it_ev[order])  # ev ids of a day are ascending
    offsets = np.r_[0, np.cumsum(np.bincount(row, minlength=len(ev)))]
    return list_json(item_json(items.take(pa.array(order))), offsets)
