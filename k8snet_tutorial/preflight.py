"""The system tools the course needs, and one clear message (with the apt-get line) when some are missing.

Run as `python -m k8snet_tutorial.preflight` (the Makefile does, before anything starts): it prints nothing
and exits 0 when every tool is there, else prints what is missing to stderr and exits 3.
"""
from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from typing import Iterable, Sequence

from .errors import EnvironmentProblem
from .i18n import N_, _, ngettext

# Debian puts the network tools (ip, iptables, nft, conntrack) in /usr/sbin, which an ordinary user's PATH
# often lacks; they still run fine from there, so look there too before calling a tool missing.
SBIN_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")


@dataclass(frozen=True)
class Tool:
    """A system tool the course runs: its binary, the Debian/Ubuntu package that ships it, and what it is for."""

    binary: str
    package: str
    purpose: str


# `dnsutils` is the name that installs dig and nslookup on every Debian (10 to 12) and Ubuntu release; on
# Debian 11+ and Ubuntu 22.04+ it is a transitional package that pulls in bind9-dnsutils.
REQUIRED_TOOLS: tuple[Tool, ...] = (
    Tool("ip", "iproute2", N_("network namespaces, veth pairs, bridges, addresses and routes")),
    Tool("ss", "iproute2", N_("listing the sockets a pod listens on")),
    Tool("iptables", "iptables", N_("kube-proxy's iptables mode and NetworkPolicy rules")),
    Tool("nft", "nftables", N_("kube-proxy's nftables mode")),
    Tool("conntrack", "conntrack", N_("looking at the connection-tracking table behind Service NAT")),
    Tool("dot", "graphviz", N_("drawing the live topology diagrams")),
    Tool("dig", "dnsutils", N_("querying the cluster DNS")),
    Tool("nslookup", "dnsutils", N_("querying the cluster DNS the way the tutorial does")),
    Tool("curl", "curl", N_("HTTP probes between pods and Services")),
    Tool("ping", "iputils-ping", N_("ICMP reachability between pods and nodes")),
    Tool("tcpdump", "tcpdump", N_("watching real packets cross veths and bridges")),
    Tool("unshare", "util-linux", N_("building the sandbox's own user, mount, network and pid namespaces")),
    Tool("nsenter", "util-linux", N_("running commands inside a pod's or a node's namespaces")),
)


def find_tool(binary: str) -> str | None:
    """Where a tool lives: on PATH, else in the sbin folders Debian keeps network tools in; None when absent."""
    found = shutil.which(binary)
    if found:
        return found
    extra = os.pathsep.join(d for d in SBIN_DIRS if d not in (os.environ.get("PATH") or "").split(os.pathsep))
    return shutil.which(binary, path=extra) if extra else None


def missing_tools(tools: Iterable[Tool] = REQUIRED_TOOLS) -> list[Tool]:
    """The tools (from REQUIRED_TOOLS by default) that cannot be found on this machine, in table order."""
    return [t for t in tools if find_tool(t.binary) is None]


def apt_line(tools: Iterable[Tool]) -> str:
    """One `sudo apt-get install -y …` line for these tools' packages (deduplicated, sorted); '' when none."""
    packages = sorted({t.package for t in tools})
    return f"sudo apt-get install -y {' '.join(packages)}" if packages else ""


def missing_message(missing: Sequence[Tool]) -> str:
    """The one message that says which tools are missing, what each is for, and how to install them."""
    width = max(len(t.binary) for t in missing)
    n = len(missing)
    lines = [ngettext("k8snet needs {n} system tool that is not installed on this machine:",
                      "k8snet needs {n} system tools that are not installed on this machine:", n).format(n=n)]
    lines += [f"  {t.binary:<{width}}  " + _("({package}) for {purpose}").format(package=t.package, purpose=_(t.purpose))
              for t in missing]
    lines += [ngettext("On Debian or Ubuntu, install it with:", "On Debian or Ubuntu, install them with:", n),
              f"  {apt_line(missing)}", _("then run the command again.")]
    return "\n".join(lines)


def check_tools(tools: Iterable[Tool] = REQUIRED_TOOLS) -> None:
    """Raise EnvironmentProblem (exit code 3) naming every missing tool and the apt-get line; return quietly otherwise."""
    missing = missing_tools(tools)
    if missing:
        raise EnvironmentProblem(missing_message(missing))


def main() -> int:
    """Script entry point: silent with status 0 when all tools are there, else the message on stderr and status 3."""
    try:
        check_tools()
    except EnvironmentProblem as e:
        print(e, file=sys.stderr)
        return e.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
