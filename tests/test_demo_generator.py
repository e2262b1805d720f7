"""The demo generator: deterministic, registry headers, real export shapes, planted mess, normalised truth."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from pathlib import Path

import pytest

from orchestration.demo import delivery_plan, generate
from orchestration.sources import TABLES

START = dt.date(2026, 10, 1)
SKIP = {"canonical_identifier_links", "canonical_orders", "canonical_customers"}


def _run(root: Path, persons=300, days=5, incident=None) -> dict:
    return generate(persons, days, START, 7, root / "landing", root / "truth", incident=incident)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    return root, _run(root, incident="app_checkout:2026-10-02:2026-10-03")


def _digest(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def _rows(path: Path, encoding="utf-8") -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode(encoding))))


def test_same_seed_same_bytes(demo, tmp_path):
    root, _ = demo
    _run(tmp_path, incident="app_checkout:2026-10-02:2026-10-03")
    assert _digest(tmp_path) == _digest(root)


def test_every_table_has_files_and_registry_headers(demo):
    root, summary = demo
    for name, table in TABLES.items():
        if name in SKIP:
            continue
        files = [p for p in (root / "landing" / name).rglob("*") if p.is_file()]
        assert files, name
        assert summary["rows"][name] > 0, name
        for f in files:
            if table.format != "csv" or f.name.startswith(("unsubscribed", "cleaned")):
                continue
            header = next(csv.reader(io.StringIO(f.read_bytes().decode(table.encoding))))
            assert header == list(table.header), f


def test_folders_are_dates_and_ga4_is_nested(demo):
    root, _ = demo
    import json

    for d in (root / "landing").glob("*/*"):
        dt.date.fromisoformat(d.name)
    line = next(p for p in (root / "landing" / "ga4_events").rglob("*.ndjson") if p.stat().st_size)
    ev = json.loads(line.read_text().splitlines()[0])
    assert ev["event_date"] == line.parent.name.replace("-", "") or line.name == f"events_{ev['event_date']}.ndjson"
    assert isinstance(ev["event_timestamp"], str) and ev["event_timestamp"].isdigit()
    keys = {p["key"] for p in ev["event_params"]}
    assert "ga_session_id" in keys and set(ev["event_params"][0]["value"]) >= {"string_value", "int_value"}


def test_square_is_cp1252_not_utf8(demo):
    root, _ = demo
    raw = b"".join(p.read_bytes() for p in (root / "landing" / "square_items").rglob("*.csv"))
    text = raw.decode("cp1252")
    assert re.search("[æøåäöÆØÅÄÖ]", text)
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    rows = _rows(next((root / "landing" / "square_items").rglob("*.csv")), "cp1252")
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", rows[0]["Date"]) and rows[0]["Qty"] in ("1.0", "-1.0")
    assert rows[0]["Gross Sales"].startswith(("$", "($"))


def test_planted_delivery_mess(demo):
    root, _ = demo
    plan = delivery_plan(5)
    land = root / "landing"
    day = lambda i: (START + dt.timedelta(days=i)).isoformat()  # noqa: E731
    # GA4 rewrite: the day table again, bigger, in a later folder
    d, later = next(iter(plan["ga4_rewrites"].items()))
    name = f"events_{(START + dt.timedelta(days=d)):%Y%m%d}.ndjson"
    first, again = land / "ga4_events" / day(d) / name, land / "ga4_events" / day(later) / name
    assert again.exists() and len(again.read_text().splitlines()) > len(first.read_text().splitlines())
    # one Shopify file re-delivered byte for byte the next day
    dup = plan["duplicate_day"]
    copy = land / "shopify_orders" / day(dup + 1) / "orders_export (1).csv"
    assert copy.read_bytes() == (land / "shopify_orders" / day(dup) / "orders_export.csv").read_bytes()
    # one day without a Zendesk folder
    assert not (land / "zendesk_tickets" / day(plan["missing_day"])).exists()
    assert (land / "zendesk_tickets" / day(plan["missing_day"] + 1)).exists()


def test_shopify_continuation_rows_are_blank(demo):
    root, _ = demo
    order_fields = ["Financial Status", "Total", "Created at", "Billing Name", "Id", "Source", "Phone"]
    seen_continuation = False
    for f in (root / "landing" / "shopify_orders").rglob("orders_export.csv"):
        prev = None
        for r in _rows(f):
            if r["Name"] == prev:
                seen_continuation = True
                assert all(r[c] == "" for c in order_fields), r
            else:
                assert r["Created at"] and re.fullmatch(r".* [+-]\d{4}", r["Created at"])
                assert r["Source"] == "web" or r["Source"].isdigit()
            prev = r["Name"]
    assert seen_continuation


def test_truth_is_normalised(demo):
    root, _ = demo
    rows = _rows(root / "truth" / "identifiers.csv")
    types = {r["identifier_type"] for r in rows}
    assert {"email", "phone", "loyalty_id", "ga_client_id", "app_instance_id", "esp_member_id"} <= types
    for r in rows:
        v, t = r["identifier_value"], r["identifier_type"]
        assert v == v.strip() and v
        if t == "email":
            assert v == v.lower() and v != "test@test.com"
        if t == "phone":
            assert re.fullmatch(r"\+45\d{8}|\+46\d{9}", v), v
        if t == "card_fingerprint":
            assert v == v.lower() and v.count(":") == 2
    assert len({(r["identifier_type"], r["identifier_value"], r["person_key"]) for r in rows}) == len(rows)
    inc = _rows(root / "truth" / "incidents.csv")
    assert inc == [{"incident": "app_checkout", "channel": "app", "step": "purchase",
                    "start_date": "2026-10-02", "end_date": "2026-10-03"}]  # fmt: skip


def test_bad_incident_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="app_checkout"):
        _run(tmp_path, persons=10, days=2, incident="nope:2026-10-01:2026-10-02")


def test_ga4_lines_follow_the_export_schema(demo):
    import json

    from orchestration.sources import GA4_EVENT_KEYS

    root, _ = demo
    kinds = ["string_value", "int_value", "float_value", "double_value"]
    lines = purchases = 0
    for f in (root / "landing" / "ga4_events").rglob("*.ndjson"):
        for line in f.read_text(encoding="utf-8").splitlines():
            ev = json.loads(line)
            lines += 1
            assert list(ev) == GA4_EVENT_KEYS
            params = {p["key"]: p["value"] for p in ev["event_params"]}
            assert len(params) == len(ev["event_params"]) and "ga_session_id" in params
            assert all(list(v) == kinds and sum(x is not None for x in v.values()) == 1 for v in params.values())
            assert (ev["app_info"] is None) == (ev["platform"] == "WEB") == (ev["device"]["web_info"] is not None)
            assert (ev["user_properties"] != []) == (ev["user_id"] is not None)
            if ev["event_name"] == "purchase":
                purchases += 1
                assert ev["ecommerce"]["transaction_id"] == params["transaction_id"]["string_value"]
                assert ev["items"] and ev["user_ltv"]["revenue"] == params["value"]["double_value"]
            else:
                assert ev["ecommerce"] is None and ev["user_ltv"] is None
    assert lines and purchases


def test_json_strings_escape_like_the_json_module():
    import json

    import pyarrow as pa

    from orchestration.demo.ndjson import jstr

    values = ["plain", 'a "quote"', "back\\slash", "new\nline\r\t", "ctl\x01\x1f", "æøå/€ Göteborg", "", None]
    expected = ["null" if v is None else json.dumps(v, ensure_ascii=False) for v in values]
    assert jstr(pa.array(values, pa.string())).to_pylist() == expected


def test_time_formats_match_the_calendar():
    from zoneinfo import ZoneInfo

    import numpy as np

    from orchestration.demo.timeutil import fmt_iso_z, fmt_local, fmt_local_pattern, fmt_utc

    rng = np.random.default_rng(3)
    # 1996-2099 (the EU summer-time rule), plus leap days and both 2026 switch instants
    t = np.r_[rng.integers(820_454_400, 4_102_444_800, 3000), 951_782_400, 4_107_456_000 - 86_400,
              1_774_746_000 - 1, 1_774_746_000, 1_792_890_000 - 1, 1_792_890_000]  # fmt: skip
    cph = ZoneInfo("Europe/Copenhagen")
    utc = [dt.datetime.fromtimestamp(int(x), dt.UTC) for x in t]
    local = [dt.datetime.fromtimestamp(int(x), cph) for x in t]
    assert fmt_utc(t).to_pylist() == [d.strftime("%Y-%m-%d %H:%M:%S") for d in utc]
    assert fmt_iso_z(t).to_pylist() == [d.strftime("%Y-%m-%dT%H:%M:%SZ") for d in utc]
    assert fmt_local(t).to_pylist() == [d.strftime("%Y-%m-%d %H:%M:%S %z") for d in local]
    assert fmt_local(t, "T", "iso").to_pylist() == [d.isoformat() for d in local]
    assert fmt_local_pattern(t, "%m/%d/%Y").to_pylist() == [d.strftime("%m/%d/%Y") for d in local]


def test_contact_points_real_exports_carry(demo):
    root, _ = demo
    # a club sign-up needs an e-mail address or a mobile number (the digital member card is sent to it)
    members = [r for p in (root / "landing" / "loyalty_members").rglob("*.csv") for r in _rows(p)]
    assert members and all(r["email"] or r["phone"] for r in members)
    # a help-desk requester can be answered: the e-mail they wrote from or the number they called from
    tickets = [r for p in (root / "landing" / "zendesk_tickets").rglob("*.csv") for r in _rows(p)]
    assert tickets and all(r["Requester email"] or r["Requester phone"] for r in tickets)


def test_square_customer_directory_covers_till_customers(demo):
    root, _ = demo
    links = [r for p in (root / "landing" / "canonical_identifier_links").rglob("square_customers_*.csv")
             for r in _rows(p)]  # fmt: skip
    assert links and {r["source"] for r in links} == {"square_customers"}
    directory = {r["pos_customer_id"] for r in links}
    assert len(directory) == len(links)  # one row per customer in the run
    till = {r["Customer ID"] for p in (root / "landing" / "square_items").rglob("*.csv")
            for r in _rows(p, "cp1252") if r["Customer ID"]}  # fmt: skip
    assert till <= directory
    # some customers were added by name only: not every profile has a contact point
    with_contact = [r for r in links if r["email"] or r["phone"]]
    assert 0 < len(with_contact) < len(links)
    assert all(re.fullmatch(r"\+4[56]\d{8,9}", r["phone"]) for r in links if r["phone"])
