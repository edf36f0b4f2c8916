"""Graphviz pictures of the live lab: nodes holding their pods, Services and their endpoints, a probe's path.

Every picture is a `Diagram`: SVG inline in Jupyter, a short stable text form elsewhere (nbval compares it),
DOT, SVG or PNG on disk. The same lab state always gives the same DOT source: everything is drawn in sorted
order and named after the objects it shows.
"""
from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Protocol

import graphviz

from .i18n import _
from .results import outcome_word

if TYPE_CHECKING:
    from .results import ProbeResult

FONT = "Helvetica"
OK_COLOUR = "#2e7d32"
FAIL_COLOUR = "#c62828"
SERVICE_COLOUR = "#ef6c00"
NOT_READY_COLOUR = "#9e9e9e"
NODE_COLOUR = "#546e7a"
READY_FILL = "#e8f5e9"
NOT_READY_FILL = "#ffebee"
SERVICE_FILL = "#fff3e0"
OTHER_FILL = "#eceff1"
OUTSIDE = "@host"  # the probe source that stands for the machine outside the cluster
SYSTEM_NAMESPACE = "kube-system"
FORMATS = ("svg", "png", "dot", "gv", "pdf")


class LabLike(Protocol):
    """What the diagrams read from a lab: objects as API dicts."""

    def objects(self, kind: str, namespace: str | None = None, selector: str | None = None) -> list[dict]:
        """Objects of a kind as API dicts."""


class Diagram:
    """A graphviz picture with a stable text form: SVG in Jupyter, DOT/SVG/PNG on disk."""

    def __init__(self, graph: graphviz.Digraph, summary: str) -> None:
        self.graph = graph
        self.summary = summary
        self._svg: tuple[str, str] | None = None

    @property
    def source(self) -> str:
        """The DOT source."""
        return self.graph.source

    def pipe(self, format: str = "svg") -> bytes:
        """The picture rendered by graphviz's `dot` in a format (svg, png, pdf, …)."""
        return self.graph.pipe(format=format)

    def svg(self) -> str:
        """The picture as SVG text (computed once per DOT source)."""
        source = self.source
        if self._svg is None or self._svg[0] != source:
            self._svg = (source, self.pipe("svg").decode("utf-8"))
        return self._svg[1]

    def svg_inline(self) -> str:
        """The SVG without its XML prologue, ready to sit inside HTML."""
        text = self.svg()
        start = text.find("<svg")
        return text[start:] if start >= 0 else text

    def render(self, outfile: str | os.PathLike, format: str | None = None, cleanup: bool = True) -> str:
        """Write the picture to a file (.svg, .png, .pdf, or .dot/.gv for the source); returns the path."""
        path = Path(outfile)
        fmt = (format or path.suffix.lstrip(".")).lower()
        if fmt not in FORMATS:
            raise ValueError(f"diagram: cannot write {str(path)!r}: use .svg, .png, .pdf or .dot")
        if fmt in ("dot", "gv"):
            path.write_text(self.source)
        else:
            path.write_bytes(self.pipe(fmt))
        return str(path)

    def save(self, path: str | os.PathLike) -> str:
        """Write the picture to a file whose suffix says the format; returns the path."""
        return self.render(path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Diagram) and other.source == self.source

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<{self.summary}>"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))

    def _repr_mimebundle_(self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None) -> dict:
        """Jupyter: the SVG picture, plus the stable text form (what nbval compares)."""
        bundle: dict[str, str] = {"text/plain": repr(self)}
        try:
            bundle["image/svg+xml"] = self.svg()
        except (graphviz.ExecutableNotFound, graphviz.CalledProcessError):
            pass  # no `dot` here: the text form is all we can show
        if include:
            bundle = {k: v for k, v in bundle.items() if k in include}
        if exclude:
            bundle = {k: v for k, v in bundle.items() if k not in exclude}
        return bundle


# -- reading the lab --------------------------------------------------------------------------------

def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def _ref(obj: dict) -> str:
    """`namespace/name` (or just `name` for cluster-scoped objects)."""
    m = _meta(obj)
    return f"{m['namespace']}/{m['name']}" if m.get("namespace") else m.get("name", "")


def pod_ready(pod: dict) -> bool:
    """True when the pod's Ready condition is True and it is not being deleted."""
    if _meta(pod).get("deletionTimestamp"):
        return False
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def node_ip(node: dict) -> str:
    """A node's InternalIP (empty when it has none)."""
    addresses = (node.get("status") or {}).get("addresses") or []
    return next((a["address"] for a in addresses if a.get("type") == "InternalIP"), "")


def _ip(text: str | None) -> bool:
    try:
        ipaddress.ip_address(text or "")
        return True
    except ValueError:
        return False


@dataclass
class _State:
    """A snapshot of what a diagram shows, read once from the lab and sorted."""

    nodes: list[dict]
    pods: list[dict]
    services: list[dict]
    slices: list[dict]
    namespace: str | None = None
    all_pods: list[dict] = field(default_factory=list)

    @classmethod
    def read(cls, lab: LabLike, namespace: str | None, *, system: bool = False, services: bool = True) -> "_State":
        """Nodes, then the pods, Services and EndpointSlices of a namespace (or of every non-system one)."""
        def shown(obj: dict) -> bool:
            ns = _meta(obj).get("namespace")
            if namespace is not None:
                return ns == namespace
            return system or ns != SYSTEM_NAMESPACE

        def system_service(svc: dict) -> bool:
            return not system and _ref(svc) == "default/kubernetes"

        by_name = lambda o: (_meta(o).get("namespace") or "", _meta(o).get("name") or "")  # noqa: E731
        nodes = sorted(lab.objects("Node"), key=by_name)
        all_pods = sorted(lab.objects("Pod", namespace), key=by_name)
        pods = [p for p in all_pods if shown(p)]
        svcs: list[dict] = []
        slices: list[dict] = []
        if services:
            svcs = sorted((s for s in lab.objects("Service", namespace) if shown(s) and not system_service(s)),
                          key=by_name)
            slices = sorted((s for s in lab.objects("EndpointSlice", namespace) if shown(s)), key=by_name)
        return cls(nodes, pods, svcs, slices, namespace, all_pods)

    def pod_id(self, pod: dict) -> str:
        """The DOT id of a pod."""
        return f"pod/{_ref(pod)}"

    def pod_label_name(self, pod: dict) -> str:
        """A pod's name as the picture shows it: `ns/name` outside the namespace on view (or `default`)."""
        m = _meta(pod)
        return m["name"] if (self.namespace or "default") == m.get("namespace") else f"{m.get('namespace')}/{m['name']}"

    def service_label_name(self, svc: dict) -> str:
        """A Service's name as the picture shows it."""
        return self.pod_label_name(svc)

    def find_pod(self, name: str | None, *, prefer: Iterable[str | None] = (), pods: list[dict] | None = None
                 ) -> dict | None:
        """The pod called `name` (or `ns/name`), looked up first in the preferred namespaces."""
        if not name:
            return None
        pool = self.pods if pods is None else pods
        if "/" in name:
            ns, short = name.split("/", 1)
            return next((p for p in pool if _meta(p).get("namespace") == ns and _meta(p).get("name") == short), None)
        matches = [p for p in pool if _meta(p).get("name") == name]
        for ns in [*prefer, self.namespace, "default"]:
            hit = next((p for p in matches if _meta(p).get("namespace") == ns), None)
            if hit is not None:
                return hit
        return matches[0] if len(matches) == 1 else None

    def pod_by_ip(self, address: str | None) -> dict | None:
        """The pod (not on the host network) that owns an IP."""
        if not address:
            return None
        return next((p for p in self.pods if (p.get("status") or {}).get("podIP") == address
                     and not (p.get("spec") or {}).get("hostNetwork")), None)

    def service_for(self, address: str | None, port: int | None) -> tuple[dict | None, str]:
        """The Service a probe's address belongs to, and how it was reached: ClusterIP, NodePort or LoadBalancer."""
        if not address:
            return None, ""
        node_ips = {node_ip(n) for n in self.nodes}
        for svc in self.services:
            spec, status = svc.get("spec") or {}, svc.get("status") or {}
            if address in (spec.get("clusterIPs") or [spec.get("clusterIP")]):
                return svc, "ClusterIP"
            lb = [i.get("ip") for i in (status.get("loadBalancer") or {}).get("ingress") or []]
            if address in lb or address in (spec.get("externalIPs") or []):
                return svc, "LoadBalancer"
            if address in node_ips and port and any(p.get("nodePort") == port for p in spec.get("ports") or []):
                return svc, "NodePort"
        return None, ""

    def slices_of(self, svc: dict) -> list[dict]:
        """The EndpointSlices of a Service."""
        ns, name = _meta(svc).get("namespace"), _meta(svc).get("name")
        return [s for s in self.slices if _meta(s).get("namespace") == ns
                and (_meta(s).get("labels") or {}).get("kubernetes.io/service-name") == name]

    def target_port(self, svc: dict, port: int | None, via: str) -> int | None:
        """The endpoint port a Service port (or NodePort) leads to, read from its EndpointSlices."""
        ports = (svc.get("spec") or {}).get("ports") or []
        key = "nodePort" if via == "NodePort" else "port"
        sp = next((p for p in ports if p.get(key) == port), ports[0] if len(ports) == 1 else None)
        if sp is None:
            return None
        for sl in self.slices_of(svc):
            for ep_port in sl.get("ports") or []:
                if (ep_port.get("name") or "") == (sp.get("name") or ""):
                    return ep_port.get("port")
        target = sp.get("targetPort")
        return target if isinstance(target, int) else None


# -- labels ------------------------------------------------------------------------------------------

def _service_lines(svc: dict) -> list[str]:
    """A Service's type, address and ports, kubectl-style."""
    spec, status = svc.get("spec") or {}, svc.get("status") or {}
    kind = spec.get("type") or "ClusterIP"
    if kind == "ExternalName":
        return [f"ExternalName {spec.get('externalName', '')}"]
    cluster_ip = spec.get("clusterIP") or ""
    lines = [f"{kind} {cluster_ip}" + (" " + _("(headless)") if cluster_ip == "None" else "")]
    ports = []
    for p in spec.get("ports") or []:
        text = str(p.get("port"))
        if p.get("nodePort"):
            text += f":{p['nodePort']}"
        text += f"/{p.get('protocol') or 'TCP'}"
        target = p.get("targetPort")
        if target is not None and target != p.get("port"):
            text += f" → {target}"
        ports.append(text)
    if ports:
        lines.append(", ".join(ports))
    external = [i.get("ip") or i.get("hostname") for i in (status.get("loadBalancer") or {}).get("ingress") or []]
    external += list(spec.get("externalIPs") or [])
    if external:
        lines.append(_("external {addresses}").format(addresses=", ".join(a for a in external if a)))
    return lines


def _pod_lines(state: _State, pod: dict) -> list[str]:
    lines = [state.pod_label_name(pod)]
    ip = (pod.get("status") or {}).get("podIP")
    lines.append(ip or _("(no IP yet)"))
    if _meta(pod).get("deletionTimestamp"):
        lines.append(_("terminating"))
    elif not pod_ready(pod):
        lines.append(_("not ready"))
    return lines


def _label(lines: Iterable[str]) -> str:
    return "\\n".join(lines)


def _probe_path(result: "ProbeResult") -> str:
    """`client → echo` (and the pod that answered when it is not the target itself)."""
    parts = [result.source, result.target]
    if result.responder and result.responder != result.target:
        parts.append(result.responder)
    return " → ".join(parts)


def _probe_summary(result: "ProbeResult") -> str:
    return _("probe {path}: {outcome}").format(path=_probe_path(result), outcome=outcome_word(result.outcome))


def _port_label(result: "ProbeResult") -> str:
    return f"{(result.protocol or 'tcp').upper()}/{result.port}" if result.port else (result.protocol or "tcp").upper()


# -- the topology ------------------------------------------------------------------------------------

@dataclass
class _Canvas:
    """Nodes and edges collected first, so highlights can restyle them before anything is emitted."""

    extra_nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    edges: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    node_style: dict[str, dict[str, str]] = field(default_factory=dict)

    def edge(self, tail: str, head: str, **attrs: str) -> None:
        self.edges.setdefault((tail, head), {}).update(attrs)

    def restyle(self, node_id: str, **attrs: str) -> None:
        self.node_style.setdefault(node_id, {}).update(attrs)


def _new_graph(name: str, rankdir: str = "LR") -> graphviz.Digraph:
    return graphviz.Digraph(
        name,
        graph_attr={"rankdir": rankdir, "fontname": FONT, "fontsize": "11", "compound": "true", "nodesep": "0.25",
                    "ranksep": "0.6", "newrank": "true"},
        node_attr={"shape": "box", "style": "rounded,filled", "fillcolor": READY_FILL, "fontname": FONT,
                   "fontsize": "10"},
        edge_attr={"fontname": FONT, "fontsize": "9", "arrowsize": "0.7"},
    )


def topology_diagram(lab: LabLike, *, namespace: str | None = None, highlight: "ProbeResult | None" = None,
                     services: bool = True, system: bool = False) -> Diagram:
    """Nodes (name, IP, pod range) holding their pods, Services with arrows to their endpoints, a probe's path."""
    state = _State.read(lab, namespace, system=system, services=services)
    canvas = _Canvas()
    pod_ids = {state.pod_id(p) for p in state.pods}

    # Services → endpoints: solid to ready ones, dashed to the others.
    for svc in state.services:
        sid = f"svc/{_ref(svc)}"
        svc_ports = {p.get("port") for p in (svc.get("spec") or {}).get("ports") or []}
        for sl in state.slices_of(svc):
            slice_ports = sorted({p.get("port") for p in sl.get("ports") or [] if p.get("port") is not None})
            port_text = ",".join(str(p) for p in slice_ports) if set(slice_ports) - svc_ports else ""
            for ep in sl.get("endpoints") or []:
                ready = (ep.get("conditions") or {}).get("ready", True) is not False
                ref = ep.get("targetRef") or {}
                head = ""
                if ref.get("kind") == "Pod" and f"pod/{ref.get('namespace')}/{ref.get('name')}" in pod_ids:
                    head = f"pod/{ref.get('namespace')}/{ref.get('name')}"
                else:
                    owner = next((state.pod_by_ip(a) for a in ep.get("addresses") or [] if state.pod_by_ip(a)), None)
                    if owner is not None:
                        head = state.pod_id(owner)
                    else:
                        address = ", ".join(ep.get("addresses") or [])
                        head = f"ip/{address}"
                        canvas.extra_nodes[head] = {"label": address, "style": "dashed", "fillcolor": "white"}
                attrs = {"color": SERVICE_COLOUR} if ready else {"color": NOT_READY_COLOUR, "style": "dashed"}
                if port_text:
                    attrs["label"] = port_text
                canvas.edge(sid, head, **attrs)

    summary = _("diagram: {nodes} nodes, {pods} pods, {services} services").format(
        nodes=len(state.nodes), pods=len(state.pods), services=len(state.services))
    if highlight is not None:
        _highlight(state, canvas, highlight)
        summary += "; " + _probe_summary(highlight)

    g = _new_graph("lab")
    node_names = {_meta(n).get("name") for n in state.nodes}
    for node in state.nodes:
        name = _meta(node)["name"]
        cidr = (node.get("spec") or {}).get("podCIDR", "")
        with g.subgraph(name=f"cluster_{name}") as sub:
            sub.attr(label=_label([name, node_ip(node), _("pods {cidr}").format(cidr=cidr)]), style="rounded",
                     color=NODE_COLOUR, fontname=FONT, fontsize="11")
            here = [p for p in state.pods if (p.get("spec") or {}).get("nodeName") == name]
            if not here:
                sub.node(f"empty/{name}", _("(no pods)"), style="dashed", fillcolor="white")
            for pod in here:
                _emit_pod(sub, state, canvas, pod)
    for pod in state.pods:  # pods no node holds yet (or whose node is not listed)
        if (pod.get("spec") or {}).get("nodeName") not in node_names:
            _emit_pod(g, state, canvas, pod, extra={"style": "rounded,filled,dashed"})
    for svc in state.services:
        sid = f"svc/{_ref(svc)}"
        attrs = {"fillcolor": SERVICE_FILL, "color": SERVICE_COLOUR, "shape": "box", "style": "filled"}
        attrs.update(canvas.node_style.get(sid, {}))
        g.node(sid, _label([state.service_label_name(svc), *_service_lines(svc)]), **attrs)
    for nid in sorted(canvas.extra_nodes):
        attrs = dict(canvas.extra_nodes[nid])
        label = attrs.pop("label")
        attrs.update(canvas.node_style.get(nid, {}))
        g.node(nid, label, **attrs)
    for (tail, head) in sorted(canvas.edges):
        g.edge(tail, head, **canvas.edges[(tail, head)])
    return Diagram(g, summary)


def _emit_pod(g: graphviz.Digraph, state: _State, canvas: _Canvas, pod: dict, extra: dict | None = None) -> None:
    pid = state.pod_id(pod)
    ready = pod_ready(pod)
    attrs = {"fillcolor": READY_FILL if ready else NOT_READY_FILL}
    if not ready:
        attrs.update(style="rounded,filled,dashed", color=FAIL_COLOUR)
    attrs.update(extra or {})
    attrs.update(canvas.node_style.get(pid, {}))
    g.node(pid, _label(_pod_lines(state, pod)), **attrs)


def _highlight(state: _State, canvas: _Canvas, result: "ProbeResult") -> None:
    """Draw a probe's path in green (connected) or red: source pod → [Service] → the pod that answered."""
    colour = OK_COLOUR if result.ok else FAIL_COLOUR
    bold = {"color": colour, "fontcolor": colour, "penwidth": "2.5"}
    # the source
    if result.source == OUTSIDE:
        src = "probe/outside"
        canvas.extra_nodes[src] = {"label": _("outside the cluster"), "shape": "ellipse", "fillcolor": OTHER_FILL,
                                   "style": "filled"}
    else:
        pod = state.find_pod(result.source)
        src = state.pod_id(pod) if pod is not None else "probe/source"
        if pod is None:
            canvas.extra_nodes[src] = {"label": result.source, "fillcolor": OTHER_FILL}
    canvas.restyle(src, color=colour, penwidth="2")
    first_label = _label([_port_label(result), outcome_word(result.outcome)])

    svc, via = state.service_for(result.address, result.port)
    if svc is not None:
        sid = f"svc/{_ref(svc)}"
        if via != "ClusterIP":
            first_label = _label([f"{via} {result.address}:{result.port}", first_label])
        canvas.edge(src, sid, label=first_label, **bold)
        canvas.restyle(sid, penwidth="2")
        answered = state.find_pod(result.responder, prefer=[_meta(svc).get("namespace")])
        if result.ok and result.responder:
            rid = _responder_id(state, canvas, answered, result.responder)
            target = answered and (answered.get("status") or {}).get("podIP")
            tport = state.target_port(svc, result.port, via)
            dnat = "DNAT" + (f" → {target}" + (f":{tport}" if tport else "") if target else "")
            canvas.edge(sid, rid, **{**canvas.edges.get((sid, rid), {}), "label": dnat, "style": "solid", **bold})
            canvas.restyle(rid, color=colour, penwidth="2")
        return
    pod = state.pod_by_ip(result.address) or state.find_pod(result.responder)
    if pod is not None:
        dst = state.pod_id(pod)
    else:
        dst = "probe/target"
        text = result.target if not result.address or result.address == result.target else (
            _label([result.target, result.address]))
        canvas.extra_nodes[dst] = {"label": text, "fillcolor": OTHER_FILL}
    canvas.edge(src, dst, label=first_label, **bold)
    canvas.restyle(dst, color=colour, penwidth="2")


def _responder_id(state: _State, canvas: _Canvas, pod: dict | None, name: str) -> str:
    if pod is not None and state.pod_id(pod) in {state.pod_id(p) for p in state.pods}:
        return state.pod_id(pod)
    rid = "probe/responder"
    ip = pod and (pod.get("status") or {}).get("podIP")
    label = (_ref(pod) if pod is not None else name) + (f"\\n{ip}" if ip else "")
    canvas.extra_nodes[rid] = {"label": label, "fillcolor": READY_FILL}
    return rid


# -- one probe's path -----------------------------------------------------------------------------------

def path_diagram(result: "ProbeResult", lab: LabLike | None = None) -> Diagram:
    """One probe, left to right: source pod → [Service VIP → DNAT] → the pod that answered.

    With a lab, the Service and the pods' addresses are read from it; without one, an address in the
    service range (10.96.0.0/12) is taken for a Service VIP.
    """
    colour = OK_COLOUR if result.ok else FAIL_COLOUR
    bold = {"color": colour, "fontcolor": colour, "penwidth": "2"}
    state = _State.read(lab, None, system=True) if lab is not None else None
    g = _new_graph("path")
    g.attr(label=result.summary(timing=False), labelloc="b", fontsize="10")

    source_pod = state.find_pod(result.source) if state else None
    source_ip = source_pod and (source_pod.get("status") or {}).get("podIP")
    src_label = _("outside the cluster") if result.source == OUTSIDE else result.source
    g.node("source", _label([src_label] + ([source_ip] if source_ip else [])), color=colour)

    svc, via = state.service_for(result.address, result.port) if state else (None, "")
    is_vip = svc is not None or (state is None and _in_service_range(result.address))
    port = _port_label(result)
    if result.address is None:
        g.node("target", _label([result.target, outcome_word(result.outcome)]), fillcolor=NOT_READY_FILL, color=colour)
        g.edge("source", "target", label=port, **bold)
        return Diagram(g, _("path diagram: {summary}").format(summary=_probe_summary(result)))
    last = "source"
    if is_vip:
        name = state.service_label_name(svc) if svc is not None else result.target
        head = f"{via} " if via and via != "ClusterIP" else ""
        g.node("service", _label([f"Service {name}", f"{head}{result.address}:{result.port}"]), fillcolor=SERVICE_FILL,
               color=SERVICE_COLOUR, style="filled")
        g.edge("source", "service", label=port, **bold)
        last = "service"
    if result.ok:
        prefer = [_meta(svc).get("namespace")] if svc is not None else []
        pod = state.find_pod(result.responder, prefer=prefer) if state and result.responder else None
        pod_ip = pod and (pod.get("status") or {}).get("podIP")
        if is_vip:
            tport = state.target_port(svc, result.port, via) if state and svc is not None else None
            where = f"{pod_ip}:{tport}" if pod_ip and tport else (pod_ip or "")
        else:
            where = f"{result.address}:{result.port}"
        lines = [result.responder or result.target] + ([where] if where else [])
        if result.seen_source:
            lines.append(_("saw source {address}").format(address=result.seen_source))
        g.node("responder", _label(lines), color=colour, penwidth="2")
        g.edge(last, "responder", label="DNAT" if is_vip else port, **bold)
    else:
        if not is_vip:
            g.node("target", _label([result.target, f"{result.address}:{result.port}"]), fillcolor=NOT_READY_FILL,
                   color=colour)
            g.edge("source", "target", label=_label([port, outcome_word(result.outcome)]), **bold)
        else:
            g.node("outcome", outcome_word(result.outcome), shape="plaintext", style="", fontcolor=colour)
            g.edge("service", "outcome", style="dashed", **bold)
    return Diagram(g, _("path diagram: {summary}").format(summary=_probe_summary(result)))


def _in_service_range(address: str | None) -> bool:
    if not _ip(address):
        return False
    return ipaddress.ip_address(address) in ipaddress.ip_network("10.96.0.0/12")


# -- kube-proxy's rules for one Service (used by the widgets, useful in cells) ---------------------------

def iptables_lines(text: str, namespace: str, name: str, *, packet_order: bool = True) -> list[str]:
    """The rules of `iptables-save` whose comment names the Service `namespace/name` (any of its ports).

    With packet_order, chains come in the order a packet meets them (KUBE-SERVICES, KUBE-NODEPORTS,
    KUBE-EXT-…, KUBE-SVC-…, then each KUBE-SEP-… in the order the Service chain jumps to it);
    the rules of each chain keep their own order.
    """
    pattern = re.compile(r'(?:^|[\s"])' + re.escape(f"{namespace}/{name}") + r'(?::[\w.-]*)?(?=[\s"]|$)')
    lines = [line for line in text.splitlines() if line.startswith("-A ") and pattern.search(line)]
    if not packet_order:
        return lines
    chains: dict[str, list[str]] = {}
    for line in lines:
        chains.setdefault(line.split()[1], []).append(line)
    order = ("KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-EXT-", "KUBE-FW-", "KUBE-SVC-", "KUBE-SVL-", "KUBE-SEP-")

    def group(chain: str) -> int:
        return next((i for i, prefix in enumerate(order) if chain.startswith(prefix)), len(order))

    jumped: dict[str, int] = {}
    for line in sorted(lines, key=lambda line: group(line.split()[1])):
        target = line.split(" -j ")[-1].split()[0] if " -j " in line else ""
        jumped.setdefault(target, len(jumped))
    ranked = sorted(enumerate(chains), key=lambda ic: (group(ic[1]), jumped.get(ic[1], len(jumped)), ic[0]))
    return [line for _i, chain in ranked for line in chains[chain]]


def nft_excerpt(text: str, namespace: str, name: str) -> list[str]:
    """The parts of `nft list table ip kube-proxy` that belong to the Service `namespace/name`.

    Its own chains whole, and from the shared maps and sets only the elements that lead to them.
    """
    mine = re.compile(r'(?:-|")' + re.escape(f"{namespace}/{name}") + r'(?:/|:|")')
    lines = text.splitlines()
    shared: list[str] = []  # elements of the shared maps and sets that lead to this Service
    own: list[tuple[int, int, list[str]]] = []  # this Service's chains, in the order a packet meets them
    i = 0
    header = ""
    while i < len(lines):
        stripped = lines[i].strip()
        if stripped.startswith("table "):
            header = lines[i]
            i += 1
            continue
        if re.match(r"^(chain|map|set|flowtable)\s", stripped) and stripped.endswith("{"):
            depth, block = 1, [lines[i]]
            i += 1
            while i < len(lines) and depth:
                block.append(lines[i])
                depth += lines[i].count("{") - lines[i].count("}")
                i += 1
            if mine.search(stripped):
                kind = stripped.split()[1].split("-", 1)[0]
                rank = {"external": 0, "firewall": 1, "service": 2, "cluster": 2, "endpoint": 3}.get(kind, 4)
                own.append((rank, len(own), block))
            else:
                hits = [_element(b) for b in block[1:-1] if mine.search(b)]
                if hits:
                    shared.extend([block[0], *hits, block[-1]])
            continue
        i += 1
    out = shared + [line for _r, _n, block in sorted(own, key=lambda b: b[:2]) for line in block]
    if out and header:
        out = [header, *out, "}"]
    return [line.expandtabs(4) for line in out]


def _element(line: str) -> str:
    """One element of a set or map, out of its `elements = { …, … }` list."""
    text = line.strip()
    if text.startswith("elements = {"):
        text = text[len("elements = {"):].strip()
    if text.endswith("}") and "{" not in text:
        text = text[:-1].strip()
    return "\t\t" + text.rstrip(",")


def ipvs_lines(text: str, addresses: Iterable[str]) -> list[str]:
    """The virtual servers of `ipvsadm -Ln` on the given addresses, with their real servers."""
    wanted = tuple(addresses)
    out: list[str] = []
    keep = False
    for line in text.splitlines():
        if line[:3] in ("TCP", "UDP") or line.startswith("SCTP"):
            keep = any(f" {a}:" in line for a in wanted)
        elif not line.startswith(" "):
            keep = False
        if keep:
            out.append(line)
    return out
