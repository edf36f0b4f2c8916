"""Address management: node pod ranges, host-local pod IPs, node IPs and MAC addresses."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ..errors import UsageError
from ..i18n import _


def node_pod_cidrs(pod_subnet: str, count: int, prefix: int = 24) -> list[str]:
    """Carve one /24 per node out of the pod subnet, in node order, as kube-controller-manager does on kind."""
    net = ipaddress.ip_network(pod_subnet)
    subnets = net.subnets(new_prefix=prefix)
    out = []
    for _node in range(count):
        try:
            out.append(str(next(subnets)))
        except StopIteration:
            raise UsageError(_("pod subnet {subnet} is too small for {n} nodes").format(subnet=pod_subnet, n=count)
                             ) from None
    return out


@dataclass
class HostLocal:
    """The host-local CNI IPAM plugin for one node: gateway .1, then the next free address after the last one handed out."""

    subnet: str
    allocated: dict[str, str] = field(default_factory=dict)  # ip -> owner
    last: int | None = None

    @property
    def gateway(self) -> str:
        """The range's gateway, the first host address."""
        return str(ipaddress.ip_network(self.subnet)[1])

    def allocate(self, owner: str) -> str:
        """Reserve an address for `owner`, resuming after the last reservation like host-local does."""
        net = ipaddress.ip_network(self.subnet)
        first, last_host = 2, net.num_addresses - 2  # .0 network, .1 gateway, broadcast excluded
        span = last_host - first + 1
        start = first if self.last is None else self.last + 1
        for i in range(span):
            offset = first + (start - first + i) % span
            ip = str(net[offset])
            if ip not in self.allocated:
                self.allocated[ip] = owner
                self.last = offset
                return ip
        raise UsageError(_("no free pod address left in {subnet}").format(subnet=self.subnet))

    def release(self, ip: str) -> None:
        """Give an address back (host-local does not hand it out again until it wraps around)."""
        self.allocated.pop(ip, None)


def mac_for(ip: str, prefix: int = 0x02) -> str:
    """A stable locally administered MAC derived from an IPv4 address, the way Docker derives its own."""
    octets = ipaddress.ip_address(ip).packed
    return ":".join(f"{b:02x}" for b in (prefix, 0x42, *octets))
