"""kube-proxy's rules, as upstream writes them (iptables and nftables modes), as pure functions.

The per-service logic is a line-by-line port of kube-proxy's `syncProxyRules()`
(kubernetes/kubernetes `pkg/proxy/iptables/proxier.go` and `pkg/proxy/nftables/proxier.go`),
with `proxy.CategorizeEndpoints()` for endpoint selection, so that chain names, hashes,
comments, probabilities and rule order are the ones a real node shows.
"""
from __future__ import annotations

import base64
import difflib
import hashlib
import ipaddress
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Endpoint:
    """One endpoint of a Service port, as kube-proxy's EndpointSlice cache holds it."""

    ip: str
    port: int
    node: str
    ready: bool = True
    serving: bool = True
    terminating: bool = False


@dataclass(frozen=True)
class ServicePort:
    """One port of a Service (kube-proxy's unit of work), with its endpoints."""

    namespace: str
    name: str
    port_name: str
    protocol: str  # "TCP"/"UDP"
    cluster_ip: str | None
    port: int
    node_port: int | None = None
    load_balancer_ips: tuple[str, ...] = ()
    external_ips: tuple[str, ...] = ()
    session_affinity: bool = False
    affinity_timeout: int = 10800
    external_traffic_policy_local: bool = False
    internal_traffic_policy_local: bool = False
    endpoints: tuple[Endpoint, ...] = ()


@dataclass(frozen=True)
class NodeContext:
    """The node a kube-proxy runs on: its name, its IP and the cluster's pod CIDR."""

    name: str
    ip: str
    cluster_cidr: str  # e.g. 10.244.0.0/16


# ---------------------------------------------------------------------------------------
# Knobs that upstream reads from its configuration or discovers at start-up. The public
# functions use what kube-proxy does inside a kind node that runs in the sandbox; the unit
# tests pass upstream's NewFakeProxier() values to compare with upstream's own fixtures.
# ---------------------------------------------------------------------------------------

DEFAULT_SERVICE_CIDR = "10.96.0.0/16"
"""kind's default service subnet (the nftables mode drops traffic to unallocated ClusterIPs in it)."""

# One iptables-restore COMMIT, or one `nft -f`, is one netlink batch, sent in one sendmsg().
# Inside an unprivileged user namespace the tools cannot raise their socket's send buffer
# (SO_SNDBUFFORCE needs CAP_NET_ADMIN in the initial namespace), so a batch is capped by
# net.core.wmem_default (212992 bytes): measured here, 223-366 iptables rules or 468-2136 nft
# objects. Bigger syncs are therefore split into several transactions, leaf chains first, each
# leaving the data plane consistent; rulesets under these budgets stay one transaction, as upstream.
_IPT_BUDGET = 100  # restore lines per COMMIT (worst rule measured at ~950 netlink bytes)
_NFT_BUDGET = 900  # weight units per nft transaction (~110 netlink bytes each, see _nft_weight)
NFT_TRANSACTION_BREAK = "# kube-proxy: next nft transaction"
"""Comment line that separates the nft transactions of a big ruleset or delta (see split_nft_transactions)."""


@dataclass(frozen=True)
class _IPTablesOptions:
    masquerade_mark: str = "0x4000"  # --masquerade-bit=14
    masquerade_all: bool = False
    # iptables >= 1.6.2 has MASQUERADE --random-fully (HasRandomFully()); the host's does.
    random_fully: bool = True
    # --iptables-localhost-nodeports (default true): no "! -d 127.0.0.0/8" on the NodePort jump,
    # KUBE-FIREWALL's anti-martian rule. kube-proxy sets net.ipv4.conf.all.route_localnet=1 for it.
    localhost_nodeports: bool = True
    # kube-proxy creates nfacct counters through netlink and leaves the "-m nfacct" matches out
    # when it cannot (proxier.nfAcctCounters[...] == false); the sandbox has no nfacct objects.
    nfacct: bool = False
    conntrack_tcp_liberal: bool = False  # net.netfilter.nf_conntrack_tcp_be_liberal
    large_cluster_threshold: int = 1000  # largeClusterEndpointsThreshold


@dataclass(frozen=True)
class _NFTablesOptions:
    masquerade_mark: str = "0x4000"
    masquerade_all: bool = False
    service_cidrs: tuple[str, ...] = (DEFAULT_SERVICE_CIDR,)
    # In nftables mode --nodeport-addresses defaults to "primary": the node's own IP(s).
    # None means (node.ip,); () means "accept NodePorts on every local address".
    nodeport_ips: tuple[str, ...] | None = None


@dataclass(frozen=True)
class _ServicePortExtra(ServicePort):
    """ServicePort with the two fields upstream's fixtures use that the sandbox does not model."""

    load_balancer_source_ranges: tuple[str, ...] = ()
    health_check_node_port: int | None = None


# ---------------------------------------------------------------------------------------
# Names and hashes (portProtoHash, servicePortEndpointChainName, hashAndTruncate)
# ---------------------------------------------------------------------------------------

_IPT_SERVICE_PREFIXES = ("KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-")
_NFT_SERVICE_PREFIXES = ("service-", "local-", "external-", "firewall-")
_NFT_NAME_BASE_MAX = 256 - 16  # knftables.NameLengthMax - chainNamePrefixLengthMax


def _b32sha(text: str) -> str:
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()


def _port_name(sp: ServicePort) -> str:
    """proxy.ServicePortName.String(): "ns/name:port", or "ns/name" for an unnamed port."""
    return f"{sp.namespace}/{sp.name}" + (f":{sp.port_name}" if sp.port_name else "")


def _ep_str(ep: Endpoint) -> str:
    """BaseEndpointInfo.String(): net.JoinHostPort(ip, port)."""
    return f"[{ep.ip}]:{ep.port}" if ":" in ep.ip else f"{ep.ip}:{ep.port}"


def _hash_and_truncate(name: str) -> str:
    name = _b32sha(name)[:8] + "-" + name
    return name[:_NFT_NAME_BASE_MAX - 3] + "..." if len(name) > _NFT_NAME_BASE_MAX else name


def _nft_service_base(sp: ServicePort) -> str:
    return _hash_and_truncate(f"{sp.namespace}/{sp.name}/{sp.protocol.lower()}/{sp.port_name}")


def _nft_endpoint_base(sp: ServicePort, ep: Endpoint) -> str:
    ip = ep.ip.replace(":", ".")
    return _hash_and_truncate(f"{sp.namespace}/{sp.name}/{sp.protocol.lower()}/{sp.port_name}__{ip}/{ep.port}")


def service_chain(prefix: str, sp: ServicePort) -> str:
    """Upstream's chain name for a service port: prefix KUBE-SVC/SVL/EXT/FW- or service/local/external/firewall-."""
    if not prefix.endswith("-"):
        prefix += "-"
    if prefix in _IPT_SERVICE_PREFIXES:
        return prefix + _b32sha(_port_name(sp) + sp.protocol.lower())[:16]
    if prefix in _NFT_SERVICE_PREFIXES:
        return prefix + _nft_service_base(sp)
    raise ValueError(f"unknown kube-proxy chain prefix {prefix!r}; expected one of "
                     f"{', '.join(_IPT_SERVICE_PREFIXES + _NFT_SERVICE_PREFIXES)}")


def endpoint_chain(sp: ServicePort, ep: Endpoint) -> str:
    """Upstream's iptables KUBE-SEP-<hash> chain name for one endpoint of a service port."""
    return "KUBE-SEP-" + _b32sha(_port_name(sp) + sp.protocol.lower() + _ep_str(ep))[:16]


def _nft_endpoint_chain(sp: ServicePort, ep: Endpoint) -> str:
    return "endpoint-" + _nft_endpoint_base(sp, ep)


def _nft_affinity_set(sp: ServicePort, ep: Endpoint) -> str:
    return "affinity-" + _nft_endpoint_base(sp, ep)


# ---------------------------------------------------------------------------------------
# What kube-proxy's trackers and CategorizeEndpoints() compute for a service port
# ---------------------------------------------------------------------------------------

def _is_v4(ip: str | None) -> bool:
    try:
        return ip is not None and ipaddress.ip_address(ip).version == 4
    except ValueError:
        return False


@dataclass
class _Svc:
    sp: ServicePort
    spn: str  # "ns/name:port"
    proto: str  # "tcp"
    cluster_ip: str
    external_ips: list[str]
    lb_ips: list[str]
    source_ranges: list[str]
    node_port: int
    hc_node_port: int
    itp_local: bool
    etp_local: bool
    externally_accessible: bool
    all_endpoints: list[Endpoint]
    cluster_eps: list[Endpoint] = field(default_factory=list)
    local_eps: list[Endpoint] = field(default_factory=list)
    reachable_eps: list[Endpoint] = field(default_factory=list)
    has_endpoints: bool = False

    @property
    def uses_cluster_endpoints(self) -> bool:
        return not self.itp_local or (self.externally_accessible and not self.etp_local)

    @property
    def uses_local_endpoints(self) -> bool:
        return self.itp_local or (self.externally_accessible and self.etp_local)


def _categorize(svc: _Svc, node_name: str) -> None:
    """proxy.CategorizeEndpoints() without topology hints (the sandbox sets none)."""
    eps = svc.all_endpoints
    local = [ep.node == node_name for ep in eps]
    cluster: list[Endpoint] = []
    has_any = False
    if svc.uses_cluster_endpoints:
        cluster = [ep for ep in eps if ep.ready]
        if not cluster:  # fall back to serving+terminating endpoints, ignoring topology
            cluster = [ep for ep in eps if ep.serving and ep.terminating]
        has_any = bool(cluster)
    svc.cluster_eps = cluster
    if not svc.uses_local_endpoints:
        svc.reachable_eps, svc.has_endpoints = cluster, has_any
        return
    local_ready = local_st = False
    for ep, is_local in zip(eps, local):
        if ep.ready:
            has_any = True
            local_ready = local_ready or is_local
        elif ep.serving and ep.terminating:
            has_any = True
            local_st = local_st or is_local
    use_serving_terminating = False
    if local_ready:
        svc.local_eps = [ep for ep, is_local in zip(eps, local) if is_local and ep.ready]
    elif local_st:
        use_serving_terminating = True
        svc.local_eps = [ep for ep, is_local in zip(eps, local) if is_local and ep.serving and ep.terminating]
    svc.has_endpoints = has_any
    if not svc.uses_cluster_endpoints:
        svc.reachable_eps = svc.local_eps
    elif not use_serving_terminating:
        svc.reachable_eps = cluster
    else:  # upstream merges through a map; cluster endpoints first, then the local extras
        seen = {_ep_str(ep) for ep in cluster}
        svc.reachable_eps = cluster + [ep for ep in svc.local_eps if _ep_str(ep) not in seen]


def _services(services: list[ServicePort], node: NodeContext) -> list[_Svc]:
    """The IPv4 service ports kube-proxy would proxy, in a deterministic (upstream-sorted) order."""
    out = []
    for sp in services:
        if not _is_v4(sp.cluster_ip):  # headless ("None"), ExternalName, other family: not proxied
            continue
        # EndpointSliceCache: one entry per "ip:port", sorted by that string (byEndpoint).
        eps: dict[str, Endpoint] = {}
        for ep in sp.endpoints:
            if _is_v4(ep.ip) and ep.port > 0:
                eps.setdefault(_ep_str(ep), ep)
        external_ips = [ip for ip in sp.external_ips if _is_v4(ip)]
        lb_ips = [ip for ip in sp.load_balancer_ips if _is_v4(ip)]
        node_port = sp.node_port or 0
        accessible = bool(node_port or lb_ips or external_ips)
        etp_local = sp.external_traffic_policy_local and accessible
        ranges = [str(ipaddress.ip_network(r.strip(), strict=False))
                  for r in getattr(sp, "load_balancer_source_ranges", ()) if r.strip()]
        hcnp = getattr(sp, "health_check_node_port", None) or 0
        svc = _Svc(sp=sp, spn=_port_name(sp), proto=sp.protocol.lower(), cluster_ip=str(sp.cluster_ip),
                   external_ips=external_ips, lb_ips=lb_ips, source_ranges=ranges, node_port=node_port,
                   hc_node_port=hcnp if etp_local and lb_ips else 0,
                   itp_local=sp.internal_traffic_policy_local, etp_local=etp_local,
                   externally_accessible=accessible, all_endpoints=[eps[k] for k in sorted(eps)])
        _categorize(svc, node.name)
        out.append(svc)
    # Upstream walks a Go map; its tests sort by the "ns/name" part of the comment. We emit
    # in that order (stable on port name and protocol), so every node writes the same text.
    out.sort(key=lambda s: (f"{s.sp.namespace}/{s.sp.name}", s.sp.port_name, s.proto))
    return out


def _probability(n: int) -> str:
    """computeProbability(): fmt.Sprintf("%0.10f", 1.0/float64(n))."""
    return f"{1.0 / n:.10f}"


# ---------------------------------------------------------------------------------------
# iptables mode
# ---------------------------------------------------------------------------------------

# iptablesJumpChains + iptablesKubeletJumpChains: (table, dstChain, srcChain, comment, extraArgs),
# ensured with EnsureRule(Prepend, ...) in this order on every full sync.
_IPT_JUMPS = (
    ("filter", "KUBE-EXTERNAL-SERVICES", "INPUT", "kubernetes externally-visible service portals",
     "-m conntrack --ctstate NEW"),
    ("filter", "KUBE-EXTERNAL-SERVICES", "FORWARD", "kubernetes externally-visible service portals",
     "-m conntrack --ctstate NEW"),
    ("filter", "KUBE-NODEPORTS", "INPUT", "kubernetes health check service ports", ""),
    ("filter", "KUBE-SERVICES", "FORWARD", "kubernetes service portals", "-m conntrack --ctstate NEW"),
    ("filter", "KUBE-SERVICES", "OUTPUT", "kubernetes service portals", "-m conntrack --ctstate NEW"),
    ("filter", "KUBE-FORWARD", "FORWARD", "kubernetes forwarding rules", ""),
    ("filter", "KUBE-PROXY-FIREWALL", "INPUT", "kubernetes load balancer firewall", "-m conntrack --ctstate NEW"),
    ("filter", "KUBE-PROXY-FIREWALL", "OUTPUT", "kubernetes load balancer firewall", "-m conntrack --ctstate NEW"),
    ("filter", "KUBE-PROXY-FIREWALL", "FORWARD", "kubernetes load balancer firewall", "-m conntrack --ctstate NEW"),
    ("nat", "KUBE-SERVICES", "OUTPUT", "kubernetes service portals", ""),
    ("nat", "KUBE-SERVICES", "PREROUTING", "kubernetes service portals", ""),
    ("nat", "KUBE-POSTROUTING", "POSTROUTING", "kubernetes postrouting rules", ""),
    ("filter", "KUBE-FIREWALL", "INPUT", "", ""),
    ("filter", "KUBE-FIREWALL", "OUTPUT", "", ""),
)
_BUILTIN_CHAINS = frozenset({"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"})


def _q(text: str) -> str:
    """Upstream quotes its comments by hand: `"..."` around the ones with spaces."""
    return f'"{text}"'


def _ipt_jump_lines(table: str) -> list[str]:
    lines = []
    for tbl, dst, src, comment, extra in _IPT_JUMPS:
        if tbl != table:
            continue
        args = [extra] if extra else []
        if comment:
            args.append(f"-m comment --comment {_q(comment)}")
        lines.append(" ".join([f"-I {src} 1", *args, f"-j {dst}"]))
    return lines


def _render_iptables(services: list[ServicePort], node: NodeContext, opt: _IPTablesOptions) -> str:
    """syncProxyRules() (full sync) of the iptables proxier, plus the EnsureRule() jumps it does first."""
    mark = opt.masquerade_mark
    svcs = _services(services, node)
    filter_chains = ["KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD", "KUBE-NODEPORTS",
                     "KUBE-PROXY-FIREWALL"]
    nat_chains = ["KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ"]
    filter_rules: list[str] = []
    nat_rules = [
        f"-A KUBE-POSTROUTING -m mark ! --mark {mark}/{mark} -j RETURN",
        f"-A KUBE-POSTROUTING -j MARK --xor-mark {mark}",
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE'
        + (" --random-fully" if opt.random_fully else ""),
        f"-A KUBE-MARK-MASQ -j MARK --or-mark {mark}",
    ]
    # KUBE-FIREWALL (kubelet's chain, also ensured by kube-proxy): written and filled only
    # with localhost NodePorts, but always declared here since the jumps above point to it.
    filter_chains.append("KUBE-FIREWALL")
    if opt.localhost_nodeports:
        filter_rules.append('-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections"'
                            " -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT"
                            " -j DROP")

    total_endpoints = sum(len(s.all_endpoints) for s in svcs)
    large = total_endpoints > opt.large_cluster_threshold
    not_local = f"! -s {node.cluster_cidr}"
    is_local = f"-s {node.cluster_cidr}"

    def comment(text: str) -> list[str]:  # appendServiceCommentLocked()
        return [] if large else ["-m", "comment", "--comment", text]

    for svc in svcs:
        proto, spn, port = svc.proto, svc.spn, svc.sp.port
        svc_chain = service_chain("KUBE-SVC-", svc.sp)
        svl_chain = service_chain("KUBE-SVL-", svc.sp)
        ext_chain = service_chain("KUBE-EXT-", svc.sp)
        fw_chain = service_chain("KUBE-FW-", svc.sp)
        uses_cluster_chain = bool(svc.cluster_eps) and svc.uses_cluster_endpoints
        uses_local_chain = bool(svc.local_eps) and svc.uses_local_endpoints
        internal_chain, has_internal = svc_chain, svc.has_endpoints
        if svc.itp_local:
            internal_chain = svl_chain
            has_internal = has_internal and bool(svc.local_eps)
        external_policy_chain, has_external = svc_chain, svc.has_endpoints
        if svc.etp_local:
            external_policy_chain = svl_chain
            has_external = has_external and bool(svc.local_eps)
        uses_ext_chain = svc.has_endpoints and svc.externally_accessible
        uses_fw_chain = svc.has_endpoints and bool(svc.lb_ips) and bool(svc.source_ranges)
        lb_chain = fw_chain if uses_fw_chain else ext_chain

        int_target = int_comment = ext_target = ext_comment = ""
        if not svc.has_endpoints:
            int_target = ext_target = "REJECT"
            int_comment = ext_comment = _q(f"{spn} has no endpoints")
        else:
            if not has_internal:
                int_target, int_comment = "DROP", _q(f"{spn} has no local endpoints")
            if not has_external:
                ext_target, ext_comment = "DROP", _q(f"{spn} has no local endpoints")

        # Capture the clusterIP.
        if has_internal:
            nat_rules.append(f'-A KUBE-SERVICES -m comment --comment {_q(spn + " cluster IP")} -m {proto} -p {proto}'
                             f" -d {svc.cluster_ip} --dport {port} -j {internal_chain}")
        else:
            filter_rules.append(f"-A KUBE-SERVICES -m comment --comment {int_comment} -m {proto} -p {proto}"
                                f" -d {svc.cluster_ip} --dport {port} -j {int_target}")
        # Capture externalIPs.
        for eip in svc.external_ips:
            if svc.has_endpoints:
                nat_rules.append(f'-A KUBE-SERVICES -m comment --comment {_q(spn + " external IP")} -m {proto}'
                                 f" -p {proto} -d {eip} --dport {port} -j {ext_chain}")
            if not has_external:
                filter_rules.append(f"-A KUBE-EXTERNAL-SERVICES -m comment --comment {ext_comment} -m {proto}"
                                    f" -p {proto} -d {eip} --dport {port} -j {ext_target}")
        # Capture load-balancer ingress.
        for lbip in svc.lb_ips:
            if svc.has_endpoints:
                nat_rules.append(f'-A KUBE-SERVICES -m comment --comment {_q(spn + " loadbalancer IP")} -m {proto}'
                                 f" -p {proto} -d {lbip} --dport {port} -j {lb_chain}")
            if uses_fw_chain:
                filter_rules.append(f"-A KUBE-PROXY-FIREWALL -m comment --comment"
                                    f" {_q(f'{spn} traffic not accepted by {fw_chain}')} -m {proto} -p {proto}"
                                    f" -d {lbip} --dport {port} -j DROP")
        if not has_external:
            for lbip in svc.lb_ips:
                filter_rules.append(f"-A KUBE-EXTERNAL-SERVICES -m comment --comment {ext_comment} -m {proto}"
                                    f" -p {proto} -d {lbip} --dport {port} -j {ext_target}")
        # Capture nodeports.
        if svc.node_port:
            if svc.has_endpoints:
                if opt.localhost_nodeports and opt.nfacct:
                    nat_rules.append(f"-A KUBE-NODEPORTS -m comment --comment {spn} -m {proto} -p {proto}"
                                     f" -d 127.0.0.0/8 --dport {svc.node_port}"
                                     f" -m nfacct --nfacct-name localhost_nps_accepted_pkts -j {ext_chain}")
                nat_rules.append(f"-A KUBE-NODEPORTS -m comment --comment {spn} -m {proto} -p {proto}"
                                 f" --dport {svc.node_port} -j {ext_chain}")
            if not has_external:
                filter_rules.append(f"-A KUBE-EXTERNAL-SERVICES -m comment --comment {ext_comment}"
                                    f" -m addrtype --dst-type LOCAL -m {proto} -p {proto}"
                                    f" --dport {svc.node_port} -j {ext_target}")
        # Capture healthCheckNodePorts.
        if svc.hc_node_port:
            filter_rules.append(f"-A KUBE-NODEPORTS -m comment --comment {_q(spn + ' health check node port')}"
                                f" -m tcp -p tcp --dport {svc.hc_node_port} -j ACCEPT")

        # Set up internal traffic handling.
        if has_internal:
            args = (f'-m comment --comment {_q(spn + " cluster IP")} -m {proto} -p {proto}'
                    f" -d {svc.cluster_ip} --dport {port}")
            if opt.masquerade_all:
                nat_rules.append(f"-A {internal_chain} {args} -j KUBE-MARK-MASQ")
            else:
                nat_rules.append(f"-A {internal_chain} {args} {not_local} -j KUBE-MARK-MASQ")

        # Set up external traffic handling.
        if uses_ext_chain:
            nat_chains.append(ext_chain)
            if not svc.etp_local:
                nat_rules.append(f"-A {ext_chain} -m comment --comment"
                                 f" {_q(f'masquerade traffic for {spn} external destinations')} -j KUBE-MARK-MASQ")
            else:
                nat_rules.append(f"-A {ext_chain} -m comment --comment"
                                 f" {_q(f'pod traffic for {spn} external destinations')} {is_local} -j {svc_chain}")
                nat_rules.append(f"-A {ext_chain} -m comment --comment"
                                 f" {_q(f'masquerade LOCAL traffic for {spn} external destinations')}"
                                 " -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ")
                nat_rules.append(f"-A {ext_chain} -m comment --comment"
                                 f" {_q(f'route LOCAL traffic for {spn} external destinations')}"
                                 f" -m addrtype --src-type LOCAL -j {svc_chain}")
            if has_external:
                nat_rules.append(f"-A {ext_chain} -j {external_policy_chain}")

        # Set up firewall chain, if needed.
        if uses_fw_chain:
            nat_chains.append(fw_chain)
            fw_args = f"-A {fw_chain} -m comment --comment {_q(spn + ' loadbalancer IP')}"
            allow_from_node = False
            for cidr in svc.source_ranges:
                nat_rules.append(f"{fw_args} -s {cidr} -j {ext_chain}")
                if ipaddress.ip_address(node.ip) in ipaddress.ip_network(cidr):
                    allow_from_node = True
            if allow_from_node:
                for lbip in svc.lb_ips:
                    nat_rules.append(f"{fw_args} -s {lbip} -j {ext_chain}")
            nat_rules.append(f"-A {fw_chain} -m comment --comment"
                             f" {_q(f'other traffic to {spn} will be dropped by KUBE-PROXY-FIREWALL')}")

        def service_to_endpoints(chain: str, eps: list[Endpoint]) -> None:  # writeServiceToEndpointRules()
            if svc.sp.session_affinity:
                for ep in eps:
                    sep = endpoint_chain(svc.sp, ep)
                    nat_rules.append(" ".join([f"-A {chain}", *comment(_q(f"{spn} -> {_ep_str(ep)}")),
                                               f"-m recent --name {sep} --rcheck --seconds"
                                               f" {svc.sp.affinity_timeout} --reap -j {sep}"]))
            for i, ep in enumerate(eps):
                args = [f"-A {chain}", *comment(_q(f"{spn} -> {_ep_str(ep)}"))]
                if i < len(eps) - 1:
                    args.append(f"-m statistic --mode random --probability {_probability(len(eps) - i)}")
                nat_rules.append(" ".join([*args, f"-j {endpoint_chain(svc.sp, ep)}"]))

        if uses_cluster_chain:
            nat_chains.append(svc_chain)
            service_to_endpoints(svc_chain, svc.cluster_eps)
        if uses_local_chain:
            nat_chains.append(svl_chain)
            service_to_endpoints(svl_chain, svc.local_eps)

        # Generate the per-endpoint chains.
        for ep in svc.reachable_eps:
            sep = endpoint_chain(svc.sp, ep)
            nat_chains.append(sep)
            head = [f"-A {sep}", *comment(spn)]
            nat_rules.append(" ".join([*head, f"-s {ep.ip} -j KUBE-MARK-MASQ"]))
            if svc.sp.session_affinity:
                head.append(f"-m recent --name {sep} --set")
            nat_rules.append(" ".join([*head, f"-m {proto} -p {proto} -j DNAT --to-destination {_ep_str(ep)}"]))

    # Finally, tail-call to the nodePorts chain (nodePortAddresses unset: every local address).
    nat_rules.append('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the'
                     ' last rule in this chain" -m addrtype --dst-type LOCAL'
                     + ("" if opt.localhost_nodeports else " ! -d 127.0.0.0/8") + " -j KUBE-NODEPORTS")
    if not opt.conntrack_tcp_liberal:
        filter_rules.append("-A KUBE-FORWARD -m conntrack --ctstate INVALID"
                            + (" -m nfacct --nfacct-name ct_state_invalid_dropped_pkts" if opt.nfacct else "")
                            + " -j DROP")
    filter_rules.append(f'-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark'
                        f" --mark {mark}/{mark} -j ACCEPT")
    filter_rules.append('-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule"'
                        " -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")

    out = []
    for table, chains, rules in (("filter", filter_chains, filter_rules), ("nat", nat_chains, nat_rules)):
        decls, jumps = [f":{c} - [0:0]" for c in chains], _ipt_jump_lines(table)
        if len(decls) + len(jumps) + len(rules) <= _IPT_BUDGET:  # upstream's layout, one transaction
            out += [f"*{table}", *decls, *jumps, *rules, "COMMIT"]
        else:
            parsed = _parse_restore("\n".join([f"*{table}", *decls, *rules]))[table]
            units = [_Unit([f":{c} - [0:0]"], parsed.chains[c])
                     for c in sorted(parsed.chains, key=_ipt_level)]
            out += _pack_iptables(table, units + [_Unit([], jumps)])
    return "\n".join(out) + "\n"


def iptables_rules(services: list[ServicePort], node: NodeContext) -> str:
    """Full `iptables-restore --noflush` input (filter + nat) that kube-proxy's iptables mode writes on a full sync."""
    return _render_iptables(services, node, _IPTablesOptions())


@dataclass
class _IPTTable:
    chains: dict[str, list[str]] = field(default_factory=dict)  # declared chain -> its "-A" rules
    jumps: list[str] = field(default_factory=list)  # "-I <builtin> 1 ..." lines


def _parse_restore(text: str) -> dict[str, _IPTTable]:
    tables: dict[str, _IPTTable] = {}
    cur = _IPTTable()
    for line in text.splitlines():
        if not line or line.startswith("#") or line == "COMMIT":
            continue
        if line.startswith("*"):
            cur = tables.setdefault(line[1:], _IPTTable())
        elif line.startswith(":"):
            cur.chains.setdefault(line[1:].split()[0], [])
        elif line.startswith("-A "):
            chain = line.split()[1]
            if chain in _BUILTIN_CHAINS:
                cur.jumps.append(line)
            else:
                cur.chains.setdefault(chain, []).append(line)
        elif line.startswith("-I "):
            cur.jumps.append(line)
        else:
            raise ValueError(f"not a line iptables_rules() writes: {line!r}")
    return tables


def _delete_form(jump: str) -> str:
    """"-I CHAIN 1 args" or "-A CHAIN args" -> "-D CHAIN args"."""
    words = jump.split(" ", 3 if jump.startswith("-I ") else 2)
    return f"-D {words[1]} {words[-1]}"


def _ipt_level(chain: str) -> int:
    """Chains that others jump to come first, so that every transaction leaves valid jumps behind."""
    for level, prefixes in enumerate((("KUBE-SEP-",), ("KUBE-SVC-", "KUBE-SVL-"), ("KUBE-EXT-",), ("KUBE-FW-",),
                                      ("KUBE-NODEPORTS",), ("KUBE-SERVICES",)), start=1):
        if chain.startswith(prefixes):
            return level
    return 0


@dataclass
class _Unit:
    decls: list[str]  # ":CHAIN - [0:0]" lines (they create or flush the chain)
    lines: list[str]


def _pack_iptables(table: str, units: list[_Unit]) -> list[str]:
    """Units packed in order into `*table ... COMMIT` blocks of at most _IPT_BUDGET lines.

    A unit stays within one block (one atomic iptables-restore transaction) when it fits;
    a bigger one (a chain nothing jumps to yet, or single-rule edits) is cut across blocks.
    """
    out: list[str] = []
    decls: list[str] = []
    lines: list[str] = []

    def close() -> None:
        if decls or lines:
            out.extend([f"*{table}", *decls, *lines, "COMMIT"])
            decls.clear()
            lines.clear()

    for unit in units:
        size = len(unit.decls) + len(unit.lines)
        if not size:
            continue
        if len(decls) + len(lines) + size > _IPT_BUDGET:
            close()
        if size <= _IPT_BUDGET:
            decls += unit.decls
            lines += unit.lines
            continue
        first = _IPT_BUDGET - len(unit.decls)
        decls += unit.decls
        lines += unit.lines[:first]
        close()
        for k in range(first, len(unit.lines), _IPT_BUDGET):
            lines += unit.lines[k:k + _IPT_BUDGET]
            close()
    close()
    return out


def _edit_script(chain: str, old: list[str], new: list[str]) -> list[str]:
    """Positional `-D CHAIN n` / `-I CHAIN n rule` lines turning old into new, each one valid on its own."""
    ops: list[str] = []
    prefix = len(f"-A {chain} ")
    for tag, i1, i2, j1, j2 in reversed(difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes()):
        if tag == "equal":
            continue
        ops += [f"-D {chain} {k}" for k in range(i2, i1, -1)]
        ops += [f"-I {chain} {i1 + 1 + m} {rule[prefix:]}" for m, rule in enumerate(new[j1:j2])]
    return ops


# The top-level jumps (PREROUTING, OUTPUT, POSTROUTING, FORWARD, INPUT -> KUBE-*) are the only
# rules outside kube-proxy's own chains. Restore input has no "insert unless present", so they
# appear in a full ruleset, which is meant for a node that has none yet (delta(None, new)); a
# delta never writes them again unless they changed, and then deletes the old ones first. So
# after any chain of deltas each jump exists exactly once, as upstream's EnsureRule() keeps it.
def iptables_delta(old: str | None, new: str) -> str | None:
    """`iptables-restore --noflush` input from `old` to `new`: changed chains rewritten, gone ones deleted, or None."""
    if old is None:
        return new
    if old == new:
        return None
    before, after = _parse_restore(old), _parse_restore(new)
    out: list[str] = []
    for name in list(after) + [t for t in before if t not in after]:
        o, n = before.get(name, _IPTTable()), after.get(name, _IPTTable())
        units = []
        for c in sorted((c for c, rules in n.chains.items() if o.chains.get(c) != rules), key=_ipt_level):
            if c not in o.chains or len(n.chains[c]) < _IPT_BUDGET:  # like upstream: flush and rewrite
                units.append(_Unit([f":{c} - [0:0]"], n.chains[c]))
            else:  # a chain too long for one transaction: edit it in place, rule by rule
                units.append(_Unit([], _edit_script(c, o.chains[c], n.chains[c])))
        if o.jumps != n.jumps:  # the top-level jumps exist exactly once: delete the old ones, insert anew
            units.append(_Unit([], [_delete_form(j) for j in o.jumps] + n.jumps))
        # Chains that went away: all emptied first (they may jump to one another), then deleted.
        gone = [c for c in o.chains if c not in n.chains]
        units += [_Unit([f":{c} - [0:0]"], []) for c in gone] + [_Unit([], [f"-X {c}" for c in gone])]
        out += _pack_iptables(name, units)
    return "\n".join(out) + "\n" if out else None


# ---------------------------------------------------------------------------------------
# nftables mode
# ---------------------------------------------------------------------------------------

_T = "ip kube-proxy"

# nftablesBaseChains: name, type, hook, priority (as knftables writes them).
_NFT_BASE_CHAINS = (
    ("filter-prerouting-pre-dnat", "filter", "prerouting", "-110"),
    ("filter-output-pre-dnat", "filter", "output", "-110"),
    ("filter-input", "filter", "input", "0"),
    ("filter-forward", "filter", "forward", "0"),
    ("filter-output", "filter", "output", "0"),
    ("nat-prerouting", "nat", "prerouting", "-100"),
    ("nat-output", "nat", "output", "-100"),
    ("nat-postrouting", "nat", "postrouting", "100"),
)
# nftablesJumpChains: dstChain, srcChain, extraArgs.
_NFT_JUMPS = (
    ("nodeport-endpoints-check", "filter-input", "ct state new"),
    ("service-endpoints-check", "filter-input", "ct state new"),
    ("service-endpoints-check", "filter-forward", "ct state new"),
    ("service-endpoints-check", "filter-output", "ct state new"),
    ("firewall-check", "filter-prerouting-pre-dnat", "ct state new"),
    ("firewall-check", "filter-output-pre-dnat", "ct state new"),
    ("services", "nat-output", ""),
    ("services", "nat-prerouting", ""),
    ("masquerading", "nat-postrouting", ""),
    ("cluster-ips-check", "filter-forward", "ct state new"),
    ("cluster-ips-check", "filter-output", "ct state new"),
)


@dataclass
class _NFT:
    """A kube-proxy table as knftables would hold it: definitions, rules per chain, elements per set/map."""

    defs: dict[str, str] = field(default_factory=dict)  # "set NAME" / "map NAME" / "chain NAME" -> add line
    rules: dict[str, list[str]] = field(default_factory=dict)
    elements: dict[str, dict[str, str]] = field(default_factory=dict)  # container -> key -> add line

    def chain(self, name: str, spec: str = "") -> None:
        self.defs.setdefault(f"chain {name}", f"add chain {_T} {name}" + (f" {{ {spec} ; }}" if spec else ""))
        self.rules.setdefault(name, [])

    def container(self, kind: str, name: str, spec: str) -> None:
        self.defs.setdefault(f"{kind} {name}", f"add {kind} {_T} {name} {{ {spec} ; }}")
        self.elements.setdefault(name, {})

    def rule(self, chain: str, rule: str, comment: str | None = None) -> None:
        self.rules[chain].append(f"add rule {_T} {chain} {rule}" + (f' comment "{comment}"' if comment else ""))

    def element(self, container: str, key: str, value: str | None = None, comment: str | None = None) -> None:
        inner = key + (f' comment "{comment}"' if comment else "") + (f" : {value}" if value else "")
        self.elements.setdefault(container, {}).setdefault(key, f"add element {_T} {container} {{ {inner} }}")

    def render(self) -> list[str]:
        order = {"set": 0, "map": 0, "chain": 1}
        defs = sorted(self.defs.items(), key=lambda kv: order[kv[0].split()[0]])  # stable: sets/maps first
        out = [line for _, line in defs]
        for rules in self.rules.values():
            out += rules
        for elements in self.elements.values():
            out += elements.values()
        return out


def _render_nftables(services: list[ServicePort], node: NodeContext, opt: _NFTablesOptions) -> str:
    """syncProxyRules() (full sync, setupNFTables() included) of the nftables proxier."""
    t = _NFT()
    mark = opt.masquerade_mark
    nodeport_ips = (node.ip,) if opt.nodeport_ips is None else opt.nodeport_ips
    match_all = not nodeport_ips
    no_localhost = "ip daddr != 127.0.0.0/8"

    # setupNFTables()
    for name, ctype, hook, prio in _NFT_BASE_CHAINS:
        t.chain(name, f"type {ctype} hook {hook} priority {prio}")
    for dst, src, extra in _NFT_JUMPS:
        t.chain(dst)
        t.rule(src, f"{extra} jump {dst}".strip())
    for name in ("services", "cluster-ips-check", "masquerading", "mark-for-masquerade"):
        t.chain(name)
    t.rule("mark-for-masquerade", f"mark set mark or {mark}")
    t.rule("masquerading", f"mark and {mark} == 0 return")
    t.rule("masquerading", f"mark set mark xor {mark}")
    t.rule("masquerading", "masquerade fully-random")
    t.container("set", "cluster-ips", 'type ipv4_addr ; comment "Active ClusterIPs"')
    t.rule("cluster-ips-check", "ip daddr @cluster-ips reject", "Reject traffic to invalid ports of ClusterIPs")
    if opt.service_cidrs:
        t.rule("cluster-ips-check", f"ip daddr {{ {','.join(opt.service_cidrs)} }} drop",
               "Drop traffic to unallocated ClusterIPs")
    if not match_all:
        t.container("set", "nodeport-ips", 'type ipv4_addr ; comment "IPs that accept NodePort traffic"')
        for ip in nodeport_ips:
            t.element("nodeport-ips", ip)
    verdict_map = "ipv4_addr . inet_proto . inet_service : verdict"
    t.container("map", "no-endpoint-services",
                f'type {verdict_map} ; comment "vmap to drop or reject packets to services with no endpoints"')
    t.container("map", "no-endpoint-nodeports", 'type inet_proto . inet_service : verdict ; comment "vmap to drop'
                ' or reject packets to service nodeports with no endpoints"')
    t.chain("reject-chain", 'comment "helper for @no-endpoint-services / @no-endpoint-nodeports"')
    t.rule("reject-chain", "reject")
    t.rule("service-endpoints-check", "ip daddr . meta l4proto . th dport vmap @no-endpoint-services")
    t.rule("nodeport-endpoints-check", (no_localhost if match_all else "ip daddr @nodeport-ips")
           + " meta l4proto . th dport vmap @no-endpoint-nodeports")
    t.container("map", "firewall-ips",
                f'type {verdict_map} ; comment "destinations that are subject to LoadBalancerSourceRanges"')
    t.rule("firewall-check", "ip daddr . meta l4proto . th dport vmap @firewall-ips")
    t.container("map", "service-ips", f'type {verdict_map} ; comment "ClusterIP, ExternalIP and LoadBalancer IP'
                ' traffic"')
    t.container("map", "service-nodeports", 'type inet_proto . inet_service : verdict ; comment "NodePort traffic"')
    t.rule("services", "ip daddr . meta l4proto . th dport vmap @service-ips")
    t.rule("services", ("fib daddr type local " + no_localhost if match_all else "ip daddr @nodeport-ips")
           + " meta l4proto . th dport vmap @service-nodeports")

    setup, groups = t, []
    for svc in _services(services, node):
        t = _NFT()  # one group per service port: its sets, chains, rules and map elements
        groups.append(t)
        proto, spn, port = svc.proto, svc.spn, svc.sp.port
        svc_chain = service_chain("service-", svc.sp)
        local_chain = service_chain("local-", svc.sp)
        ext_chain = service_chain("external-", svc.sp)
        fw_chain = service_chain("firewall-", svc.sp)
        for ep in svc.reachable_eps:
            t.chain(_nft_endpoint_chain(svc.sp, ep))
        uses_cluster_chain = bool(svc.cluster_eps) and svc.uses_cluster_endpoints
        if uses_cluster_chain:
            t.chain(svc_chain)
        uses_local_chain = bool(svc.local_eps) and svc.uses_local_endpoints
        if uses_local_chain:
            t.chain(local_chain)
        internal_chain, has_internal = svc_chain, svc.has_endpoints
        if svc.itp_local:
            internal_chain = local_chain
            has_internal = has_internal and bool(svc.local_eps)
        external_policy_chain, has_external = svc_chain, svc.has_endpoints
        if svc.etp_local:
            external_policy_chain = local_chain
            has_external = has_external and bool(svc.local_eps)
        uses_ext_chain = svc.has_endpoints and svc.externally_accessible
        if uses_ext_chain:
            t.chain(ext_chain)
        int_verdict = ext_verdict = ""
        if not svc.has_endpoints:
            int_verdict = ext_verdict = "goto reject-chain"
        else:
            if not has_internal:
                int_verdict = "drop"
            if not has_external:
                ext_verdict = "drop"

        # Capture the clusterIP.
        t.element("cluster-ips", svc.cluster_ip)
        key = f"{svc.cluster_ip} . {proto} . {port}"
        if has_internal:
            t.element("service-ips", key, f"goto {internal_chain}")
        else:
            t.element("no-endpoint-services", key, int_verdict, spn)
        # Capture externalIPs.
        for eip in svc.external_ips:
            key = f"{eip} . {proto} . {port}"
            if svc.has_endpoints:
                t.element("service-ips", key, f"goto {ext_chain}")
            if not has_external:
                t.element("no-endpoint-services", key, ext_verdict, spn)
        uses_fw_chain = bool(svc.lb_ips) and bool(svc.source_ranges)
        if uses_fw_chain:
            t.chain(fw_chain)
        # Capture load-balancer ingress.
        for lbip in svc.lb_ips:
            key = f"{lbip} . {proto} . {port}"
            if svc.has_endpoints:
                t.element("service-ips", key, f"goto {ext_chain}")
            if uses_fw_chain:
                t.element("firewall-ips", key, f"goto {fw_chain}")
        if not has_external:
            for lbip in svc.lb_ips:
                t.element("no-endpoint-services", f"{lbip} . {proto} . {port}", ext_verdict, spn)
        # Capture nodeports.
        if svc.node_port:
            key = f"{proto} . {svc.node_port}"
            if svc.has_endpoints:
                t.element("service-nodeports", key, f"goto {ext_chain}")
            if not has_external:
                t.element("no-endpoint-nodeports", key, ext_verdict, spn)

        # Set up internal traffic handling.
        if has_internal:
            if opt.masquerade_all:
                t.rule(internal_chain, f"ip daddr {svc.cluster_ip} jump mark-for-masquerade")
            else:
                t.rule(internal_chain, f"ip daddr {svc.cluster_ip} ip saddr != {node.cluster_cidr}"
                                       " jump mark-for-masquerade")
        # Set up external traffic handling.
        if uses_ext_chain:
            if not svc.etp_local:
                t.rule(ext_chain, "jump mark-for-masquerade")
            else:
                t.rule(ext_chain, f"ip saddr {node.cluster_cidr} goto {svc_chain}", "short-circuit pod traffic")
                t.rule(ext_chain, "fib saddr type local jump mark-for-masquerade", "masquerade local traffic")
                t.rule(ext_chain, f"fib saddr type local goto {svc_chain}", "short-circuit local traffic")
            if has_external:
                t.rule(ext_chain, f"goto {external_policy_chain}")
        if uses_fw_chain:
            sources = list(svc.source_ranges)
            if any(ipaddress.ip_address(node.ip) in ipaddress.ip_network(c) for c in svc.source_ranges):
                sources += svc.lb_ips
            t.rule(fw_chain, f"ip saddr != {{ {' , '.join(sources)} }} drop")
        if svc.sp.session_affinity:
            for ep in svc.reachable_eps:
                t.container("set", _nft_affinity_set(svc.sp, ep), "type ipv4_addr ; flags dynamic,timeout ;"
                            f" timeout {svc.sp.affinity_timeout}s")

        def service_to_endpoints(chain: str, eps: list[Endpoint]) -> None:  # writeServiceToEndpointRules()
            if svc.sp.session_affinity:
                for ep in eps:
                    t.rule(chain, f"ip saddr @{_nft_affinity_set(svc.sp, ep)} goto {_nft_endpoint_chain(svc.sp, ep)}")
            vmap = " , ".join(f"{i} : goto {_nft_endpoint_chain(svc.sp, ep)}" for i, ep in enumerate(eps))
            t.rule(chain, f"numgen random mod {len(eps)} vmap {{ {vmap} }}")

        if uses_cluster_chain:
            service_to_endpoints(svc_chain, svc.cluster_eps)
        if uses_local_chain:
            service_to_endpoints(local_chain, svc.local_eps)
        for ep in svc.reachable_eps:
            chain = _nft_endpoint_chain(svc.sp, ep)
            t.rule(chain, f"ip saddr {ep.ip} jump mark-for-masquerade")
            if svc.sp.session_affinity:
                t.rule(chain, f"update @{_nft_affinity_set(svc.sp, ep)} {{ ip saddr }}")
            t.rule(chain, f"meta l4proto {proto} dnat to {_ep_str(ep)}")

    head = [f"add table {_T}", f"delete table {_T}", f'add table {_T} {{ comment "rules for kube-proxy" ; }}']
    seen: set[str] = set()  # an element shared by several ports (their ClusterIP) is added once
    units = [head + setup.render()]
    for group in groups:
        units.append([line for line in group.render()
                      if not line.startswith("add element") or not (line in seen or seen.add(line))])
    return _pack_nft(units)


def _nft_weight(line: str) -> int:
    """Rough netlink size of one nft command, in units of ~110 bytes (measured: element/chain ~1, rule ~3)."""
    if line.startswith("add rule"):
        return 3 + line.count(",")  # each further vmap entry or anonymous-set item
    if line.startswith(("add set", "add map", "delete set", "delete map")):
        return 2
    return 1


def _pack_nft(units: list[list[str]]) -> str:
    """Units (each already in dependency order) packed into transactions of at most _NFT_BUDGET weight."""
    out: list[str] = []
    weight = 0
    for unit in units:
        size = sum(_nft_weight(line) for line in unit)
        if out and weight + size > _NFT_BUDGET:
            out.append(NFT_TRANSACTION_BREAK)
            weight = 0
        for line in unit:  # a unit bigger than a whole transaction is cut, still in dependency order
            w = _nft_weight(line)
            if weight and weight + w > _NFT_BUDGET:
                out.append(NFT_TRANSACTION_BREAK)
                weight = 0
            out.append(line)
            weight += w
    return "\n".join(out) + "\n"


def split_nft_transactions(script: str) -> list[str]:
    """Cut nftables_rules()/nftables_delta() output at its transaction breaks: apply each part with its own `nft -f`."""
    parts = script.split(NFT_TRANSACTION_BREAK + "\n")
    return [part for part in parts if part.strip()]


def nftables_rules(services: list[ServicePort], node: NodeContext, *,
                   service_cidr: str = DEFAULT_SERVICE_CIDR) -> str:
    """Full `nft -f` input that (re)creates `table ip kube-proxy` as kube-proxy's nftables mode programs it."""
    return _render_nftables(services, node, _NFTablesOptions(service_cidrs=(service_cidr,)))


_NFT_LINE = re.compile(r"^add (table|set|map|chain|rule|element) ip kube-proxy(?: (\S+))?")


def _parse_nft(text: str) -> tuple[str, _NFT]:
    table_line, t = "", _NFT()
    for line in text.splitlines():
        if not line or line.startswith("#") or line in (f"add table {_T}", f"delete table {_T}"):
            continue
        m = _NFT_LINE.match(line)
        if m is None:
            raise ValueError(f"not a line nftables_rules() writes: {line!r}")
        kind, name = m.groups()
        if kind == "table":
            table_line = line
        elif kind in ("set", "map", "chain"):
            t.defs[f"{kind} {name}"] = line
            (t.rules if kind == "chain" else t.elements).setdefault(name, [] if kind == "chain" else {})
        elif kind == "rule":
            t.rules.setdefault(str(name), []).append(line)
        else:
            inner = line[line.index("{ ") + 2:line.rindex(" }")]
            key = re.split(r' comment "| : ', inner, maxsplit=1)[0]
            t.elements.setdefault(str(name), {})[key] = line
    return table_line, t


def nftables_delta(old: str | None, new: str) -> str | None:
    """`nft -f` input taking the `old` kube-proxy table to `new`: changed chains, sets and elements; None if equal."""
    if old is None:
        return new
    if old == new:
        return None
    (old_table, o), (new_table, n) = _parse_nft(old), _parse_nft(new)
    if old_table != new_table or any(o.defs[k] != v for k, v in n.defs.items() if k in o.defs):
        return new  # a definition itself changed (hook, priority, timeout...): recreate the table
    added = [k for k in n.defs if k not in o.defs]
    removed = [k for k in o.defs if k not in n.defs]
    units: list[list[str]] = [[n.defs[k]] for k in sorted(added, key=lambda k: not k.startswith(("set", "map")))]
    # Changed and new chains, each flushed and refilled in one transaction; endpoint chains first.
    level = {"endpoint-": 0, "service-": 1, "local-": 1, "external-": 2, "firewall-": 3}
    rewritten = [c for c, rules in n.rules.items() if (f"chain {c}" in added and rules) or
                 (f"chain {c}" in o.defs and o.rules.get(c) != rules)]
    for c in sorted(rewritten, key=lambda c: next((v for p, v in level.items() if c.startswith(p)), 4)):
        units.append(([f"flush chain {_T} {c}"] if f"chain {c}" in o.defs else []) + n.rules[c])
    # Map and set elements: a changed value is deleted and re-added in the same transaction.
    for name, elements in n.elements.items():
        for key, line in elements.items():
            if o.elements.get(name, {}).get(key) != line:
                units.append(([f"delete element {_T} {name} {{ {key} }}"] if key in o.elements.get(name, {})
                              else []) + [line])
    for name, elements in o.elements.items():
        if f"set {name}" not in removed and f"map {name}" not in removed:
            units += [[f"delete element {_T} {name} {{ {key} }}"] for key in elements
                      if key not in n.elements.get(name, {})]
    # What disappeared goes last, once nothing refers to it any more.
    # (emptied first, since they may jump to one another; sets after the chains whose rules used them).
    units += [[f"flush chain {_T} {k.split()[1]}"] for k in removed if k.startswith("chain ") and o.rules[k.split()[1]]]
    units += [[f"delete {k.split()[0]} {_T} {k.split()[1]}"]
              for k in sorted(removed, key=lambda k: not k.startswith("chain"))]
    units = [u for u in units if u]
    return _pack_nft(units) if units else None
