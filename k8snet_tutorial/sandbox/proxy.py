"""kube-proxy for the sandbox: turn Services and EndpointSlices into each node's iptables or nftables rules."""
from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from ..errors import NotModelledError
from . import kubeproxy
from .network import ip_batch, run
from .validation import KIND_HINT
from ..i18n import _

if TYPE_CHECKING:
    from .cluster import Cluster


def check_mode(mode: str) -> None:
    """Refuse a kube-proxy mode this kernel cannot run inside the lab."""
    if mode == "ipvs" and not os.path.exists("/proc/net/ip_vs"):
        raise NotModelledError(_("kube-proxy mode ipvs needs the kernel's IPVS, which this kernel does not offer"
                                 " inside an unprivileged namespace (no /proc/net/ip_vs); set kubeProxyMode to"
                                 " iptables or nftables for the sandbox."), hint=_(KIND_HINT))
    if mode not in ("iptables", "nftables", "ipvs"):
        raise NotModelledError(_("kube-proxy mode {mode} is not one the sandbox knows.").format(mode=repr(mode)),
                               hint=_(KIND_HINT))


def service_ports(cluster: "Cluster") -> list[kubeproxy.ServicePort]:
    """What kube-proxy's service and endpoint trackers hold: one entry per Service port, with its endpoints."""
    out = []
    slices: dict[tuple[str, str], list[dict]] = {}
    for sl in cluster.store.list("EndpointSlice"):
        owner = (sl["metadata"].get("labels") or {}).get("kubernetes.io/service-name")
        slices.setdefault((sl["metadata"]["namespace"], owner), []).append(sl)
    for svc in cluster.store.list("Service"):
        spec, meta = svc["spec"], svc["metadata"]
        if spec.get("type") == "ExternalName" or spec.get("clusterIP") in (None, "None"):
            continue
        lb_ips = tuple(i["ip"] for i in (svc.get("status") or {}).get("loadBalancer", {}).get("ingress", []) if "ip" in i)
        for port in spec.get("ports") or []:
            eps = []
            for sl in slices.get((meta["namespace"], meta["name"]), []):
                match = next((p for p in sl.get("ports") or [] if p.get("name", "") == port.get("name", "")
                              and p.get("protocol", "TCP") == port.get("protocol", "TCP")), None)
                if match is None:
                    continue
                for ep in sl.get("endpoints") or []:
                    cond = ep.get("conditions") or {}
                    for addr in ep["addresses"]:
                        eps.append(kubeproxy.Endpoint(ip=addr, port=int(match["port"]), node=ep.get("nodeName", ""),
                                                      ready=bool(cond.get("ready")), serving=bool(cond.get("serving")),
                                                      terminating=bool(cond.get("terminating"))))
            affinity = spec.get("sessionAffinity") == "ClientIP"
            timeout = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}).get("timeoutSeconds", 10800)
            out.append(kubeproxy.ServicePort(
                namespace=meta["namespace"], name=meta["name"], port_name=port.get("name", ""),
                protocol=port.get("protocol", "TCP"), cluster_ip=spec["clusterIP"], port=int(port["port"]),
                node_port=port.get("nodePort") if spec.get("type") in ("NodePort", "LoadBalancer") else None,
                load_balancer_ips=lb_ips if spec.get("type") == "LoadBalancer" else (),
                external_ips=tuple(spec.get("externalIPs") or ()),
                session_affinity=affinity, affinity_timeout=int(timeout),
                external_traffic_policy_local=spec.get("externalTrafficPolicy") == "Local",
                internal_traffic_policy_local=spec.get("internalTrafficPolicy") == "Local",
                endpoints=tuple(sorted(eps, key=lambda e: (e.ip, e.port)))))
    return out


class KubeProxy:
    """One kube-proxy per node, each writing only what changed since its last sync."""

    def __init__(self, cluster: "Cluster") -> None:
        self.cluster = cluster
        self.mode = cluster.config.proxy_mode
        check_mode(self.mode)
        self.applied: dict[str, str] = {}
        self.announced: dict[str, str] = {}
        self.last_sync_seconds = 0.0

    def sync(self) -> None:
        """Recompute every node's rules and apply the difference."""
        start = time.monotonic()
        sps = service_ports(self.cluster)
        for node in self.cluster.fabric.nodes.values():
            ctx = kubeproxy.NodeContext(name=node.name, ip=node.ip, cluster_cidr=self.cluster.config.pod_subnet)
            if self.mode == "nftables":
                rules = kubeproxy.nftables_rules(sps, ctx, service_cidr=self.cluster.config.service_subnet)
                delta = kubeproxy.nftables_delta(self.applied.get(node.name), rules)
                # A netlink batch is small inside an unprivileged namespace: big syncs come in several parts.
                for part in kubeproxy.split_nft_transactions(delta) if delta else ():
                    run(["nft", "-f", "-"], netns=node.netns, stdin=part)
            else:
                rules = kubeproxy.iptables_rules(sps, ctx)
                delta = kubeproxy.iptables_delta(self.applied.get(node.name), rules)
                if delta:
                    run(["iptables-restore", "--noflush"], netns=node.netns, stdin=delta)
            self.applied[node.name] = rules
        self.announce(sps)
        self.last_sync_seconds = time.monotonic() - start

    def announce(self, sps: list[kubeproxy.ServicePort]) -> None:
        """Route each LoadBalancer address to a node that may serve it, as a load balancer in front of kind would.

        Nodes labelled node.kubernetes.io/exclude-from-external-load-balancers (the control-plane) are skipped;
        with externalTrafficPolicy Local only nodes holding a ready endpoint qualify.
        """
        eligible = [n["metadata"]["name"] for n in self.cluster.store.list("Node")
                    if "node.kubernetes.io/exclude-from-external-load-balancers" not in n["metadata"].get("labels", {})]
        wanted: dict[str, str] = {}
        for sp in sps:
            for ip in sp.load_balancer_ips:
                nodes = eligible
                if sp.external_traffic_policy_local:
                    local = {e.node for e in sp.endpoints if e.ready}
                    nodes = [n for n in eligible if n in local]
                if nodes and ip not in wanted:
                    wanted[ip] = self.cluster.fabric.nodes[sorted(nodes)[0]].ip
        cmds = [f"route del {ip}/32" for ip in self.announced if ip not in wanted]
        cmds += [f"route replace {ip}/32 via {via}" for ip, via in wanted.items() if self.announced.get(ip) != via]
        if cmds:
            ip_batch(cmds)  # in the lab's own namespace: the node network's side, never the host's
        self.announced = wanted
