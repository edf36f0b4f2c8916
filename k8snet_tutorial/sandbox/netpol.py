"""The NetworkPolicy agent's rules for one node: an nftables table that enforces networking.k8s.io/v1 in the kernel.

Every pod's traffic crosses the FORWARD hook of its node's namespace (ptp CNI: pod eth0 <-> node vethX,
a /32 route per pod), after kube-proxy's DNAT, so policies see pod IPs. The table holds:

- a `forward` base chain: replies of allowed connections pass (`ct state established,related`), then
  each local pod selected for egress jumps to its egress chain on `iifname "vethX"`, and each local
  pod selected for ingress to its ingress chain on `oifname "vethX"`;
- one chain per pod and direction: one rule per (rule, peer, port) of every selecting policy, in
  evaluator order, each with a counter, `return` (so a same-node packet still meets the destination's
  ingress chain) and the comment `ns/policy ingress[0] from[1] ports[0]` that the evaluator's
  RuleRef.comment also gives; the chain ends with a counter and a `drop` naming the default deny;
- named sets of the pod IPs each peer selects right now, and sets of `address . port` pairs for named
  ports on egress (a named port resolves against each destination pod).

Traffic from the node itself to its pods (kubelet probes) goes through OUTPUT and is never filtered here.
"""
from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from ..policy import (COMMENT_MAX, PodInfo, parse_cidr, peer_matches, policy_name, policy_namespace, policy_types,
                      rule_comment, rules_of, selects, shorten, sorted_policies, validate_policy)

TABLE = "k8snet-netpol"
FAMILY = "inet"
NAME_MAX = 96  # nft allows 255; short names keep `nft list` readable
_UNSAFE = re.compile(r"[^A-Za-z0-9_./-]")


@dataclass(frozen=True)
class LocalPod:
    """A pod running on this node, with the node-side end of its veth pair."""

    info: PodInfo
    veth: str


@dataclass(frozen=True)
class RuleCounter:
    """One rule of the table as `nft list table` shows it: chain, comment, counters and verdict."""

    chain: str
    comment: str
    packets: int
    bytes: int
    verdict: str  # "return" | "drop" | "accept" | "jump"


class _Names:
    """Deterministic nft identifiers: sanitized, length-limited, and made unique with a hash when they clash."""

    def __init__(self) -> None:
        self.by_key: dict[str, str] = {}
        self.taken: set[str] = set()

    def get(self, key: str, wanted: str) -> str:
        """The identifier for `key` (the same key always gets the same name)."""
        if key in self.by_key:
            return self.by_key[key]
        name = _UNSAFE.sub("_", wanted)
        if len(name) > NAME_MAX or name in self.taken:
            digest = hashlib.sha256(key.encode()).hexdigest()[:8]
            name = name[:NAME_MAX - 9] + "~" + digest
        self.by_key[key] = name
        self.taken.add(name)
        return name


def _quote(text: str) -> str:
    """An nft string literal (no quotes inside, at most 128 characters)."""
    return '"' + shorten(text.replace('"', "'"), COMMENT_MAX) + '"'


def _ip_sort_key(text: str) -> tuple[int, int, int]:
    """Sort addresses and networks by family, then numerically."""
    net = ipaddress.ip_network(text, strict=False)
    return net.version, int(net.network_address), net.prefixlen


def _net_text(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    """A network as nft writes it: a bare address for a single host."""
    return str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)


def _family(ip: str) -> str:
    """`ip` or `ip6`, the nft payload family of an address."""
    return "ip6" if ipaddress.ip_address(ip).version == 6 else "ip"


class _Builder:
    """Collects sets and chains while walking the policies for the local pods."""

    def __init__(self, all_pods: Sequence[PodInfo], namespaces: Mapping[str, Mapping[str, str]]) -> None:
        self.pods = sorted((p for p in all_pods if p.ip), key=lambda p: (p.namespace, p.name))
        self.namespaces = namespaces
        self.names = _Names()
        self.sets: dict[str, tuple[str, list[str]]] = {}  # name -> (type, elements)

    def peer_set(self, family: str, ns: str, policy: str, direction: str, r_i: int, p_i: int, peer: Mapping) -> str:
        """The named set of this family's addresses of the pods a selector peer matches right now."""
        word = "from" if direction == "ingress" else "to"
        suffix = "" if family == "ip" else "-v6"
        name = self.names.get(f"peer/{ns}/{policy}/{direction}/{r_i}/{p_i}/{family}",
                              f"peer-{ns}-{policy}-{direction}{r_i}-{word}{p_i}{suffix}")
        if name not in self.sets:
            ips = sorted({p.ip for p in self.pods if _family(p.ip) == family
                          and peer_matches(peer, ns, p, self.namespaces)}, key=_ip_sort_key)
            self.sets[name] = ("ipv4_addr" if family == "ip" else "ipv6_addr", ips)
        return name

    def named_port_set(self, family: str, protocol: str, port_name: str) -> str:
        """The named set of `address . port` pairs of every pod with a container port of that name and protocol."""
        suffix = "" if family == "ip" else "-v6"
        name = self.names.get(f"namedport/{protocol}/{port_name}/{family}",
                              f"namedport-{protocol.lower()}-{port_name}{suffix}")
        if name not in self.sets:
            pairs = sorted({(p.ip, n) for p in self.pods if _family(p.ip) == family
                            for n in [p.named_port(port_name, protocol)] if n is not None},
                           key=lambda e: (_ip_sort_key(e[0]), e[1]))
            kind = "ipv4_addr" if family == "ip" else "ipv6_addr"
            self.sets[name] = (f"{kind} . inet_service", [f"{ip} . {n}" for ip, n in pairs])
        return name

    def peer_matches_exprs(self, peer: Mapping | None, ns: str, policy: str, direction: str, r_i: int,
                           p_i: int | None) -> list[tuple[str, str]]:
        """(family, nft match) alternatives for a peer; family "" when the match is family-neutral."""
        addr = "daddr" if direction == "egress" else "saddr"
        if peer is None:
            return [("", "")]
        block = peer.get("ipBlock")
        if block is not None:
            cidr = parse_cidr(block["cidr"])
            fam = "ip" if cidr.version == 4 else "ip6"
            expr = f"{fam} {addr} {_net_text(cidr)}"
            excepts = sorted({_net_text(parse_cidr(e)) for e in block.get("except") or []}, key=_ip_sort_key)
            if excepts:
                expr += f" {fam} {addr} != {{ {', '.join(excepts)} }}"
            return [(fam, expr)]
        out = [("ip", f"ip {addr} @{self.peer_set('ip', ns, policy, direction, r_i, p_i or 0, peer)}")]
        if any(_family(p.ip) == "ip6" for p in self.pods):
            out.append(("ip6", f"ip6 {addr} @{self.peer_set('ip6', ns, policy, direction, r_i, p_i or 0, peer)}"))
        return out

    def port_exprs(self, entry: Mapping | None, direction: str, dst: PodInfo | None,
                   families: Iterable[str]) -> list[tuple[str, str]] | None:
        """(family, nft match) alternatives for a NetworkPolicyPort; None when it can match nothing here."""
        if entry is None:
            return [("", "")]
        proto = str(entry.get("protocol") or "TCP")
        l4 = f"meta l4proto {proto.lower()}"
        port = entry.get("port")
        if port is None:
            return [("", l4)]
        if isinstance(port, int) and not isinstance(port, bool):
            end = entry.get("endPort")
            span = f"{port}-{end}" if isinstance(end, int) and end != port else f"{port}"
            return [("", f"{l4} th dport {span}")]
        if direction == "ingress":
            number = dst.named_port(str(port), proto) if dst else None
            return None if number is None else [("", f"{l4} th dport {number}")]
        return [(fam, f"{l4} {fam} daddr . th dport @{self.named_port_set(fam, proto, str(port))}")
                for fam in families]

    def chain(self, direction: str, pod: PodInfo, policies: Sequence[Mapping]) -> list[str]:
        """The rules of one pod's egress or ingress chain."""
        peer_key = "to" if direction == "egress" else "from"
        families = ["ip"] + (["ip6"] if any(_family(p.ip) == "ip6" for p in self.pods) else [])
        lines: list[str] = []
        for policy in policies:
            ns, name = policy_namespace(policy), policy_name(policy)
            for r_i, rule in enumerate(rules_of(policy, direction)):
                rule = rule or {}
                peers = list(enumerate(rule.get(peer_key) or [])) or [(None, None)]
                ports = list(enumerate(rule.get("ports") or [])) or [(None, None)]
                for p_i, peer in peers:
                    peer_alts = self.peer_matches_exprs(peer, ns, name, direction, r_i, p_i)
                    for port_i, entry in ports:
                        comment = rule_comment(ns, name, direction, r_i, p_i, port_i)
                        port_alts = self.port_exprs(entry, direction, pod, families)
                        if port_alts is None:
                            lines.append(f"# {comment}: named port {entry.get('port')!r} "
                                         f"({entry.get('protocol') or 'TCP'}) is not a port of {pod.key}")
                            continue
                        for fam_a, peer_expr in peer_alts:
                            for fam_b, port_expr in port_alts:
                                if fam_a and fam_b and fam_a != fam_b:
                                    continue
                                match = " ".join(x for x in (peer_expr, port_expr) if x)
                                lines.append(f"{match} counter return comment {_quote(comment)}".lstrip())
        denied_by = ", ".join(f"{policy_namespace(p)}/{policy_name(p)}" for p in policies)
        lines.append(f"counter drop comment {_quote(f'default deny {direction} of {pod.key}: {denied_by}')}")
        return lines


def node_ruleset(local_pods: Sequence[LocalPod], all_pods: Sequence[PodInfo], policies: Sequence[Mapping],
                 namespaces: Mapping[str, Mapping[str, str]]) -> str:
    """The `nft -f` script that (re)creates this node's `table inet k8snet-netpol`, atomically and idempotently."""
    for policy in policies:
        validate_policy(policy)
    ordered = sorted_policies(policies)
    builder = _Builder(all_pods, namespaces)
    jumps: dict[str, list[str]] = {"egress": [], "ingress": []}
    chains: list[tuple[str, list[str]]] = []
    for local in sorted(local_pods, key=lambda lp: (lp.info.namespace, lp.info.name)):
        pod = local.info
        for direction, ptype, iface in (("egress", "Egress", "iifname"), ("ingress", "Ingress", "oifname")):
            selecting = [p for p in ordered if ptype in policy_types(p) and selects(p, pod)]
            if not selecting:
                continue
            chain = builder.names.get(f"chain/{direction}/{pod.key}", f"{direction}-{pod.namespace}-{pod.name}")
            jumps[direction].append(f"{iface} {_quote(local.veth)} jump {chain}")
            chains.append((chain, builder.chain(direction, pod, selecting)))
    out = [f"add table {FAMILY} {TABLE}", f"delete table {FAMILY} {TABLE}", f"table {FAMILY} {TABLE} {{"]
    for name in sorted(builder.sets):
        kind, elements = builder.sets[name]
        out += [f"\tset {name} {{", f"\t\ttype {kind}"]
        if elements:
            out.append(f"\t\telements = {{ {', '.join(elements)} }}")
        out.append("\t}")
    out += ["\tchain forward {", "\t\ttype filter hook forward priority filter; policy accept;",
            "\t\tct state established,related accept"]
    out += [f"\t\t{line}" for line in jumps["egress"] + jumps["ingress"]]
    out.append("\t}")
    for name, lines in chains:
        out += [f"\tchain {name} {{"] + [f"\t\t{line}" for line in lines] + ["\t}"]
    out.append("}")
    return "\n".join(out) + "\n"


_RULE = re.compile(r"counter packets (\d+) bytes (\d+)(?: (return|drop|accept|jump \S+))?(?: comment \"([^\"]*)\")?")


def parse_counters(listing: str) -> list[RuleCounter]:
    """The counters of every rule in `nft list table inet k8snet-netpol` output, with their chain and comment."""
    chain = ""
    found: list[RuleCounter] = []
    for line in listing.splitlines():
        text = line.strip()
        head = re.match(r"chain (\S+) \{", text)
        if head:
            chain = head.group(1)
            continue
        m = _RULE.search(text)
        if m:
            verdict = (m.group(3) or "").split(" ")[0]
            found.append(RuleCounter(chain, m.group(4) or "", int(m.group(1)), int(m.group(2)), verdict))
    return found
