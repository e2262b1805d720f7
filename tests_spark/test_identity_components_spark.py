"""The connected-components macro (macros/identity/connected_components.sql) on Spark: the same
rounds as on DuckDB, through its dispatched Spark variants (work tables in the model's schema, CTAS
with an explicit file format). Expected labels come from a union-find in Python."""

from __future__ import annotations

import random

SPARK_FORMAT = "{identity_spark_file_format: parquet}"  # Delta needs the delta-spark jars; parquet is built in


def union_find_labels(edges: list[tuple[int, int]]) -> dict[int, int]:
    """node -> smallest node of its component."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {n: find(n) for n in list(parent)}


def scenario_edges(seed: int = 7) -> list[tuple[int, int]]:
    """Disjoint parts: a shuffled path, a diamond, fan-in and fan-out, duplicates and self-loops,
    two leaves joined only to each other, and a sparse random graph with many small components."""
    rng = random.Random(seed)
    edges: list[tuple[int, int]] = []
    path = list(range(1000, 1064))
    rng.shuffle(path)  # ids out of order along the path: labels must travel both ways
    edges += list(zip(path, path[1:], strict=False))
    edges += [(2000, 2001), (2000, 2002), (2001, 2003), (2002, 2003)]  # diamond
    edges += [(3000 + i, 3100) for i in range(20)]  # fan-in to one hub
    edges += [(3200, 3201), (3201, 3200), (3200, 3201), (3202, 3202), (3201, 3202)]  # duplicates, self-loop
    edges += [(4001, 4000)]  # two leaves
    nodes = list(range(5000, 5600))
    edges += [(rng.choice(nodes), rng.choice(nodes)) for _ in range(450)]
    return edges


def run_components(spark, dbt_spark, edges, output: str, extra_vars: str = ""):
    spark.createDataFrame(edges, "src_id bigint, dst_id bigint").write.mode("overwrite").saveAsTable(
        f"omni.{output}_edges"
    )
    variables = SPARK_FORMAT if not extra_vars else SPARK_FORMAT[:-1] + ", " + extra_vars + "}"
    return dbt_spark(
        "run-operation",
        "identity_components_operation",
        "--args",
        f"{{edges_table: omni.{output}_edges, output: {output}, schema: omni}}",
        "--vars",
        variables,
    )


def test_components_match_union_find(spark, dbt_spark):
    edges = scenario_edges()
    result = run_components(spark, dbt_spark, edges, "cc_scenarios")
    assert result.success, result.exception
    got = {r.node_id: r.component_node_id for r in spark.table("omni.cc_scenarios").collect()}
    assert got == union_find_labels([(a, b) for a, b in edges if a != b])  # self-loops carry no edge


def test_not_converged_fails_and_publishes_nothing(spark, dbt_spark):
    path = [(i, i + 1) for i in range(1, 200)]
    result = run_components(spark, dbt_spark, path, "cc_capped", "identity_max_rounds: 2")
    assert not result.success
    assert "did not converge within 2 rounds" in dbt_spark.messages()
    tables = {t.name for t in spark.catalog.listTables("omni")}
    assert "cc_capped" not in tables
    assert not any(t.startswith("cc_capped__cc_") for t in tables), "work tables are dropped on failure"


def test_single_edge(spark, dbt_spark):
    result = run_components(spark, dbt_spark, [(9, 8)], "cc_single")
    assert result.success, result.exception
    assert {r.node_id: r.component_node_id for r in spark.table("omni.cc_single").collect()} == {8: 8, 9: 8}
