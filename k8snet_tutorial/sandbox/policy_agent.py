"""The sandbox's NetworkPolicy agent: keeps every node's nftables table in step with policies, pods and labels."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..policy import pod_info
from . import netpol
from .network import run

if TYPE_CHECKING:
    from .cluster import Cluster


class PolicyAgent:
    """Writes each node's `inet k8snet-netpol` table; a node whose rules did not change is left alone."""

    def __init__(self, cluster: "Cluster") -> None:
        self.cluster = cluster
        self.applied: dict[str, str] = {}

    def sync(self) -> None:
        """Recompute every node's table from the store and apply the ones that changed."""
        policies = self.cluster.store.list("NetworkPolicy")
        namespaces = {ns["metadata"]["name"]: dict(ns["metadata"].get("labels") or {})
                      for ns in self.cluster.store.list("Namespace")}
        running = [p for p in self.cluster.store.list("Pod") if (p.get("status") or {}).get("podIP")]
        infos = {f"{p['metadata']['namespace']}/{p['metadata']['name']}": pod_info(p) for p in running}
        for node in self.cluster.fabric.nodes.values():
            local = [netpol.LocalPod(infos[key], rt.net.host_veth) for key, rt in sorted(self.cluster.kubelet.pods.items())
                     if rt.net.node == node.name and key in infos]
            if not policies and node.name not in self.applied:
                continue  # nothing to enforce yet: leave the node's netfilter as kind's would be
            script = netpol.node_ruleset(local, list(infos.values()), policies, namespaces)
            if self.applied.get(node.name) != script:
                run(["nft", "-f", "-"], netns=node.netns, stdin=script)
                self.applied[node.name] = script

    def counters(self, node: str) -> str:
        """The node's policy table with its live counters (`nft list table inet k8snet-netpol`)."""
        n = self.cluster.fabric.nodes[node]
        return run(["nft", "list", "table", netpol.FAMILY, netpol.TABLE], netns=n.netns) if node in self.applied else ""
