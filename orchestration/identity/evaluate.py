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


def evaluate(truth_csv: Path, warehouse_db: Path) -> dict:
    """Pairwise precision/recall/F1 and over-merged/split person counts (see module doc)."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{Path(warehouse_db)}' as wh (read_only)")
        row = con.execute(_SQL, [str(truth_csv)]).fetchone()
        names = [d[0] for d in con.description]
    finally:
        con.close()
    result = {k: int(v) for k, v in zip(names, row, strict=True)}
    tp, pp, tpairs = result["true_positive_pairs"], result["predicted_pairs"], result["true_pairs"]
    precision = tp / pp if pp else 1.0
    recall = tp / tpairs if tpairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    result.update(precision=round(precision, 6), recall=round(recall, 6), f1=round(f1, 6))
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
