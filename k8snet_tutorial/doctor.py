"""`k8snet doctor`: what this machine can run — the backend, the tools, the kind cluster, chapter by chapter.

Every check only reads (files under /proc, `kind version`, `docker info`, `kubectl get`), each within a
few seconds; nothing is started, stopped or changed.
"""
from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

from . import backends, host_routes
from .backends.base import Capabilities, Detection
from .config import DEFAULT_NAME
from .errors import K8snetError
from .i18n import N_, _
from .preflight import REQUIRED_TOOLS, Tool, apt_line, find_tool

CHECK_TIMEOUT = 5.0                  # seconds any one command may take
MIN_POLICY_KIND = (0, 24, 0)         # kind releases from v0.24 ship kindnet with NetworkPolicy enforcement
CLOUD_PROVIDER_KIND = "cloud-provider-kind"
CLOUD_PROVIDER_KIND_URL = "https://github.com/kubernetes-sigs/cloud-provider-kind"
ENGINES = ("docker", "podman")

# ----------------------------------------------------------------------------------------------
# The chapters, and what each one uses from a backend (data, read by chapter_table)
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Need:
    """One thing a chapter uses from a backend: a Capabilities flag, or one member of a set-valued capability."""

    capability: str            # a Capabilities field: service_types, proxy_modes, network_policy, ingress, load_balancer
    value: str | None = None   # the member wanted, for service_types and proxy_modes
    optional: bool = False     # when absent the chapter still runs fully; doctor adds a note instead


@dataclass(frozen=True)
class Chapter:
    """A chapter of the course and the capabilities its cells rely on."""

    number: str
    slug: str
    title: str
    needs: tuple[Need, ...] = ()


def _services(*types: str) -> tuple[Need, ...]:
    return tuple(Need("service_types", t) for t in types)


CHAPTERS: tuple[Chapter, ...] = (
    Chapter("01", "model", N_("The Kubernetes network model"), _services("ClusterIP")),
    Chapter("02", "pods-nodes-services", N_("Pods, nodes, Services and the three communication paths"),
            _services("ClusterIP", "NodePort", "LoadBalancer") + (Need("load_balancer"),)),
    Chapter("03", "cluster-components", N_("Cluster components: CNI and kube-proxy"),
            _services("ClusterIP") + (Need("proxy_modes", "iptables"), Need("proxy_modes", "nftables"),
                                      Need("proxy_modes", "ipvs", optional=True))),
    Chapter("04", "dns", N_("DNS and service discovery"), _services("ClusterIP")),
    Chapter("05", "pod-networking", N_("Pod networking in depth")),
    Chapter("06", "services-ingress", N_("Service types, load balancing and Ingress"),
            _services("ClusterIP", "NodePort", "LoadBalancer", "ExternalName", "headless")
            + (Need("load_balancer"), Need("ingress"))),
    Chapter("07", "network-policies", N_("NetworkPolicies"), _services("ClusterIP") + (Need("network_policy"),)),
    Chapter("08", "troubleshooting", N_("Pitfalls and troubleshooting"),
            _services("ClusterIP") + (Need("proxy_modes", "iptables"), Need("network_policy"),
                                      Need("proxy_modes", "ipvs", optional=True))),
    Chapter("09", "summary", N_("Summary")),
)

# Phrases are marked for the catalog here and translated where the report is made.
_SET_PHRASES = {"service_types": N_("{values} Services"), "proxy_modes": N_("kube-proxy {values} mode")}
_VALUE_LABELS = {"ipvs": "IPVS"}
_FLAG_PHRASES = {
    "network_policy": N_("NetworkPolicy enforcement"),
    "ingress": N_("Ingress"),
    "load_balancer": N_("external addresses for LoadBalancer Services"),
    "multi_cluster": N_("multiple clusters"),
}


def _has(caps: Capabilities, need: Need) -> bool:
    """Whether a backend's capabilities cover one need."""
    have = getattr(caps, need.capability)
    return need.value in have if need.value is not None else bool(have)


def _note_for(caps: Capabilities, need: Need) -> str | None:
    """The backend's own note about a need (keyed by the value, e.g. 'ipvs', else by the capability), translated."""
    note = caps.notes.get(need.value or "") or caps.notes.get(need.capability)
    return _(note) if note else note


def _join(words: list[str]) -> str:
    if len(words) == 1:
        return words[0]
    return _("{items} or {last}").format(items=", ".join(words[:-1]), last=words[-1])


def _phrase(needs: list[Need]) -> list[str]:
    """Short phrases for a list of needs, grouping the members of one set-valued capability."""
    out, grouped = [], {}
    for n in needs:
        if n.value is not None and n.capability in _SET_PHRASES:
            grouped.setdefault(n.capability, []).append(_VALUE_LABELS.get(n.value, n.value))
        else:
            flag = _FLAG_PHRASES.get(n.capability)
            out.append(_(flag) if flag else n.capability.replace("_", " "))
    return [_(_SET_PHRASES[c]).format(values=_join(v)) for c, v in grouped.items()] + out


def _dedup(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


@dataclass
class ChapterVerdict:
    """How one chapter will run on the chosen backend: fully, or in part and why."""

    number: str
    slug: str
    title: str
    full: bool
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unavailable: str = ""
    written: bool = True

    @property
    def verdict(self) -> str:
        """'full', 'partial: <why>', 'unavailable: <why>', or 'not written yet' (in the learner's language)."""
        if not self.written:
            return _("not written yet")
        if self.unavailable:
            return _("unavailable: {why}").format(why=self.unavailable)
        return _("full") if self.full else _("partial: {why}").format(why="; ".join(self.missing))

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return {"number": self.number, "slug": self.slug, "title": self.title, "full": self.full,
                "written": self.written, "verdict": self.verdict, "missing": list(self.missing),
                "notes": list(self.notes)}


NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def written_chapters(folder: Path = NOTEBOOKS) -> set[str] | None:
    """The numbers of the chapters that have a notebook (in either language); None when there is no notebooks folder."""
    if not folder.is_dir():
        return None
    return {p.name[:2] for p in folder.glob("*/[0-9][0-9]-*.ipynb")}


def chapter_table(capabilities: Capabilities | None, unavailable: str = "",
                  chapters: Iterable[Chapter] = CHAPTERS, written: set[str] | None = None) -> list[ChapterVerdict]:
    """Each chapter's verdict from a backend's capabilities (None: no backend, every chapter unavailable).

    `written` holds the chapters that have a notebook; the others are 'not written yet' (None: all are taken as written).
    """
    rows = []
    for ch in chapters:
        if written is not None and ch.number not in written:
            rows.append(ChapterVerdict(ch.number, ch.slug, _(ch.title), False, written=False))
            continue
        if capabilities is None:
            rows.append(ChapterVerdict(ch.number, ch.slug, _(ch.title), False,
                                       unavailable=unavailable or _("no backend can run on this machine")))
            continue
        absent = [n for n in ch.needs if not _has(capabilities, n)]
        required = [n for n in absent if not n.optional]
        missing = []
        if required:
            why = _dedup(_note_for(capabilities, n) for n in required)
            missing = [_("no {what}").format(what=p) for p in _phrase(required)]
            if why:
                missing[-1] += f" — {'; '.join(why)}"
        notes = []
        for n in (n for n in absent if n.optional):
            note = _note_for(capabilities, n)
            notes.append(_("{what} is explained but not run").format(what=_phrase([n])[0]) + (f" ({note})" if note else ""))
        notes += [f"{_phrase([n])[0]}: {_note_for(capabilities, n)}" for n in ch.needs
                  if n not in absent and _note_for(capabilities, n)]
        rows.append(ChapterVerdict(ch.number, ch.slug, _(ch.title), not required, missing, _dedup(notes)))
    return rows


# ----------------------------------------------------------------------------------------------
# Facts about this machine (each function reads only, within a timeout; tests replace them)
# ----------------------------------------------------------------------------------------------


@dataclass
class Check:
    """One line of the report: what was checked, whether it is fine (None: informational or skipped), and how."""

    key: str
    label: str
    ok: bool | None
    detail: str
    warning: bool = False     # a not-ok that is worth knowing rather than a fault (shown ⚠)

    @property
    def mark(self) -> str:
        """✔, ✘, ⚠ or – for the report."""
        return "⚠" if self.warning and self.ok is False else _mark(self.ok)

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return {"key": self.key, "label": self.label, "ok": self.ok, "detail": self.detail, "warning": self.warning}


@dataclass
class ToolStatus:
    """A required tool and where it was found (None when missing)."""

    tool: Tool
    path: str | None

    @property
    def present(self) -> bool:
        """True when the tool was found."""
        return self.path is not None

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return {"binary": self.tool.binary, "package": self.tool.package, "purpose": self.tool.purpose,
                "path": self.path, "present": self.present}


@dataclass
class KindFacts:
    """What this machine says about kind: the binary, its version, the container engines, the clusters."""

    path: str | None = None
    version: str | None = None
    engines: dict[str, tuple[bool, bool, str]] = field(default_factory=dict)  # engine -> (installed, answers, why not)
    engine: str | None = None
    clusters: list[str] | None = None     # None when they could not be listed
    clusters_error: str = ""


@dataclass
class ClusterFacts:
    """What a running kind cluster says: whether cloud-provider-kind serves it and kube-proxy's mode."""

    cloud_provider_kind: str | None = None    # where it was found ("process 1234", "container x"), None if not
    proxy_mode: str | None = None             # None when it could not be read
    proxy_detail: str = ""


def _run(argv: list[str], timeout: float = CHECK_TIMEOUT, env: dict[str, str] | None = None) -> tuple[int | None, str, str]:
    """Run a read-only command; (returncode, stdout, stderr), with returncode None when it could not finish."""
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, "", _("`{command}` did not answer within {seconds} s").format(command=" ".join(argv[:3]),
                                                                                 seconds=f"{timeout:g}")
    except OSError as e:
        return None, "", _("`{command}` could not run ({error})").format(command=argv[0], error=e)
    return r.returncode, r.stdout, r.stderr


def parse_kind_version(text: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) from `kind version` output such as 'kind v0.24.0 go1.22.6 linux/amd64'."""
    m = re.search(r"\bv(\d+)\.(\d+)\.(\d+)", text or "")
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def find_process(name: str, proc: str = "/proc") -> list[int]:
    """Pids of processes whose program is `name`, read from /proc/*/comm (cut to 15 characters) and cmdline."""
    found = []
    try:
        entries = [e for e in os.scandir(proc) if e.name.isdigit()]
    except OSError:
        return []
    for entry in entries:
        try:
            comm = Path(entry.path, "comm").read_text().strip()
        except OSError:
            continue
        if comm != name[:15]:
            continue
        try:
            argv0 = Path(entry.path, "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            argv0 = ""
        if comm == name or os.path.basename(argv0) == name or not argv0:
            found.append(int(entry.name))
    return sorted(found)


def tool_statuses(tools: Iterable[Tool] = REQUIRED_TOOLS) -> list[ToolStatus]:
    """Each required tool with where it was found."""
    return [ToolStatus(t, find_tool(t.binary)) for t in tools]


def sandbox_detection() -> Detection:
    """The sandbox backend's own verdict on this machine."""
    try:
        return backends.backend_class("sandbox").detect()
    except Exception as e:  # a detection that breaks is itself a finding
        return Detection(False, _("the sandbox's detection failed: {error}").format(error=e))


def _count(n: int) -> str:
    """A count written the learner's way: 65,536 in English, 65 536 in French."""
    from babel.numbers import format_decimal
    from .i18n import language
    return format_decimal(n, locale=language())


def id_mapping_check(euid: int | None = None, user: str | None = None,
                     subuid: str = "/etc/subuid", subgid: str = "/etc/subgid") -> Check:
    """Whether a lab started by this user gets the IDs tcpdump switches to (root, or newuidmap with /etc/subuid)."""
    from .sandbox.launcher import RANGE, subordinate_range
    euid = os.geteuid() if euid is None else euid
    label = _("IDs for tcpdump in the lab")
    if euid == 0:
        return Check("id_mapping", label, True, _("run as root: the lab maps {count} user and group IDs").format(
            count=_count(RANGE)))
    if user is None:
        import pwd
        try:
            user = pwd.getpwuid(euid).pw_name
        except KeyError:
            user = str(euid)
    absent = [b for b in ("newuidmap", "newgidmap") if find_tool(b) is None]
    if absent:
        return Check("id_mapping", label, False, _(
            "{tools} missing (package uidmap): the lab maps only your own user, so tcpdump inside the lab will "
            "fail (it switches to the tcpdump user); install: sudo apt-get install -y uidmap").format(
            tools=" and ".join(absent)))
    lacking = [path for path in (subuid, subgid) if subordinate_range(path, user, euid) is None]
    if lacking:
        return Check("id_mapping", label, False, _(
            "{files} grants no range of {count} IDs to {user}: the lab maps only your own user, so tcpdump inside "
            "the lab will fail; an administrator can add one no other user has, e.g. sudo usermod --add-subuids "
            "START-END --add-subgids START-END {user}").format(files=" and ".join(lacking), count=_count(RANGE),
                                                               user=user))
    start = subordinate_range(subuid, user, euid)[0]
    return Check("id_mapping", label, True, _("newuidmap and {file} give the lab {count} IDs (from {start})").format(
        file=subuid, count=_count(RANGE), start=start))


def host_route_table() -> list[host_routes.Route] | None:
    """The host's IPv4 routes, read only (`ip -4 -j route show table all`, else /proc/net/route); None if unreadable."""
    ip = find_tool("ip")
    if ip:
        code, out, _err = _run([ip, "-4", "-j", "route", "show", "table", "all"])
        if code == 0:
            try:
                return host_routes.parse_ip_json(out)
            except ValueError:
                pass
    try:
        return host_routes.parse_proc_route(Path("/proc/net/route").read_text())
    except OSError:
        return None


ROUTES_TITLE = N_("Lab addresses typed on this host are not routed into the lab (reach it with `k8snet probe @host …` "
                  "or `k8snet exec`; on kind, with `kubectl port-forward`):")
_ROLES = {"nodes": N_("nodes"), "pods": N_("pods"), "services": N_("Services")}
_HINTS = {"docker": N_(" (a Docker network)"), "podman": N_(" (a Podman network)")}


def route_checks(routes: list[host_routes.Route] | None) -> list[Check]:
    """One line per lab subnet: which host route would carry a packet typed on the host (it never reaches the lab)."""
    if routes is None:
        return [Check("routes", _("host routes"), None, _("the host's routing table could not be read"))]
    checks = []
    for v in host_routes.analyse(routes):
        label = f"{v.subnet} ({_(_ROLES[v.role])})"
        r = v.route
        if r is None:
            detail = _("no route on this host: it refuses such a packet (Network is unreachable)")
        elif not r.carries:
            detail = _("this host drops such a packet ({route})").format(route=r.describe())
        elif r.dst.prefixlen == 0:
            detail = _("typed on this host, a packet goes by the default route ({route}): it leaves this "
                       "machine and never reaches the lab").format(route=r.describe())
        else:
            hint = _HINTS.get(host_routes.device_hint(r.dev))
            detail = _("typed on this host, a packet goes by {route}{hint}: to that network, not to the lab").format(
                route=r.describe(), hint=_(hint) if hint else "")
        parts = [p for p in v.inside if p.carries]
        if parts:
            detail += "; " + _("part of it goes by {routes}").format(routes=", ".join(p.describe() for p in parts))
        checks.append(Check(f"route:{v.subnet}", label, False if v.leaves else True, detail, warning=v.leaves))
    return checks


def kind_facts() -> KindFacts:
    """kind's binary and version, which container engines answer, and the kind clusters they hold."""
    from .backends.kind import parse_name_lines, runtime_answers
    facts = KindFacts(path=shutil.which("kind"))
    forced = os.environ.get("KIND_EXPERIMENTAL_PROVIDER", "").strip()
    for engine in dict.fromkeys([*ENGINES, forced] if forced else ENGINES):
        facts.engines[engine] = (shutil.which(engine) is not None, *runtime_answers(engine))
    order = [forced] if forced else list(ENGINES)
    facts.engine = next((e for e in order if facts.engines[e][1]), None)
    if facts.path is None:
        return facts
    code, out, err = _run([facts.path, "version"])
    facts.version = (out.strip() or err.strip()) if code == 0 else None
    if facts.engine is None:
        facts.clusters_error = _("no container engine answers")
        return facts
    env = dict(os.environ)
    if facts.engine != "docker":
        env["KIND_EXPERIMENTAL_PROVIDER"] = facts.engine
    code, out, err = _run([facts.path, "get", "clusters"], timeout=2 * CHECK_TIMEOUT, env=env)
    if code == 0:
        facts.clusters = parse_name_lines(out)
    else:
        facts.clusters_error = err.strip().splitlines()[-1] if err.strip() else \
            _("`kind get clusters` exited {code}").format(code=code)
    return facts


def cloud_provider_kind(engine: str | None) -> str | None:
    """Where cloud-provider-kind runs: a host process or a container of that name; None when it does not."""
    pids = find_process(CLOUD_PROVIDER_KIND)
    if pids:
        return _("process {pids}").format(pids=", ".join(map(str, pids)))
    if engine and shutil.which(engine):
        code, out, _err = _run([engine, "ps", "--filter", f"name={CLOUD_PROVIDER_KIND}", "--format", "{{.Names}}"])
        names = [n for n in out.split() if CLOUD_PROVIDER_KIND in n] if code == 0 else []
        if names:
            return _("container {name}").format(name=names[0])
    return None


def cluster_facts(name: str, engine: str | None) -> ClusterFacts:
    """cloud-provider-kind and kube-proxy's mode for the kind cluster `name` (kube-proxy read with kubectl)."""
    from .backends.kind import parse_proxy_mode
    facts = ClusterFacts(cloud_provider_kind=cloud_provider_kind(engine))
    kubectl = shutil.which("kubectl")
    if not kubectl:
        facts.proxy_detail = _("kubectl is not installed, so kube-proxy's ConfigMap was not read")
        return facts
    code, out, err = _run([kubectl, "--context", f"kind-{name}", "--request-timeout", f"{CHECK_TIMEOUT:g}s",
                           "-n", "kube-system", "get", "cm", "kube-proxy", "-o", r"jsonpath={.data.config\.conf}"],
                          timeout=CHECK_TIMEOUT + 2)
    if code == 0:
        facts.proxy_mode = parse_proxy_mode(out)
        facts.proxy_detail = _("from the kube-proxy ConfigMap in kube-system")
    elif code is not None and "NotFound" in err:
        facts.proxy_detail = _("no kube-proxy ConfigMap in kube-system (kube-proxy may be disabled)")
    else:
        facts.proxy_detail = _("could not read kube-proxy's ConfigMap: {error}").format(
            error=err.strip().splitlines()[-1] if err.strip() else code)
    return facts


def choose_backend(cluster: str) -> tuple[str | None, str]:
    """The backend `Lab()` will use for this cluster name, and why (as Lab does: K8SNET_BACKEND, the running lab, K8SNET_CONTEXT, detection)."""
    from .lab import _marker
    requested = os.environ.get("K8SNET_BACKEND") or "auto"
    context = os.environ.get("K8SNET_CONTEXT")
    why = f"K8SNET_BACKEND={requested}" if requested != "auto" else ""
    if requested == "auto":
        try:
            marker = _marker(cluster)
            if marker.exists():
                requested = marker.read_text().strip() or "auto"
                why = _("the lab {name} was started on it and is reused").format(name=repr(cluster))
        except OSError:
            pass
    if context and requested == "auto":
        requested, why = "kind", _("K8SNET_CONTEXT={context} names an existing cluster").format(context=context)
    try:
        name, reason = backends.choose(requested)
    except K8snetError as e:
        return None, e.message
    return name, (why if why and reason == _("chosen explicitly") else reason)


# ----------------------------------------------------------------------------------------------
# The report
# ----------------------------------------------------------------------------------------------


def _mark(ok: bool | None) -> str:
    return {True: "✔", False: "✘", None: "–"}[ok]


@dataclass
class Report:
    """What `k8snet doctor` found: renders as text in a terminal, as HTML in Jupyter, and as a dict for JSON."""

    cluster: str
    backend: str | None
    backend_reason: str
    tools: list[ToolStatus]
    sandbox: Detection
    kind: list[Check]
    cluster_checks: list[Check]
    chapters: list[ChapterVerdict]
    notes: list[str] = field(default_factory=list)
    host: list[Check] = field(default_factory=list)      # the lab's IDs (tcpdump) and the host's routes

    @property
    def missing_tools(self) -> list[Tool]:
        """The required tools that are missing."""
        return [t.tool for t in self.tools if not t.present]

    @property
    def apt_line(self) -> str:
        """The apt-get line that installs the missing tools ('' when none is missing)."""
        return apt_line(self.missing_tools)

    @property
    def ok(self) -> bool:
        """True when a backend can run and no required tool is missing."""
        return self.backend is not None and not self.missing_tools

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return {
            "ok": self.ok,
            "cluster": self.cluster,
            "backend": {"name": self.backend, "reason": self.backend_reason},
            "tools": [t.to_dict() for t in self.tools],
            "missing_tools": [t.binary for t in self.missing_tools],
            "apt_line": self.apt_line,
            "sandbox": {"available": self.sandbox.available, "reason": self.sandbox.reason},
            "host": [c.to_dict() for c in self.host],
            "kind": [c.to_dict() for c in self.kind],
            "kind_cluster": [c.to_dict() for c in self.cluster_checks],
            "chapters": [c.to_dict() for c in self.chapters],
            "notes": list(self.notes),
        }

    def __str__(self) -> str:
        lab = repr(self.cluster)
        lines = [_("k8snet doctor — lab {name}").format(name=lab), ""]
        lines.append(_("Backend: {backend} — {reason}").format(backend=self.backend or _("none"),
                                                               reason=self.backend_reason))
        lines += ["", _("System tools:")]
        width = max((len(t.tool.binary) for t in self.tools), default=0)
        for t in self.tools:
            where = t.path or _("missing")
            lines.append(f"  {_mark(t.present)} {t.tool.binary:<{width}}  {t.tool.package:<12}  {where}")
        if self.missing_tools:
            lines.append("  " + _("install: {command}").format(command=self.apt_line))
        lines += ["", _("Sandbox: {mark} {reason}").format(mark=_mark(self.sandbox.available),
                                                           reason=self.sandbox.reason)]
        lines += [f"  {c.mark} " + _("{label}: {detail}").format(label=c.label, detail=c.detail)
                  for c in self.host if not c.key.startswith("route")]
        routes = [c for c in self.host if c.key.startswith("route")]
        if routes:
            lines += ["", _(ROUTES_TITLE)]
            lines += [f"  {c.mark} " + _("{label}: {detail}").format(label=c.label, detail=c.detail) for c in routes]
        lines += ["", "kind:"]
        lines += [f"  {_mark(c.ok)} " + _("{label}: {detail}").format(label=c.label, detail=c.detail) for c in self.kind]
        lines += ["", _("kind cluster {name}:").format(name=lab)]
        lines += [f"  {_mark(c.ok)} " + _("{label}: {detail}").format(label=c.label, detail=c.detail)
                  for c in self.cluster_checks]
        lines += ["", _("Chapters (on {backend}):").format(backend=self.backend or _("no backend"))]
        for ch in self.chapters:
            lines.append(f"  {ch.number} {ch.title:<58} {ch.verdict}")
            lines += ["       " + _("note: {text}").format(text=n) for n in ch.notes]
        if self.notes:
            lines += [""] + [_("Note: {text}").format(text=n) for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape

        def rows(checks: list[Check]) -> str:
            return "".join(f"<tr><td>{c.mark}</td><td>{e(c.label)}</td><td>{e(c.detail)}</td></tr>" for c in checks)

        # Each sentence is translated whole, then escaped; the markup is put back around the names it quotes.
        name = f"<code>{e(self.cluster)}</code>"
        parts = [f"<h4>{e(_('k8snet doctor — lab {name}')).replace('{name}', name)}</h4>",
                 f"<p><b>{e(_('Backend:'))}</b> {e(self.backend or _('none'))} — {e(self.backend_reason)}</p>",
                 f"<table><tr><th></th><th>{e(_('tool'))}</th><th>{e(_('package'))}</th><th>{e(_('for'))}</th>"
                 f"<th>{e(_('found at'))}</th></tr>"]
        parts += [f"<tr><td>{_mark(t.present)}</td><td><code>{e(t.tool.binary)}</code></td><td>{e(t.tool.package)}</td>"
                  f"<td>{e(_(t.tool.purpose))}</td><td>{e(t.path or _('missing'))}</td></tr>" for t in self.tools]
        parts.append("</table>")
        if self.missing_tools:
            parts.append("<p>" + e(_("Install the missing tools with {command}")).replace(
                "{command}", f"<code>{e(self.apt_line)}</code>") + "</p>")
        parts.append(f"<p><b>{e(_('Sandbox:'))}</b> {_mark(self.sandbox.available)} {e(self.sandbox.reason)}</p>")
        ids = [c for c in self.host if not c.key.startswith("route")]
        routes = [c for c in self.host if c.key.startswith("route")]
        if ids:
            parts.append(f"<table>{rows(ids)}</table>")
        if routes:
            parts.append(f"<p><b>{e(_(ROUTES_TITLE))}</b></p><table>{rows(routes)}</table>")
        parts.append(f"<p><b>kind</b></p><table>{rows(self.kind)}</table>")
        parts.append("<p><b>" + e(_("kind cluster {name}")).replace("{name}", name) + "</b></p>"
                     f"<table>{rows(self.cluster_checks)}</table>")
        parts.append(f"<p><b>{e(_('Chapters'))}</b> "
                     + e(_("(on {backend})").format(backend=self.backend or _("no backend"))) + "</p>"
                     f"<table><tr><th>#</th><th>{e(_('chapter'))}</th><th>{e(_('runs'))}</th>"
                     f"<th>{e(_('notes'))}</th></tr>")
        for ch in self.chapters:
            colour = ("#757575" if not ch.written else "#2e7d32" if ch.full else "#c62828" if ch.unavailable
                      else "#ef6c00")
            notes = "<br>".join(e(n) for n in ch.notes)
            parts.append(f"<tr><td>{e(ch.number)}</td><td>{e(ch.title)}</td>"
                         f"<td style='color:{colour}'>{e(ch.verdict)}</td><td>{notes}</td></tr>")
        parts.append("</table>")
        parts += [f"<p>{e(_('Note: {text}').format(text=n))}</p>" for n in self.notes]
        return "".join(parts)


def kind_checks(facts: KindFacts) -> list[Check]:
    """Report lines for kind's binary, its version and each container engine."""
    if facts.path:
        checks = [Check("kind", _("kind binary"), True, f"{facts.path} ({facts.version or _('version unknown')})")]
    else:
        checks = [Check("kind", _("kind binary"), False, _("not installed (no `kind` on PATH): {url}").format(
            url="https://kind.sigs.k8s.io/docs/user/quick-start/#installation"))]
    for engine, (installed, answers, why) in facts.engines.items():
        checks.append(Check(engine, engine, answers if installed else None, _("answers") if answers else why))
    return checks


def policy_check(version: str | None) -> Check:
    """Whether the kind that made the cluster ships kindnet with NetworkPolicy enforcement (v0.24 and later)."""
    parsed = parse_kind_version(version or "")
    if parsed is None:
        return Check("network_policy", "NetworkPolicy", None, _("kind's version is unknown, so enforcement is unknown"))
    shown = "v" + ".".join(map(str, parsed))
    if parsed >= MIN_POLICY_KIND:
        return Check("network_policy", "NetworkPolicy", True,
                     _("kind {version} ≥ v0.24: kindnet enforces NetworkPolicy").format(version=shown))
    return Check("network_policy", "NetworkPolicy", False,
                 _("kind {version} is older than v0.24: its kindnet does not enforce NetworkPolicy "
                   "(upgrade kind, then delete and recreate the cluster)").format(version=shown))


def cluster_checks(name: str, kf: KindFacts, cf: ClusterFacts | None) -> list[Check]:
    """Report lines for the kind cluster `name`: whether it exists, NetworkPolicy, cloud-provider-kind, kube-proxy."""
    if kf.path is None:
        return [Check("cluster", _("cluster"), None, _("not checked: kind is not installed"))]
    if kf.clusters is None:
        return [Check("cluster", _("cluster"), None, _("not checked: {why}").format(
            why=kf.clusters_error or _("kind clusters unknown")))]
    if name not in kf.clusters:
        others = " " + _("(kind has: {clusters})").format(clusters=", ".join(kf.clusters)) if kf.clusters else ""
        return [Check("cluster", _("cluster"), None, _("no kind cluster named {name} yet; `k8snet up` creates it")
                      .format(name=repr(name)) + others)]
    checks = [Check("cluster", _("cluster"), True, _("exists (context kind-{name})").format(name=name)),
              policy_check(kf.version)]
    if cf is not None:
        if cf.cloud_provider_kind:
            checks.append(Check("cloud_provider_kind", CLOUD_PROVIDER_KIND, True,
                                _("running ({where}): LoadBalancer Services get an address").format(
                                    where=cf.cloud_provider_kind)))
        else:
            checks.append(Check("cloud_provider_kind", CLOUD_PROVIDER_KIND, False,
                                _("not running: LoadBalancer Services will stay <pending>; run it on the host ({url})")
                                .format(url=CLOUD_PROVIDER_KIND_URL)))
        detail = f"{cf.proxy_mode} ({cf.proxy_detail})" if cf.proxy_mode else cf.proxy_detail
        checks.append(Check("kube_proxy_mode", _("kube-proxy mode"), True if cf.proxy_mode else None, detail))
    return checks


def effective_capabilities(caps: Capabilities, kf: KindFacts | None, cf: ClusterFacts | None) -> Capabilities:
    """A kind backend's capabilities narrowed by what its running cluster shows (old kind, no cloud-provider-kind)."""
    if kf is None or cf is None:
        return caps
    notes = dict(caps.notes)
    network_policy, load_balancer = caps.network_policy, caps.load_balancer
    policy = policy_check(kf.version)
    if policy.ok is False:
        network_policy = False
        shown = "v" + ".".join(map(str, parse_kind_version(kf.version or "") or ()))
        notes["network_policy"] = _("kind {version} is older than v0.24; upgrade kind and recreate the cluster").format(
            version=shown)
    if not cf.cloud_provider_kind:
        load_balancer = False
        notes["load_balancer"] = _("cloud-provider-kind is not running on the host")
    return replace(caps, network_policy=network_policy, load_balancer=load_balancer, notes=notes)


def host_checks(backend: str | None) -> list[Check]:
    """tcpdump's IDs, and where lab addresses typed on the host go (not for kind, whose nodes the host does reach)."""
    checks = [id_mapping_check()]
    if backend != "kind":
        checks += route_checks(host_route_table())
    return checks


def diagnose(name: str | None = None) -> Report:
    """Look at this machine (read-only, each check bounded by a timeout) and say what the course can do here."""
    cluster = name or os.environ.get("K8SNET_CLUSTER") or DEFAULT_NAME
    backend, reason = choose_backend(cluster)
    tools = tool_statuses()
    sandbox = sandbox_detection()
    kf = kind_facts()
    exists = kf.clusters is not None and cluster in kf.clusters
    cf = cluster_facts(cluster, kf.engine) if exists else None
    notes = []
    context = os.environ.get("K8SNET_CONTEXT")
    if context:
        notes.append(_("K8SNET_CONTEXT={context}: the kind backend drives that kubeconfig context instead of "
                       "creating kind-{cluster}; the cluster checks above are about kind-{cluster}.").format(
            context=context, cluster=cluster))
    caps = None
    if backend is not None:
        caps = backends.backend_class(backend).capabilities
        if backend == "kind" and not context:
            caps = effective_capabilities(caps, kf, cf)
    chapters = chapter_table(caps, unavailable=reason if backend is None else "", written=written_chapters())
    if backend == "kind" and not context and cf is not None and cf.proxy_mode:
        configs = {"iptables": "kind-config.yaml", "nftables": "kind-config-nftables.yaml"}
        others = [_("{mode} mode needs a cluster made from {file}").format(mode=mode, file=file)
                  for mode, file in configs.items() if mode != cf.proxy_mode]
        for ch in chapters:
            if ch.number == "03":
                ch.notes.append(_("this cluster runs kube-proxy in {mode} mode; {others}").format(
                    mode=cf.proxy_mode, others="; ".join(others)))
    return Report(cluster=cluster, backend=backend, backend_reason=reason, tools=tools, sandbox=sandbox,
                  kind=kind_checks(kf), cluster_checks=cluster_checks(cluster, kf, cf), chapters=chapters, notes=notes,
                  host=host_checks(backend))


__all__ = ["CHAPTERS", "Chapter", "ChapterVerdict", "Check", "ClusterFacts", "KindFacts", "Need", "Report",
           "ToolStatus", "chapter_table", "choose_backend", "cluster_checks", "diagnose", "effective_capabilities",
           "find_process", "host_checks", "host_route_table", "id_mapping_check", "kind_checks", "kind_facts", "parse_kind_version",
           "policy_check", "route_checks", "tool_statuses", "written_chapters"]
