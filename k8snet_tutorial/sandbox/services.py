"""Services: address allocation (ClusterIP, NodePort, LoadBalancer) and the endpoint controllers."""
from __future__ import annotations

import hashlib
import ipaddress
from typing import Callable, Iterable

from ..errors import NotModelledError, UsageError
from ..i18n import _
from .validation import KIND_HINT
from .naming import suffix

NODE_PORT_RANGE = (30000, 32767)
LB_RANGE = "172.18.255.0/24"  # a slice of the node network, announced by the lab like cloud-provider-kind would
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")


def _spread(seed: str, size: int) -> int:
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") % size


class Allocator:
    """Hands out ClusterIPs, NodePorts and LoadBalancer IPs, deterministically (a Service keeps the same
    address whatever the order it was created in), honouring explicit requests."""

    def __init__(self, service_subnet: str) -> None:
        self.net = ipaddress.ip_network(service_subnet)
        # kube-apiserver keeps the low band for static assignments and allocates dynamically above it.
        self.static_band = min(max(16, self.net.num_addresses // 16), 256)
        self.ips: dict[str, str] = {}
        self.ports: dict[int, str] = {}
        self.lbs: dict[str, str] = {}
        self.generation: dict[str, int] = {}  # a Service deleted and created again gets a new address

    def reserve_ip(self, ip: str, owner: str) -> str:
        """Take an explicitly requested ClusterIP."""
        addr = ipaddress.ip_address(ip)
        if addr not in self.net or addr in (self.net.network_address, self.net.broadcast_address):
            raise UsageError(f'Service "{owner}" is invalid: spec.clusterIPs: Invalid value: "{ip}": provided IP is'
                             f" not in the valid range. The range of valid IPs is {self.net}")
        holder = self.ips.get(ip)
        if holder and holder != owner:
            raise UsageError(f'Service "{owner}" is invalid: spec.clusterIPs: Invalid value: ["{ip}"]: failed to'
                             " allocate IP: provided IP is already allocated")
        self.ips[ip] = owner
        return ip

    def allocate_ip(self, owner: str) -> str:
        """A ClusterIP from the dynamic band, chosen from the Service's name and how often it was created."""
        for ip, who in self.ips.items():
            if who == owner:
                return ip
        size = self.net.num_addresses - self.static_band - 1
        start = _spread(f"{owner}#{self.generation.get(owner, 0)}", size)
        for i in range(size):
            ip = str(self.net[self.static_band + (start + i) % size])
            if ip not in self.ips:
                self.ips[ip] = owner
                return ip
        raise UsageError(_("no ClusterIP left in {subnet}").format(subnet=self.net))

    def allocate_node_port(self, owner: str, requested: int | None = None) -> int:
        """A NodePort: the requested one (if free and in range) or one chosen from the Service's name."""
        lo, hi = NODE_PORT_RANGE
        if requested:
            if not lo <= requested <= hi:
                raise UsageError(f'Service "{owner}" is invalid: spec.ports[0].nodePort: Invalid value: {requested}:'
                                 f" provided port is not in the valid range. The range of valid ports is {lo}-{hi}")
            holder = self.ports.get(requested)
            if holder and holder != owner:
                raise UsageError(f'Service "{owner}" is invalid: spec.ports[0].nodePort: Invalid value: {requested}:'
                                 " provided port is already allocated")
            self.ports[requested] = owner
            return requested
        size = hi - lo + 1
        start = _spread(f"nodeport/{owner}/{len([p for p, o in self.ports.items() if o == owner])}", size)
        for i in range(size):
            port = lo + (start + i) % size
            if port not in self.ports:
                self.ports[port] = owner
                return port
        raise UsageError(_("no NodePort left"))

    def allocate_lb(self, owner: str) -> str:
        """An external address for a LoadBalancer Service, from the lab's own range."""
        if owner in self.lbs:
            return self.lbs[owner]
        net = ipaddress.ip_network(LB_RANGE)
        taken = set(self.lbs.values())
        for host in list(net.hosts())[1:]:
            if str(host) not in taken:
                self.lbs[owner] = str(host)
                return str(host)
        raise UsageError(_("no LoadBalancer address left in {range}").format(range=LB_RANGE))

    def release(self, owner: str) -> None:
        """Free everything a Service held."""
        if owner in self.ips.values():
            self.generation[owner] = self.generation.get(owner, 0) + 1
        self.ips = {k: v for k, v in self.ips.items() if v != owner}
        self.ports = {k: v for k, v in self.ports.items() if v != owner}
        self.lbs.pop(owner, None)


def prepare(svc: dict, old: dict | None, alloc: Allocator) -> None:
    """Default and allocate a Service's spec as the API server would, keeping what an update may not change."""
    meta, spec = svc["metadata"], svc.setdefault("spec", {})
    owner = f"{meta.get('namespace', 'default')}/{meta['name']}"
    kind = spec.setdefault("type", "ClusterIP")
    if kind not in SERVICE_TYPES:
        raise UsageError(f'Service "{meta["name"]}" is invalid: spec.type: Unsupported value: "{kind}"')
    old_spec = (old or {}).get("spec") or {}
    for field in ("loadBalancerSourceRanges", "loadBalancerClass", "externalIPs"):
        if spec.get(field):
            raise NotModelledError(_("{where}: {field} — the sandbox does not model this.").format(
                where=f'service/{meta["name"]}', field=f"spec.{field}"), hint=_(KIND_HINT))
    if kind == "ExternalName":
        if not spec.get("externalName"):
            raise UsageError(f'Service "{meta["name"]}" is invalid: spec.externalName: Required value')
        alloc.release(owner)
        spec.pop("clusterIP", None)
        return
    spec.setdefault("sessionAffinity", "None")
    if spec["sessionAffinity"] == "ClientIP":
        spec.setdefault("sessionAffinityConfig", {"clientIP": {"timeoutSeconds": 10800}})
    spec.setdefault("internalTrafficPolicy", "Cluster")
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    if spec.get("clusterIP") == "None":
        spec["clusterIPs"] = ["None"]
    else:
        wanted = spec.get("clusterIP") or old_spec.get("clusterIP")
        if old_spec.get("clusterIP") and spec.get("clusterIP") and spec["clusterIP"] != old_spec["clusterIP"]:
            raise UsageError(f'Service "{meta["name"]}" is invalid: spec.clusterIPs[0]: Invalid value: '
                             f'["{spec["clusterIP"]}"]: may not change once set')
        ip = alloc.reserve_ip(wanted, owner) if wanted else alloc.allocate_ip(owner)
        spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
    old_ports = {(p.get("port"), p.get("protocol", "TCP")): p for p in old_spec.get("ports") or []}
    for p in spec.get("ports") or []:
        p.setdefault("protocol", "TCP")
        p.setdefault("targetPort", p["port"])
        if kind in ("NodePort", "LoadBalancer"):
            keep = old_ports.get((p["port"], p["protocol"]), {}).get("nodePort")
            p["nodePort"] = alloc.allocate_node_port(owner, p.get("nodePort") or keep)
        else:
            p.pop("nodePort", None)
    if kind in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if kind == "LoadBalancer":
        svc["status"] = {"loadBalancer": {"ingress": [{"ip": alloc.allocate_lb(owner), "ipMode": "VIP"}]}}
    else:
        svc["status"] = {"loadBalancer": {}}


def target_port(pod: dict, port: dict) -> int | None:
    """The pod port a Service port's targetPort means: a number, or a containerPort name looked up in the pod."""
    tp = port.get("targetPort", port["port"])
    if isinstance(tp, int) or str(tp).isdigit():
        return int(tp)
    for c in pod["spec"]["containers"]:
        for cp in c.get("ports") or []:
            if cp.get("name") == tp and cp.get("protocol", "TCP") == port.get("protocol", "TCP"):
                return int(cp["containerPort"])
    return None


def selected_pods(svc: dict, pods: Iterable[dict]) -> list[dict]:
    """Running pods of the Service's namespace whose labels carry every selector pair."""
    selector = svc["spec"].get("selector") or {}
    if not selector:
        return []
    ns = svc["metadata"]["namespace"]
    out = []
    for p in pods:
        labels = p["metadata"].get("labels") or {}
        if p["metadata"]["namespace"] == ns and (p.get("status") or {}).get("podIP") and \
                all(labels.get(k) == v for k, v in selector.items()):
            out.append(p)
    return sorted(out, key=lambda p: p["metadata"]["name"])


def _pod_ref(pod: dict, service: str) -> dict:
    """What both endpoint controllers record of a pod: node, targetRef, and hostname when its subdomain matches."""
    ref = {"nodeName": pod["spec"]["nodeName"],
           "targetRef": {"kind": "Pod", "name": pod["metadata"]["name"], "namespace": pod["metadata"]["namespace"],
                         "uid": pod["metadata"]["uid"]}}
    if pod["spec"].get("hostname") and pod["spec"].get("subdomain") == service:
        ref["hostname"] = pod["spec"]["hostname"]
    return ref


def _slice(svc: dict, index: int, endpoints: list[dict], ports: list[dict] | None) -> dict:
    """An EndpointSlice of a Service, named as the EndpointSlice controller names them."""
    meta = svc["metadata"]
    ns, name = meta["namespace"], meta["name"]
    out = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
           "metadata": {"name": f"{name}-{suffix(f'slice/{ns}/{name}/{index}')}", "namespace": ns,
                        "generateName": f"{name}-",
                        "labels": {**(meta.get("labels") or {}), "kubernetes.io/service-name": name,
                                   "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
           "endpoints": endpoints, "ports": ports}
    if endpoints:
        out["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "Service", "name": name,
                                               "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}]
    return out


def endpoints_for(svc: dict, pods: list[dict], ready: Callable[[dict], bool]) -> tuple[dict, list[dict]]:
    """The Endpoints object and EndpointSlices the endpoint controllers would write for a Service."""
    meta = svc["metadata"]
    ns, name = meta["namespace"], meta["name"]
    ports = svc["spec"].get("ports") or []
    # Group pods by the port numbers their targetPorts resolve to, as both controllers do.
    groups: dict[tuple, list[dict]] = {}
    for pod in pods:
        resolved = tuple((p.get("name", ""), target_port(pod, p), p.get("protocol", "TCP")) for p in ports)
        if any(num is None for _, num, _ in resolved):
            continue
        groups.setdefault(resolved, []).append(pod)
    subsets, slices = [], []
    for i, (resolved, members) in enumerate(sorted(groups.items(), key=lambda kv: kv[0])):
        port_list = [{**({"name": n} if n else {}), "port": num, "protocol": proto} for n, num, proto in resolved]
        subset: dict = {"ports": port_list}
        for key, wanted in (("addresses", True), ("notReadyAddresses", False)):
            found = [{"ip": p["status"]["podIP"], **_pod_ref(p, name)} for p in members if ready(p) == wanted]
            if found:
                subset[key] = found
        subsets.append(subset)
        slices.append(_slice(svc, i, [{"addresses": [p["status"]["podIP"]],
                                       "conditions": {"ready": ready(p), "serving": ready(p), "terminating": False},
                                       **_pod_ref(p, name)} for p in members], port_list))
    if not slices and svc["spec"].get("selector"):
        slices.append(_slice(svc, 0, [], None))
    endpoints = {"apiVersion": "v1", "kind": "Endpoints",
                 "metadata": {"name": name, "namespace": ns, "labels": dict(meta.get("labels") or {})}}
    if subsets:
        endpoints["subsets"] = subsets
    return endpoints, slices
