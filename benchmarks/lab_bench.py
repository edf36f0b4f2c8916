"""Sandbox lab figures: time from `up` to every pod Ready, and the lab's memory with many pods."""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from k8snet_tutorial import Lab

REPO = Path(__file__).resolve().parent.parent
CONFIG = str(REPO / "kind-config.yaml")


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (read from /proc; nothing is signalled)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def lab_memory_mb(lab: Lab) -> float:
    """Proportional set size of every process of the lab, in MB (PSS counts shared pages once)."""
    total_kb = 0
    root = int(lab.backend.pidfile.read_text().split()[0])
    for pid in descendants(root):
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kb += int(line.split()[1])
        except OSError:
            pass
    return total_kb / 1024


def all_ready(lab: Lab, namespace: str | None = None) -> bool:
    """Every pod Ready."""
    pods = lab.pods(namespace)
    return bool(pods) and all(any(c["type"] == "Ready" and c["status"] == "True"
                                  for c in p["status"].get("conditions", [])) for p in pods)


def time_up_to_ready(manifest: str, runs: int = 5) -> list[float]:
    """Seconds from `Lab.up()` to all pods of the manifest Ready, one fresh lab per run."""
    out = []
    for i in range(runs):
        start = time.perf_counter()
        lab = Lab.up(f"bench-up-{i}", backend="sandbox", config=CONFIG)
        try:
            lab.apply(manifest)
            deadline = time.monotonic() + 60
            while not all_ready(lab, "default") and time.monotonic() < deadline:
                time.sleep(0.02)
            out.append(time.perf_counter() - start)
        finally:
            lab.down()
    return out


def memory_with_pods(n: int = 50) -> tuple[float, int]:
    """The lab's memory (MB, PSS) with `n` nginx-like pods running, and the number of its processes."""
    lab = Lab.up("bench-mem", backend="sandbox", config=CONFIG)
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: many}}
spec:
  replicas: {n}
  selector: {{matchLabels: {{app: many}}}}
  template:
    metadata: {{labels: {{app: many}}}}
    spec:
      containers: [{{name: web, image: "nginx:1.27-alpine", ports: [{{containerPort: 80}}]}}]
""")
        lab.apply(f.name)
        Path(f.name).unlink()
        root = int(lab.backend.pidfile.read_text().split()[0])
        return lab_memory_mb(lab), len(descendants(root))
    finally:
        lab.down()


def report() -> str:
    """Run the lab benchmarks and return a Markdown section."""
    times = time_up_to_ready(str(REPO / "manifests/02-pods-nodes-services/web-app.yaml"))
    mem, procs = memory_with_pods(50)
    return "\n".join([
        "### Sandbox lab",
        "",
        "| figure | value |",
        "|---|---|",
        f"| `up` + apply web-app (10 pods) until all Ready, median of {len(times)} | {statistics.median(times):.2f} s"
        f" (min {min(times):.2f}, max {max(times):.2f}) |",
        f"| lab memory with 50 pods (PSS of all its processes) | {mem:.0f} MB in {procs} processes |",
    ])
