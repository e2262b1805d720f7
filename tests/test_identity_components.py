"""The SQL connected-components macro against networkx on awkward graphs (one dbt run-operation per graph)."""

from __future__ import annotations

import re

import duckdb
import networkx as nx
import numpy as np
import pytest

from orchestration.config import get_paths
from orchestration.identity.scenario import prepare, run_dbt

pytestmark = pytest.mark.integration


def _graph(seed: int = 7) -> list[tuple[int, int]]:
    rng = np.random.default_rng(seed)
    edges: list[tuple[int, int]] = []
    # sparse random graph: many small components and a few larger ones
    edges += [tuple(map(int, e)) for e in rng.integers(1, 3000, size=(1500, 2))]
    # a path of 500 written in descending order (worst case for naive min-label propagation)
    edges += [(5000 + i + 1, 5000 + i) for i in range(499)]
    # a star, a cycle, a complete graph
    edges += [(7000, 7001 + i) for i in range(50)]
    edges += [(8000 + i, 8000 + (i + 1) % 40) for i in range(40)]
    edges += [(9000 + i, 9000 + j) for i in range(8) for j in range(8) if i < j]
    # self-loops (one on an otherwise isolated node) and duplicated edges in both directions
    edges += [(9500, 9500), (5000, 5000), (8000, 8001), (8001, 8000), (8000, 8001)]
    # components whose smallest node is a leaf: a star around a larger centre, a triangle with a tail
    edges += [(10_010, 10_001 + i) for i in range(5)] + [(10_100, 10_101), (10_101, 10_102), (10_102, 10_100)]
    edges += [(10_100, 10_050)]
    # two leaves joined only to each other
    edges += [(10_201, 10_200)]
    # a local minimum whose only neighbour points elsewhere (20_010 -> 20_001): after the contraction
    # 20_005 is a node of its own that must still take its component's label
    edges += [(20_005, 20_010), (20_010, 20_001), (20_001, 20_020)]
    # the contraction keeps only the hook edge (to the smallest smaller neighbour) of most nodes: a node with
    # three smaller neighbours, each on a chain of its own (30_003 is reached through 30_040 alone, and its
    # edge to 30_040 is duplicated and reversed), and deep hook chains that need more than one jump
    edges += [(30_040, 30_001), (30_040, 30_003), (30_003, 30_040), (30_040, 30_002), (30_040, 30_003)]
    edges += [(30_003 + i, 30_004 + i) for i in range(0, 30, 3)] + [(30_002, 30_050), (30_050, 30_060)]
    edges += [(31_000 + i, 31_001 + i) for i in range(6)] + [(31_006, 30_060)]
    return edges


def _components(warehouse, edges: list[tuple[int, int]], name: str) -> tuple[dict, int, int]:
    """Runs the macro on `edges`: (labels, rounds, work tables left behind)."""
    with duckdb.connect(str(warehouse.warehouse)) as con:
        con.execute(f"create table main.{name}_edges (src_id bigint, dst_id bigint)")
        con.executemany(f"insert into main.{name}_edges values (?, ?)", edges)
    proc = run_dbt(warehouse, "run-operation", "identity_components_operation", "--args",
                   f"{{edges_table: main.{name}_edges, output: {name}_out}}")  # fmt: skip
    rounds = int(re.search(r"IDENTITY_CC rounds=(\d+)", proc.stdout).group(1))
    with duckdb.connect(str(warehouse.warehouse), read_only=True) as con:
        labels = dict(con.execute(f"select node_id, component_node_id from main.{name}_out").fetchall())
        leftovers = con.execute("select count(*) from information_schema.tables "
                                f"where table_name like '{name}_out__cc_%'").fetchall()[0][0]  # fmt: skip
    return labels, rounds, leftovers


def _expected(edges: list[tuple[int, int]]) -> dict:
    graph = nx.Graph()
    graph.add_edges_from((a, b) for a, b in edges if a != b)
    return {node: min(comp) for comp in nx.connected_components(graph) for node in comp}


@pytest.fixture()
def warehouse(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNI_DATA_DIR", str(tmp_path))
    for var in ("OMNI_LANDING_DIR", "OMNI_LAKE_DIR", "OMNI_WAREHOUSE_PATH", "OMNI_SERVING_PATH"):
        monkeypatch.delenv(var, raising=False)
    paths = get_paths()
    prepare(paths)
    return paths


def test_components_match_networkx(warehouse):
    edges = _graph()
    labels, rounds, leftovers = _components(warehouse, edges, "cc_test")
    assert labels == _expected(edges)  # same partition, labelled by each component's smallest node
    assert labels[10_050] == 10_050 and labels[10_102] == 10_050 and labels[10_010] == 10_001  # leaf minima
    assert labels[20_005] == 20_001 and labels[20_020] == 20_001
    assert 9500 not in labels  # a node with only a self-loop has no edge to resolve
    assert rounds <= 15, rounds  # the 500-path needs ~log2(500) rounds, not 500
    assert leftovers == 0


def test_components_without_rounds(warehouse):
    # stars and leaf pairs only: no edge joins two nodes of degree > 1, so nothing enters the rounds
    edges = [(50, 40 + i) for i in range(5)] + [(7, 3), (3, 7), (100, 101), (200, 201), (200, 202), (200, 199)]
    labels, rounds, leftovers = _components(warehouse, edges, "cc_stars")
    assert labels == _expected(edges)
    assert rounds == 0 and leftovers == 0


def test_components_with_ids_beyond_32_bits(warehouse):
    # DuckDB narrows ids to 32 bits when they fit; one id that does not must bring back the full width
    big = 2**33
    edges = [(big + 5, 7), (7, 3), (big + 5, big + 9), (big + 9, big + 1), (big + 1, big + 2), (11, 12)]
    edges += [(big + 20 + i, big + 21 + i) for i in range(10)]
    labels, rounds, leftovers = _components(warehouse, edges, "cc_wide")
    assert labels == _expected(edges)
    assert labels[big + 2] == 3 and labels[big + 30] == big + 20 and leftovers == 0
