"""The reachability matrix: every pod probes every other pod, for real, in parallel and bounded in time."""
from __future__ import annotations

import html
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .i18n import _, ngettext
from .policy import evaluate, pod_info

if TYPE_CHECKING:
    from .lab import Lab

MAX_WORKERS = 32
DEFAULT_TIMEOUT = 0.5  # a denied probe costs this much: drops are silent


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

    @property
    def differences(self) -> list[Cell]:
        """Cells where the kernel did not do what the policies say."""
        return [c for c in self.cells if c.expected is not None and c.expected != c.observed]

    def grid(self, port: int, protocol: str = "TCP", which: str = "observed") -> list[list[str]]:
        """One port's table as rows of '.' (allowed) and 'X' (denied), from the observed or expected column."""
        index = {(c.source, c.target): c for c in self.cells if c.port == port and c.protocol == protocol}
        return [["." if getattr(index[(s, t)], which) == "allowed" else "X" for t in self.pods] for s in self.pods]

    def __str__(self) -> str:
        blocks = []
        width = max((len(p) for p in self.pods), default=0)
        for port, proto in sorted({(c.port, c.protocol) for c in self.cells}):
            head = " " * (width + 1) + " ".join(str(i % 10) for i in range(len(self.pods)))
            observed, expected = self.grid(port, proto), self.grid(port, proto, "expected")
            rows = []
            for p, obs, exp in zip(self.pods, observed, expected):
                marks = " ".join("!" if o != e else " " for o, e in zip(obs, exp))
                rows.append(f"{p:<{width}} " + " ".join(obs) + "   " + " ".join(exp) + ("   " + marks if "!" in marks else ""))
            blocks.append(f"{proto}/{port}  " + _("observed | expected  (. allowed, X denied, ! differs)") + "\n"
                          f"{head}   {head.strip()}\n" + "\n".join(rows))
        legend = "  ".join(f"{i}={p}" for i, p in enumerate(self.pods))
        n = len(self.differences)
        summary = (ngettext("{n} cell where the kernel and the policies disagree",
                            "{n} cells where the kernel and the policies disagree", n).format(n=n) if n
                   else _("the kernel did exactly what the policies say"))
        return "\n\n".join(blocks) + f"\n{legend}\n{summary}"

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        out = []
        expected_allowed, expected_denied = html.escape(_("expected allowed")), html.escape(_("expected denied"))
        corner = html.escape(_("from \\ to"))
        caption = html.escape(_("observed (a ! cell differs from what the policies say)"))
        for port, proto in sorted({(c.port, c.protocol) for c in self.cells}):
            expected = self.grid(port, proto, "expected")
            rows = "".join(
                f"<tr><th>{html.escape(s)}</th>" + "".join(
                    f'<td title="{expected_allowed if e == "." else expected_denied}" style="background:'
                    f'{"#c8e6c9" if v == "." else "#ffcdd2"};text-align:center;'
                    f'{"outline:3px solid #6a1b9a" if v != e else ""}">{v}{"!" if v != e else ""}</td>'
                    for v, e in zip(row, exp_row)) + "</tr>"
                for s, row, exp_row in zip(self.pods, self.grid(port, proto), expected))
            head = "".join(f"<th>{html.escape(t)}</th>" for t in self.pods)
            out.append(f"<p><b>{proto}/{port}</b> — {caption}</p>"
                       f"<table><tr><th>{corner}</th>{head}</tr>{rows}</table>")
        return "".join(out)


def run_matrix(lab: "Lab", namespaces: list[str], ports: list[int], protocols: list[str], timeout: float) -> Matrix:
    """Probe every ordered pair of pods of the namespaces on every port/protocol, pod IP to pod IP."""
    pods, infos = [], {}
    for ns in namespaces:
        for p in lab.pods(ns):
            if (p.get("status") or {}).get("podIP"):
                pods.append((f"{ns}/{p['metadata']['name']}", p["status"]["podIP"]))
                infos[pods[-1][0]] = pod_info(p)
    policies = lab.objects("NetworkPolicy")
    ns_labels = {n["metadata"]["name"]: dict(n["metadata"].get("labels") or {}) for n in lab.objects("Namespace")}
    jobs = [(s, t, ip, port, proto.upper()) for s, _ in pods for t, ip in pods for port in ports for proto in protocols]

    def one(job: tuple) -> Cell:
        src, dst, ip, port, proto = job
        r = lab.probe(src, f"{ip}:{port}", protocol=proto.lower(), timeout=timeout)
        # A refused connection still crossed the network: only drops and unreachables count as denied.
        allowed = r.outcome in ("connected", "refused")
        # A pod talking to itself never leaves its namespace: no policy can stop it (upstream's suite agrees).
        expected = src == dst or evaluate(infos[src], infos[dst], port, proto, policies, ns_labels).allowed
        return Cell(src, dst, port, proto, "allowed" if allowed else "denied", r.outcome,
                    expected="allowed" if expected else "denied", loopback=src == dst)

    with ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool:
        cells = list(pool.map(one, jobs))
    return Matrix([name for name, _ in pods], cells)
