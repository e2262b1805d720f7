"""Score the warehouse's persons against the demo's ground truth.

    python -m orchestration.identity.evaluate --truth data/truth/identifiers.csv \
        --warehouse data/warehouse/build.duckdb

Pairwise metrics over identifier pairs: a pair is "true" when the truth puts both identifiers in one
person, "predicted" when identity.person_identifiers does. precision = true predicted pairs /
predicted pairs, recall = true predicted pairs / true pairs, F1 their harmonic mean.

How identifiers count:
- an identifier the truth gives to several persons (a family tablet) has no single right person, so
  it is left out of the pairwise metrics and reported as `shared_identifiers` (with how many of them
  the warehouse kept out of every other person: `shared_identifiers_isolated`);
- an identifier in the truth that the warehouse never saw counts as a person of its own (its true
  pairs are missed, lowering recall);
- an identifier only the warehouse has (not emitted by the generator) is ignored and counted in
  `warehouse_only_identifiers`.
over_merged_persons: warehouse persons holding identifiers of two or more true persons.
split_persons: true persons whose identifiers are spread over two or more warehouse persons.

Linkable upper bound (when the warehouse has identity.identity_edges): some true pairs were never linked
by any record, e.g. a web cookie that never logged in; no deterministic method can find them. A true
pair is "linkable" when the two identifiers are connected by candidate edges (every pair observed on one
record, trusted or not, before any guardrail) running only through identifiers the truth gives to that
same person: the co-occurrence graph with an oracle removing every edge to another person's identifier
(so junk values and shared devices cannot make everything look linkable). Shared identifiers may carry
a path (a family tablet links one member's ids) but are not scored.
- linkable_pairs: true pairs connected that way (linkable_share = linkable_pairs / true_pairs);
- linkable_true_positive_pairs: linkable pairs the warehouse put in one person;
- linkable_recall = linkable_true_positive_pairs / linkable_pairs: the method's recall on what the data
  allows (1.0 means nothing was lost to guardrails, caps or bugs); the main `recall` stays against the
  full truth.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import duckdb

_SQL = """
with truth_rows as (
    select distinct identifier_type, identifier_value, cast(person_key as varchar) as person_key
    from read_csv(?, header = true, all_varchar = true)
    where identifier_type is not null and identifier_value is not null
),
shared as (
    select identifier_type, identifier_value
    from truth_rows group by 1, 2 having count(distinct person_key) > 1
),
truth as (
    select t.* from truth_rows t
    anti join shared s using (identifier_type, identifier_value)
),
predicted as (
    select identifier_type, identifier_value, person_id from wh.identity.person_identifiers
),
scored as (
    -- unseen identifiers become persons of their own
    select t.person_key, coalesce(p.person_id, 'unseen:' || t.identifier_type || ':' || t.identifier_value)
        as person_id
    from truth t left join predicted p using (identifier_type, identifier_value)
),
cells as (select person_key, person_id, count(*) as n from scored group by 1, 2),
true_sizes as (select person_key, sum(n) as n from cells group by 1),
predicted_sizes as (select person_id, sum(n) as n from cells group by 1)
select
    (select count(*) from truth) as identifiers_scored,
    (select count(*) from shared) as shared_identifiers,
    (select count(*) from shared s join predicted p using (identifier_type, identifier_value)
        where not exists (select 1 from predicted o where o.person_id = p.person_id
                          and (o.identifier_type, o.identifier_value) <> (p.identifier_type, p.identifier_value)))
        as shared_identifiers_isolated,
    (select count(*) from truth t anti join predicted p using (identifier_type, identifier_value))
        as unseen_identifiers,
    (select count(*) from predicted p
        anti join truth_rows t using (identifier_type, identifier_value)) as warehouse_only_identifiers,
    (select coalesce(sum(n * (n - 1) / 2), 0) from cells) as true_positive_pairs,
    (select coalesce(sum(n * (n - 1) / 2), 0) from predicted_sizes) as predicted_pairs,
    (select coalesce(sum(n * (n - 1) / 2), 0) from true_sizes) as true_pairs,
    (select count(*) from true_sizes) as true_persons,
    (select count(*) from predicted_sizes) as predicted_persons,
    (select count(*) from (select person_id from cells group by 1 having count(*) > 1)) as over_merged_persons,
    (select count(*) from (select person_key from cells group by 1 having count(*) > 1)) as split_persons
"""


# truth identifiers (shared ones included: they may carry a path) keyed like identity_edges' hashes
_TRUTH_NODES_SQL = """
create temp table truth_nodes as
select distinct identifier_type, identifier_value, cast(person_key as varchar) as person_key,
    sha256(concat(identifier_type, ':', identifier_value)) as node_hash
from read_csv(?, header = true, all_varchar = true)
where identifier_type is not null and identifier_value is not null
"""

# candidate edges (trusted or not) whose two ends the truth gives to one person
_SAME_PERSON_EDGES_SQL = """
select a.person_key, a.node_hash, b.node_hash
from wh.identity.identity_edges e
join truth_nodes a on e.identifier_a_hash = a.node_hash
join truth_nodes b on e.identifier_b_hash = b.node_hash and a.person_key = b.person_key
"""

# scored (not shared) truth identifiers with their warehouse person, as in _SQL
_SCORED_SQL = """
with shared as (
    select node_hash from truth_nodes group by 1 having count(distinct person_key) > 1
)
select t.person_key, t.node_hash,
    coalesce(p.person_id, 'unseen:' || t.identifier_type || ':' || t.identifier_value) as person_id
from truth_nodes t
left join wh.identity.person_identifiers p using (identifier_type, identifier_value)
where t.node_hash not in (select node_hash from shared)
"""


def _has_edges(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute("""
        select count(*) from (
            select schema_name, table_name as name from duckdb_tables() where database_name = 'wh'
            union all
            select schema_name, view_name from duckdb_views() where database_name = 'wh'
        ) where schema_name = 'identity' and name = 'identity_edges'""").fetchone()[0]
    )


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _linkable(con: duckdb.DuckDBPyConnection, truth_csv: Path) -> dict:
    """Linkable upper bound (module doc): union-find over same-person candidate edges."""
    con.execute(_TRUTH_NODES_SQL, [str(truth_csv)])
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(x: tuple[str, str]) -> tuple[str, str]:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while x != root:  # path compression
            parent[x], x = root, parent.get(x, x)
        return root

    for person, a, b in con.execute(_SAME_PERSON_EDGES_SQL).fetchall():
        ra, rb = find((person, a)), find((person, b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    components: dict[tuple[str, str], int] = {}
    cells: dict[tuple[tuple[str, str], str], int] = {}
    for person, node, person_id in con.execute(_SCORED_SQL).fetchall():
        root = find((person, node))
        components[root] = components.get(root, 0) + 1
        cells[(root, person_id)] = cells.get((root, person_id), 0) + 1
    linkable = sum(_pairs(n) for n in components.values())
    found = sum(_pairs(n) for n in cells.values())
    return {
        "linkable_pairs": linkable,
        "linkable_true_positive_pairs": found,
        "linkable_recall": round(found / linkable, 6) if linkable else 1.0,
    }


def evaluate(truth_csv: Path, warehouse_db: Path) -> dict:
    """Pairwise precision/recall/F1, over-merged/split person counts and, when the warehouse has
    identity.identity_edges, the linkable upper bound (see module doc)."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{Path(warehouse_db)}' as wh (read_only)")
        row = con.execute(_SQL, [str(truth_csv)]).fetchone()
        names = [d[0] for d in con.description]
        linkable = _linkable(con, truth_csv) if _has_edges(con) else None
    finally:
        con.close()
    result = {k: int(v) for k, v in zip(names, row, strict=True)}
    tp, pp, tpairs = result["true_positive_pairs"], result["predicted_pairs"], result["true_pairs"]
    precision = tp / pp if pp else 1.0
    recall = tp / tpairs if tpairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    result.update(precision=round(precision, 6), recall=round(recall, 6), f1=round(f1, 6))
    if linkable is not None:
        result.update(linkable)
        result["linkable_share"] = round(linkable["linkable_pairs"] / tpairs, 6) if tpairs else 1.0
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--truth", type=Path, required=True, help="truth identifiers.csv")
    parser.add_argument("--warehouse", type=Path, required=True, help="DuckDB file with identity marts")
    parser.add_argument("--json", action="store_true", help="print JSON instead of aligned text")
    args = parser.parse_args(argv)
    result = evaluate(args.truth, args.warehouse)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:30s} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
