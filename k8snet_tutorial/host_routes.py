"""Where a lab address typed on the host would go: the host's own routes, read only, never a packet sent.

The sandbox's addresses (nodes 172.18.0.0/16, pods 10.244.0.0/16, Services 10.96.0.0/16) exist only inside the
lab's network namespace. From the host's own namespace the kernel routes them like any other address: by the
default route out of the machine, or by a more specific route (a Docker bridge often holds 172.18.0.0/16) to
something that is not the lab. `k8snet doctor` says which, from `ip -4 -j route show table all` or /proc/net/route.
"""
from __future__ import annotations

import ipaddress
import json
import socket
import struct
from dataclasses import dataclass
from typing import Iterable

LAB_SUBNETS: tuple[tuple[str, str], ...] = (
    ("172.18.0.0/16", "nodes"),
    ("10.244.0.0/16", "pods"),
    ("10.96.0.0/16", "services"),
)
# The tables an ordinary host looks up, in the order of its default rules (ip rule: local, main, default).
LOOKUP_TABLES = ("local", "main", "default")
# Route types that carry a packet somewhere; the others (unreachable, blackhole, prohibit, throw) stop it here.
CARRYING_TYPES = ("unicast", "local", "broadcast", "multicast", "anycast", "nat")


@dataclass(frozen=True)
class Route:
    """One IPv4 route of the host: destination, where it leads, its table and type."""

    dst: ipaddress.IPv4Network
    dev: str = ""
    gateway: str = ""
    table: str = "main"
    type: str = "unicast"
    protocol: str = ""

    @property
    def carries(self) -> bool:
        """True when a packet matching this route is sent on (not dropped or refused by the host)."""
        return self.type in CARRYING_TYPES

    def describe(self) -> str:
        """The route the way `ip route` prints it: 'default via 192.0.2.1 dev eth0'."""
        words = [] if self.type == "unicast" else [self.type]
        words.append("default" if self.dst.prefixlen == 0 else
                     str(self.dst.network_address) if self.dst.prefixlen == 32 else str(self.dst))
        if self.gateway:
            words += ["via", self.gateway]
        if self.dev:
            words += ["dev", self.dev]
        if self.table not in ("main", ""):
            words += ["table", self.table]
        return " ".join(words)


def parse_ip_json(text: str) -> list[Route]:
    """The IPv4 routes in `ip -4 -j route show table all` output (IPv6 entries, if any, are skipped)."""
    routes = []
    for entry in json.loads(text or "[]"):
        dst = entry.get("dst", "")
        if ":" in dst or ":" in entry.get("gateway", ""):
            continue
        try:
            net = ipaddress.IPv4Network("0.0.0.0/0" if dst == "default" else dst, strict=False)
        except ValueError:
            continue
        routes.append(Route(net, entry.get("dev", ""), entry.get("gateway", ""), str(entry.get("table", "main")),
                            entry.get("type", "unicast"), str(entry.get("protocol", ""))))
    return routes


def parse_proc_route(text: str) -> list[Route]:
    """The main table's routes from /proc/net/route (addresses in hex, host byte order)."""
    def address(hex_value: str) -> str:
        return socket.inet_ntoa(struct.pack("<I", int(hex_value, 16)))
    routes = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        iface, dest, gateway, flags, mask = fields[0], fields[1], fields[2], int(fields[3], 16), fields[7]
        try:
            net = ipaddress.IPv4Network(f"{address(dest)}/{address(mask)}", strict=False)
        except ValueError:
            continue
        reject = bool(flags & 0x0200)  # RTF_REJECT: an unreachable route
        routes.append(Route(net, iface if iface != "*" else "", address(gateway) if flags & 0x0002 else "",
                            "main", "unreachable" if reject else "unicast"))
    return routes


@dataclass(frozen=True)
class Verdict:
    """Where a packet to one lab subnet, typed on the host, would go: the route that catches it, and others inside it."""

    subnet: ipaddress.IPv4Network
    role: str
    route: Route | None           # the most specific route covering the whole subnet (None: none does)
    inside: tuple[Route, ...]     # more specific routes that catch part of it

    @property
    def leaves(self) -> bool:
        """True when some route would carry a packet for this subnet somewhere (never into the lab)."""
        return (self.route is not None and self.route.carries) or any(r.carries for r in self.inside)


def _by_lookup_order(routes: Iterable[Route]) -> list[Route]:
    return [r for r in routes if r.table in LOOKUP_TABLES]


def analyse(routes: Iterable[Route], subnets: Iterable[tuple[str, str]] = LAB_SUBNETS) -> list[Verdict]:
    """For each lab subnet, the host route that would carry a packet typed on the host, and routes inside it."""
    table = _by_lookup_order(routes)
    verdicts = []
    for text, role in subnets:
        subnet = ipaddress.IPv4Network(text)
        covering = [r for r in table if subnet.subnet_of(r.dst)]
        # longest prefix first; at equal length the table looked up first (local, then main, then default)
        covering.sort(key=lambda r: (-r.dst.prefixlen, LOOKUP_TABLES.index(r.table)))
        inside = tuple(sorted((r for r in table if r.dst != subnet and r.dst.subnet_of(subnet)),
                              key=lambda r: (r.dst.network_address, r.dst.prefixlen)))
        verdicts.append(Verdict(subnet, role, covering[0] if covering else None, inside))
    return verdicts


def device_hint(dev: str) -> str:
    """What kind of network a device usually is ('docker' for docker0 and br-…), '' when it says nothing."""
    if dev == "docker0" or dev.startswith("br-"):
        return "docker"
    if dev.startswith(("podman", "cni-podman")):
        return "podman"
    return ""
