"""The data plane: node and pod network namespaces, veth pairs, addresses and routes, as kind + kindnet lay them out."""
from __future__ import annotations

import ipaddress
import os
import subprocess
from dataclasses import dataclass

from ..errors import EnvironmentProblem
from ..i18n import _
from . import nsutil
from .ipam import mac_for
from .naming import short_hash, uid

NODE_NETWORK = "172.18.0.0/16"  # kind's Docker network
NODE_GATEWAY = "172.18.0.1"


@dataclass
class NodeNet:
    """A node's network namespace and its address on the node network."""

    name: str
    ip: str
    pod_cidr: str
    netns: str

    @property
    def gateway(self) -> str:
        """The pod gateway of this node (the first address of its pod range)."""
        return str(ipaddress.ip_network(self.pod_cidr)[1])


@dataclass
class PodNet:
    """A pod's network namespace, its IP and the node-side end of its veth pair."""

    key: str
    ip: str
    node: str
    netns: str
    host_veth: str


def run(args: list[str], *, netns: str | None = None, stdin: str | None = None, timeout: float = 30) -> str:
    """Run a host tool, inside `netns` when given; raise with the tool's own error text when it fails."""
    try:
        proc = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=timeout,
                              preexec_fn=nsutil.child_setup(netns) if netns else None)
    except FileNotFoundError:
        raise EnvironmentProblem(_("the host tool {tool} is missing; install it (see `k8snet doctor`)").format(
            tool=repr(args[0]))) from None
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def ip_batch(commands: list[str], *, netns: str | None = None) -> None:
    """Run several `ip` commands in one process (`ip -batch -`)."""
    run(["ip", "-batch", "-"], netns=netns, stdin="\n".join(commands) + "\n")


def masq_rules(pod_subnet: str) -> str:
    """kindnet's ip-masq-agent rules: traffic leaving the pod network is masqueraded, pod-to-pod never is."""
    c = "kind-masq-agent: "
    return "\n".join([
        "*nat",
        ":KIND-MASQ-AGENT - [0:0]",
        f'-A POSTROUTING -m addrtype ! --dst-type LOCAL -m comment --comment "{c}ensure nat POSTROUTING directs all'
        ' non-LOCAL destination traffic to our custom KIND-MASQ-AGENT chain" -j KIND-MASQ-AGENT',
        f'-A KIND-MASQ-AGENT -d {pod_subnet} -m comment --comment "{c}local traffic is not subject to MASQUERADE"'
        " -j RETURN",
        f'-A KIND-MASQ-AGENT -m comment --comment "{c}outbound traffic is subject to MASQUERADE (must be last in'
        ' chain)" -j MASQUERADE',
        "COMMIT", ""])


class Fabric:
    """Builds and tears down the lab's namespaces below `root` (a tmpfs private to the lab)."""

    def __init__(self, root: str, cluster: str, pod_subnet: str) -> None:
        self.root = root
        self.pod_subnet = pod_subnet
        self.cluster = cluster
        self.ns_dir = os.path.join(root, "netns")
        os.makedirs(self.ns_dir, exist_ok=True)
        self.bridge = "br-" + short_hash(f"kind-network/{cluster}", 12)
        self.nodes: dict[str, NodeNet] = {}

    def pod_ns_dir(self, node: str) -> str:
        """Where a node's pod namespaces are pinned: the node sees this folder as its /run/netns, as on kind."""
        return os.path.join(self.ns_dir, "pods", node)

    def build_node_network(self) -> None:
        """The 'docker network' of the lab: a bridge in the lab's own namespace; no route leads anywhere else."""
        # Forwarding on, and no route beyond the bridge: a packet for anywhere else gets an immediate
        # "network unreachable" instead of vanishing, so a lookup of an outside name fails fast.
        with open("/proc/sys/net/ipv4/ip_forward", "w") as f:
            f.write("1")
        ip_batch([
            "link set lo up",
            f"link add {self.bridge} type bridge",
            f"link set {self.bridge} address {mac_for(NODE_GATEWAY)}",
            f"addr add {NODE_GATEWAY}/16 dev {self.bridge}",
            f"link set {self.bridge} up",
        ])

    def add_node(self, name: str, ip: str, pod_cidr: str) -> NodeNet:
        """Create a node namespace wired to the node bridge, forwarding on."""
        os.makedirs(os.path.join(self.ns_dir, "nodes"), exist_ok=True)
        os.makedirs(self.pod_ns_dir(name), exist_ok=True)
        path = os.path.join(self.ns_dir, "nodes", name)
        nsutil.create_netns(path)
        outer = "veth" + short_hash(f"node/{name}", 7)
        ip_batch([
            f"link add {outer} type veth peer name eth0 netns {path}",
            f"link set {outer} master {self.bridge}",
            f"link set {outer} up",
        ])
        run(["sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet"
             " ; exec ip -batch -"], netns=path, stdin="\n".join([
                 "link set lo up",
                 f"link set eth0 address {mac_for(ip)}",
                 f"addr add {ip}/16 dev eth0",
                 "link set eth0 up",
                 f"route add default via {NODE_GATEWAY} dev eth0",
             ]) + "\n")
        run(["iptables-restore", "--noflush"], netns=path, stdin=masq_rules(self.pod_subnet))
        node = NodeNet(name=name, ip=ip, pod_cidr=pod_cidr, netns=path)
        self.nodes[name] = node
        return node

    def route_nodes(self) -> None:
        """Give every node a route to each other node's pod range through that node's IP, as kindnet does."""
        for node in self.nodes.values():
            cmds = [f"route replace {other.pod_cidr} via {other.ip} dev eth0"
                    for other in self.nodes.values() if other.name != node.name]
            if cmds:
                ip_batch(cmds, netns=node.netns)

    def add_pod(self, key: str, node_name: str, ip: str, generation: str) -> PodNet:
        """The ptp CNI plugin's work: a pod netns, a veth pair, the pod IP on eth0 and routes both ways."""
        node = self.nodes[node_name]
        netns_id = uid(f"netns/{key}/{generation}")
        path = os.path.join(self.pod_ns_dir(node_name), f"cni-{netns_id}")
        nsutil.create_netns(path)
        veth = "veth" + short_hash(f"{key}/{generation}")
        gw = node.gateway
        prefix = ipaddress.ip_network(node.pod_cidr).prefixlen
        ip_batch([
            f"link add {veth} type veth peer name eth0 netns {path}",
            f"link set {veth} address {mac_for(ip, 0x0a)}",
            f"addr add {gw}/32 dev {veth}",
            f"link set {veth} up",
            f"route add {ip}/32 dev {veth} scope host",
        ], netns=node.netns)
        ip_batch([
            "link set lo up",
            f"link set eth0 address {mac_for(ip)}",
            f"addr add {ip}/{prefix} brd + dev eth0",
            "link set eth0 up",
            f"route del {node.pod_cidr} dev eth0 proto kernel",  # ptp swaps the on-link route for one via the gateway
            f"route add {gw} dev eth0 scope link src {ip}",
            f"route add {node.pod_cidr} via {gw} dev eth0 src {ip}",
            f"route add default via {gw} dev eth0",
        ], netns=path)
        return PodNet(key=key, ip=ip, node=node_name, netns=path, host_veth=veth)

    def remove_pod(self, pod: PodNet) -> None:
        """Delete the veth pair and unpin the pod's namespace (the kernel frees it once nothing holds it)."""
        node = self.nodes.get(pod.node)
        if node:
            try:
                ip_batch([f"link del {pod.host_veth}"], netns=node.netns)
            except RuntimeError:
                pass  # already gone with its namespace
        nsutil.umount(pod.netns)
        try:
            os.unlink(pod.netns)
        except FileNotFoundError:
            pass
