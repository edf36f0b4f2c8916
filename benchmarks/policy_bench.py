"""Reachability matrix figures: the 9-pod x 2-port matrix of upstream's model, and a 30-pod matrix."""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from k8snet_tutorial import Lab

REPO = Path(__file__).resolve().parent.parent
RUNS = 5


def model_manifest(namespaces: list[str], pods: list[str], ports: list[int]) -> str:
    """Upstream's netpol model: every namespace holds the same pods, each serving every port."""
    docs = []
    for ns in namespaces:
        docs.append(f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n")
        for pod in pods:
            port_list = ", ".join(f"{{name: serve-{p}-tcp, containerPort: {p}}}" for p in ports)
            docs.append(f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {pod}, namespace: {ns}, labels: {{pod: {pod}}}}}\n"
                        f"spec:\n  containers: [{{name: srv, image: 'agnhost:2.53', ports: [{port_list}]}}]\n")
    # Isolate x: only pods of x may reach pods of x (half the matrix is dropped, which is what costs time).
    docs.append("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: only-x, namespace: x}\n"
                "spec:\n  podSelector: {}\n  ingress: [{from: [{podSelector: {}}]}]\n")
    return "---\n".join(docs)


def time_matrix(namespaces: list[str], pods: list[str], ports: list[int]) -> tuple[list[float], int]:
    """Median-able wall times of Lab.matrix over the model, and the number of probes per run."""
    lab = Lab.up("bench-matrix", backend="sandbox", config=str(REPO / "kind-config.yaml"), fresh=True)
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(model_manifest(namespaces, pods, ports))
        lab.apply(f.name)
        Path(f.name).unlink()
        times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            m = lab.matrix(namespaces, ports=ports)
            times.append(time.perf_counter() - start)
            assert not m.differences, "the kernel disagreed with the evaluator during the benchmark"
        return times, len(m.cells)
    finally:
        lab.down()


def report() -> str:
    """Run both matrices and return a Markdown section."""
    small, n_small = time_matrix(["x", "y", "z"], ["a", "b", "c"], [80, 81])
    big, n_big = time_matrix(["x", "y", "z"], [f"p{i}" for i in range(10)], [80])
    return "\n".join([
        "### Reachability matrix (NetworkPolicy)",
        "",
        "| matrix | probes | median wall time of " + str(RUNS) + " |",
        "|---|---|---|",
        f"| 9 pods × 2 ports (x, y, z × a, b, c; x isolated) | {n_small} | {statistics.median(small):.2f} s |",
        f"| 30 pods × 1 port (x isolated) | {n_big} | {statistics.median(big):.2f} s |",
    ])
