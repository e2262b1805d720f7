"""Benchmark the SQL connected components (macros/identity) against networkx and scipy.

    .venv/bin/python bench/bench_identity.py --persons 1000000

The graph is shaped like the demo's identity graph, synthesised with numpy: every person has 2-6
identifiers linked through records (a spanning tree plus a few repeated/extra pairs), a share of
households share one device, and a few junk values (e.g. a placeholder e-mail) touch thousands of
persons. All three engines solve the same edge list; each runs in its own process so its peak memory
(max RSS) is its own. Then a path of one million identifiers must resolve in SQL.

What each figure measures (same edges, same run):
  scipy, networkx  seconds: edge array in memory -> graph -> component labels (np.load excluded);
                   cpu_seconds: the same span in process CPU time.
  sql_duckdb       seconds: the macro alone, edges table -> published labels table (dbt's own clock);
                   seconds_end_to_end: the whole `dbt run-operation` process, start-up and parsing included;
                   dbt_startup_seconds / dbt_startup_cpu_seconds: the same command on an empty edge table;
                   cpu_seconds: process CPU minus that empty run's CPU (DuckDB's threads included);
                   steps: seconds per statement group (edges: copy without self-loops; hook, jump,
                   contract: the contracted graph; degree, core, init, round_n, attach: the rounds on it;
                   publish: every node's label, each component's smallest node included, into the
                   output table).
Wall seconds on a shared machine are noisy: the load average is printed, and CPU ratios next to wall ones.

Goals from the issue: SQL >= 10x faster than networkx, within 3x of scipy.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from orchestration.config import dbt_env, get_paths  # noqa: E402
from orchestration.lake_layout import ensure_schema_stubs  # noqa: E402


def demo_shaped_edges(persons: int, seed: int) -> np.ndarray:
    """(src, dst) int64 pairs; node ids are dense, 0..n-1."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 7, size=persons)  # 2-6 identifiers per person
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    n_nodes = int(sizes.sum())
    owner = np.repeat(np.arange(persons), sizes)
    offset = np.arange(n_nodes) - np.repeat(first, sizes)
    # each identifier after the first links to an earlier one of the same person (records chain them)
    has_parent = offset > 0
    child = np.flatnonzero(has_parent)
    parent = first[owner[child]] + (rng.random(len(child)) * offset[child]).astype(np.int64)
    edges = [np.stack([child, parent], axis=1)]
    # repeated observations: 30% of links seen again (duplicates, sometimes reversed)
    dup = rng.random(len(child)) < 0.3
    edges.append(np.stack([parent[dup], child[dup]], axis=1))
    # households: 5% of persons share a device with another person
    hh = rng.choice(persons, size=persons // 20, replace=False)
    mates = rng.integers(0, persons, size=len(hh))
    device = np.arange(n_nodes, n_nodes + len(hh))
    edges.append(np.stack([device, first[hh]], axis=1))
    edges.append(np.stack([device, first[mates]], axis=1))
    n_nodes += len(hh)
    # junk hubs: 5 values each touching 2,000 persons
    for h in range(5):
        touched = rng.choice(persons, size=min(2000, persons), replace=False)
        edges.append(np.stack([np.full(len(touched), n_nodes + h), first[touched]], axis=1))
    edges = np.concatenate(edges).astype(np.int64)
    return edges[rng.permutation(len(edges))]


def path_edges(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ids = rng.permutation(n).astype(np.int64)  # a path through randomly numbered nodes
    e = np.stack([ids[:-1], ids[1:]], axis=1)
    return e[rng.permutation(len(e))]


# --- engines, each in its own process -------------------------------------------------------------


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _partition_signature(nodes: np.ndarray, labels: np.ndarray) -> tuple[int, int]:
    """(components, hash) of a partition, independent of how each engine labels its components."""
    _, inverse = np.unique(labels, return_inverse=True)
    comp_min = np.full(int(inverse.max()) + 1 if len(inverse) else 0, np.iinfo(np.int64).max)
    np.minimum.at(comp_min, inverse, nodes)  # relabel every component by its smallest node
    canon = comp_min[inverse]
    digest = np.bitwise_xor.reduce(canon * 1_000_003 + nodes * 7919) if len(nodes) else 0
    return len(comp_min), int(digest)


def _labelled_by_smallest_node(nodes: np.ndarray, labels: np.ndarray) -> bool:
    """The contract: every component is labelled by its smallest node id."""
    if not len(nodes):
        return True
    uniq, inverse = np.unique(labels, return_inverse=True)
    comp_min = np.full(len(uniq), np.iinfo(np.int64).max)
    np.minimum.at(comp_min, inverse, nodes)
    return bool(np.array_equal(comp_min, uniq))


def _networkx(edges_file: str, queue) -> None:
    import networkx as nx

    edges = np.load(edges_file)
    start, cpu = time.perf_counter(), time.process_time()
    g = nx.Graph()
    g.add_edges_from(edges.tolist())
    nodes, labels = [], []
    for i, comp in enumerate(nx.connected_components(g)):
        nodes.extend(comp)
        labels.extend([i] * len(comp))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    sig = _partition_signature(np.asarray(nodes, dtype=np.int64), np.asarray(labels, dtype=np.int64))
    queue.put({"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": _maxrss_mb(), "components": sig[0],
               "signature": sig[1]})  # fmt: skip


def _scipy(edges_file: str, queue) -> None:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    edges = np.load(edges_file)
    start, cpu = time.perf_counter(), time.process_time()
    n = int(edges.max()) + 1
    m = coo_matrix((np.ones(len(edges), dtype=np.int8), (edges[:, 0], edges[:, 1])), shape=(n, n)).tocsr()
    _, labels = connected_components(m, directed=False)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    present = np.zeros(n, dtype=bool)
    present[edges.ravel()] = True
    nodes = np.flatnonzero(present)
    sig = _partition_signature(nodes, labels[nodes].astype(np.int64))
    queue.put({"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": _maxrss_mb(), "components": sig[0],
               "signature": sig[1]})  # fmt: skip


def _in_process(target, edges_file: str) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(edges_file, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def _watch_peak_rss(proc: subprocess.Popen) -> int:
    """Peak resident memory (kB) of a running child, read from /proc until it exits (Linux)."""
    peak = 0
    status = Path(f"/proc/{proc.pid}/status")
    while proc.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError):
            break
        time.sleep(0.2)
    return peak


def _sql(edges: np.ndarray, work: Path, name: str) -> dict:
    """Load the edges into a DuckDB file, then run the dbt macro (dbt run-operation) on it."""
    os.environ["OMNI_DATA_DIR"] = str(work)
    paths = get_paths()
    ensure_schema_stubs(paths)
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute(f"drop table if exists main.{name}_edges")
        con.register("edges_view", pa.table({"src_id": edges[:, 0], "dst_id": edges[:, 1]}))
        con.execute(f"create table main.{name}_edges as select * from edges_view")
    env = dbt_env(paths)
    env["DBT_TARGET_PATH"] = str(work / "dbt_target")
    env["DBT_LOG_PATH"] = str(work / "dbt_logs")
    cmd = [str(Path(sys.executable).parent / "dbt"), "run-operation", "identity_components_operation",
           "--args", f"{{edges_table: main.{name}_edges, output: {name}_out}}",
           "--project-dir", str(REPO), "--profiles-dir", str(REPO)]  # fmt: skip
    children_cpu = _children_cpu()
    start = time.perf_counter()
    log = work / f"{name}_dbt_output.txt"
    with open(log, "w") as out_file:  # a file, not a pipe: nothing can block on a full pipe
        proc = subprocess.Popen(cmd, env=env, stdout=out_file, stderr=subprocess.STDOUT, text=True)
        peak_kb = _watch_peak_rss(proc)
        proc.wait()
    stdout = stderr = log.read_text()
    wall = time.perf_counter() - start
    process_cpu = _children_cpu() - children_cpu  # the only child reaped in between is dbt
    if proc.returncode != 0:
        raise RuntimeError(stdout[-4000:] + stderr[-2000:])
    m = re.search(r"IDENTITY_CC rounds=(\d+) seconds=([0-9.]+) steps=(\{.*\})", stdout)
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        out = con.execute(f"select node_id, component_node_id from main.{name}_out").fetchnumpy()
    nodes, labels = out["node_id"].astype(np.int64), out["component_node_id"].astype(np.int64)
    sig = _partition_signature(nodes, labels)
    return {
        "rounds": int(m.group(1)),
        "seconds": float(m.group(2)),  # the macro alone: edges table -> published labels
        "seconds_end_to_end": wall,  # the dbt process: start-up, parsing, macro
        "process_cpu_seconds": process_cpu,
        "peak_rss_mb": peak_kb / 1024,  # the dbt process (DuckDB runs inside it)
        "steps": json.loads(m.group(3)),
        "components": sig[0],
        "signature": sig[1],
        "labels_are_smallest_node": _labelled_by_smallest_node(nodes, labels),
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b > 0 else None


def run(persons: int = 1_000_000, seed: int = 1, path_nodes: int = 1_000_000,
        with_networkx: bool = True) -> dict:  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="bench_identity_"))
    try:
        edges = demo_shaped_edges(persons, seed)
        edges_file = str(work / "edges.npy")
        np.save(edges_file, edges)
        result: dict = {
            "persons": persons,
            "identifiers": int(np.unique(edges).size),
            "edges": int(len(edges)),
            "load_average_at_start": os.getloadavg(),
        }
        no_edges = np.empty((0, 2), dtype=np.int64)
        _sql(no_edges, work, "empty")  # the first dbt command parses the project; later ones reuse that
        result["sql_duckdb"] = sql = _sql(edges, work, "demo")
        startup = _sql(no_edges, work, "empty")  # dbt start-up (partial parse) with nothing to compute
        sql["dbt_startup_seconds"] = startup["seconds_end_to_end"] - startup["seconds"]
        sql["dbt_startup_cpu_seconds"] = startup["process_cpu_seconds"]
        sql["cpu_seconds"] = max(sql["process_cpu_seconds"] - startup["process_cpu_seconds"], 0.0)
        result["scipy"] = _in_process(_scipy, edges_file)
        if with_networkx:
            result["networkx"] = _in_process(_networkx, edges_file)
        result["same_partition_as_scipy"] = (sql["components"], sql["signature"]) == (
            result["scipy"]["components"], result["scipy"]["signature"])  # fmt: skip
        result["sql_vs_scipy_slowdown"] = _ratio(sql["seconds"], result["scipy"]["seconds"])
        result["sql_vs_scipy_slowdown_cpu"] = _ratio(sql["cpu_seconds"], result["scipy"]["cpu_seconds"])
        result["sql_vs_scipy_slowdown_end_to_end"] = _ratio(sql["seconds_end_to_end"], result["scipy"]["seconds"])
        if with_networkx:
            result["same_partition_as_networkx"] = (sql["components"], sql["signature"]) == (
                result["networkx"]["components"], result["networkx"]["signature"])  # fmt: skip
            nx_result = result["networkx"]
            result["sql_vs_networkx_speedup"] = _ratio(nx_result["seconds"], sql["seconds"])
            result["sql_vs_networkx_speedup_cpu"] = _ratio(nx_result["cpu_seconds"], sql["cpu_seconds"])
            result["sql_vs_networkx_speedup_end_to_end"] = _ratio(nx_result["seconds"], sql["seconds_end_to_end"])
        if path_nodes:
            p = _sql(path_edges(path_nodes, seed), work, "path")
            result["path"] = {"identifiers": path_nodes, **p, "resolved_to_one_component": p["components"] == 1}
        result["load_average_at_end"] = os.getloadavg()
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--path-nodes", type=int, default=1_000_000)
    parser.add_argument("--no-networkx", action="store_true")
    args = parser.parse_args()
    result = run(args.persons, args.seed, args.path_nodes, not args.no_networkx)
    print(json.dumps(result, indent=2))
    checks = [
        result["same_partition_as_scipy"],
        result["sql_duckdb"]["labels_are_smallest_node"],
        result.get("same_partition_as_networkx", True),
        result.get("path", {}).get("resolved_to_one_component", True),
    ]
    if not all(checks):
        sys.exit("bench_identity: the SQL components differ from the reference engines")


if __name__ == "__main__":
    main()
