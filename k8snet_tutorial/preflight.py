"""The system tools the course needs: one clear message when some are missing, and `--install` to add them.

`python -m k8snet_tutorial.preflight` prints nothing and exits 0 when every tool is there, else prints what is
missing to stderr and exits 3. With `--install` (what `make lab` and `make test` run) it installs the missing
Debian packages itself, after saying which and why: with apt-get when run as root, else with sudo (asking first on
a terminal; `sudo -n` without one), and exits 3 with the apt-get line when neither can be used.

The Makefile also runs this file with the system python3 before `.venv` exists (`python3
k8snet_tutorial/preflight.py --install`), so that python3-venv itself can be installed: in that mode it needs
nothing but the standard library.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

if __package__:
    from .errors import EnvironmentProblem
    from .i18n import N_, _, ngettext
else:  # run as a file by the system python3, before .venv and the package's dependencies exist
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import gettext

    import i18n  # type: ignore[no-redef]
    from errors import EnvironmentProblem  # type: ignore[no-redef]
    if importlib.util.find_spec("babel") is None:  # no .po reader before the venv: English until it exists
        i18n.translations = lambda lang: gettext.NullTranslations()
    from i18n import N_, _, ngettext  # type: ignore[no-redef]

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
    Tool("newuidmap", "uidmap", N_("giving a lab started without root the user IDs tcpdump switches to")),
    Tool("newgidmap", "uidmap", N_("giving a lab started without root the group IDs tcpdump switches to")),
)

# Not a binary: Debian ships `python3 -m venv` (its ensurepip) apart from python3. Only asked for before .venv exists.
VENV = Tool("venv", "python3-venv", N_("creating the course's Python environment in .venv"))


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


def venv_missing() -> bool:
    """True when this is a system python3 (not a venv's) that cannot create a venv: Debian's python3-venv is absent."""
    return sys.prefix == sys.base_prefix and importlib.util.find_spec("ensurepip") is None


def missing_requirements(tools: Iterable[Tool] = REQUIRED_TOOLS) -> list[Tool]:
    """The missing tools, and python3-venv first when the venv cannot be created yet."""
    return ([VENV] if venv_missing() else []) + missing_tools(tools)


def packages_of(tools: Iterable[Tool]) -> list[str]:
    """These tools' Debian packages, deduplicated and sorted."""
    return sorted({t.package for t in tools})


def apt_line(tools: Iterable[Tool]) -> str:
    """One `sudo apt-get install -y …` line for these tools' packages (deduplicated, sorted); '' when none."""
    packages = packages_of(tools)
    return f"sudo apt-get install -y {' '.join(packages)}" if packages else ""


def _listing(missing: Sequence[Tool]) -> list[str]:
    """The head line and one line per missing tool: its package and what it is for."""
    width = max(len(t.binary) for t in missing)
    n = len(missing)
    lines = [ngettext("k8snet needs {n} system tool that is not installed on this machine:",
                      "k8snet needs {n} system tools that are not installed on this machine:", n).format(n=n)]
    lines += [f"  {t.binary:<{width}}  " + _("({package}) for {purpose}").format(package=t.package, purpose=_(t.purpose))
              for t in missing]
    return lines


def missing_message(missing: Sequence[Tool]) -> str:
    """The one message that says which tools are missing, what each is for, and how to install them."""
    n = len(missing)
    lines = _listing(missing)
    lines += [ngettext("On Debian or Ubuntu, install it with:", "On Debian or Ubuntu, install them with:", n),
              f"  {apt_line(missing)}", _("then run the command again.")]
    return "\n".join(lines)


def check_tools(tools: Iterable[Tool] = REQUIRED_TOOLS) -> None:
    """Raise EnvironmentProblem (exit code 3) naming every missing tool and the apt-get line; return quietly otherwise."""
    missing = missing_tools(tools)
    if missing:
        raise EnvironmentProblem(missing_message(missing))


# ----------------------------------------------------------------------------------------------
# --install: apt-get as root, sudo apt-get otherwise
# ----------------------------------------------------------------------------------------------


def _run_command(argv: list[str], env: Mapping[str, str] | None = None) -> int:
    """Run a command with the terminal's stdin/stdout (sudo may ask for a password); its exit status."""
    try:
        return subprocess.run(argv, env=dict(env) if env is not None else None).returncode
    except OSError:
        return 127


def _ask(question: str) -> bool:
    """Ask a yes/no question on the terminal; yes unless the answer starts with n (or input ends)."""
    try:
        answer = input(question + " ")
    except EOFError:
        return False
    return not answer.strip().lower().startswith("n")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _interactive() -> bool:
    try:
        return sys.stdin.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


@dataclass
class Machine:
    """What installing needs to know and do on this machine (tests pass a fake one: nothing gets installed)."""

    euid: int = field(default_factory=os.geteuid)
    which: Callable[[str], str | None] = find_tool
    run: Callable[[list[str], Mapping[str, str] | None], int] = _run_command
    interactive: bool = field(default_factory=_interactive)
    ask: Callable[[str], bool] = _ask
    say: Callable[[str], None] = _say


def _by_hand(missing: Sequence[Tool], why: str) -> EnvironmentProblem:
    """The error that ends --install when it cannot install: why, then the line to run by hand."""
    return EnvironmentProblem("\n".join([why, _("Install them by hand, then run the command again:"),
                                         f"  {apt_line(missing)}"]))


def privilege(machine: Machine, missing: Sequence[Tool]) -> list[str]:
    """The prefix that runs apt-get as root here ([] as root, sudo otherwise); EnvironmentProblem when none can."""
    if machine.euid == 0:
        return []
    if machine.which("sudo") is None:
        raise _by_hand(missing, _("You are not root and sudo is not installed, so k8snet cannot install them."))
    if machine.interactive:
        if not machine.ask(_("Install them now with sudo? (sudo may ask for your password) [Y/n]")):
            raise _by_hand(missing, _("Nothing was installed."))
        return ["sudo"]
    if machine.run(["sudo", "-n", "true"], None) != 0:
        raise _by_hand(missing, _("sudo needs a password and there is no terminal to type it in, "
                                  "so k8snet cannot install them."))
    return ["sudo", "-n"]


def install(machine: Machine | None = None, tools: Iterable[Tool] = REQUIRED_TOOLS,
            missing: Sequence[Tool] | None = None) -> None:
    """Install the Debian packages of the missing tools (say which and why first); EnvironmentProblem if it cannot."""
    machine = machine or Machine()
    tools = tuple(tools)
    missing = list(missing_requirements(tools) if missing is None else missing)
    if not missing:
        return
    machine.say("\n".join(_listing(missing)))
    if machine.which("apt-get") is None:
        raise EnvironmentProblem("\n".join([
            _("This machine has no apt-get (it is not Debian or Ubuntu): install these packages, or their "
              "equivalents, with its package manager, then run the command again:"),
            "  " + " ".join(packages_of(missing))]))
    prefix = privilege(machine, missing)
    packages = packages_of(missing)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"} if not prefix else None
    machine.say(_("Installing them: {command}").format(command=" ".join(prefix + ["apt-get", "install", "-y", *packages])))
    if machine.run(prefix + ["apt-get", "update", "-q"], env) != 0:
        machine.say(_("`apt-get update` failed; trying to install from the package lists already on this machine."))
    code = machine.run(prefix + ["apt-get", "install", "-y", "-q", *packages], env)
    if code != 0:
        raise _by_hand(missing, _("`apt-get install` failed (exit status {code}).").format(code=code))
    still = [t for t in missing if t is not VENV and machine.which(t.binary) is None]
    if still:
        raise _by_hand(still, _("These tools are still missing after the installation: {tools}.").format(
            tools=", ".join(t.binary for t in still)))


def main(argv: Sequence[str] = (), machine: Machine | None = None) -> int:
    """Script entry point: check (or with --install, install) the system tools; status 0, or 3 with a message."""
    parser = argparse.ArgumentParser(prog="python -m k8snet_tutorial.preflight",
                                     description=_("Check that the system tools the course needs are installed."))
    parser.add_argument("--install", action="store_true",
                        help=_("install the missing Debian packages (apt-get as root, else sudo apt-get)"))
    args = parser.parse_args(list(argv))
    try:
        if args.install:
            install(machine)
        else:
            missing = missing_requirements()
            if missing:
                raise EnvironmentProblem(missing_message(missing))
    except EnvironmentProblem as e:
        print(e, file=sys.stderr)
        return e.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
