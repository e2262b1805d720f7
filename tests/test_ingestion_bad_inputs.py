"""Every bad delivery ends in the ledger (file-level) or in quarantine (row-level) with its reason."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.config import get_paths
from orchestration.ingestion import ingest_partition

FIXTURES = Path(__file__).parent / "fixtures" / "ingestion"
DAY = dt.date(2024, 3, 1)


def _land(paths, table: str, fixture: str, name: str | None = None, day: dt.date = DAY) -> Path:
    folder = paths.landing / table / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(FIXTURES / fixture, folder / (name or fixture)))


def _ingest_one(table: str, fixture: str) -> tuple[dict, object]:
    paths = get_paths()
    _land(paths, table, fixture)
    (row,) = ingest_partition(table, DAY, paths, run_id="test")
    return row, paths


def _read(paths, kind: str, table: str, sql: str = "SELECT * FROM t ORDER BY _row_number") -> list[dict]:
    con = duckdb.connect()
    try:
        files = str(paths.lake / kind / table / "ingest_date=2*" / "*.parquet")
        con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{files}', union_by_name = true)")
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("shopify_truncated.csv", ["not readable as CSV at line 2", "unterminated quote", "re-export"]),
        ("shopify_semicolon.csv", ["looks like ';'-separated", "comma-separated"]),
        ("shopify_missing_column.csv", ["lineitem_price missing", "the file has 4 column(s): name, email"]),
        ("shopify_renamed_column.csv", ["created_at missing", "'created_at_utc' looks like a renamed 'created_at'"]),
    ],
)
def test_file_level_failures_name_file_cause_and_fix(data_dir, fixture, expected):
    row, paths = _ingest_one("shopify_orders", fixture)
    assert row["status"] == "failed"
    assert row["rows_loaded"] == 0 and row["lake_file"] is None
    assert row["error"].startswith(f"shopify_orders/{DAY}/{fixture}: ")
    assert "Fix:" in row["error"]
    for text in expected:
        assert text in row["error"], row["error"]
    assert not list((paths.raw / "shopify_orders").glob("ingest_date=2*/*.parquet"))


def test_invalid_utf8_names_offset_and_line(data_dir):
    row, _ = _ingest_one("loyalty_members", "loyalty_bad_utf8.csv")
    assert row["status"] == "failed"
    offset = (FIXTURES / "loyalty_bad_utf8.csv").read_bytes().index(b"\xf6")
    assert f"byte f6 at byte offset {offset} (line 3) is not valid utf-8" in row["error"]
    assert "iconv" in row["error"]


def test_empty_file_is_recorded(data_dir):
    paths = get_paths()
    folder = paths.landing / "loyalty_members" / DAY.isoformat()
    folder.mkdir(parents=True)
    (folder / "members.csv").write_bytes(b"")
    (row,) = ingest_partition("loyalty_members", DAY, paths)
    assert row["status"] == "empty" and row["file_bytes"] == 0 and "empty" in row["error"]


def test_header_only_file_loads_zero_rows(data_dir):
    row, paths = _ingest_one("loyalty_members", "loyalty_header_only.csv")
    assert (row["status"], row["rows_read"], row["rows_loaded"]) == ("loaded", 0, 0)
    assert (paths.lake / row["lake_file"]).exists()


def test_shopify_rows_checked_and_nothing_lost(data_dir):
    row, paths = _ingest_one("shopify_orders", "shopify_orders.csv")
    assert row["status"] == "loaded"
    assert (row["rows_read"], row["rows_loaded"], row["rows_quarantined"]) == (5, 2, 3)
    loaded = _read(paths, "raw", "shopify_orders")
    # Continuation row of #1001 (blank order fields) is kept; the extra column is kept; BOM is not in names.
    assert [r["_row_number"] for r in loaded] == [1, 2]
    assert loaded[1]["name"] == "#1001" and loaded[1]["created_at"] is None
    assert loaded[0]["custom_field"] == "gift" and loaded[0]["notes"] == "Leave at the door,\r\nplease"
    assert loaded[0]["total"] == "$1,149.00 "
    bad = {r["_row_number"]: r["_reason"] for r in _read(paths, "quarantine", "shopify_orders")}
    assert bad[3] == (
        "future_timestamp: created_at 2099-01-01 00:00:00 +0000 is after landing day + 2 days (2024-03-03)"
    )
    assert bad[4] == "negative_quantity: lineitem_quantity -2 is below 0"
    assert bad[5] == "missing_value: created_at is blank on the first row of its order"


def test_shopify_order_whose_first_row_is_quarantined_keeps_its_rows_together(data_dir):
    """A continuation row alone would be an order without time, e-mail or total in staging."""
    paths = get_paths()
    header = "Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,Lineitem price,Total\n"
    rows = (
        "#1001,ann@example.com,paid,2024-03-01 10:00:00 +0100,2,Mug,$8.00,USD 30.00\n"  # bad money
        "#1001,,,,1,Plate,12.50,\n"
        "#1001,,,,1,Bowl,9.50,\n"
        "#1002,bob@example.com,paid,2024-03-01 11:00:00 +0100,1,Jug,4.00,4.00\n"
        "#1002,,,,1,Cup,5.00,\n"
    )
    _land_text(paths, "shopify_orders", "orders.csv", header + rows)
    (row,) = ingest_partition("shopify_orders", DAY, paths)
    assert (row["status"], row["rows_read"], row["rows_loaded"], row["rows_quarantined"]) == ("loaded", 5, 2, 3)
    assert [(r["name"], r["lineitem_name"]) for r in _read(paths, "raw", "shopify_orders")] == [
        ("#1002", "Jug"),
        ("#1002", "Cup"),
    ]
    bad = {r["_row_number"]: r["_reason"] for r in _read(paths, "quarantine", "shopify_orders")}
    assert bad[1].startswith("bad_money: total 'USD 30.00'")
    assert (
        bad[2]
        == bad[3]
        == ("order_incomplete: the first row of order #1001 was quarantined or malformed; its rows are kept together")
    )


def test_square_cp1252_refunds_and_money(data_dir):
    row, paths = _ingest_one("square_items", "square_items.csv")
    assert row["status"] == "loaded", row["error"]
    assert (row["rows_read"], row["rows_loaded"], row["rows_quarantined"]) == (4, 2, 2)
    loaded = _read(paths, "raw", "square_items")
    assert loaded[0]["category"] == "Café" and loaded[0]["item"] == "Crème brûlée"
    assert loaded[1]["qty"] == "-1.0" and loaded[1]["event_type"] == "Refund"  # refunds may be negative
    bad = {r["_row_number"]: r["_reason"] for r in _read(paths, "quarantine", "square_items")}
    assert bad[3] == "negative_quantity: qty -2.0 is below 0"
    assert bad[4].startswith("bad_timestamp: date '13/45/2018 25:07:00' is not MM/DD/YYYY HH:MM:SS")


def test_square_utf8_file_with_bom_is_read_as_utf8(data_dir):
    # Square's table is declared cp1252, but a file that starts with the UTF-8 BOM (Excel's "CSV UTF-8") is
    # UTF-8: read as cp1252 it loaded "CafÃ© crÃ¨me".
    paths = get_paths()
    _land(paths, "square_items", "square_items.csv")  # a real cp1252 file loads as before
    lines = (FIXTURES / "square_items.csv").read_bytes().decode("cp1252").splitlines()
    text = "\r\n".join([lines[0] + ",Customer Name", lines[1] + ",Zoë Müller", lines[2] + ",Łukasz ☕"]) + "\r\n"
    (paths.landing / "square_items" / DAY.isoformat() / "items_utf8.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    rows = {r["source_file"].rsplit("/", 1)[1]: r for r in ingest_partition("square_items", DAY, paths)}
    counts = {name: (r["status"], r["rows_read"], r["rows_loaded"], r["rows_quarantined"]) for name, r in rows.items()}
    assert counts == {"square_items.csv": ("loaded", 4, 2, 2), "items_utf8.csv": ("loaded", 2, 2, 0)}
    loaded = _read(paths, "raw", "square_items", "SELECT * FROM t ORDER BY _source_file, _row_number")
    assert [(r["category"], r["item"], r["location"], r["customer_name"]) for r in loaded] == [
        ("Café", "Crème brûlée", "Montréal", "Zoë Müller"),
        ("Café", "Espresso €", "Montréal", "Łukasz ☕"),
        ("Café", "Crème brûlée", "Montréal", None),
        ("Café", "Espresso €", "Montréal", None),
    ]
    assert "date" in loaded[0]  # the BOM is not part of the first column's name


def test_loyalty_times_need_an_offset_and_a_plausible_year(data_dir):
    row, paths = _ingest_one("loyalty_members", "loyalty_members.csv")
    assert (row["rows_loaded"], row["rows_quarantined"]) == (2, 2)
    bad, ancient = _read(paths, "quarantine", "loyalty_members")
    assert bad["member_id"] == "M3" and bad["_reason"].startswith("bad_timestamp: updated_at '2024-03-01 11:00:00'")
    # the daily models read 1900-01-01 as "a person's whole history": nothing earlier may load
    assert ancient["member_id"] == "M4"
    assert ancient["_reason"].startswith("ancient_timestamp: updated_at 1899-12-31T23:59:59Z is before 1900-01-01")


def test_delighted_json_lines(data_dir):
    row, paths = _ingest_one("delighted_responses", "delighted_responses.ndjson")
    assert (row["rows_read"], row["rows_loaded"], row["rows_quarantined"]) == (3, 1, 2)
    (good,) = _read(paths, "raw", "delighted_responses")
    assert good["person"] == '{"id":"p1","email":"ann@example.com","name":"Ann"}'
    assert good["score"] == "9" and good["tags"] == '["a","b"]' and good["comment"] == "great"
    bad = {r["_row_number"]: r for r in _read(paths, "quarantine", "delighted_responses")}
    assert bad[2]["_reason"] == "bad_score: score '11' is not an integer 0-10"
    assert bad[3]["_reason"].startswith("future_timestamp: created_at 4070908800 is after landing day")
    assert bad[3]["new_key"] == "kept"  # unknown keys are kept


def test_canonical_table_accepts_json_lines(data_dir):
    row, paths = _ingest_one("canonical_events", "canonical_events.jsonl")
    assert (row["rows_loaded"], row["rows_quarantined"]) == (1, 1)
    (good,) = _read(paths, "raw", "canonical_events")
    assert good["properties"] == '{"path":"/a"}'


def test_metadata_columns_on_every_row(data_dir):
    row, paths = _ingest_one("shopify_orders", "shopify_orders.csv")
    meta = _read(
        paths, "raw", "shopify_orders",
        "SELECT DISTINCT _file_sha256, _source_file, _landing_date, typeof(_ingested_at) AS t FROM t",
    )  # fmt: skip
    assert meta == [
        {
            "_file_sha256": row["file_sha256"],
            "_source_file": f"shopify_orders/{DAY}/shopify_orders.csv",
            "_landing_date": DAY,
            "t": "TIMESTAMP WITH TIME ZONE",
        }
    ]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ('{"id":"r1","score":9,"created_at":1709287200}\n' + '{"id":"r2","score":\n' * 3, "not readable as JSON lines"),
        (
            '{"id":"r1","score":9,"created_at":1709287200}\n' + "[1,2]\n" * 3,
            "JSON line 2 is a ARRAY, not an object; 3 of 4 line(s) are malformed",
        ),
        ('{"id":"r1","score":9}\n', "required column(s) created_at missing"),
    ],
)
def test_broken_json_lines_fail_whole(data_dir, lines, expected):
    # Three bad lines of four: over MAX_MALFORMED_SHARE and MIN_MALFORMED_LINES_TO_REJECT, the file is
    # rejected, not quarantined line by line.
    paths = get_paths()
    folder = paths.landing / "delighted_responses" / DAY.isoformat()
    folder.mkdir(parents=True)
    (folder / "responses.jsonl").write_text(lines, encoding="utf-8")
    (row,) = ingest_partition("delighted_responses", DAY, paths)
    assert row["status"] == "failed" and expected in row["error"], row["error"]
    assert "delighted_responses/2024-03-01/responses.jsonl" in row["error"] and "Fix:" in row["error"]


def test_money_shapes(data_dir):
    paths = get_paths()
    folder = paths.landing / "canonical_orders" / DAY.isoformat()
    folder.mkdir(parents=True)
    good = ["$8.00", "$1,149.00 ", "($33.62)", "-$3.00", "525.33", "1.234,50", "12,50", "1,234", "€ 9"]
    bad = ["EUR 12", "12.34.56,7,8", "abc", "$", "1..2"]
    rows = [f'o{i},2024-03-01T10:00:00Z,web,"{v}"' for i, v in enumerate(good + bad)]
    (folder / "orders.csv").write_text("order_id,ordered_at,channel,total\n" + "\n".join(rows) + "\n")
    (row,) = ingest_partition("canonical_orders", DAY, paths)
    assert (row["rows_loaded"], row["rows_quarantined"]) == (len(good), len(bad))
    reasons = [r["_reason"] for r in _read(paths, "quarantine", "canonical_orders")]
    assert reasons == [f"bad_money: total '{v}' is not an amount" for v in bad]


def _land_gzip(paths, table: str, fixture: str, name: str, data: bytes | None = None) -> Path:
    folder = paths.landing / table / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    target.write_bytes(gzip.compress(data if data is not None else (FIXTURES / fixture).read_bytes()))
    return target


@pytest.mark.parametrize(
    ("table", "fixture", "name", "counts"),
    [
        ("shopify_orders", "shopify_orders.csv", "orders.csv.gz", (5, 2, 3)),
        ("square_items", "square_items.csv", "items.csv.gz", (4, 2, 2)),  # cp1252 inside gzip
        ("delighted_responses", "delighted_responses.ndjson", "responses.ndjson.gz", (3, 1, 2)),
        ("shopify_orders", "shopify_orders.csv", "orders_no_gz_suffix.csv", (5, 2, 3)),  # found by magic bytes
    ],
)
def test_gzip_deliveries_load_like_plain_files(data_dir, table, fixture, name, counts):
    paths = get_paths()
    _land_gzip(paths, table, fixture, name)
    (row,) = ingest_partition(table, DAY, paths, run_id="test")
    assert row["status"] == "loaded", row["error"]
    assert (row["rows_read"], row["rows_loaded"], row["rows_quarantined"]) == counts
    assert row["file_bytes"] == (paths.landing / table / DAY.isoformat() / name).stat().st_size
    assert len(_read(paths, "raw", table)) == counts[1]


def test_same_export_plain_and_gzipped_is_one_delivery(data_dir):
    paths = get_paths()
    _land(paths, "shopify_orders", "shopify_orders.csv")
    _land_gzip(paths, "shopify_orders", "shopify_orders.csv", "shopify_orders_again.csv.gz")
    rows = sorted(ingest_partition("shopify_orders", DAY, paths), key=lambda r: r["source_file"])
    assert [r["status"] for r in rows] == ["loaded", "duplicate"]
    assert rows[0]["file_sha256"] == rows[1]["file_sha256"]
    assert len(_read(paths, "raw", "shopify_orders")) == 2


def test_truncated_gzip_fails_whole_with_cause_and_fix(data_dir):
    paths = get_paths()
    whole = gzip.compress((FIXTURES / "shopify_orders.csv").read_bytes())
    target = _land_gzip(paths, "shopify_orders", "shopify_orders.csv", "orders.csv.gz")
    target.write_bytes(whole[: len(whole) // 2])
    (row,) = ingest_partition("shopify_orders", DAY, paths)
    assert row["status"] == "failed" and row["rows_loaded"] == 0 and row["lake_file"] is None
    assert row["error"].startswith(f"shopify_orders/{DAY}/orders.csv.gz: the gzip stream of orders.csv.gz is broken")
    assert "gzip -t" in row["error"]
    assert not list((paths.raw / "shopify_orders").glob("ingest_date=2*/*.parquet"))


def test_invalid_utf8_inside_gzip_names_offset_and_line(data_dir):
    paths = get_paths()
    _land_gzip(paths, "loyalty_members", "loyalty_bad_utf8.csv", "members.csv.gz")
    (row,) = ingest_partition("loyalty_members", DAY, paths)
    assert row["status"] == "failed"
    offset = (FIXTURES / "loyalty_bad_utf8.csv").read_bytes().index(b"\xf6")
    assert f"byte f6 at byte offset {offset} (line 3) is not valid utf-8" in row["error"]


# --- Malformed CSV rows: quarantined one by one unless the file is evidently not the format ---------------

LOYALTY_HEADER = "member_id,updated_at,joined_at,email,phone,first_name,last_name"


def _member(i: int, last: str = "") -> str:
    return f"M{i:02d},2024-03-01T10:00:00Z,,m{i}@example.com,,First{i},{last or f'Last{i}'}"


def _land_text(paths, table: str, name: str, text: str) -> None:
    folder = paths.landing / table / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(text.encode("utf-8"))


def test_malformed_rows_are_quarantined_with_line_raw_text_and_reason(data_dir):
    # CRLF file; row M03's quoted first name spans lines 4-5, so M06 is on line 8 but is data row 6.
    row, paths = _ingest_one("loyalty_members", "loyalty_malformed_rows.csv")
    assert row["status"] == "loaded", row["error"]
    assert (row["rows_read"], row["rows_loaded"], row["rows_quarantined"]) == (22, 19, 3)
    bad = {r["_row_number"]: r for r in _read(paths, "quarantine", "loyalty_members")}
    assert sorted(bad) == [6, 12, 15]
    assert bad[6]["_reason"] == (
        "malformed_row: line 8 has 9 field(s), the header has 7: re-export the file or fix the quoting of "
        "that line (a quote inside a quoted value is written twice)"
    )
    assert bad[6]["_raw_line"] == "M06,2024-03-01T10:00:00Z,,m6@example.com,,Bo,Li,extra,more"
    assert bad[6]["member_id"] is None  # a malformed row has no reliable columns: only its raw text
    assert bad[12]["_reason"].startswith("malformed_row: line 14 has 4 field(s), the header has 7")
    assert bad[12]["_raw_line"] == "M12,2024-03-01T10:00:00Z,,m12@example.com"
    # A row check still quarantines by column, numbered past the malformed rows before it.
    assert bad[15]["member_id"] == "M15" and bad[15]["_reason"].startswith("bad_timestamp: updated_at")
    assert bad[15]["_raw_line"] is None
    loaded = _read(paths, "raw", "loyalty_members")
    assert [r["_row_number"] for r in loaded] == [n for n in range(1, 23) if n not in (6, 12, 15)]
    assert all(r["member_id"] == f"M{r['_row_number']:02d}" for r in loaded)
    assert loaded[2]["first_name"] == "Ann\nMarie"
    # The ledger's counts are the sum of both files.
    assert len(loaded) == row["rows_loaded"] and len(bad) == row["rows_quarantined"]


def test_unclosed_quote_rows_are_quarantined(data_dir):
    paths = get_paths()
    rows = [_member(i) for i in range(1, 41)]
    rows[4] = _member(5, last='"Lee" Jr')  # text after the closing quote
    rows[19] = _member(20, last='"Lee')  # quote closes on the next quoted value, two lines further down
    rows[21] = _member(22, last='"Kim"')
    _land_text(paths, "loyalty_members", "members.csv", LOYALTY_HEADER + "\n" + "\n".join(rows) + "\n")
    (row,) = ingest_partition("loyalty_members", DAY, paths)
    assert row["status"] == "loaded", row["error"]
    # M20 swallows M21 and M22 into one malformed row: 40 lines read as 38 rows, nothing lost.
    assert (row["rows_read"], row["rows_loaded"], row["rows_quarantined"]) == (38, 36, 2)
    bad = {r["_row_number"]: r for r in _read(paths, "quarantine", "loyalty_members")}
    assert bad[5]["_reason"].startswith("malformed_row: line 6 has an unterminated quote")
    assert bad[5]["_raw_line"] == rows[4]
    assert bad[20]["_reason"].startswith(
        "malformed_row: line 21 opens a quote that is not closed where its value ends: the row runs over 3 lines"
    )
    assert bad[20]["_raw_line"] == "\n".join(rows[19:22])
    loaded = _read(paths, "raw", "loyalty_members")
    assert [r["member_id"] for r in loaded][17:19] == ["M19", "M23"]
    assert [r["_row_number"] for r in loaded][17:19] == [19, 21]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # Every row malformed: a semicolon-separated body under a comma header.
        ([f"M{i};2024-03-01T10:00:00Z;;m{i}@example.com;;A;B" for i in range(30)],
         ["not readable as CSV at line 2: it has 1 field(s), the header has 7; 30 of 30 data line(s)",
          "more than the 10%"]),
        # Just over the share: 4 malformed lines of 30.
        ([_member(i) if i % 7 else _member(i) + ",x" for i in range(1, 31)],
         ["at line 8: it has 8 field(s), the header has 7; 4 of 30 data line(s)"]),
        # A quote that is never closed swallows the rest of the file, even near its end.
        ([_member(i) for i in range(1, 40)] + [_member(40, last='"Lee'), _member(41), _member(42)],
         ["not readable as CSV at line 41: unterminated quote: the quote opened there is never closed, so "
          "the remaining 3 lines of the file read as one value"]),
    ],
)  # fmt: skip
def test_file_evidently_not_the_format_is_rejected_whole(data_dir, rows, expected):
    paths = get_paths()
    _land_text(paths, "loyalty_members", "members.csv", LOYALTY_HEADER + "\n" + "\n".join(rows) + "\n")
    (row,) = ingest_partition("loyalty_members", DAY, paths)
    assert row["status"] == "failed" and row["rows_loaded"] == 0 and row["lake_file"] is None
    for text in expected:
        assert text in row["error"], row["error"]
    assert "Fix: re-export the complete file" in row["error"]
    assert not [p for k in ("raw", "quarantine") for p in (paths.lake / k).glob("loyalty_members/ingest_date=2*/*")]
    assert (paths.landing / "loyalty_members" / DAY.isoformat() / "members.csv").exists()


@pytest.mark.parametrize("bad_lines", [1, 2])
def test_small_file_keeps_its_good_rows(data_dir, bad_lines):
    # 1 or 2 bad lines of 5 are 20 to 40%, but under MIN_MALFORMED_LINES_TO_REJECT: quarantined one by one
    paths = get_paths()
    rows = [_member(i) + (",x" if i <= bad_lines else "") for i in range(1, 6)]
    _land_text(paths, "loyalty_members", "members.csv", LOYALTY_HEADER + "\n" + "\n".join(rows) + "\n")
    (row,) = ingest_partition("loyalty_members", DAY, paths)
    assert (row["status"], row["rows_loaded"], row["rows_quarantined"]) == ("loaded", 5 - bad_lines, bad_lines)
    assert [r["_raw_line"] for r in _read(paths, "quarantine", "loyalty_members")] == rows[:bad_lines]
    # ... and JSON lines the same way
    lines = ["[1,2]"] * bad_lines + [_response(i) for i in range(bad_lines, 5)]
    _land_text(paths, "delighted_responses", "r.jsonl", "\n".join(lines) + "\n")
    (row,) = ingest_partition("delighted_responses", DAY, paths)
    assert (row["status"], row["rows_loaded"], row["rows_quarantined"]) == ("loaded", 5 - bad_lines, bad_lines)


def test_malformed_share_at_the_limit_still_loads(data_dir):
    paths = get_paths()
    rows = [_member(i) if i % 10 else _member(i) + ",x" for i in range(1, 31)]  # 3 of 30 lines: 10%
    _land_text(paths, "loyalty_members", "members.csv", LOYALTY_HEADER + "\n" + "\n".join(rows))  # no final newline
    (row,) = ingest_partition("loyalty_members", DAY, paths)
    assert (row["status"], row["rows_loaded"], row["rows_quarantined"]) == ("loaded", 27, 3), row["error"]
    bad = _read(paths, "quarantine", "loyalty_members")
    assert [r["_row_number"] for r in bad] == [10, 20, 30]
    assert bad[-1]["_raw_line"] == _member(30) + ",x"


def test_duplicated_documented_column_rejects_the_file(data_dir):
    paths = get_paths()
    header = "member_id,Email,updated_at, email ,joined_at"  # compared like the header match: snake_case
    _land_text(paths, "loyalty_members", "members.csv", header + "\nM1,a@x.com,2024-03-01T10:00:00Z,b@x.com,\n")
    (row,) = ingest_partition("loyalty_members", DAY, paths)
    assert row["status"] == "failed" and row["lake_file"] is None
    assert row["error"] == (
        f"loyalty_members/{DAY}/members.csv: the documented column 'email' appears twice, at positions 2 and 4 "
        "('Email' and ' email '). Fix: export the file with one 'Email' column (remove or rename the other) "
        "and land it again"
    )


def test_duplicated_unknown_column_is_kept_renamed(data_dir):
    paths = get_paths()
    header = "member_id,updated_at,note,note,note_2"
    _land_text(paths, "loyalty_members", "members.csv", header + "\nM1,2024-03-01T10:00:00Z,a,b,c\n")
    (row,) = ingest_partition("loyalty_members", DAY, paths)
    assert (row["status"], row["rows_loaded"]) == ("loaded", 1), row["error"]
    (loaded,) = _read(paths, "raw", "loyalty_members")
    # The second `note` gets a suffix no other column of the file has.
    assert (loaded["note"], loaded["note_3"], loaded["note_2"]) == ("a", "b", "c")


def test_duplicated_documented_json_key_rejects_the_file(data_dir):
    paths = get_paths()
    _land_text(paths, "delighted_responses", "r.jsonl", '{"id":"r1","score":9,"created_at":1709287200,"Score":8}\n')
    (row,) = ingest_partition("delighted_responses", DAY, paths)
    assert row["status"] == "failed"
    assert "the documented key 'score' appears twice, at keys 'score' and 'Score'" in row["error"], row["error"]


def _response(i: int) -> str:
    return f'{{"id":"r{i}","score":{i % 11},"created_at":1709287200}}'


def test_malformed_json_lines_are_quarantined(data_dir):
    paths = get_paths()
    lines = [_response(i) for i in range(1, 21)]
    lines[6] = '{"id":"r7","score":'  # cut off: line 7
    lines[12] = "[1,2]"  # not an object: line 14 once the blank line is in
    text = "\n".join(lines[:10]) + "\n\n" + "\n".join(lines[10:]) + "\n"  # a blank line after line 10
    _land_text(paths, "delighted_responses", "responses.jsonl", text)
    (row,) = ingest_partition("delighted_responses", DAY, paths)
    assert (row["status"], row["rows_read"], row["rows_loaded"], row["rows_quarantined"]) == ("loaded", 20, 18, 2)
    bad = {r["_row_number"]: r for r in _read(paths, "quarantine", "delighted_responses")}
    assert sorted(bad) == [7, 13]
    assert bad[7]["_reason"].startswith("malformed_row: line 7 is not valid JSON (Expecting value at column 20)")
    assert bad[7]["_raw_line"] == '{"id":"r7","score":' and bad[7]["id"] is None
    assert bad[13]["_reason"] == (
        "malformed_row: line 14 is a ARRAY, not an object: re-export the file (one JSON object per line) or "
        "fix that line"
    )
    loaded = _read(paths, "raw", "delighted_responses")
    assert [r["id"] for r in loaded] == [f"r{i}" for i in range(1, 21) if i not in (7, 13)]
    assert [r["_row_number"] for r in loaded] == [i for i in range(1, 21) if i not in (7, 13)]


def test_invalid_utf8_in_json_lines_still_fails_whole(data_dir):
    paths = get_paths()
    folder = paths.landing / "delighted_responses" / DAY.isoformat()
    folder.mkdir(parents=True)
    body = ("\n".join(_response(i) for i in range(1, 20)) + "\n").encode() + b'{"id":"r\xf6","score":1}\n'
    (folder / "responses.jsonl").write_bytes(body)
    (row,) = ingest_partition("delighted_responses", DAY, paths)
    assert row["status"] == "failed"
    offset = body.index(b"\xf6")
    assert f"byte f6 at byte offset {offset} (line 20) is not valid utf-8" in row["error"], row["error"]


# --- Export columns that share a name with DuckDB's hidden row id ----------------------------------------

EVENTS_HEADER = "event_id,occurred_at,activity,channel"


def test_export_column_named_rowid_is_kept_as_data(data_dir):
    # DuckDB tables have a hidden `rowid`; an export column of that name used to hide it (BinderException).
    paths = get_paths()
    good = "2024-03-01T10:00:00Z,page_view,web"
    csv_rows = [f"e1,{good},7", "e2,not a time,page_view,web,7", f"e3,{good},1,extra", f"e4,{good},x"]
    _land_text(paths, "canonical_events", "a.csv", EVENTS_HEADER + ",RowID\n" + "\n".join(csv_rows) + "\n")
    key = '{"event_id":"j1","occurred_at":"2024-03-01T10:00:00Z","activity":"page_view","channel":"web","rowid":5}'
    _land_text(paths, "canonical_events", "b.jsonl", key + "\n")
    _land_text(paths, "canonical_events", "c.csv", f"{EVENTS_HEADER}\ne5,{good}\n")  # the folder's other file
    rows = {r["source_file"].rsplit("/", 1)[1]: r for r in ingest_partition("canonical_events", DAY, paths)}
    counts = {name: (r["status"], r["rows_read"], r["rows_loaded"], r["rows_quarantined"]) for name, r in rows.items()}
    assert counts == {
        "a.csv": ("loaded", 4, 2, 2), "b.jsonl": ("loaded", 1, 1, 0), "c.csv": ("loaded", 1, 1, 0),
    }, rows  # fmt: skip
    loaded = _read(paths, "raw", "canonical_events", "SELECT * FROM t ORDER BY _source_file, _row_number")
    assert [(r["event_id"], r["rowid"], r["_row_number"]) for r in loaded] == [
        ("e1", "7", 1), ("e4", "x", 4), ("j1", "5", 1), ("e5", None, 1),
    ]  # fmt: skip
    assert "__rowid" not in loaded[0]
    bad = _read(paths, "quarantine", "canonical_events")
    assert [(r["event_id"], r["rowid"], r["_row_number"]) for r in bad] == [("e2", "7", 2), (None, None, 3)]
    assert bad[0]["_reason"].startswith("bad_timestamp: occurred_at") and bad[1]["_raw_line"] == csv_rows[2]
    # Shopify's first-row-of-an-order check numbers rows too.
    orders = list(csv.reader(io.StringIO((FIXTURES / "shopify_orders.csv").read_text(encoding="utf-8-sig"))))
    out = io.StringIO()
    csv.writer(out).writerows([orders[0] + ["ROWID"]] + [r + ["9"] for r in orders[1:]])
    _land_text(paths, "shopify_orders", "orders.csv", out.getvalue())
    (row,) = ingest_partition("shopify_orders", DAY, paths)
    assert (row["status"], row["rows_read"], row["rows_loaded"], row["rows_quarantined"]) == ("loaded", 5, 2, 3)


def test_checks_accept_what_staging_reads_and_only_that(data_dir):
    """An offset after a space is read by staging (strptime %z): it is loaded, not quarantined. Money that
    staging would read wrongly or not at all (an unbalanced parenthesis, mixed grouping) is quarantined."""
    paths = get_paths()
    members = [
        "M01,2024-03-01 10:15:00 +01:00,,m1@example.com,,A,B",
        "M02,2024-03-01T10:15:00 Z,,m2@example.com,,A,B",  # neither reader takes a space before Z
    ]
    _land_text(paths, "loyalty_members", "members.csv", "\n".join([LOYALTY_HEADER, *members]) + "\n")
    (row,) = ingest_partition("loyalty_members", DAY, paths)
    assert (row["rows_loaded"], row["rows_quarantined"]) == (1, 1)
    assert [r["member_id"] for r in _read(paths, "raw", "loyalty_members")] == ["M01"]
    orders = "order_id,ordered_at,channel,customer_id,email,total,currency\n" + "".join(
        f"O{i},2024-03-01T10:00:00Z,web,C{i},c{i}@example.com,{total},EUR\n"
        for i, total in enumerate(['"(3.00)"', '"(3.00"', '"3.00)"', "-3.00", "1.234.5", '"1.234,567"', "1.234.567"])
    )
    _land_text(paths, "canonical_orders", "orders.csv", orders)
    (row,) = ingest_partition("canonical_orders", DAY, paths)
    assert row["status"] == "loaded", row["error"]
    bad = {r["_row_number"]: r["_reason"] for r in _read(paths, "quarantine", "canonical_orders")}
    # (1.234.5 is null in staging, 1.234,567 would be 1.23; 1.234.567 is read as 1234567)
    assert sorted(bad) == [2, 3, 5, 6] and all(r.startswith("bad_money: total") for r in bad.values())


def test_an_export_column_named_like_the_lake_partition_key_keeps_its_values(data_dir):
    """dbt reads the lake with hive partitioning: a column `ingest_date` would show the folder's date."""
    paths = get_paths()
    _land_text(paths, "loyalty_members", "members.csv", f"{LOYALTY_HEADER},Ingest Date\n{_member(1)},2023-01-01\n")
    (row,) = ingest_partition("loyalty_members", DAY, paths)
    assert row["status"] == "loaded", row["error"]
    lake = f"{paths.raw}/loyalty_members/*/*.parquet"
    values = duckdb.sql(
        f"select ingest_date, export_ingest_date from read_parquet('{lake}', hive_partitioning=true, "
        "union_by_name=true) where member_id = 'M01'"
    ).fetchall()
    assert values == [(DAY, "2023-01-01")]
