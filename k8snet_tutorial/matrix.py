"""The reachability matrix: every pod probes every other pod, for real, in parallel and bounded in time."""
from __future__ import annotations

import html
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .lab import Lab

MAX_WORKERS = 16


@dataclass
class Cell:
    """One probe of the matrix."""

    source: str
    target: str
    port: int
    protocol: str
    observed: str  # "allowed" | "denied"
    outcome: str
    expected: str | None = None
    loopback: bool = False

    def to_dict(self) -> dict:
        """The JSON shape of a cell."""
        return {"from": self.source, "to": self.target, "port": self.port, "protocol": self.protocol,
                "observed": self.observed, "expected": self.expected, "outcome": self.outcome,
                "loopback": self.loopback}


@dataclass
class Matrix:
    """Who reached whom: rows are sources, columns are destinations."""

    pods: list[str]
    cells: list[Cell] = field(default_factory=list)

    def to_dict(self) -> dict:
        """`{"pods": [...], "results": [...]}`."""
        return {"pods": self.pods, "results": [c.to_dict() for c in self.cells]}

    def to_json(self) -> str:
        """The matrix as JSON."""
        return json.dumps(self.to_dict(), indent=2)

    def grid(self, port: int, protocol: str = "TCP") -> list[list[str]]:
        """One port's table as rows of '.' (allowed), 'X' (denied)."""
        index = {(c.source, c.target): c for c in self.cells if c.port == port and c.protocol == protocol}
        return [["." if index[(s, t)].observed == "allowed" else "X" for t in self.pods] for s in self.pods]

    def __str__(self) -> str:
        blocks = []
        for port, proto in sorted({(c.port, c.protocol) for c in self.cells}):
            width = max(len(p) for p in self.pods)
            head = " " * (width + 1) + " ".join(str(i) for i in range(len(self.pods)))
            rows = [f"{p:<{width}} " + " ".join(row) for p, row in zip(self.pods, self.grid(port, proto))]
            legend = "  ".join(f"{i}={p}" for i, p in enumerate(self.pods))
            blocks.append(f"{proto}/{port}  (. allowed, X denied)\n{head}\n" + "\n".join(rows) + f"\n{legend}")
        return "\n\n".join(blocks)

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        out = []
        for port, proto in sorted({(c.port, c.protocol) for c in self.cells}):
            rows = "".join(
                f"<tr><th>{html.escape(s)}</th>" + "".join(
                    f'<td style="background:{"#c8e6c9" if v == "." else "#ffcdd2"};text-align:center">{v}</td>'
                    for v in row) + "</tr>"
                for s, row in zip(self.pods, self.grid(port, proto)))
            head = "".join(f"<th>{html.escape(t)}</th>" for t in self.pods)
            out.append(f"<p><b>{proto}/{port}</b></p><table><tr><th>from \\ to</th>{head}</tr>{rows}</table>")
        return "".join(out)


def run_matrix(lab: "Lab", namespaces: list[str], ports: list[int], protocols: list[str], timeout: float) -> Matrix:
    """Probe every ordered pair of pods of the namespaces on every port/protocol, pod IP to pod IP."""
    pods = []
    for ns in namespaces:
        for p in lab.pods(ns):
            if (p.get("status") or {}).get("podIP"):
                pods.append((f"{ns}/{p['metadata']['name']}", p["status"]["podIP"]))
    jobs = [(s, t, ip, port, proto.upper()) for s, _ in pods for t, ip in pods for port in ports for proto in protocols]

    def one(job: tuple) -> Cell:
        src, dst, ip, port, proto = job
        r = lab.probe(src, f"{ip}:{port}", protocol=proto.lower(), timeout=timeout)
        # A refused connection still crossed the network: only drops and unreachables count as denied.
        allowed = r.outcome in ("connected", "refused")
        return Cell(src, dst, port, proto, "allowed" if allowed else "denied", r.outcome, loopback=src == dst)

    with ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool:
        cells = list(pool.map(one, jobs))
    return Matrix([name for name, _ in pods], cells)
