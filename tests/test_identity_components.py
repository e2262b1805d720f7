"""The SQL connected-components macro against networkx on awkward graphs (one dbt run-operation)."""

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
    return edges


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
    with duckdb.connect(str(warehouse.warehouse)) as con:
        con.execute("create table main.cc_test_edges (src_id bigint, dst_id bigint)")
        con.executemany("insert into main.cc_test_edges values (?, ?)", edges)
    proc = run_dbt(warehouse, "run-operation", "identity_components_operation", "--args",
                   "{edges_table: main.cc_test_edges, output: cc_test_out}")  # fmt: skip
    rounds = int(re.search(r"IDENTITY_CC rounds=(\d+)", proc.stdout).group(1))
    with duckdb.connect(str(warehouse.warehouse), read_only=True) as con:
        labels = dict(con.execute("select node_id, component_node_id from main.cc_test_out").fetchall())
        leftovers = con.execute("select count(*) from information_schema.tables "
                                "where table_name like 'cc_test_out__cc_%'").fetchone()[0]  # fmt: skip
    graph = nx.Graph()
    graph.add_edges_from((a, b) for a, b in edges if a != b)
    expected = {node: min(comp) for comp in nx.connected_components(graph) for node in comp}
    assert labels == expected  # same partition, labelled by each component's smallest node
    assert 9500 not in labels  # a node with only a self-loop has no edge to resolve
    assert rounds <= 15, rounds  # the 500-path needs ~log2(500) rounds, not 500
    assert leftovers == 0
