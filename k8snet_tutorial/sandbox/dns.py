"""The cluster DNS: CoreDNS's `kubernetes` plugin answers, served for real over UDP and TCP from the DNS pods.

What is answered follows the Kubernetes DNS-Based Service Discovery specification as CoreDNS implements it with
kind's Corefile::

    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    forward . /etc/resolv.conf

The lookup functions below mirror CoreDNS's own (`plugin/kubernetes/{parse,kubernetes,reverse,ns}.go` and
`plugin/backend_lookup.go`), including their corner cases, so that `dig` in a sandbox pod prints what it prints on
kind. The lab has no way out, so `forward` becomes an optional `upstream` callable; without one, everything that
CoreDNS would forward fails at once with SERVFAIL, like a forwarder that cannot reach any resolver.
"""
from __future__ import annotations

import asyncio
import ipaddress
import math
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Iterable

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.CNAME
import dns.rdtypes.ANY.NS
import dns.rdtypes.ANY.PTR
import dns.rdtypes.ANY.SOA
import dns.rdtypes.ANY.TXT
import dns.rdtypes.IN.A
import dns.rdtypes.IN.AAAA
import dns.rdtypes.IN.SRV
import dns.rrset

__all__ = ["ClusterRecords", "DnsServer", "answer", "DEFAULT_TTL", "DNS_SCHEMA_VERSION"]

Upstream = Callable[[dns.message.Message], "dns.message.Message | None"]  # forward . <resolver>

DEFAULT_TTL = 30  # kind's Corefile: `ttl 30`
DNS_SCHEMA_VERSION = "1.1.0"  # what CoreDNS puts in dns-version.<zone> TXT
DNS_VERSION_TTL = 28800  # CoreDNS hard-codes this TTL for the dns-version TXT record
SOA_REFRESH, SOA_RETRY, SOA_EXPIRE = 7200, 1800, 86400  # plugin/backend_lookup.go SOA()
REVERSE_ZONES = ("in-addr.arpa.", "ip6.arpa.")  # also the `fallthrough` zones on kind
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
DNS_POD_LABEL = ("k8s-app", "kube-dns")
MAX_QUERY_SIZE = 4096  # a DNS query is small; anything bigger is dropped unread
UDP_MIN_SIZE, TCP_MAX_SIZE = 512, 65535
_SVC, _POD = "svc", "pod"
_IN = dns.rdataclass.IN


# --------------------------------------------------------------------------------------------------------------
# The snapshot
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Port:
    name: str
    port: int
    protocol: str


@dataclass(frozen=True)
class _Address:
    ip: str
    hostname: str
    target_ref: str


@dataclass(frozen=True)
class _Endpoints:
    """One EndpointSlice as CoreDNS keeps it: the published addresses only, and the slice's ports."""

    service: str
    namespace: str
    addresses: tuple[_Address, ...]
    ports: tuple[_Port, ...]


@dataclass(frozen=True)
class _Service:
    name: str
    namespace: str
    type: str
    cluster_ips: tuple[str, ...]
    external_name: str
    ports: tuple[_Port, ...]

    @property
    def headless(self) -> bool:
        return bool(self.cluster_ips) and self.cluster_ips[0] == "None"


def _norm_ip(value: str) -> str | None:
    """An address in its canonical text form, or None when it is not one."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _ports(raw: Iterable[dict] | None) -> tuple[_Port, ...]:
    """Ports as CoreDNS stores them, with its sentinel port -1 when there are none."""
    out = tuple(_Port(str(p.get("name") or ""), int(p["port"]) if p.get("port") is not None else -1,
                      str(p.get("protocol") or "TCP")) for p in (raw or []))
    return out or (_Port("", -1, ""),)


@dataclass
class ClusterRecords:
    """A snapshot of what the DNS needs, built from API objects."""

    domain: str  # "cluster.local"
    services: list[dict]  # v1 Service API dicts
    endpoint_slices: list[dict]  # discovery.k8s.io/v1 EndpointSlice dicts
    pods: list[dict]  # v1 Pod dicts
    namespaces: list[str] | None = None  # existing namespaces; None: those the objects above live in, and kubeadm's
    server_ips: list[str] | None = None  # the DNS pods' own IPs (CoreDNS's "local IPs"); None: kube-dns pods' IPs
    serial: int = 0  # SOA serial; CoreDNS uses the time of the last change, we use the last resourceVersion
    pod_mode: str = "insecure"  # `pods insecure` on kind; "verified" and "disabled" behave as in CoreDNS
    ttl: int = DEFAULT_TTL
    _index: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Index the objects once: a snapshot is read by every query until the next one replaces it."""
        self.domain = self.domain.strip(".").lower()
        if self.pod_mode not in ("insecure", "verified", "disabled"):
            raise ValueError(f"pod mode {self.pod_mode!r} is not one of insecure, verified, disabled")
        svcs: dict[tuple[str, str], list[_Service]] = {}
        by_cluster_ip: dict[str, list[_Service]] = {}
        for obj in self.services:
            meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
            ips = tuple(spec.get("clusterIPs") or [spec.get("clusterIP") or ""])
            svc = _Service(str(meta.get("name", "")).lower(), str(meta.get("namespace") or "default").lower(),
                           spec.get("type") or "ClusterIP", ips, spec.get("externalName") or "",
                           _ports(spec.get("ports")))
            svcs.setdefault((svc.namespace, svc.name), []).append(svc)
            for ip in ips:
                if (key := _norm_ip(ip)) is not None:
                    by_cluster_ip.setdefault(key, []).append(svc)
        eps: dict[tuple[str, str], list[_Endpoints]] = {}
        by_endpoint_ip: dict[str, list[_Endpoints]] = {}
        for obj in self.endpoint_slices:
            meta = obj.get("metadata") or {}
            if obj.get("addressType", "IPv4") not in ("IPv4", "IPv6"):
                continue  # FQDN slices carry no addresses CoreDNS can serve
            owner = str((meta.get("labels") or {}).get("kubernetes.io/service-name", "")).lower()
            addrs = []
            for ep in obj.get("endpoints") or []:
                ready = (ep.get("conditions") or {}).get("ready")
                if ready is not None and not ready:  # nil means unknown, which consumers treat as ready
                    continue
                ref = str((ep.get("targetRef") or {}).get("name") or "")
                for a in ep.get("addresses") or []:
                    if (ip := _norm_ip(str(a))) is not None:
                        addrs.append(_Address(ip, str(ep.get("hostname") or ""), ref if len(ref) < 64 else ""))
            ns = str(meta.get("namespace") or "default").lower()
            e = _Endpoints(owner, ns, tuple(addrs), _ports(obj.get("ports")))
            eps.setdefault((e.namespace, e.service), []).append(e)
            for a in addrs:
                by_endpoint_ip.setdefault(a.ip, []).append(e)
        pod_ips: dict[str, list[str]] = {}
        pod_namespaces: set[str] = set()
        dns_pod_ips: list[str] = []
        for obj in self.pods:
            meta, status = obj.get("metadata") or {}, obj.get("status") or {}
            pod_namespaces.add(str(meta.get("namespace") or "default").lower())
            ips = [p.get("ip") for p in status.get("podIPs") or []] or [status.get("podIP")]
            for ip in filter(None, (_norm_ip(str(i)) for i in ips if i)):
                pod_ips.setdefault(ip, []).append(str(meta.get("namespace") or "default").lower())
                labels = meta.get("labels") or {}
                if meta.get("namespace") == "kube-system" and labels.get(DNS_POD_LABEL[0]) == DNS_POD_LABEL[1]:
                    dns_pod_ips.append(ip)
        if self.namespaces is None:
            seen = {ns for ns, _ in svcs} | {ns for ns, _ in eps} | pod_namespaces
            self.namespaces = sorted(seen | set(DEFAULT_NAMESPACES))
        if self.server_ips is None:
            self.server_ips = dns_pod_ips
        self._index.update(svcs=svcs, eps=eps, svc_by_ip=by_cluster_ip, ep_by_ip=by_endpoint_ip, pod_ips=pod_ips,
                           namespaces={n.lower() for n in self.namespaces},
                           local_ips=[ip for ip in map(_norm_ip, self.server_ips) if ip])

    @classmethod
    def from_objects(cls, objects: Iterable[dict], domain: str = "cluster.local") -> "ClusterRecords":
        """Sort API objects (Services, EndpointSlices, Pods, Namespaces; others ignored) into a snapshot."""
        services: list[dict] = []
        slices: list[dict] = []
        pods: list[dict] = []
        namespaces: list[str] = []
        serial = 0
        for obj in objects:
            kind = obj.get("kind")
            bucket = {"Service": services, "EndpointSlice": slices, "Pod": pods}.get(kind or "")
            if bucket is not None:
                bucket.append(obj)
            elif kind == "Namespace":
                namespaces.append(str(obj["metadata"]["name"]))
            else:
                continue
            rv = str((obj.get("metadata") or {}).get("resourceVersion") or "")
            if rv.isdigit():
                serial = max(serial, int(rv))
        return cls(domain, services, slices, pods, namespaces=namespaces or None, serial=serial & 0xFFFFFFFF)


# --------------------------------------------------------------------------------------------------------------
# Lookups, after CoreDNS
# --------------------------------------------------------------------------------------------------------------
class _NameError(Exception):
    """CoreDNS's errNoItems / errNsNotExposed / errInvalidRequest: the name does not exist."""


@dataclass(frozen=True)
class _Item:
    """CoreDNS's msg.Service: what a lookup found, before it becomes records."""

    host: str  # an IP, a target name (CNAME), or "" for text
    domain: str  # the name the item lives at, absolute (msg.Domain of its key)
    ttl: int
    port: int = -1
    text: str = ""

    def kind(self) -> int:
        """Which record type the host makes: A, AAAA, CNAME, or TXT."""
        if self.text and not self.host:
            return dns.rdatatype.TXT
        try:
            ip = ipaddress.ip_address(self.host)
        except ValueError:
            return dns.rdatatype.CNAME
        return dns.rdatatype.A if ip.version == 4 else dns.rdatatype.AAAA


@dataclass
class _Request:
    """CoreDNS's recordRequest: the parts of a name under a zone."""

    port: str = ""
    protocol: str = ""
    endpoint: str = ""
    service: str = ""
    namespace: str = ""
    pod_or_svc: str = ""


def _labels(name: dns.name.Name) -> list[str]:
    """A name's labels, lowercased, without the root."""
    return [label.decode("latin-1").lower() for label in name.labels if label]


def _strip_underscore(s: str) -> str:
    return s[1:] if s.startswith("_") else s


def _parse(rel: list[str]) -> _Request:
    """parseRequest: `[_port._proto.|endpoint.]service.namespace.(svc|pod)` relative to the zone."""
    r = _Request()
    base = ".".join(rel)
    if base in ("", _SVC, _POD):
        return r  # NODATA at the apex and at svc./pod.
    segs = list(rel)
    r.pod_or_svc = segs.pop()
    if r.pod_or_svc not in (_SVC, _POD):
        raise _NameError("invalid query name")
    if not segs:
        return r
    r.namespace = segs.pop()
    if not segs:
        return r
    r.service = segs.pop()
    if len(segs) == 1:
        r.endpoint = segs[0]
    elif len(segs) == 2:
        r.port, r.protocol = _strip_underscore(segs[0]), _strip_underscore(segs[1])
    elif segs:
        raise _NameError("query name too long")
    return r


def _match_port(r: _Request, p: _Port) -> bool:
    """matchPortAndProtocol: an empty request part matches anything."""
    return (not r.port or r.port == p.name.lower()) and (not r.protocol or r.protocol == p.protocol.lower())


def _endpoint_hostname(a: _Address) -> str:
    """endpointHostname: the endpoint's hostname, else its address with dashes."""
    if a.hostname:
        return a.hostname
    return a.ip.replace(".", "-") if "." in a.ip else a.ip.replace(":", "-")


def _is_reverse(name: dns.name.Name) -> bool:
    """IsReverse: whether a name lies below in-addr.arpa. or ip6.arpa."""
    labels = _labels(name)
    return len(labels) > 2 and labels[-1] == "arpa" and labels[-2] in ("in-addr", "ip6")


def _reverse_address(name: dns.name.Name) -> str:
    """ExtractAddressFromReverse: the address a full in-addr.arpa/ip6.arpa name stands for, or ""."""
    labels = _labels(name)
    if labels[-2:] == ["in-addr", "arpa"]:
        parts = labels[:-2][::-1]
        return _norm_ip(".".join(parts)) or "" if len(parts) == 4 and ":" not in "".join(parts) else ""
    if labels[-2:] == ["ip6", "arpa"]:
        nibbles = labels[:-2][::-1]
        if len(nibbles) != 32 or any(len(n) != 1 for n in nibbles):
            return ""
        text = ":".join("".join(nibbles[i:i + 4]) for i in range(0, 32, 4))
        ip = _norm_ip(text)
        return ip if ip and ":" in ip else ""
    return ""


class _Lookup:
    """One query's lookups against one snapshot, shaped like CoreDNS's plugin functions."""

    def __init__(self, records: ClusterRecords, upstream: Upstream | None) -> None:
        self.rec = records
        self.idx = records._index
        self.upstream = upstream
        self.ttl = records.ttl

    # -- the kubernetes backend ---------------------------------------------------------------------------------
    def ns_exposed(self, ns: str) -> bool:
        return ns in self.idx["namespaces"]

    def records(self, qname: dns.name.Name, zone: dns.name.Name) -> list[_Item]:
        """Kubernetes.Records: services or pods for a forward name."""
        r = _parse(_labels(qname.relativize(zone)) if qname != zone else [])
        if not r.pod_or_svc:
            return []
        if _is_reverse(qname):
            raise _NameError("reverse name")
        if not self.ns_exposed(r.namespace):
            raise _NameError("namespace not exposed")
        zone_text = zone.to_text()
        if r.pod_or_svc == _POD:
            return self.find_pods(r, zone_text)
        return self.find_services(r, zone_text)

    def find_pods(self, r: _Request, zone: str) -> list[_Item]:
        """findPods: `a-b-c-d.ns.pod.<zone>`; `pods insecure` answers any well-formed address."""
        if self.rec.pod_mode == "disabled":
            raise _NameError("pod records disabled")
        if not r.service:
            return []
        name = r.service
        if name.count("-") == 3 and "--" not in name:
            ip = name.replace("-", ".")
        else:
            ip = name.replace("-", ":")
        item = _Item(ip, f"{name}.{r.namespace}.{_POD}.{zone}", self.ttl)
        canon = _norm_ip(ip)
        if self.rec.pod_mode == "insecure":
            if canon is None:
                raise _NameError("not an address")
            return [item]
        if canon is not None and r.namespace in self.idx["pod_ips"].get(canon, []):
            return [item]
        raise _NameError("no such pod")

    def find_services(self, r: _Request, zone: str) -> list[_Item]:
        """findServices: ClusterIP, headless, endpoint and ExternalName answers for `...service.ns.svc.<zone>`."""
        if not r.service:
            return []
        found = False
        out: list[_Item] = []
        for svc in self.idx["svcs"].get((r.namespace, r.service), []):
            svc_domain = f"{svc.name}.{svc.namespace}.{_SVC}.{zone}"
            if svc.type == "ExternalName":
                if r.endpoint:
                    continue
                item = _Item(svc.external_name, svc_domain, self.ttl)
                if svc.external_name and item.kind() == dns.rdatatype.CNAME:
                    out.append(item)
                    found = True
                continue
            if svc.headless or r.endpoint:
                for eps in self.idx["eps"].get((svc.namespace, svc.name), []):
                    for addr in eps.addresses:
                        host = _endpoint_hostname(addr)
                        if r.endpoint and r.endpoint != host.lower():
                            continue
                        for p in eps.ports:
                            if not _match_port(r, p):
                                continue
                            out.append(_Item(addr.ip, f"{host}.{svc_domain}", self.ttl, p.port))
                            found = True
                continue
            for p in svc.ports:
                if not _match_port(r, p):
                    continue
                found = True
                for ip in svc.cluster_ips:
                    if ip:
                        out.append(_Item(ip, svc_domain, self.ttl, p.port))
        if not found:
            raise _NameError("no items found")
        return out

    def ns_addrs(self, zone: str) -> list[tuple[str, str]]:
        """nsAddrs: (name, address) of the Services whose endpoints are this DNS server, else ns.dns.<zone>."""
        names: list[tuple[str, str]] = []
        found_endpoint = False
        for local in self.idx["local_ips"]:
            for eps in self.idx["ep_by_ip"].get(local, []):
                found_endpoint = True
                for svc in self.idx["svcs"].get((eps.namespace, eps.service), []):
                    svc_name = f"{svc.name}.{svc.namespace}.{_SVC}.{zone}"
                    if svc.headless:
                        names.extend((f"{_endpoint_hostname(a)}.{svc_name}", a.ip) for a in eps.addresses)
                    else:
                        names.extend((svc_name, ip) for ip in svc.cluster_ips if _norm_ip(ip))
        if not found_endpoint:
            names = [(f"ns.dns.{zone}", ip) for ip in self.idx["local_ips"]]
        return names

    def services(self, qname: dns.name.Name, zone: dns.name.Name, qtype: int) -> list[_Item]:
        """Kubernetes.Services: the TXT and NS special cases, ns.dns.<zone>, then Records."""
        zone_text = zone.to_text()
        if qtype == dns.rdatatype.TXT:
            rel = _labels(qname.relativize(zone)) if qname != zone else []
            if rel != ["dns-version"]:
                return []
            return [_Item("", qname.to_text(), DNS_VERSION_TTL, text=DNS_SCHEMA_VERSION)]
        if qtype == dns.rdatatype.NS:
            return [_Item(ip, name, self.ttl) for name, ip in self.ns_addrs(zone_text)]
        if qname == dns.name.from_text("ns.dns", zone):
            want = {dns.rdatatype.A: 4, dns.rdatatype.AAAA: 6}.get(qtype)
            return [_Item(ip, qname.to_text(), self.ttl) for _, ip in self.ns_addrs(zone_text)
                    if ipaddress.ip_address(ip).version == want]
        items = self.records(qname, zone)
        if qtype == dns.rdatatype.SRV:  # SRV for ExternalName services is not implemented in CoreDNS
            items = [i for i in items if i.kind() != dns.rdatatype.CNAME]
        return items

    def reverse(self, qname: dns.name.Name, zone: dns.name.Name) -> list[_Item]:
        """Kubernetes.Reverse: the Service owning a ClusterIP, else every endpoint with that address."""
        ip = _reverse_address(qname)
        if not ip:
            self.records(qname, zone)
            return []
        primary = self.rec.domain + "."
        for svc in self.idx["svc_by_ip"].get(ip, []):
            return [_Item(f"{svc.name}.{svc.namespace}.{_SVC}.{primary}", "", self.ttl)]
        out = []
        for eps in self.idx["ep_by_ip"].get(ip, []):
            for a in eps.addresses:
                if a.ip == ip:
                    out.append(_Item(f"{_endpoint_hostname(a)}.{eps.service}.{eps.namespace}.{_SVC}.{primary}", "",
                                     self.ttl))
        if not out:
            raise _NameError("no items found")
        return out

    # -- plugin/backend_lookup.go ----------------------------------------------------------------------------
    def address(self, qname: dns.name.Name, zone: dns.name.Name, qtype: int,
                previous: list[dns.rrset.RRset] | None = None) -> list[dns.rrset.RRset]:
        """plugin.A / plugin.AAAA: addresses, with CNAMEs followed inside the zone and handed upstream outside."""
        previous = previous or []
        out: list[dns.rrset.RRset] = []
        seen: set[str] = set()
        for item in self.services(qname, zone, qtype):
            kind = item.kind()
            if kind == dns.rdatatype.CNAME:
                try:
                    target = dns.name.from_text(item.host)
                except (dns.exception.DNSException, ValueError):
                    continue
                if target.is_subdomain(qname) or len(previous) > 7:
                    continue  # x CNAME x is a loop; and chains stop after 8 links
                cname = _rrset(qname, dns.rdatatype.CNAME, item.ttl,
                               dns.rdtypes.ANY.CNAME.CNAME(_IN, dns.rdatatype.CNAME, target))
                if any(r.name == cname.name and r.rdtype == dns.rdatatype.CNAME and r[0] == cname[0] for r in previous):
                    continue
                if target.is_subdomain(zone):
                    try:
                        more = self.address(target, zone, qtype, previous + [cname])
                    except _NameError:
                        continue
                    if more:
                        out.append(cname)
                        out.extend(more)
                    continue
                out.append(cname)
                out.extend(self.external(target, qtype))
                continue
            if kind == qtype and item.host not in seen:
                seen.add(item.host)
                cls = dns.rdtypes.IN.A.A if kind == dns.rdatatype.A else dns.rdtypes.IN.AAAA.AAAA
                _add(out, qname, kind, item.ttl, cls(_IN, kind, item.host))
        return out

    def external(self, target: dns.name.Name, qtype: int) -> list[dns.rrset.RRset]:
        """Upstream.Lookup for a CNAME target outside the cluster: its answers, or nothing when there is none."""
        if self.upstream is None:
            return []
        try:
            reply = self.upstream(dns.message.make_query(target, qtype))
        except Exception:  # noqa: BLE001 - an upstream failure leaves the CNAME alone, as CoreDNS does
            return []
        return [r.copy() for r in reply.answer] if reply is not None else []

    def srv(self, qname: dns.name.Name, zone: dns.name.Name) -> tuple[list[dns.rrset.RRset], list[dns.rrset.RRset]]:
        """plugin.SRV: one record per (target, port), weights shared out per priority, addresses in Additional."""
        items = self.services(qname, zone, dns.rdatatype.SRV)
        total = 100 * len(items)  # every item has priority 0 and weight 0 (i.e. 100)
        records: list[dns.rrset.RRset] = []
        extra: list[dns.rrset.RRset] = []
        seen: set[tuple[str, str, int]] = set()
        for item in items:
            if item.port == -1:
                continue
            weight = max(1, math.floor(100.0 / total * 100))
            kind = item.kind()
            if kind not in (dns.rdatatype.A, dns.rdatatype.AAAA):
                continue
            target = dns.name.from_text(item.domain)
            if (item.domain, "", item.port) not in seen:
                seen.add((item.domain, "", item.port))
                _add(records, qname, dns.rdatatype.SRV, item.ttl,
                     dns.rdtypes.IN.SRV.SRV(_IN, dns.rdatatype.SRV, 0, weight, item.port & 0xFFFF, target))
            if (item.domain, item.host, 0) not in seen:
                seen.add((item.domain, item.host, 0))
                cls = dns.rdtypes.IN.A.A if kind == dns.rdatatype.A else dns.rdtypes.IN.AAAA.AAAA
                _add(extra, target, kind, item.ttl, cls(_IN, kind, item.host))
        return records, extra

    def txt(self, qname: dns.name.Name, zone: dns.name.Name) -> list[dns.rrset.RRset]:
        """plugin.TXT: only dns-version.<zone> has text."""
        out: list[dns.rrset.RRset] = []
        for item in self.services(qname, zone, dns.rdatatype.TXT):
            if item.kind() == dns.rdatatype.TXT:
                _add(out, qname, dns.rdatatype.TXT, item.ttl,
                     dns.rdtypes.ANY.TXT.TXT(_IN, dns.rdatatype.TXT, [item.text.encode()]))
        return out

    def cname(self, qname: dns.name.Name, zone: dns.name.Name) -> list[dns.rrset.RRset]:
        """plugin.CNAME: the first item, when it is a name rather than an address."""
        items = self.services(qname, zone, dns.rdatatype.CNAME)
        if items and items[0].kind() == dns.rdatatype.CNAME:
            try:
                target = dns.name.from_text(items[0].host)
            except (dns.exception.DNSException, ValueError):
                return []
            return [_rrset(qname, dns.rdatatype.CNAME, items[0].ttl,
                           dns.rdtypes.ANY.CNAME.CNAME(_IN, dns.rdatatype.CNAME, target))]
        return []

    def ptr(self, qname: dns.name.Name, zone: dns.name.Name) -> list[dns.rrset.RRset]:
        """plugin.PTR: one record per distinct name found for the address."""
        out: list[dns.rrset.RRset] = []
        seen: set[str] = set()
        for item in self.reverse(qname, zone):
            if _norm_ip(item.host) is None and item.host not in seen:
                seen.add(item.host)
                _add(out, qname, dns.rdatatype.PTR, item.ttl,
                     dns.rdtypes.ANY.PTR.PTR(_IN, dns.rdatatype.PTR, dns.name.from_text(item.host)))
        return out

    def ns(self, qname: dns.name.Name, zone: dns.name.Name) -> tuple[list[dns.rrset.RRset], list[dns.rrset.RRset]]:
        """plugin.NS: the DNS Service's name as the zone's name server, its address in Additional."""
        records: list[dns.rrset.RRset] = []
        extra: list[dns.rrset.RRset] = []
        for item in self.services(qname, zone, dns.rdatatype.NS):
            target = dns.name.from_text(item.domain)
            kind = item.kind()
            cls = dns.rdtypes.IN.A.A if kind == dns.rdatatype.A else dns.rdtypes.IN.AAAA.AAAA
            _add(extra, target, kind, item.ttl, cls(_IN, kind, item.host))
            _add(records, qname, dns.rdatatype.NS, item.ttl, dns.rdtypes.ANY.NS.NS(_IN, dns.rdatatype.NS, target))
        return records, extra

    def soa(self, zone: dns.name.Name) -> dns.rrset.RRset:
        """plugin.SOA: ns.dns.<zone> hostmaster.<zone> serial 7200 1800 86400 <ttl>."""
        rdata = dns.rdtypes.ANY.SOA.SOA(_IN, dns.rdatatype.SOA, dns.name.from_text("ns.dns", zone),
                                        dns.name.from_text("hostmaster", zone), self.rec.serial,
                                        SOA_REFRESH, SOA_RETRY, SOA_EXPIRE, self.ttl)
        return _rrset(zone, dns.rdatatype.SOA, min(self.ttl, 300), rdata)


def _rrset(name: dns.name.Name, rdtype: int, ttl: int, rdata: dns.rdata.Rdata) -> dns.rrset.RRset:
    rrset = dns.rrset.RRset(name, _IN, rdtype)
    rrset.add(rdata, ttl)
    return rrset


def _add(section: list[dns.rrset.RRset], name: dns.name.Name, rdtype: int, ttl: int, rdata: dns.rdata.Rdata) -> None:
    """Add one record to a section, joining the RRset of the same name and type if there is one."""
    for rrset in section:
        if rrset.name == name and rrset.rdtype == rdtype:
            rrset.add(rdata, ttl)
            return
    section.append(_rrset(name, rdtype, ttl, rdata))


# --------------------------------------------------------------------------------------------------------------
# Answering
# --------------------------------------------------------------------------------------------------------------
@dataclass
class _Outcome:
    """A response, and how CoreDNS would have produced it."""

    message: dns.message.Message
    written: bool = True  # False: no plugin wrote it; the server sent a bare error (the log shows `NOERROR - 0`)
    error: str | None = None  # what the errors plugin would log


def _reply(query: dns.message.Message, rcode: int = dns.rcode.NOERROR) -> dns.message.Message:
    """miekg's SetReply: the question, the id, QR, RD and CD copied; EDNS0 echoed like CoreDNS's SizeAndDo."""
    response = dns.message.make_response(query)
    response.flags = dns.flags.QR | (query.flags & (dns.flags.RD | dns.flags.CD))
    response.question = list(query.question[:1])
    if query.edns >= 0:
        cookies = [o for o in query.options if o.otype == dns.edns.OptionType.COOKIE]
        response.use_edns(0, query.ednsflags & dns.flags.DO, query.payload, query.payload, options=cookies)
    else:
        response.use_edns(-1)
    response.set_rcode(rcode)
    return response


def _zone_of(qname: dns.name.Name, records: ClusterRecords) -> dns.name.Name | None:
    """plugin.Zones.Matches: the longest of the plugin's zones holding the name, in the query's own case."""
    best: dns.name.Name | None = None
    for text in (records.domain + ".", *REVERSE_ZONES):
        zone = dns.name.from_text(text)
        if qname.is_subdomain(zone) and (best is None or len(zone) > len(best)):
            best = zone
    if best is None:
        return None
    return dns.name.Name(qname.labels[len(qname.labels) - len(best.labels):])


def _forward(query: dns.message.Message, upstream: Upstream | None) -> _Outcome:
    """The `forward` plugin: the upstream's answer, or SERVFAIL when there is no way out."""
    if upstream is None:
        return _Outcome(_reply(query, dns.rcode.SERVFAIL), written=False,
                        error="no upstream: the lab is sealed off, no resolver outside the cluster can be reached")
    try:
        reply = upstream(query)
    except Exception as exc:  # noqa: BLE001 - reported like forward's own errors
        reply, reason = None, f"upstream failed: {exc}"
    else:
        reason = "upstream gave no answer"
    if reply is None:
        return _Outcome(_reply(query, dns.rcode.SERVFAIL), written=False, error=reason)
    reply.id = query.id
    return _Outcome(reply)


def _resolve(query: dns.message.Message, records: ClusterRecords | None, upstream: Upstream | None) -> _Outcome:
    """The plugin chain for one parsed query: kubernetes, then forward."""
    if len(query.question) != 1:
        return _Outcome(_reply(query, dns.rcode.FORMERR), written=False)
    q = query.question[0]
    if q.rdclass not in (dns.rdataclass.IN, dns.rdataclass.ANY):
        return _Outcome(_reply(query, dns.rcode.REFUSED), written=False)
    if records is None:
        return _Outcome(_reply(query, dns.rcode.SERVFAIL), error="plugin/kubernetes: no records yet (API not synced)")
    qname, qtype = q.name, q.rdtype
    zone = _zone_of(qname, records)
    if zone is None:
        return _forward(query, upstream)
    look = _Lookup(records, upstream)
    answer_rrs: list[dns.rrset.RRset] = []
    extra: list[dns.rrset.RRset] = []
    try:
        if qtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            answer_rrs = look.address(qname, zone, qtype)
        elif qtype == dns.rdatatype.TXT:
            answer_rrs = look.txt(qname, zone)
        elif qtype == dns.rdatatype.CNAME:
            answer_rrs = look.cname(qname, zone)
        elif qtype == dns.rdatatype.PTR:
            answer_rrs = look.ptr(qname, zone)
        elif qtype == dns.rdatatype.MX:
            look.services(qname, zone, qtype)  # services never carry mail: NODATA, or NXDOMAIN if absent
        elif qtype == dns.rdatatype.SRV:
            answer_rrs, extra = look.srv(qname, zone)
        elif qtype == dns.rdatatype.SOA:
            if qname == zone:
                answer_rrs = [look.soa(zone)]
        elif qtype in (dns.rdatatype.AXFR, dns.rdatatype.IXFR):
            return _Outcome(_reply(query, dns.rcode.REFUSED), written=False)
        elif qtype == dns.rdatatype.NS and qname == zone:
            answer_rrs, extra = look.ns(qname, zone)
        else:
            look.address(qname, zone, dns.rdatatype.A)  # a fake A lookup tells NODATA from NXDOMAIN
    except _NameError:
        if zone.to_text().lower() in REVERSE_ZONES:  # fallthrough in-addr.arpa ip6.arpa
            return _forward(query, upstream)
        response = _reply(query, dns.rcode.NXDOMAIN)
        response.flags |= dns.flags.AA
        response.authority = [look.soa(zone)]
        return _Outcome(response)
    response = _reply(query)
    response.flags |= dns.flags.AA
    if not answer_rrs:
        response.authority = [look.soa(zone)]
        return _Outcome(response)
    response.answer = answer_rrs
    response.additional = extra
    return _Outcome(response)


def answer(query: dns.message.Message, records: ClusterRecords, *,
           upstream: Callable[[dns.message.Message], dns.message.Message | None] | None = None) -> dns.message.Message:
    """The response CoreDNS (kind's Corefile) gives; what it would forward goes to `upstream`, else SERVFAIL."""
    return _resolve(query, records, upstream).message


# --------------------------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------------------------
def _flags_text(flags: int) -> str:
    """The log plugin's {>rflags}: the header bits that are set, in CoreDNS's order."""
    names = [("qr", dns.flags.QR), ("aa", dns.flags.AA), ("tc", dns.flags.TC), ("rd", dns.flags.RD),
             ("ra", dns.flags.RA), ("z", 0x0040), ("ad", dns.flags.AD), ("cd", dns.flags.CD)]
    return ",".join(n for n, bit in names if flags & bit)


def _seconds(ns: int) -> str:
    """A duration as Go's strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s" prints it."""
    text = format(Decimal(ns) / Decimal(1_000_000_000), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + "s"


def _bare_error(wire: bytes, rcode: int) -> dns.message.Message | None:
    """miekg's answer to a message it rejects before any plugin sees it: the header only, QR and the rcode set."""
    if len(wire) < 12:
        return None
    qid, flags = struct.unpack("!HH", wire[:4])
    msg = dns.message.Message(id=qid)
    msg.flags = dns.flags.QR | (flags & (dns.flags.RD | dns.flags.CD))
    msg.set_opcode(dns.opcode.from_flags(flags) if rcode == dns.rcode.NOTIMP else dns.opcode.QUERY)
    msg.set_rcode(rcode)
    return msg


def _accept(wire: bytes) -> tuple[dns.message.Message | None, dns.message.Message | None]:
    """miekg's checks before CoreDNS sees a message: (query, None), or (None, a bare reply, or None to drop it)."""
    if len(wire) < 12 or len(wire) > MAX_QUERY_SIZE:
        return None, None
    _, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", wire[:12])
    if flags & dns.flags.QR:
        return None, None  # a response: never answer it, or we could be made to amplify
    if dns.opcode.from_flags(flags) != dns.opcode.QUERY:
        return None, _bare_error(wire, dns.rcode.NOTIMP)
    if qd != 1 or an > 1 or ns > 1 or ar > 2:
        return None, _bare_error(wire, dns.rcode.FORMERR)
    try:
        query = dns.message.from_wire(wire)
    except Exception:  # noqa: BLE001 - whatever does not parse is the client's fault: FORMERR
        return None, _bare_error(wire, dns.rcode.FORMERR)
    if query.edns > 0:  # only EDNS version 0 exists
        bad = _reply(query)
        bad.use_edns(0, 0, query.payload, query.payload)
        bad.set_rcode(dns.rcode.BADVERS)
        return None, bad
    return query, None


class DnsServer:
    """A real DNS server for the cluster zone: `answer()` over UDP and TCP on asyncio, on sockets it is handed."""

    def __init__(self, get_records: Callable[[], ClusterRecords | None], log: Callable[[str], None] | None = None, *,
                 upstream: Upstream | None = None, upstream_timeout: float = 5.0, tcp_read_timeout: float = 2.0,
                 tcp_idle_timeout: float = 8.0, max_tcp_connections: int = 128, max_inflight: int = 256,
                 shuffle: bool = False) -> None:
        """Serve the snapshot `get_records()` returns at each query; log each query CoreDNS-style into `log`."""
        # Records go out in one stable order so that every run prints the same thing (the lab is deterministic);
        # shuffle=True randomises each RRset's order on the wire instead, like kind's `loadbalance` plugin.
        self.get_records = get_records
        self.shuffle = shuffle
        self.log = log or (lambda line: None)
        self.upstream = upstream
        self.upstream_timeout = upstream_timeout
        self.tcp_read_timeout = tcp_read_timeout
        self.tcp_idle_timeout = tcp_idle_timeout
        self.max_tcp_connections = max_tcp_connections
        self.max_inflight = max_inflight
        self._loop: asyncio.AbstractEventLoop | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task] = set()
        self._stop: asyncio.Event | None = None
        self._socks: list[socket.socket] = []
        self._closed = False
        self._lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------------------------------
    async def serve(self, udp_sock: socket.socket | None, tcp_sock: socket.socket | None) -> None:
        """Serve on already bound sockets (the TCP one may already listen) until close(), then close them."""
        loop = asyncio.get_running_loop()
        with self._lock:
            self._loop = loop
            self._stop = asyncio.Event()
            self._socks = [s for s in (udp_sock, tcp_sock) if s is not None]
            closed = self._closed
        try:
            if closed:
                return
            if udp_sock is not None:
                udp_sock.setblocking(False)
                self._udp, _ = await loop.create_datagram_endpoint(lambda: _UdpProtocol(self), sock=udp_sock)
            if tcp_sock is not None:
                tcp_sock.setblocking(False)
                self._tcp = await asyncio.start_server(self._tcp_client, sock=tcp_sock)
            await self._stop.wait()
        finally:
            self._shutdown()

    def close(self) -> None:
        """Stop serving and close the sockets; safe from any thread, and before serve() has started."""
        with self._lock:
            self._closed = True
            loop, stop = self._loop, self._stop
        if loop is None or stop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            stop.set()
            self._shutdown()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)

    def _shutdown(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._tcp is not None:
            self._tcp.close()
            self._tcp = None
        for w in list(self._writers):
            w.close()
        self._writers.clear()
        for t in list(self._tasks):
            t.cancel()
        for s in self._socks:
            s.close()

    # -- one message ----------------------------------------------------------------------------------------
    def _finish(self, query: dns.message.Message, outcome: _Outcome, size: int, peer: tuple, proto: str,
                start: int) -> bytes:
        """Render the response for its transport, then log the exchange as CoreDNS's log and errors plugins do."""
        bufsize = TCP_MAX_SIZE if proto == "tcp" else max(UDP_MIN_SIZE, query.payload if query.edns >= 0 else 0)
        out = outcome.message.to_wire(max_size=bufsize, prefer_truncation=True, prepend_length=proto == "tcp",
                                      want_shuffle=self.shuffle)
        q = query.question[0]
        do = "true" if query.edns >= 0 and query.ednsflags & dns.flags.DO else "false"
        if outcome.written:
            rsize = len(out) - (2 if proto == "tcp" else 0)
            tail = f"{dns.rcode.to_text(outcome.message.rcode())} {_flags_text(outcome.message.flags)} {rsize}"
        else:  # nothing in the chain wrote it: the server sent a bare error after the log plugin had looked
            tail = "NOERROR - 0"
        host = f"[{peer[0]}]" if ":" in str(peer[0]) else peer[0]
        name = q.name.to_text().lower()
        qtype = dns.rdatatype.to_text(q.rdtype)
        self.log(f'[INFO] {host}:{peer[1]} - {query.id} "{qtype} {dns.rdataclass.to_text(q.rdclass)} {name} {proto} '
                 f'{size} {do} {bufsize}" {tail} {_seconds(time.monotonic_ns() - start)}')
        if outcome.error:
            self.log(f"[ERROR] plugin/errors: {outcome.message.rcode()} {name} {qtype}: {outcome.error}")
        return out

    def _answer_now(self, wire: bytes, peer: tuple, proto: str) -> bytes | None:
        """Answer a message on the spot (no upstream to wait for); None when it is to be dropped."""
        start = time.monotonic_ns()
        query, early = _accept(wire)
        if query is None:
            return early.to_wire(prepend_length=proto == "tcp") if early is not None else None
        return self._finish(query, _resolve(query, self.get_records(), None), len(wire), peer, proto, start)

    async def _answer(self, wire: bytes, peer: tuple, proto: str) -> bytes | None:
        """Answer a message, asking the upstream off the event loop when there is one."""
        if self.upstream is None:
            return self._answer_now(wire, peer, proto)
        start = time.monotonic_ns()
        query, early = _accept(wire)
        if query is None:
            return early.to_wire(prepend_length=proto == "tcp") if early is not None else None
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(None, _resolve, query, self.get_records(), self.upstream)
        try:
            outcome = await asyncio.wait_for(work, self.upstream_timeout)
        except asyncio.TimeoutError:
            outcome = _Outcome(_reply(query, dns.rcode.SERVFAIL), written=False, error="upstream: i/o timeout")
        return self._finish(query, outcome, len(wire), peer, proto, start)

    # -- UDP ------------------------------------------------------------------------------------------------
    def _datagram(self, data: bytes, addr: tuple) -> None:
        if self.upstream is None:  # pure and quick: answered inline
            self._send_udp(self._answer_now(data, addr, "udp"), addr)
            return
        if len(self._tasks) >= self.max_inflight:
            return  # overloaded: drop, the client will retry
        task = asyncio.get_running_loop().create_task(self._udp_task(data, addr))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _udp_task(self, data: bytes, addr: tuple) -> None:
        self._send_udp(await self._answer(data, addr, "udp"), addr)

    def _send_udp(self, out: bytes | None, addr: tuple) -> None:
        if out is not None and self._udp is not None:
            self._udp.sendto(out, addr)

    # -- TCP ------------------------------------------------------------------------------------------------
    async def _tcp_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One TCP connection: length-prefixed queries in turn, until idle, malformed, or closed."""
        if len(self._writers) >= self.max_tcp_connections or self._closed:
            writer.close()
            return
        self._writers.add(writer)
        peer = writer.get_extra_info("peername") or ("?", 0)
        timeout = self.tcp_read_timeout
        try:
            while True:
                size = int.from_bytes(await asyncio.wait_for(reader.readexactly(2), timeout), "big")
                if size == 0 or size > MAX_QUERY_SIZE:
                    break  # oversized: drop the connection rather than read it
                wire = await asyncio.wait_for(reader.readexactly(size), self.tcp_read_timeout)
                out = await self._answer(wire, peer, "tcp")
                if out is not None:
                    writer.write(out)
                    await asyncio.wait_for(writer.drain(), self.tcp_read_timeout)
                timeout = self.tcp_idle_timeout
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()


class _UdpProtocol(asyncio.DatagramProtocol):
    """Hands each datagram to the server."""

    def __init__(self, server: DnsServer) -> None:
        self.server = server

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        """Answer one query datagram."""
        self.server._datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        """ICMP errors from earlier replies (a client gone away) change nothing."""
