"""The supervisor's request handlers: one method per operation the sandbox backend asks for."""
from __future__ import annotations

import ipaddress
from typing import Callable
from urllib.parse import urlparse

from ..errors import UsageError
from ..results import ProbeResult
from . import probe
from .cluster import Cluster
from .kubelet import container_ports


class Handlers:
    """Maps operation names to the cluster; results are JSON-ready."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.on_shutdown: Callable[[], None] = lambda: None

    def dispatch(self, op: str, args: dict):
        """Call the handler for `op`."""
        fn = getattr(self, f"op_{op}", None)
        if fn is None:
            raise UsageError(f"unknown sandbox operation {op!r}")
        return fn(**args)

    def op_ping(self) -> dict:
        return {"name": self.cluster.config.name, "pid": __import__("os").getpid()}

    def op_status(self) -> dict:
        nodes = [{"name": n.name, "ip": n.ip, "podCIDR": n.pod_cidr} for n in self.cluster.fabric.nodes.values()]
        return {"nodes": nodes, "proxy_mode": self.cluster.config.proxy_mode,
                "pods": len(self.cluster.kubelet.pods)}

    def op_apply(self, objects: list[dict]) -> list[str]:
        return self.cluster.apply(objects)

    def op_delete(self, objects: list[dict]) -> list[str]:
        lines = []
        for o in objects:
            meta = o.get("metadata") or {}
            try:
                lines.append(self.cluster.delete(o["kind"], meta.get("namespace") or "default", meta["name"]))
            except UsageError as e:
                lines.append(str(e))
        return lines

    def op_list(self, kind: str, namespace: str | None = None) -> list[dict]:
        return self.cluster.list(kind, namespace)

    def op_get(self, kind: str, namespace: str | None, name: str) -> dict | None:
        return self.cluster.get(kind, namespace, name)

    def op_exec(self, command: list[str], pod: str | None = None, namespace: str = "default",
                container: str | None = None, node: str | None = None, exec_timeout: float = 30) -> dict:
        r = self.cluster.exec(command, pod=pod, namespace=namespace, container=container, node=node,
                              timeout=exec_timeout)
        return {"command": r.command, "returncode": r.returncode, "stdout": r.stdout, "stderr": r.stderr}

    def op_logs(self, namespace: str, pod: str, container: str | None = None, tail: int | None = None) -> str:
        return self.cluster.logs(namespace, pod, container, tail)

    def op_probe(self, source: str, target: str, namespace: str = "default", port: int | None = None,
                 protocol: str = "tcp", probe_timeout: float = 2.0) -> dict:
        src_ns, src_name = _split(source, namespace)
        with self.cluster.lock:
            rt = self.cluster.kubelet.pods.get(f"{src_ns}/{src_name}")
            if rt is None:
                raise UsageError(f'probe: source pod "{source}" not found in namespace {src_ns!r}')
            address, port = self._resolve_target(target, src_ns, port)
        raw = probe.send(rt.net.netns, address, port, protocol, probe_timeout)
        return probe.to_result(src_name, target, address, port, protocol, raw).to_dict()

    def _resolve_target(self, target: str, namespace: str, port: int | None) -> tuple[str, int]:
        """A pod name, an IP, IP:port or a URL, as an address and port."""
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
            return host, int(port or 80)
        except ValueError:
            pass
        ns, name = _split(host, namespace)
        pod = self.cluster.store.get("Pod", ns, name)
        if pod is None or not (pod.get("status") or {}).get("podIP"):
            raise UsageError(f'probe: target "{target}" is neither an IP address nor a running pod in namespace {ns!r}')
        if port is None:
            declared = [p for c in pod["spec"]["containers"] for p, _ in container_ports(c)]
            port = declared[0] if declared else 80
        return pod["status"]["podIP"], int(port)

    def op_shutdown(self) -> str:
        self.on_shutdown()
        return "stopping"


def _split(ref: str, namespace: str) -> tuple[str, str]:
    """`ns/name` or `name` (in `namespace`)."""
    return tuple(ref.split("/", 1)) if "/" in ref else (namespace, ref)  # type: ignore[return-value]
