"""Graphviz pictures of the live lab: nodes as boxes holding their pods, with addresses."""
from __future__ import annotations

from typing import TYPE_CHECKING

import graphviz

if TYPE_CHECKING:
    from .lab import Lab
    from .results import ProbeResult


def topology_diagram(lab: "Lab", *, namespace: str | None = None, highlight: "ProbeResult | None" = None) -> graphviz.Digraph:
    """Nodes (with their IP and pod range) holding their pods (with their IP); a probe's path drawn in colour."""
    g = graphviz.Digraph("lab", graph_attr={"rankdir": "LR", "fontname": "Helvetica", "compound": "true"},
                         node_attr={"shape": "box", "style": "rounded,filled", "fillcolor": "#e3f2fd",
                                    "fontname": "Helvetica", "fontsize": "10"})
    nodes = lab.objects("Node")
    pods = [p for p in lab.pods(namespace) if p["spec"].get("nodeName")]
    by_ip = {}
    for n in nodes:
        name = n["metadata"]["name"]
        ip = next((a["address"] for a in n["status"].get("addresses", []) if a["type"] == "InternalIP"), "")
        with g.subgraph(name=f"cluster_{name}") as sub:
            sub.attr(label=f"{name}\n{ip}  pods {n['spec'].get('podCIDR', '')}", style="rounded", color="#546e7a")
            here = [p for p in pods if p["spec"]["nodeName"] == name]
            if not here:
                sub.node(f"empty_{name}", "(no pods)", style="dashed", fillcolor="white")
            for p in here:
                pid = f"{p['metadata']['namespace']}/{p['metadata']['name']}"
                pod_ip = (p.get("status") or {}).get("podIP", "")
                by_ip[pod_ip] = pid
                label = (p["metadata"]["name"] if namespace else pid) + f"\n{pod_ip}"
                sub.node(pid, label)
    if highlight is not None:
        src = next((pid for pid in by_ip.values() if pid.endswith("/" + highlight.source) or pid == highlight.source), None)
        dst = by_ip.get(highlight.address or "")
        if src and dst:
            colour = "#2e7d32" if highlight.ok else "#c62828"
            g.edge(src, dst, label=f"{highlight.protocol}/{highlight.port}\n{highlight.outcome}", color=colour,
                   fontcolor=colour, penwidth="2")
    return g
