"""GA4 BigQuery-export rows rendered as NDJSON (nested like the real export).

Input is two flat tables: `sessions` (one row per visit: device, geo, traffic source, ...) and `events`
(one row per event, `sess` = its row in sessions). Session-level parts of a line are rendered once per
visit and gathered; optional objects are rendered only for the rows that have them. Rendering is
column-wise (Arrow string kernels), a chunk of events at a time to bound memory.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.demo.ndjson import NULL, concat, float_str, jstr, list_json, obj, quoted, scatter

_KINDS = ("string_value", "int_value", "float_value", "double_value")


def _param_pieces(key: str, kind: str, rendered) -> list:
    value = [(k, rendered if k == kind else NULL) for k in _KINDS]
    return [f'{{"key":"{key}","value":', *obj(value), "}"]


def _param(key: str, kind: str, values: pa.Array) -> pa.Array:
    """`{"key":...,"value":{...}}` per value (values must not be null)."""
    return concat(*_param_pieces(key, kind, quoted(values)))


def item_json(items: pa.Table) -> pa.Array:
    """One rendered GA4 `items` struct per item row."""
    price = items.column("price").to_numpy()
    qty = items.column("quantity").to_numpy()
    return concat(*obj([
        ("item_id", jstr(items.column("item_id"))), ("item_name", jstr(items.column("item_name"))),
        ("item_brand", '"Nordvik"'), ("item_variant", NULL),
        ("item_category", jstr(items.column("item_category"))), ("price_in_usd", NULL),
        ("price", jstr(float_str(price))), ("quantity", jstr(qty)),
        ("item_revenue_in_usd", NULL), ("item_revenue", jstr(float_str(np.round(price * qty, 2)))),
        ("coupon", NULL), ("affiliation", NULL), ("item_list_name", NULL),
    ]))  # fmt: skip


def item_lists(events: pa.Table, items: pa.Table) -> pa.Array:
    """Rendered `items` arrays per event (events sorted by ev id); built here, a SQL join is much slower."""
    ev = events.column("ev").to_numpy()
    it_ev = items.column("ev").to_numpy()
    order = np.lexsort((items.column("pos").to_numpy(), it_ev))
    row = np.searchsorted(ev, it_ev[order])  # ev ids of a day are ascending
    offsets = np.r_[0, np.cumsum(np.bincount(row, minlength=len(ev)))]
    return list_json(item_json(items.take(pa.array(order))), offsets)


def _round2(v: np.ndarray) -> np.ndarray:
    """SQL round(x, 2): half away from zero on x * 100."""
    return np.sign(v) * np.floor(np.abs(v) * 100 + 0.5) / 100


def _present(values: pa.Array) -> np.ndarray:
    return ~np.asarray(values.is_null(), dtype=bool) if values.null_count else np.ones(len(values), dtype=bool)


def _session_blocks(s: pa.Table) -> dict[str, pa.Array]:
    """The parts of a line that only depend on the visit, rendered once per session row."""
    col = s.column
    n = s.num_rows
    platform = col("platform").to_numpy(zero_copy_only=False)
    web = platform == "WEB"
    if col("sid").null_count or col("snum").null_count:
        raise ValueError("GA4 sessions need a session id and number")
    w = s.filter(pa.array(web))
    web_info = scatter(web, concat(*obj([
        ("browser", jstr(w.column("dev_browser"))), ("browser_version", jstr(w.column("dev_browser_version"))),
        ("hostname", '"www.nordvik.example"')])), NULL)  # fmt: skip
    a = s.filter(pa.array(~web))
    app_info = scatter(~web, concat(*obj([
        ("id", '"com.nordvik.shop"'), ("version", '"4.12.0"'),
        ("install_store", pa.array(np.where(platform[~web] == "IOS", '"iTunes"', '"com.android.vending"'))),
        ("firebase_app_id", jstr(a.column("stream_id"))), ("install_source", NULL),
    ])), NULL)  # fmt: skip
    return {
        "head": concat('{"event_date":', jstr(col("event_date")), ',"event_timestamp":'),
        "params": concat(*_param_pieces("ga_session_id", "int_value", quoted(col("sid"))), ",",
                         *_param_pieces("ga_session_number", "int_value", quoted(col("snum")))),
        "user": concat(',"user_pseudo_id":', jstr(col("user_pseudo_id")),
                       ',"privacy_info":{"analytics_storage":"Yes","ads_storage":', jstr(col("ads_storage")),
                       ',"uses_transient_token":"No"},"user_properties":'),
        "touch": concat(',"user_first_touch_timestamp":', jstr(col("first_touch_us")), ',"user_ltv":'),
        "device": concat(',"device":{"category":', jstr(col("dev_category")),
                         ',"mobile_brand_name":', jstr(col("dev_brand")),
                         ',"mobile_model_name":', jstr(col("dev_model")),
                         ',"mobile_marketing_name":null,"mobile_os_hardware_model":null,"operating_system":',
                         jstr(col("dev_os")), ',"operating_system_version":', jstr(col("dev_os_version")),
                         ',"vendor_id":null,"advertising_id":null,"language":', jstr(col("dev_language")),
                         ',"is_limited_ad_tracking":"No","time_zone_offset_seconds":'),
        "tail": concat(',"browser":null,"browser_version":null,"web_info":', web_info, "}",
                       ',"geo":', concat(*obj([
                           ("city", jstr(col("geo_city"))), ("country", jstr(col("geo_country"))),
                           ("continent", '"Europe"'), ("region", jstr(col("geo_region"))),
                           ("sub_continent", '"Northern Europe"'), ("metro", '"(not set)"')])),
                       ',"app_info":', app_info,
                       ',"traffic_source":', concat(*obj([
                           ("name", jstr(col("ft_name"))), ("medium", jstr(col("ft_medium"))),
                           ("source", jstr(col("ft_source")))])),
                       ',"stream_id":', jstr(col("stream_id")), ',"platform":', jstr(col("platform")),
                       ',"event_dimensions":null,"ecommerce":'),
    } if n else {}  # fmt: skip


def ga4_lines(e: pa.Table, sessions: pa.Table, items: pa.Array) -> pa.Array:
    """One NDJSON line (with its newline) per event row; `items` is the rendered items array per event."""
    n = e.num_rows
    col = e.column
    uniq, inv = np.unique(col("sess").to_numpy(), return_inverse=True)
    sb = _session_blocks(sessions.take(pa.array(uniq)))
    at = pa.array(inv)

    def per_event(name: str) -> pa.Array:
        return sb[name].take(at)

    name = col("event_name").combine_chunks()
    purchase = np.asarray(pc.equal(name.cast(pa.string()), "purchase"), dtype=bool)
    value = col("value").to_numpy(zero_copy_only=False).astype(np.float64)
    value_s = float_str(value)

    # event_params in export order: the session's id and number and the engagement time are always there;
    # the optional ones follow, each with its leading comma, only where present (SQL list_filter)
    eng = col("eng_ms").combine_chunks()
    if eng.null_count:
        raise ValueError("GA4 events need an engagement time")
    optional: list[tuple[np.ndarray, pa.Array]] = []
    for key, column, kind in (("page_location", "page_location", "string_value"),
                              ("firebase_screen", "screen", "string_value"),
                              ("search_term", "search_term", "string_value"),
                              ("transaction_id", "transaction_id", "string_value"),
                              ("currency", "currency", "string_value"),
                              ("value", None, "double_value")):  # fmt: skip
        values = value_s if column is None else col(column).combine_chunks()
        rows = np.flatnonzero(_present(values))
        optional.append((rows, _param(key, kind, values.take(pa.array(rows)))))
    src_rows = np.flatnonzero(col("campaign_src").to_numpy(zero_copy_only=False))
    campaign = {}
    for key in ("source", "medium", "campaign"):
        values = sessions.column(key).combine_chunks().take(pa.array(uniq[inv[src_rows]]))
        ok = _present(values)
        campaign[key] = values
        optional.append((src_rows[ok], _param(key, "string_value", values.filter(pa.array(ok)))))
    rows = np.concatenate([r for r, _ in optional])
    slot = np.concatenate([np.full(len(r), i) for i, (r, _) in enumerate(optional)])
    order = np.lexsort((slot, rows))
    frags = concat(",", pa.concat_arrays([f for _, f in optional])).take(pa.array(order))
    lists = pa.ListArray.from_arrays(pa.array(np.r_[0, np.cumsum(np.bincount(rows, minlength=n))].astype(np.int32)),
                                     frags)  # fmt: skip
    more_params = pc.binary_join(lists, "")

    # device, time zone offset and the rest of the visit's fields: one block per (session, offset)
    tz = col("tz_offset").combine_chunks()
    tz = tz if isinstance(tz, pa.DictionaryArray) else tz.dictionary_encode()
    tz_code = np.asarray(tz.indices.fill_null(-1), dtype=np.int64) + 1
    width = len(tz.dictionary) + 1
    keys, key_at = np.unique(inv * width + tz_code, return_inverse=True)
    tz_json = pa.concat_arrays([pa.array([NULL]), jstr(tz.dictionary)])
    key_sess = pa.array(keys // width)
    device = concat(sb["device"].take(key_sess), tz_json.take(pa.array(keys % width)), sb["tail"].take(key_sess))

    user_id = col("user_id").combine_chunks()
    has_uid = _present(user_id)
    user_properties = scatter(
        has_uid,
        concat(
            '[{"key":"logged_in","value":{"string_value":"yes","int_value":null,"float_value":null,'
            '"double_value":null,"set_timestamp_micros":',
            jstr(col("t_us").filter(pa.array(has_uid))),
            "}}]",
        ),
        "[]",
    )
    p = e.filter(pa.array(purchase))
    pv = value_s.filter(pa.array(purchase))
    user_ltv = scatter(purchase, concat(*obj([("revenue", jstr(pv)), ("currency", jstr(p.column("currency")))])), NULL)
    ecommerce = scatter(purchase, concat(*obj([
        ("total_item_quantity", jstr(p.column("n_qty"))), ("purchase_revenue_in_usd", NULL),
        ("purchase_revenue", jstr(pv)), ("refund_value_in_usd", NULL), ("refund_value", NULL),
        ("shipping_value_in_usd", NULL), ("shipping_value", jstr(float_str(p.column("shipping").to_numpy()))),
        ("tax_value_in_usd", NULL), ("tax_value", jstr(float_str(_round2(value[purchase] * 0.2)))),
        ("unique_items", jstr(p.column("n_items"))), ("transaction_id", jstr(p.column("transaction_id"))),
    ])), NULL)  # fmt: skip
    has_src = np.zeros(n, dtype=bool)
    src_ok = _present(campaign["source"])
    has_src[src_rows[src_ok]] = True
    okm = pa.array(src_ok)
    traffic = scatter(has_src, concat(*obj([
        ("manual_campaign_id", NULL), ("manual_campaign_name", jstr(campaign["campaign"].filter(okm))),
        ("manual_source", jstr(campaign["source"].filter(okm))),
        ("manual_medium", jstr(campaign["medium"].filter(okm))), ("manual_term", NULL),
        ("manual_content", NULL), ("gclid", NULL), ("dclid", NULL), ("srsltid", NULL),
    ])), NULL)  # fmt: skip
    return concat(
        per_event("head"),
        jstr(col("t_us")),
        ',"event_name":',
        jstr(name),
        ',"event_params":[',
        per_event("params"),
        ',{"key":"engagement_time_msec","value":{"string_value":null,"int_value":',
        quoted(eng),
        ',"float_value":null,"double_value":null}}',
        more_params,
        "]",
        ',"event_previous_timestamp":null,"event_value_in_usd":null,"event_bundle_sequence_id":',
        jstr(col("bundle")),
        ',"event_server_timestamp_offset":null,"user_id":',
        jstr(user_id),
        per_event("user"),
        user_properties,
        per_event("touch"),
        user_ltv,
        device.take(pa.array(key_at)),
        ecommerce,
        ',"items":',
        items,
        ',"collected_traffic_source":',
        traffic,
        ',"is_active_user":true}\n',
    )
