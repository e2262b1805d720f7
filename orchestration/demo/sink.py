"""Collects each day's rows per table and writes the landing files as the tools deliver them.

Also plants the delivery mess: GA4 day tables rewritten 1-3 days later with late events, one
re-delivered identical Shopify file, one day without a Zendesk folder (its rows come the day after).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.demo.ga4_json import ga4_lines, item_lists
from orchestration.demo.ndjson import write_lines
from orchestration.sources import TABLES

# table -> file name pattern for the day (str.format with d = the landing date)
DAILY_FILES = {
    "shopify_orders": "orders_export.csv",
    "mailchimp_activity": "email_activity_{d:%Y%m%d}.csv",
    "square_items": "items-{d:%Y-%m-%d}-{n:%Y-%m-%d}.csv",
    "loyalty_members": "members_{d:%Y%m%d}.csv",
    "zendesk_tickets": "tickets-{d:%Y-%m-%d}.csv",
    "delighted_responses": "responses_{d:%Y%m%d}.jsonl",
    "canonical_events": "push_events_{d:%Y%m%d}.csv",
    "canonical_identifier_links": "webshop_accounts_{d:%Y%m%d}.csv",
}
GA4_CHUNK_ROWS = 32_000  # events rendered at a time: bounds memory (a GA4 line is about 2 KB)


class _Atomic:
    """A binary file written under a temporary name and moved into place when complete."""

    def __init__(self, target: Path):
        self.target = target
        self.tmp = target.with_name(f".{target.name}.tmp")

    def __enter__(self):
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.f = open(self.tmp, "wb")  # noqa: SIM115 - closed in __exit__
        return self.f

    def __exit__(self, exc_type, exc, tb) -> None:
        self.f.close()
        if exc_type is None:
            os.replace(self.tmp, self.target)
        else:
            self.tmp.unlink(missing_ok=True)


class Sink:
    def __init__(self, landing: Path, start: dt.date, days: int, plan: dict):
        self.landing, self.start, self.days, self.plan = landing, start, days, plan
        self.batches: dict[tuple[str, int, str], list[pa.Table]] = defaultdict(list)
        self.ga4: dict[int, list[tuple[pa.Table, pa.Table, pa.Table]]] = defaultdict(list)
        self.rows: dict[str, int] = defaultdict(int)
        self.files = 0
        self.con = duckdb.connect()
        self.con.execute("SET preserve_insertion_order = true")
        self.con.execute("SET threads = 1")  # small writes: extra threads only add contention on shared cores

    def close(self) -> None:
        self.con.close()

    def date(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=day)

    def folder(self, table: str, day: int) -> Path:
        return self.landing / table / self.date(day).isoformat()

    def add(self, table: str, day: int, batch: pa.Table, file: str | None = None) -> None:
        if day >= self.days or batch.num_rows == 0:
            return
        if table == "zendesk_tickets" and day == self.plan.get("missing_day"):
            day += 1  # the export job failed that day; the next run caught up
        name = file or DAILY_FILES[table].format(d=self.date(day), n=self.date(day + 1))
        self.batches[(table, day, name)].append(batch)

    def add_empty(self, table: str, day: int, columns: list[str], file: str) -> None:
        """A file the tool delivers even without rows (header only)."""
        if day < self.days:
            self.batches.setdefault((table, day, file), []).append(
                pa.table({c: pa.array([], pa.string()) for c in columns + ["_t", "_k"]})
            )

    def add_ga4(self, day: int, events: pa.Table, sessions: pa.Table, items: pa.Table) -> None:
        """Events (`sess` = row in sessions) and their items; see ga4_json for the columns."""
        if day < self.days and events.num_rows:
            self.ga4[day].append((events, sessions, items))

    # -- writing -------------------------------------------------------------------------------
    def flush(self, day: int) -> None:
        self._flush_ga4(day)
        for table, pattern in DAILY_FILES.items():
            if table == "zendesk_tickets" and day == self.plan.get("missing_day"):
                continue
            name = pattern.format(d=self.date(day), n=self.date(day + 1))
            self.batches.setdefault((table, day, name), [])  # scheduled exports write empty files too
        for key in sorted(k for k in self.batches if k[1] == day):
            table, _, name = key
            data = self._combine(self.batches.pop(key), TABLES[table].header, name)
            target = self.folder(table, day) / name
            if table == "delighted_responses":
                self._write_delighted(data, target)
            else:
                self.write_csv(data, target, TABLES[table].encoding)
            self.rows[table] += data.num_rows
        dup = self.plan.get("duplicate_day")
        if dup is not None and day == dup and day + 1 < self.days:
            src = self.folder("shopify_orders", day) / "orders_export.csv"
            dst = self.folder("shopify_orders", day + 1) / "orders_export (1).csv"
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            self.files += 1

    @staticmethod
    def _combine(batches: list[pa.Table], header: tuple[str, ...], name: str) -> pa.Table:
        if not batches:
            return pa.table({c: pa.array([], pa.string()) for c in header})
        t = pa.concat_tables(batches, promote_options="permissive")
        t = t.sort_by([("_t", "ascending"), ("_k", "ascending")])
        cols = [c for c in t.column_names if not c.startswith("_")]
        if name.startswith(("unsubscribed", "cleaned", "responses")):
            return t.select(cols)  # extra columns (Mailchimp) or nested fields (Delighted) set by the writer
        null = pa.nulls(t.num_rows, pa.string())
        return pa.table({c: t.column(c) if c in cols else null for c in header})

    def write_csv(self, table: pa.Table, target: Path, encoding: str = "utf-8") -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        self.con.register("out_tbl", table)
        try:
            self.con.execute(f"COPY out_tbl TO '{tmp}' (FORMAT csv, HEADER true, DELIMITER ',')")
        finally:
            self.con.unregister("out_tbl")
        if table.num_rows == 0:  # DuckDB writes nothing for zero rows: an export still has its header
            tmp.write_text(_header_line(table.column_names) + "\n", encoding="utf-8")
        if encoding.lower() not in ("utf-8", "utf8"):
            tmp.write_bytes(tmp.read_bytes().decode("utf-8").encode(encoding))
        os.replace(tmp, target)
        self.files += 1

    def _copy_json(self, sql: str, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        self.con.execute(f"COPY ({sql}) TO '{tmp}' (FORMAT json)")
        if not tmp.exists():
            tmp.write_bytes(b"")
        os.replace(tmp, target)
        self.files += 1

    def _flush_ga4(self, day: int) -> None:
        parts = self.ga4.pop(day, [])
        if not parts:
            return
        shift = 0
        events, sessions = [], []
        for e, sess, _ in parts:  # session rows are numbered across the day's parts
            events.append(e.set_column(e.schema.get_field_index("sess"), "sess", pc.add(e.column("sess"), shift)))
            sessions.append(sess)
            shift += sess.num_rows
        events = pa.concat_tables(events).unify_dictionaries().combine_chunks()
        sessions = pa.concat_tables(sessions).unify_dictionaries().combine_chunks()
        items = item_lists(events, pa.concat_tables([p[2] for p in parts]))
        order = pc.sort_indices(events, [("t_us", "ascending"), ("ev", "ascending")])
        events, items = events.take(order), items.take(order)
        name = f"events_{self.date(day):%Y%m%d}.ndjson"
        rewrite = self.plan.get("ga4_rewrites", {}).get(day)
        targets = [self.folder("ga4_events", day) / name]
        if rewrite is not None:  # the full day table again, with the late events, in a later folder
            targets.append(self.folder("ga4_events", rewrite) / name)
        with ExitStack() as stack:
            outs = [stack.enter_context(_Atomic(t)) for t in targets]
            for lo in range(0, events.num_rows, GA4_CHUNK_ROWS):
                chunk = events.slice(lo, GA4_CHUNK_ROWS)
                lines = ga4_lines(chunk, sessions, items.slice(lo, GA4_CHUNK_ROWS))
                if rewrite is None:
                    write_lines(lines, outs[0])
                else:  # the first delivery misses the late events
                    write_lines(lines.filter(pc.invert(chunk.column("late").combine_chunks())), outs[0])
                    write_lines(lines, outs[1])
        self.files += len(targets)
        self.rows["ga4_events"] += events.num_rows

    def _write_delighted(self, data: pa.Table, target: Path) -> None:
        if data.num_rows == 0:  # no answers that day: an empty JSON-lines file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(b"")
            self.files += 1
            return
        self.con.register("resp", data)
        try:
            self._copy_json(
                """SELECT id, {id: person_id, email: person_email, name: person_name,
                       phone_number: person_phone, created_at: person_created_at} AS person,
                       survey_type, score, comment, permalink, created_at, updated_at,
                       {"Delighted Source": src, "Channel": purchase_channel, "Country": country}
                           AS person_properties,
                       []::VARCHAR[] AS notes, list_filter([tag], lambda x: x IS NOT NULL) AS tags,
                       []::VARCHAR[] AS additional_answers
                   FROM resp""",
                target,
            )
        finally:
            self.con.unregister("resp")


def _header_line(cols: list[str]) -> str:
    return ",".join(f'"{c}"' if ("," in c or '"' in c) else c for c in cols)
