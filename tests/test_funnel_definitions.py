"""Funnel YAML validation and compilation into data (no dbt: fast)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from orchestration.config import REPO_ROOT, get_paths
from orchestration.funnels import FunnelDefinitionError, compile_funnels, load_funnels, validate

VALID = """
version: 1
funnels:
  - name: browse_to_buy
    window: 36h
    order: strict
    interruptions: {scope: any_channel, activities: [search]}
    breakdown: {by: property, property: utm_source, attribution: last_step}
    entry: {start: 2026-01-01, end: 2026-06-30}
    steps:
      - name: view
        activity: product_view
        channels: [web, app]
        where: {in_stock: true, category: shoes}
      - name: cart
        activity: add_to_cart
      - name: buy
        activity: [purchase, store_purchase]
    exclusions:
      - {activity: email_unsubscribe, between: [view, 3]}
"""


def write(tmp_path: Path, text: str, name: str = "f.yml") -> Path:
    folder = tmp_path / "funnels"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def one_error(folder: Path) -> str:
    errors = validate(folder)
    assert len(errors) == 1, errors
    return errors[0]


def test_shipped_funnels_are_valid():
    assert validate(REPO_ROOT / "funnels") == []
    names = {f.name: f for f in load_funnels(REPO_ROOT / "funnels")}
    first = names["first_purchase"]
    assert [s.name for s in first.steps] == ["visit", "product_view", "add_to_cart", "checkout", "purchase"]
    assert first.steps[0].activities == ("page_view", "app_open")
    assert first.steps[-1].activities == ("purchase", "store_purchase")
    assert first.window_seconds == 14 * 86400
    assert names["second_purchase"].window_seconds == 90 * 86400


def test_valid_definition_parses_every_field(tmp_path):
    (f,) = load_funnels(write(tmp_path, VALID))
    assert f.order == "strict" and f.interruption_scope == "any_channel"
    assert f.interruption_activities == ("search",)
    assert f.window_seconds == 36 * 3600
    assert f.steps[0].where == (("in_stock", "true"), ("category", "shoes"))
    assert f.exclusions[0].after_step == 1 and f.exclusions[0].before_step == 3
    assert f.breakdown_by == "property" and f.breakdown_attribution == "last_step"


@pytest.mark.parametrize(
    ("change", "field", "fix_hint"),
    [
        (("window: 36h", "window: soon"), "window", "14d"),
        (("order: strict", "order: sorted"), "order", "ordered"),
        (("channels: [web, app]", "channels: [web, shop]"), "steps[1].channels", "channels from"),
        (("activity: add_to_cart", 'activity: "add_to_cart\'; drop table x"'), "steps[2].activity", "lower-case"),
        (("between: [view, 3]", "between: [cart, view]"), "exclusions[1].between", "earlier step first"),
        (("between: [view, 3]", "between: [view, checkout]"), "exclusions[1].between", "step names"),
        (("end: 2026-06-30", "end: 2025-06-30"), "entry", "swap"),
        (("property: utm_source", "property: utm-source"), "breakdown.property", "property"),
        (("category: shoes", "category: [a, b]"), "steps[1].where.category", "single"),
        (("count_by: person", "count_by: person"), None, None),
    ],
)
def test_each_error_names_file_funnel_field_and_fix(tmp_path, change, field, fix_hint):
    text = VALID.replace(*change) if change[0] in VALID else VALID
    folder = write(tmp_path, text, "shop.yml")
    if field is None:
        assert validate(folder) == []
        return
    errors = validate(folder)
    assert errors, "expected a validation error"
    assert all(e.startswith("shop.yml: funnel 'browse_to_buy': field '") for e in errors), errors
    err = next((e for e in errors if f"field '{field}'" in e), None)
    assert err is not None, errors
    assert "Fix: " in err and fix_hint in err, err


def test_unknown_fields_missing_steps_and_duplicates(tmp_path):
    folder = write(
        tmp_path,
        """
        funnels:
          - name: a
            window: 1d
            colour: red
            steps: [{name: s, activity: page_view}]
          - name: b
            window: 1d
            steps: [{name: s, activity: page_view}, {name: s, activity: purchase}]
        """,
    )
    errors = validate(folder)
    assert any("funnel 'a': field 'colour': unknown field" in e for e in errors)
    assert any("funnel 'a': field 'steps': a funnel needs a list of at least 2 steps" in e for e in errors)
    assert any("funnel 'b': field 'steps[2].name'" in e and "used twice" in e for e in errors)


def test_duplicate_funnel_names_across_files_and_bad_yaml(tmp_path):
    body = "funnels:\n  - {name: x, window: 1d, steps: [{name: a, activity: page_view}, {name: b, activity: search}]}\n"
    write(tmp_path, body, "one.yml")
    folder = write(tmp_path, body, "two.yml")
    write(tmp_path, "funnels: [\n", "three.yml")
    errors = validate(folder)
    assert any(e.startswith("two.yml: funnel 'x': field 'name'") and "one.yml" in e for e in errors)
    assert any(e.startswith("three.yml: field '-': not valid YAML at line") for e in errors)


def test_unordered_steps_must_not_match_the_same_event(tmp_path):
    folder = write(
        tmp_path,
        """
        funnels:
          - name: u
            window: 1d
            order: unordered
            steps:
              - {name: a, activity: [page_view, search]}
              - {name: b, activity: search, channels: [web]}
              - {name: c, activity: search, channels: [app]}
        """,
    )
    errors = validate(folder)
    assert len(errors) == 2, errors
    assert "field 'steps[2].activity'" in errors[0] and "'a' and 'b'" in errors[0]
    assert "field 'steps[3].activity'" in errors[1] and "'a' and 'c'" in errors[1]


def test_too_many_steps(tmp_path):
    steps = "\n".join(f"      - {{name: s{i}, activity: page_view}}" for i in range(11))
    folder = write(tmp_path, f"funnels:\n  - name: long\n    window: 1d\n    steps:\n{steps}\n")
    assert "at most 10 steps" in one_error(folder)


def test_compile_writes_definitions_as_data(tmp_path, data_dir):
    out = compile_funnels(write(tmp_path, VALID), get_paths())
    assert out == data_dir / "lake" / "funnel_config"
    tables = {p.stem: pq.read_table(p).to_pylist() for p in out.glob("*.parquet")}
    assert set(tables) == {
        "funnel_definitions", "funnel_step_matchers", "funnel_step_filters", "funnel_exclusions",
        "funnel_interruptions",
    }  # fmt: skip
    (definition,) = tables["funnel_definitions"]
    assert definition["step_count"] == 3 and definition["window_seconds"] == 129600
    assert definition["funnel_order"] == "strict" and definition["breakdown_property"] == "utm_source"
    matchers = {(m["step_index"], m["activity"], m["channel"]) for m in tables["funnel_step_matchers"]}
    assert matchers == {
        (1, "product_view", "web"), (1, "product_view", "app"), (2, "add_to_cart", None),
        (3, "purchase", None), (3, "store_purchase", None),
    }  # fmt: skip
    assert {(f["property_key"], f["property_value"]) for f in tables["funnel_step_filters"]} == {
        ("in_stock", "true"), ("category", "shoes"),
    }  # fmt: skip
    assert tables["funnel_exclusions"] == [dict(
        funnel_name="browse_to_buy", exclusion_index=1, after_step=1, before_step=3,
        activity="email_unsubscribe", channel=None,
    )]  # fmt: skip
    assert tables["funnel_interruptions"] == [dict(funnel_name="browse_to_buy", activity="search")]


def test_compile_refuses_invalid_definitions_and_keeps_previous_tables(tmp_path, data_dir):
    out = compile_funnels(write(tmp_path, VALID), get_paths())
    before = (out / "funnel_definitions.parquet").read_bytes()
    with pytest.raises(FunnelDefinitionError) as exc:
        compile_funnels(write(tmp_path, VALID.replace("window: 36h", "window: -1d")), get_paths())
    assert "field 'window'" in str(exc.value)
    assert (out / "funnel_definitions.parquet").read_bytes() == before
