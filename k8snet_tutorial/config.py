"""Read a kind cluster configuration file into the cluster shape both backends build."""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import UsageError

DEFAULT_NAME = "k8snet"
DEFAULT_POD_SUBNET = "10.244.0.0/16"
DEFAULT_SERVICE_SUBNET = "10.96.0.0/16"
PROXY_MODES = ("iptables", "nftables", "ipvs")


@dataclass(frozen=True)
class NodeSpec:
    """One node as the config declares it."""

    name: str
    role: str  # "control-plane" or "worker"
    labels: dict[str, str] = field(default_factory=dict)
    port_mappings: tuple[tuple[int, int, str], ...] = ()  # (containerPort, hostPort, protocol)


@dataclass(frozen=True)
class ClusterConfig:
    """The cluster a config file asks for: name, nodes, subnets and kube-proxy mode."""

    name: str = DEFAULT_NAME
    nodes: tuple[NodeSpec, ...] = ()
    pod_subnet: str = DEFAULT_POD_SUBNET
    service_subnet: str = DEFAULT_SERVICE_SUBNET
    proxy_mode: str = "iptables"
    path: str | None = None

    @property
    def dns_ip(self) -> str:
        """The cluster DNS address: the tenth address of the service range, as kubeadm picks it."""
        return str(ipaddress.ip_network(self.service_subnet)[10])

    @property
    def api_ip(self) -> str:
        """The `kubernetes` Service address: the first address of the service range."""
        return str(ipaddress.ip_network(self.service_subnet)[1])


def _node_names(cluster: str, roles: list[str]) -> list[str]:
    """Name nodes as kind does: <c>-control-plane, <c>-control-plane2, <c>-worker, <c>-worker2."""
    names, counts = [], {"control-plane": 0, "worker": 0}
    for role in roles:
        counts[role] += 1
        suffix = "" if counts[role] == 1 else str(counts[role])
        names.append(f"{cluster}-{role}{suffix}")
    return names


def parse_config(data: dict | None, *, name: str | None = None, path: str | None = None) -> ClusterConfig:
    """Turn a parsed kind `Cluster` document into a ClusterConfig, checking what matters to us."""
    data = data or {}
    where = path or "kind config"
    if data and (data.get("kind") != "Cluster" or not str(data.get("apiVersion", "")).startswith("kind.x-k8s.io/")):
        raise UsageError(f"{where}: not a kind Cluster config (kind: Cluster, apiVersion: kind.x-k8s.io/v1alpha4)")
    cluster = name or os.environ.get("K8SNET_CLUSTER") or data.get("name") or DEFAULT_NAME
    raw_nodes = data.get("nodes") or [{"role": "control-plane"}]
    roles = []
    for i, n in enumerate(raw_nodes):
        role = (n or {}).get("role", "control-plane")
        if role not in ("control-plane", "worker"):
            raise UsageError(f"{where}: nodes[{i}].role must be control-plane or worker, not {role!r}")
        roles.append(role)
    nodes = []
    for n, node_name in zip(raw_nodes, _node_names(cluster, roles)):
        n = n or {}
        maps = tuple(
            (int(m["containerPort"]), int(m.get("hostPort", m["containerPort"])), str(m.get("protocol", "TCP")).upper())
            for m in n.get("extraPortMappings") or []
        )
        nodes.append(NodeSpec(name=node_name, role=n.get("role", "control-plane"),
                              labels=dict(n.get("labels") or {}), port_mappings=maps))
    net = data.get("networking") or {}
    mode = str(net.get("kubeProxyMode", "iptables"))
    if mode not in PROXY_MODES:
        raise UsageError(f"{where}: networking.kubeProxyMode must be one of {', '.join(PROXY_MODES)}, not {mode!r}")
    for key in ("podSubnet", "serviceSubnet"):
        if key in net:
            try:
                ipaddress.ip_network(net[key])
            except ValueError as e:
                raise UsageError(f"{where}: networking.{key}: {e}") from None
    return ClusterConfig(name=cluster, nodes=tuple(nodes),
                         pod_subnet=net.get("podSubnet", DEFAULT_POD_SUBNET),
                         service_subnet=net.get("serviceSubnet", DEFAULT_SERVICE_SUBNET),
                         proxy_mode=mode, path=path)


def default_config_path() -> Path | None:
    """The kind-config.yaml a learner means: $K8SNET_CONFIG, then ./kind-config.yaml, then the repo's."""
    env = os.environ.get("K8SNET_CONFIG")
    if env:
        return Path(env)
    for candidate in (Path.cwd() / "kind-config.yaml", Path(__file__).resolve().parent.parent / "kind-config.yaml"):
        if candidate.is_file():
            return candidate
    return None


def load_config(path: str | os.PathLike | None = None, *, name: str | None = None) -> ClusterConfig:
    """Read a kind config file (or the default one) into a ClusterConfig."""
    p = Path(path) if path else default_config_path()
    if p is None:
        return parse_config(None, name=name)
    try:
        data = yaml.safe_load(p.read_text())
    except FileNotFoundError:
        raise UsageError(f"{p}: no such kind config file") from None
    except yaml.YAMLError as e:
        raise UsageError(f"{p}: not valid YAML: {e}") from None
    return parse_config(data, name=name, path=str(p))
