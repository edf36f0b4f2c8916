"""The supervisor's request handlers: one method per operation the sandbox backend asks for."""
from __future__ import annotations

import ipaddress
import os
import time
from typing import Callable
from urllib.parse import urlparse

from ..errors import UsageError
from ..i18n import _
from ..results import ProbeResult
from . import probe
from .cluster import Cluster
from .kubelet import container_ports


CHANGING_VERBS = {"apply", "scale", "delete", "patch", "label", "expose"}
OUTSIDE = "@host"  # probe source: the machine outside the cluster (kind's Docker host)
OUTSIDE_NETNS = "/proc/1/ns/net"  # the supervisor is pid 1 of the lab, in the lab's outer namespace


class Handlers:
    """Maps operation names to the cluster; results are JSON-ready."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.on_shutdown: Callable[[], None] = lambda: None

    def dispatch(self, op: str, args: dict):
        """Call the handler for `op`."""
        fn = getattr(self, f"op_{op}", None)
        if fn is None:
            raise UsageError(_("unknown sandbox operation {op}").format(op=repr(op)))
        return fn(**args)

    def op_ping(self) -> dict:
        """Whether the lab answers, and which one it is."""
        return {"name": self.cluster.config.name, "pid": os.getpid()}

    def op_status(self) -> dict:
        """The lab's nodes, kube-proxy mode and pod count."""
        nodes = [{"name": n.name, "ip": n.ip, "podCIDR": n.pod_cidr} for n in self.cluster.fabric.nodes.values()]
        return {"nodes": nodes, "proxy_mode": self.cluster.config.proxy_mode,
                "pods": len(self.cluster.kubelet.pods)}

    def op_apply(self, objects: list[dict], sources: list[str | None] | None = None) -> list[str]:
        """Create or update objects (with their manifest locations for error messages)."""
        return self.cluster.apply(objects, sources)

    def op_delete(self, objects: list[dict]) -> list[str]:
        """Delete objects; a missing one gives kubectl's NotFound line instead of failing the rest."""
        lines = []
        for o in objects:
            meta = o.get("metadata") or {}
            try:
                lines.append(self.cluster.delete(o["kind"], meta.get("namespace") or "default", meta["name"]))
            except UsageError as e:
                lines.append(str(e))
        return lines

    def op_settle(self, within: float = 30) -> list[str]:
        """Wait (bounded) until every pod's readiness probes have answered once; return the pods still not Ready."""
        deadline = time.monotonic() + within
        while True:
            with self.cluster.lock:
                keys = list(self.cluster.kubelet.pods)
                pending = [k for k in keys if not self.cluster.kubelet.settled(k)]
                if not pending or time.monotonic() > deadline:
                    unready = []
                    for k in keys:
                        pod = self.cluster.store.get("Pod", *k.split("/", 1))
                        if pod is not None and not self.cluster.kubelet.is_ready(pod):
                            unready.append(k)
                    return unready
            time.sleep(0.05)

    def op_list(self, kind: str, namespace: str | None = None) -> list[dict]:
        """Objects of a kind."""
        return self.cluster.list(kind, namespace)

    def op_get(self, kind: str, namespace: str | None, name: str) -> dict | None:
        """One object, or None."""
        return self.cluster.get(kind, namespace, name)

    def op_exec(self, command: list[str], pod: str | None = None, namespace: str = "default",
                container: str | None = None, node: str | None = None, exec_timeout: float = 30) -> dict:
        """Run a command in a pod or on a node."""
        r = self.cluster.exec(command, pod=pod, namespace=namespace, container=container, node=node,
                              timeout=exec_timeout)
        return {"command": r.command, "returncode": r.returncode, "stdout": r.stdout, "stderr": r.stderr}

    def op_logs(self, namespace: str, pod: str, container: str | None = None, tail: int | None = None) -> str:
        """A container's log."""
        return self.cluster.logs(namespace, pod, container, tail)

    def op_probe(self, source: str, target: str, namespace: str = "default", port: int | None = None,
                 protocol: str = "tcp", probe_timeout: float = 2.0) -> dict:
        """Send a real connection from a pod (or from outside the cluster) and report what happened."""
        src_ns, src_name = _split(source, namespace)
        with self.cluster.lock:
            if source == OUTSIDE:
                # The lab's own namespace plays the machine that runs kind: it reaches node IPs and LoadBalancer
                # addresses over the node network, and knows nothing of the cluster DNS.
                netns, resolv = OUTSIDE_NETNS, []
            else:
                rt = self.cluster.kubelet.pods.get(f"{src_ns}/{src_name}")
                if rt is None:
                    raise UsageError(_('probe: source pod "{pod}" not found in namespace {namespace}').format(
                        pod=source, namespace=repr(src_ns)))
                netns = rt.net.netns
                with open(f"{rt.dir}/resolv.conf") as f:
                    resolv = f.read().split("\n")
            host, port, pod_ip = self._parse_target(target, src_ns, port)
        if pod_ip is None:
            search = next((line.split()[1:] for line in resolv if line.startswith("search ")), [])
            nameserver = next((line.split()[1] for line in resolv if line.startswith("nameserver ")),
                              self.cluster.config.dns_ip)
            address, why = probe.resolve(netns, host, nameserver=nameserver, search=search,
                                         timeout=probe_timeout)
            if address is None:
                return ProbeResult(source=src_name, target=target, address=None, port=port, protocol=protocol.upper(),
                                   outcome="unresolved", detail=why).to_dict()
            if port is None:
                port = self._service_port(why) or 80
        else:
            address = pod_ip
        raw = probe.send(netns, address, int(port), protocol, probe_timeout)
        if raw["outcome"] == "refused":
            empty = self._service_without_endpoints(address)
            if empty:
                raw["detail"] = _("connection refused: the Service {service} has no ready endpoint, so kube-proxy "
                                  "rejects the connection").format(service=empty)
        return probe.to_result(src_name, target, address, int(port), protocol, raw).to_dict()

    def _service_without_endpoints(self, address: str) -> str | None:
        """`ns/name` of the Service whose ClusterIP this is, when none of its endpoints is ready."""
        with self.cluster.lock:
            for svc in self.cluster.store.list("Service"):
                if svc["spec"].get("clusterIP") == address:
                    ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
                    ready = [e for sl in self.cluster.store.list("EndpointSlice", ns)
                             if (sl["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == name
                             for e in sl.get("endpoints") or [] if (e.get("conditions") or {}).get("ready")]
                    return None if ready else f"{ns}/{name}"
        return None

    def _parse_target(self, target: str, namespace: str, port: int | None) -> tuple[str, int | None, str | None]:
        """Split a target into host and port; a pod name or an IP gives its address at once (else DNS decides)."""
        if "://" in target:
            u = urlparse(target)
            host, port = u.hostname or "", u.port or port or (443 if u.scheme == "https" else 80)
        elif target.count(":") == 1:
            host, p = target.split(":")
            port = int(p)
        else:
            host = target
        try:
            ipaddress.ip_address(host)
            return host, port or 80, host
        except ValueError:
            pass
        ns, name = _split(host, namespace)
        pod = self.cluster.store.get("Pod", ns, name) if "." not in name else None
        if pod is not None and (pod.get("status") or {}).get("podIP"):
            if port is None:
                declared = [p for c in pod["spec"]["containers"] for p, _ in container_ports(c)]
                port = declared[0] if declared else 80
            return pod["status"]["podIP"], port, pod["status"]["podIP"]
        return host, port, None

    def _service_port(self, fqdn: str) -> int | None:
        """The first port of the Service a resolved name belongs to (`svc.ns.svc.cluster.local`)."""
        parts = fqdn.split(".")
        if len(parts) >= 3 and parts[2] == "svc":
            svc = self.cluster.store.get("Service", parts[1], parts[0])
            ports = (svc or {}).get("spec", {}).get("ports") or []
            return int(ports[0]["port"]) if ports else None
        return None

    def op_kill(self, pod: str, namespace: str = "default", container: str | None = None) -> str:
        """Crash a container on purpose."""
        return self.cluster.kill(namespace, pod, container)

    def op_kubectl(self, args: list[str]) -> dict:
        """Answer a kubectl command."""
        from .kubectl import run_kubectl
        r = run_kubectl(list(args), KubectlView(self.cluster))
        if r.ok and set(args) & CHANGING_VERBS:
            # New pods answer their first readiness probe before the learner's next command: no race to lose.
            self.op_settle(within=30)
        return {"command": ["kubectl", *args], "returncode": r.returncode, "stdout": r.stdout, "stderr": r.stderr}

    def op_shutdown(self) -> str:
        """Stop the lab."""
        self.on_shutdown()
        return "stopping"


def _split(ref: str, namespace: str) -> tuple[str, str]:
    """`ns/name` or `name` (in `namespace`)."""
    return tuple(ref.split("/", 1)) if "/" in ref else (namespace, ref)  # type: ignore[return-value]


class KubectlView:
    """The control plane as the kubectl view sees it (see sandbox.kubectl.ClusterAPI)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def list(self, kind: str, namespace: str | None = None, selector: str | None = None) -> list[dict]:
        """Objects of a kind, filtered by a label selector string."""
        items = self.cluster.list(kind, namespace)
        if selector:
            from ..labels import parse_selector, selector_matches
            reqs = parse_selector(selector)
            items = [o for o in items if selector_matches(reqs, o["metadata"].get("labels") or {})]
        return items

    def get(self, kind: str, namespace: str | None, name: str) -> dict | None:
        """One object."""
        return self.cluster.get(kind, namespace, name)

    def apply(self, objects: list[dict]) -> list[str]:
        """Apply objects."""
        return self.cluster.apply(objects)

    def delete(self, kind: str, namespace: str | None, name: str) -> str:
        """Delete one object."""
        return self.cluster.delete(kind, namespace, name)

    def scale(self, kind: str, namespace: str, name: str, replicas: int) -> str:
        """Scale a workload."""
        return self.cluster.scale(kind, namespace, name, replicas)

    def patch(self, kind: str, namespace: str | None, name: str, patch: dict) -> str:
        """Merge-patch an object."""
        return self.cluster.patch(kind, namespace, name, patch)

    def label(self, kind: str, namespace: str | None, name: str, labels: dict, overwrite: bool) -> str:
        """Change labels."""
        return self.cluster.label(kind, namespace, name, labels, overwrite)

    def logs(self, namespace: str, pod: str, container: str | None, tail: int | None = None) -> str:
        """A container's log."""
        return self.cluster.logs(namespace, pod, container, tail)

    def expose(self, kind: str, namespace: str, name: str, *, port: int, target_port=None, type: str = "ClusterIP",
               service_name: str | None = None, protocol: str = "TCP") -> str:
        """Create a Service selecting what a Deployment, ReplicaSet, Pod or Service selects."""
        obj = self.cluster.get(kind, namespace, name)
        if obj is None:
            raise UsageError(f'Error from server (NotFound): {kind.lower()}s "{name}" not found')
        if kind == "Pod":
            selector = dict(obj["metadata"].get("labels") or {})
        elif kind == "Service":
            selector = dict(obj["spec"].get("selector") or {})
        else:
            selector = dict((obj["spec"].get("selector") or {}).get("matchLabels") or {})
        if not selector:
            raise UsageError(f"error: couldn't retrieve selectors via --selector flag or introspection: {kind.lower()}"
                             f" {name} has no labels to select")
        svc = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": service_name or name, "namespace": namespace,
                            "labels": dict(obj["metadata"].get("labels") or {})},
               "spec": {"type": type, "selector": selector,
                        "ports": [{"port": int(port), "protocol": protocol,
                                   "targetPort": target_port if target_port is not None else int(port)}]}}
        self.cluster.apply([svc])
        return f"service/{service_name or name} exposed"

    def now(self) -> float:
        """Wall-clock time."""
        return self.cluster.now()

    def load_manifests(self, paths: list[str]) -> list[dict]:
        """Read manifest files (absolute paths: the CLI resolves them before sending)."""
        from ..manifests import load_paths
        return load_paths(paths)
