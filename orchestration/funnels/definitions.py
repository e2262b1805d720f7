"""Load and validate funnel definitions (funnels/*.yml).

Every error names the file, the funnel, the field and the fix, so an analytics engineer can correct the
YAML without reading this code. See docs/funnels.md for the format and the semantics.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# Must match the dbt var `funnel_max_steps` (default in macros/journeys/funnel_config.sql): the SQL unrolls
# one join per step up to this number.
MAX_STEPS = 10

CHANNELS = ("web", "app", "email", "store", "service", "survey", "loyalty")
ORDERS = ("ordered", "strict", "unordered")
COUNT_BY = ("person", "session")
BREAKDOWN_BY = ("none", "first_touch_channel", "segment", "property", "channel")
ATTRIBUTION = ("first_step", "last_step")
INTERRUPTION_SCOPES = ("same_channel", "any_channel")

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Activities come from the canonical vocabulary or any canonical event; keep them identifier-like.
_ACTIVITY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_PROPERTY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_WINDOW = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

FUNNEL_KEYS = {
    "name",
    "description",
    "steps",
    "window",
    "order",
    "count_by",
    "breakdown",
    "entry",
    "exclusions",
    "interruptions",
}
STEP_KEYS = {"name", "activity", "channels", "where"}


class FunnelDefinitionError(ValueError):
    def __init__(self, errors: list[str]):
        super().__init__("invalid funnel definitions:\n  " + "\n  ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Step:
    index: int  # 1-based
    name: str
    activities: tuple[str, ...]
    channels: tuple[str, ...]  # empty: any channel
    where: tuple[tuple[str, str], ...]  # property equality filters, values compared as text


@dataclass(frozen=True)
class Exclusion:
    activities: tuple[str, ...]
    channels: tuple[str, ...]
    after_step: int
    before_step: int


@dataclass(frozen=True)
class Funnel:
    name: str
    description: str
    source_file: str
    steps: tuple[Step, ...]
    window_seconds: int
    order: str
    count_by: str
    breakdown_by: str
    breakdown_property: str | None
    breakdown_attribution: str
    entry_start: dt.date | None
    entry_end: dt.date | None
    exclusions: tuple[Exclusion, ...] = ()
    interruption_scope: str | None = None  # strict funnels only
    interruption_activities: tuple[str, ...] = ()  # empty: any activity
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


class _Errors:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, file: str, funnel: str | None, fld: str, problem: str, fix: str) -> None:
        where = f"{file}: funnel '{funnel}'" if funnel else f"{file}"
        self.items.append(f"{where}: field '{fld}': {problem}. Fix: {fix}")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _window_seconds(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value * 86400 if value > 0 else None  # a bare number means days
    if isinstance(value, str):
        m = _WINDOW.match(value)
        if m and int(m.group(1)) > 0:
            return int(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    return None


def _scalar_text(value: Any) -> str | None:
    """Property values are compared as the JSON text DuckDB/Spark extract: true/false, 12, 1.5, abc."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return None


def _date(value: Any) -> dt.date | None | str:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return "invalid"
    return "invalid"


def _activities(err: _Errors, file: str, fn: str, fld: str, value: Any) -> tuple[str, ...]:
    items = _as_list(value)
    if not items or not all(isinstance(a, str) and _ACTIVITY.match(a) for a in items):
        err.add(
            file,
            fn,
            fld,
            f"expected an activity name or a list of them, got {value!r}",
            "use lower-case activity names from docs/model_contracts.md, e.g. page_view or [purchase, store_purchase]",
        )
        return ()
    if len(set(items)) != len(items):
        err.add(file, fn, fld, f"activity listed twice in {items}", "list each activity once")
    return tuple(dict.fromkeys(items))


def _channels(err: _Errors, file: str, fn: str, fld: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = _as_list(value)
    bad = [c for c in items if c not in CHANNELS]
    if not items or bad:
        err.add(
            file,
            fn,
            fld,
            f"unknown channel(s) {bad or items}",
            f"use channels from {list(CHANNELS)}, or omit the field for any channel",
        )
        return ()
    return tuple(dict.fromkeys(items))


def _step_ref(steps: list[Step], ref: Any) -> int | None:
    if isinstance(ref, int) and not isinstance(ref, bool):
        return ref if 1 <= ref <= len(steps) else None
    for s in steps:
        if s.name == ref:
            return s.index
    return None


def _parse_funnel(err: _Errors, file: str, raw: Any, position: int) -> Funnel | None:
    if not isinstance(raw, dict):
        err.add(
            file,
            f"#{position}",
            "funnels",
            f"entry #{position} is not a mapping",
            "write each funnel as a mapping with name, steps, window",
        )
        return None
    name = raw.get("name")
    fn = name if isinstance(name, str) else f"#{position}"
    before = len(err.items)
    if not isinstance(name, str) or not _NAME.match(name):
        err.add(
            file,
            fn,
            "name",
            f"{name!r} is not a valid funnel name",
            "use lower_snake_case, starting with a letter, at most 63 characters",
        )
    for key in sorted(set(raw) - FUNNEL_KEYS):
        err.add(file, fn, key, "unknown field", f"remove it or use one of {sorted(FUNNEL_KEYS)}")

    steps: list[Step] = []
    raw_steps = raw.get("steps")
    if not isinstance(raw_steps, list) or len(raw_steps) < 2:
        err.add(
            file,
            fn,
            "steps",
            "a funnel needs a list of at least 2 steps",
            "list the steps in order, each with a name and an activity",
        )
        raw_steps = raw_steps if isinstance(raw_steps, list) else []
    if len(raw_steps) > MAX_STEPS:
        err.add(
            file,
            fn,
            "steps",
            f"{len(raw_steps)} steps, more than the supported {MAX_STEPS}",
            f"use at most {MAX_STEPS} steps (dbt var funnel_max_steps)",
        )
    for i, rs in enumerate(raw_steps, start=1):
        fld = f"steps[{i}]"
        if not isinstance(rs, dict):
            err.add(file, fn, fld, "a step must be a mapping", "write the step as {name: ..., activity: ...}")
            continue
        for key in sorted(set(rs) - STEP_KEYS):
            err.add(file, fn, f"{fld}.{key}", "unknown field", f"use only {sorted(STEP_KEYS)}")
        sname = rs.get("name")
        if not isinstance(sname, str) or not _NAME.match(sname):
            err.add(
                file, fn, f"{fld}.name", f"{sname!r} is not a valid step name", "give each step a lower_snake_case name"
            )
            sname = f"step_{i}"
        elif any(s.name == sname for s in steps):
            err.add(file, fn, f"{fld}.name", f"step name '{sname}' is used twice", "give every step a distinct name")
        if "activity" not in rs:
            err.add(
                file,
                fn,
                f"{fld}.activity",
                "missing",
                "name the activity (or list of activities) that completes this step",
            )
            acts: tuple[str, ...] = ()
        else:
            acts = _activities(err, file, fn, f"{fld}.activity", rs["activity"])
        chans = _channels(err, file, fn, f"{fld}.channels", rs.get("channels"))
        where: list[tuple[str, str]] = []
        raw_where = rs.get("where")
        if raw_where is not None:
            if not isinstance(raw_where, dict) or not raw_where:
                err.add(
                    file,
                    fn,
                    f"{fld}.where",
                    "expected a mapping of property: value",
                    "write e.g. where: {page_type: product}",
                )
            else:
                for key, value in raw_where.items():
                    text = _scalar_text(value)
                    if not isinstance(key, str) or not _PROPERTY.match(key):
                        err.add(
                            file,
                            fn,
                            f"{fld}.where.{key}",
                            "property names must be identifiers",
                            "use letters, digits and underscores, as in the activity's properties JSON",
                        )
                    elif text is None:
                        err.add(
                            file,
                            fn,
                            f"{fld}.where.{key}",
                            f"value {value!r} is not a scalar",
                            "compare with a single string, number or true/false",
                        )
                    else:
                        where.append((key, text))
        steps.append(Step(i, sname, acts, chans, tuple(where)))

    window = _window_seconds(raw.get("window"))
    if window is None:
        err.add(
            file,
            fn,
            "window",
            f"{raw.get('window')!r} is not a conversion window",
            "write a positive duration such as 14d, 36h, 90m or 600s (a bare number means days)",
        )
        window = 0
    order = raw.get("order", "ordered")
    if order not in ORDERS:
        err.add(file, fn, "order", f"unknown order {order!r}", f"use one of {list(ORDERS)}")
    count_by = raw.get("count_by", "person")
    if count_by not in COUNT_BY:
        err.add(file, fn, "count_by", f"unknown value {count_by!r}", f"use one of {list(COUNT_BY)}")

    breakdown = raw.get("breakdown") or {}
    if isinstance(breakdown, str):
        breakdown = {"by": breakdown}
    if not isinstance(breakdown, dict):
        err.add(file, fn, "breakdown", "expected a mapping", "write breakdown: {by: first_touch_channel}")
        breakdown = {}
    b_by = breakdown.get("by", "none")
    b_prop = breakdown.get("property")
    b_attr = breakdown.get("attribution", "first_step")
    for key in sorted(set(breakdown) - {"by", "property", "attribution"}):
        err.add(file, fn, f"breakdown.{key}", "unknown field", "use by, property and attribution")
    if b_by not in BREAKDOWN_BY:
        err.add(file, fn, "breakdown.by", f"unknown breakdown {b_by!r}", f"use one of {list(BREAKDOWN_BY)}")
    if b_by == "property":
        if not isinstance(b_prop, str) or not _PROPERTY.match(b_prop):
            err.add(
                file,
                fn,
                "breakdown.property",
                f"{b_prop!r} is not a property name",
                "name the activity property to break down by, e.g. property: utm_source",
            )
    elif b_prop is not None:
        err.add(file, fn, "breakdown.property", "only used when by: property", "remove it or set by: property")
        b_prop = None
    if b_attr not in ATTRIBUTION:
        err.add(file, fn, "breakdown.attribution", f"unknown attribution {b_attr!r}", f"use one of {list(ATTRIBUTION)}")

    entry = raw.get("entry") or {}
    if not isinstance(entry, dict):
        err.add(file, fn, "entry", "expected a mapping", "write entry: {start: 2024-01-01, end: 2024-12-31}")
        entry = {}
    for key in sorted(set(entry) - {"start", "end"}):
        err.add(file, fn, f"entry.{key}", "unknown field", "use start and end (ISO dates, inclusive)")
    e_start, e_end = _date(entry.get("start")), _date(entry.get("end"))
    for label, value in (("start", e_start), ("end", e_end)):
        if value == "invalid":
            err.add(
                file,
                fn,
                f"entry.{label}",
                f"{entry.get(label)!r} is not a date",
                "write an ISO date such as 2024-01-31",
            )
    if isinstance(e_start, dt.date) and isinstance(e_end, dt.date) and e_start > e_end:
        err.add(file, fn, "entry", f"start {e_start} is after end {e_end}", "swap them or widen the range")

    exclusions: list[Exclusion] = []
    raw_excl = raw.get("exclusions") or []
    if not isinstance(raw_excl, list):
        err.add(
            file, fn, "exclusions", "expected a list", "write exclusions as a list of {activity, between: [step, step]}"
        )
        raw_excl = []
    for j, rx in enumerate(raw_excl, start=1):
        fld = f"exclusions[{j}]"
        if not isinstance(rx, dict):
            err.add(file, fn, fld, "expected a mapping", "write {activity: ..., between: [step_a, step_b]}")
            continue
        for key in sorted(set(rx) - {"activity", "channels", "between"}):
            err.add(file, fn, f"{fld}.{key}", "unknown field", "use activity, channels and between")
        acts = _activities(err, file, fn, f"{fld}.activity", rx.get("activity"))
        chans = _channels(err, file, fn, f"{fld}.channels", rx.get("channels"))
        between = rx.get("between")
        if not isinstance(between, list) or len(between) != 2:
            err.add(
                file,
                fn,
                f"{fld}.between",
                f"{between!r} is not a pair of steps",
                "name two steps, e.g. between: [add_to_cart, purchase]",
            )
            continue
        a, b = _step_ref(steps, between[0]), _step_ref(steps, between[1])
        if a is None or b is None:
            err.add(
                file,
                fn,
                f"{fld}.between",
                f"unknown step in {between}",
                f"use step names {[s.name for s in steps]} or 1-based indexes",
            )
            continue
        if a >= b:
            err.add(
                file,
                fn,
                f"{fld}.between",
                f"step {between[0]!r} is not before {between[1]!r}",
                "name the earlier step first",
            )
            continue
        exclusions.append(Exclusion(acts, chans, a, b))
    if exclusions and order == "unordered":
        err.add(file, fn, "exclusions", "exclusions need ordered steps", "remove them or use order: ordered or strict")

    scope, inter_acts = None, ()
    raw_int = raw.get("interruptions")
    if raw_int is not None and order != "strict":
        err.add(file, fn, "interruptions", "only used by order: strict", "remove it or set order: strict")
    if order == "strict":
        raw_int = raw_int or {}
        if not isinstance(raw_int, dict):
            err.add(
                file,
                fn,
                "interruptions",
                "expected a mapping",
                "write interruptions: {scope: same_channel, activities: [...]}",
            )
            raw_int = {}
        for key in sorted(set(raw_int) - {"scope", "activities"}):
            err.add(file, fn, f"interruptions.{key}", "unknown field", "use scope and activities")
        scope = raw_int.get("scope", "same_channel")
        if scope not in INTERRUPTION_SCOPES:
            err.add(
                file, fn, "interruptions.scope", f"unknown scope {scope!r}", f"use one of {list(INTERRUPTION_SCOPES)}"
            )
        if raw_int.get("activities") is not None:
            inter_acts = _activities(err, file, fn, "interruptions.activities", raw_int["activities"])

    if order == "unordered":
        # Each event must fill at most one step, or a count of distinct steps could use one event twice.
        for x in steps:
            for y in steps:
                if x.index < y.index and set(x.activities) & set(y.activities):
                    if not x.channels or not y.channels or set(x.channels) & set(y.channels):
                        err.add(
                            file,
                            fn,
                            f"steps[{y.index}].activity",
                            f"steps '{x.name}' and '{y.name}' can match the same event (ambiguous when unordered)",
                            "give them different activities or disjoint channels, or use order: ordered",
                        )

    description = raw.get("description", "")
    if not isinstance(description, str):
        err.add(file, fn, "description", "expected text", "write the description as a string")
        description = ""
    if len(err.items) > before:
        return None
    return Funnel(
        name=name,
        description=description.strip(),
        source_file=file,
        steps=tuple(steps),
        window_seconds=window,
        order=order,
        count_by=count_by,
        breakdown_by=b_by,
        breakdown_property=b_prop,
        breakdown_attribution=b_attr,
        entry_start=e_start if isinstance(e_start, dt.date) else None,
        entry_end=e_end if isinstance(e_end, dt.date) else None,
        exclusions=tuple(exclusions),
        interruption_scope=scope,
        interruption_activities=inter_acts,
        raw=raw,
    )


def _definition_files(funnels_dir: Path) -> list[Path]:
    return sorted([*funnels_dir.glob("*.yml"), *funnels_dir.glob("*.yaml")])


def _load(funnels_dir: Path) -> tuple[list[Funnel], list[str]]:
    err = _Errors()
    funnels_dir = Path(funnels_dir)
    if not funnels_dir.is_dir():
        err.add(
            str(funnels_dir), None, "-", "folder not found", "point at the folder that holds the funnel *.yml files"
        )
        return [], err.items
    files = _definition_files(funnels_dir)
    if not files:
        err.add(str(funnels_dir), None, "-", "no *.yml funnel definitions", "add at least one funnels/<name>.yml")
    funnels: list[Funnel] = []
    seen: dict[str, str] = {}
    for path in files:
        file = path.name
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            err.add(file, None, "-", f"not valid YAML{at}: {getattr(exc, 'problem', exc)}", "fix the YAML syntax")
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("funnels"), list):
            err.add(
                file,
                None,
                "funnels",
                "the file must hold a top-level 'funnels:' list",
                "start the file with funnels: and list the funnels below it",
            )
            continue
        for key in sorted(set(doc) - {"version", "funnels"}):
            err.add(file, None, key, "unknown top-level field", "use only version and funnels")
        if doc.get("version", 1) != 1:
            err.add(file, None, "version", f"unsupported version {doc.get('version')!r}", "set version: 1")
        for pos, raw in enumerate(doc["funnels"], start=1):
            f = _parse_funnel(err, file, raw, pos)
            if f is None:
                continue
            if f.name in seen:
                err.add(
                    file,
                    f.name,
                    "name",
                    f"funnel name already defined in {seen[f.name]}",
                    "give every funnel a unique name",
                )
                continue
            seen[f.name] = file
            funnels.append(f)
    return funnels, err.items


def validate(funnels_dir: Path) -> list[str]:
    """Every problem in the definitions, as messages naming file, funnel, field and fix; empty when valid."""
    return _load(funnels_dir)[1]


def load_funnels(funnels_dir: Path) -> list[Funnel]:
    funnels, errors = _load(funnels_dir)
    if errors:
        raise FunnelDefinitionError(errors)
    return funnels
