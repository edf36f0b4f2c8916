"""ipywidgets for the cells where clicking beats typing: a probe explorer, a replica slider, a prediction grid.

Each function returns an object that shows the live widget in JupyterLab and, where no frontend runs
(nbval, a terminal), a stable plain-text account of its current state: what nbval compares.
"""
from __future__ import annotations

import html
import re
import time
from typing import TYPE_CHECKING, Any, Iterable

import ipywidgets as widgets

from .diagrams import _meta, iptables_lines, ipvs_lines, nft_excerpt, topology_diagram
from .errors import K8snetError
from .i18n import _

if TYPE_CHECKING:
    from .lab import Lab
    from .results import CommandResult, ProbeResult

_DESTINATION = re.compile(r"(?:--to-destination |dnat to |-> )(\d+\.\d+\.\d+\.\d+:\d+)")
POLL_INTERVAL = 0.25


def _pre(text: str) -> str:
    return f'<pre style="font-size:11px;line-height:1.3;margin:4px 0">{html.escape(text)}</pre>'


class LabWidget:
    """A live ipywidgets box with a stable text form (shown where no widget frontend runs)."""

    box: widgets.Box

    def text(self) -> str:
        """The widget's current state as plain text."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.text()

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.text())

    def _repr_mimebundle_(self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None) -> dict:
        """Jupyter: the live widget, with our text as the plain-text fallback."""
        bundle = dict(self.box._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/plain"] = self.text()
        return bundle


# -- the probe explorer ----------------------------------------------------------------------------------

class ProbeExplorer(LabWidget):
    """Pick a source pod and a destination (pod or Service), a port and a protocol; probe; see the path."""

    def __init__(self, lab: "Lab", namespace: str = "default", *, source: str | None = None,
                 target: str | None = None, port: int | None = None, protocol: str | None = None,
                 timeout: float = 2.0, diagram: bool = True) -> None:
        self.lab = lab
        self.namespace = namespace
        self.timeout = timeout
        self.show_diagram = diagram
        self.result: "ProbeResult | None" = None
        self.error: str | None = None
        pods = sorted(lab.objects("Pod", namespace), key=lambda p: _meta(p).get("name", ""))
        services = sorted((s for s in lab.objects("Service", namespace)
                           if not (namespace == "default" and _meta(s).get("name") == "kubernetes")),
                          key=lambda s: _meta(s).get("name", ""))
        pod_names = [_meta(p)["name"] for p in pods]
        # destination key -> (what lab.probe gets, default port, default protocol)
        self._targets: dict[str, tuple[str, int, str]] = {}
        self._vip: dict[str, bool] = {}  # Services with a virtual IP (not headless, not ExternalName)
        options: list[tuple[str, str]] = []
        for p in pods:
            name = _meta(p)["name"]
            ports = [(cp.get("containerPort"), cp.get("protocol") or "TCP")
                     for c in (p.get("spec") or {}).get("containers") or [] for cp in c.get("ports") or []]
            first = ports[0] if ports else (80, "TCP")
            self._targets[f"pod/{name}"] = (name, int(first[0]), first[1].lower())
            options.append((f"pod/{name}", f"pod/{name}"))
        for s in services:
            name = _meta(s)["name"]
            sports = (s.get("spec") or {}).get("ports") or []
            first = (sports[0].get("port", 80), sports[0].get("protocol") or "TCP") if sports else (80, "TCP")
            # a pod of the same name would win the lookup: then ask the cluster DNS for the Service itself
            probe_name = f"{name}.{namespace}.svc" if name in pod_names else name
            self._targets[f"svc/{name}"] = (probe_name, int(first[0]), first[1].lower())
            self._vip[f"svc/{name}"] = (s.get("spec") or {}).get("clusterIP") not in (None, "", "None")
            options.append((f"svc/{name}", f"svc/{name}"))

        self.source = widgets.Dropdown(options=pod_names, description=_("From"),
                                       value=source if source in pod_names else (pod_names[0] if pod_names else None))
        initial = self._key_for(target) if target else None
        if initial is None and options:
            initial = next((k for _label, k in options if self._vip.get(k)), options[0][1])
        self.target = widgets.Dropdown(options=options, description=_("To"), value=initial)
        start_port, start_proto = (self._targets[initial][1:] if initial else (80, "tcp"))
        self.port = widgets.BoundedIntText(value=port or start_port, min=1, max=65535, description=_("Port"))
        self.protocol = widgets.Dropdown(options=["tcp", "udp"], description=_("Protocol"),
                                         value=(protocol or start_proto).lower())
        self.button = widgets.Button(description=_("Probe"), button_style="primary", icon="play",
                                     disabled=not (pod_names and options))
        self.outcome = widgets.HTML()
        self.picture = widgets.HTML()
        self.target.observe(self._on_target, names="value")
        self.button.on_click(lambda _button: self.probe())
        self.box = widgets.VBox([widgets.HBox([self.source, self.target]),
                                 widgets.HBox([self.port, self.protocol, self.button]),
                                 self.outcome, self.picture])
        self._show()

    def _key_for(self, target: str) -> str | None:
        for key in (target, f"pod/{target}", f"svc/{target}"):
            if key in self._targets:
                return key
        return None

    def _on_target(self, change: dict) -> None:
        if change.get("new") in self._targets:
            _name, port, proto = self._targets[change["new"]]
            self.port.value, self.protocol.value = port, proto

    def probe(self) -> "ProbeResult | None":
        """Run the probe the controls describe (what the button does); returns its result."""
        if not self.source.value or not self.target.value:
            return None
        target = self._targets[self.target.value][0]
        self.button.disabled = True
        try:
            self.result = self.lab.probe(self.source.value, target, namespace=self.namespace,
                                         port=int(self.port.value), protocol=self.protocol.value, timeout=self.timeout)
            self.error = None
        except K8snetError as e:
            self.result, self.error = None, str(e)
        finally:
            self.button.disabled = False
        self._show()
        return self.result

    def _show(self) -> None:
        if self.result is not None:
            self.outcome.value = self.result._repr_html_()
        elif self.error:
            self.outcome.value = f'<span style="color:#c62828">{html.escape(self.error)}</span>'
        else:
            self.outcome.value = html.escape(self._prompt())
        if self.show_diagram:
            try:
                svg = topology_diagram(self.lab, namespace=self.namespace, highlight=self.result).svg_inline()
                self.picture.value = f'<div style="overflow:auto;max-width:100%">{svg}</div>'
            except Exception as e:  # noqa: BLE001 — no `dot`, or a lab that went away: say so, keep the widget
                self.picture.value = html.escape(_("(no diagram: {reason})").format(reason=e))

    def _prompt(self) -> str:
        if not self.source.value:
            return _("No pod in namespace {namespace} to probe from.").format(namespace=self.namespace)
        return _("{source} → {target} on {port}/{protocol}: press “Probe”.").format(
            source=self.source.value, target=self.target.value, port=self.port.value,
            protocol=self.protocol.value.upper())

    def text(self) -> str:
        """The explorer's state: the last probe's result, or what a click would probe."""
        head = _("Probe explorer (namespace {namespace})").format(namespace=self.namespace)
        if self.result is not None:
            body = self.result.summary(timing=False)
        elif self.error:
            body = self.error
        else:
            body = self._prompt()
        return f"{head}\n{body}"


def probe_explorer(lab: "Lab", namespace: str = "default", **options: Any) -> ProbeExplorer:
    """A probe explorer: dropdowns for source and destination, port, protocol, a Probe button, the path drawn."""
    return ProbeExplorer(lab, namespace, **options)


# -- the replica slider --------------------------------------------------------------------------------

class ReplicaSlider(LabWidget):
    """Scale a Deployment with a slider; its Service's endpoints and kube-proxy's rules follow."""

    def __init__(self, lab: "Lab", deployment: str, namespace: str = "default", service: str | None = None, *,
                 node: str | None = None, max_replicas: int = 6, settle: float = 30.0) -> None:
        self.lab = lab
        self.deployment = deployment
        self.namespace = namespace
        self.settle = settle
        dep = self._deployment()
        self.service = service or self._guess_service(dep)
        self.node = node or next(iter(sorted(_meta(n).get("name", "") for n in lab.objects("Node"))), None)
        self.proxy_mode = (lab.status().proxy_mode or "iptables") if self.service else None
        current = int(((dep or {}).get("spec") or {}).get("replicas", 1))
        self.replicas = current
        self.message = ""
        self._syncing = False
        self.endpoints_text = ""
        self.rules_text = ""
        self.slider = widgets.IntSlider(value=current, min=0, max=max(max_replicas, current),
                                        description=_("Replicas"), continuous_update=False)
        self.status_line = widgets.HTML()
        self.endpoints_view = widgets.HTML()
        self.rules_view = widgets.HTML()
        self.slider.observe(self._on_slide, names="value")
        self.box = widgets.VBox([self.slider, self.status_line, self.endpoints_view, self.rules_view])
        self.refresh()

    def _ns_args(self) -> list[str]:
        return [] if self.namespace == "default" else ["-n", self.namespace]

    def _deployment(self) -> dict | None:
        return next((d for d in self.lab.objects("Deployment", self.namespace)
                     if _meta(d).get("name") == self.deployment), None)

    def _guess_service(self, dep: dict | None) -> str | None:
        """The first Service (by name) whose selector picks the Deployment's pods."""
        labels = ((((dep or {}).get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
        for svc in sorted(self.lab.objects("Service", self.namespace), key=lambda s: _meta(s).get("name", "")):
            selector = (svc.get("spec") or {}).get("selector") or {}
            if selector and all(labels.get(k) == v for k, v in selector.items()):
                return _meta(svc)["name"]
        return None

    def _on_slide(self, change: dict) -> None:
        if not self._syncing:
            self._apply(int(change["new"]))

    def _set_slider(self, replicas: int) -> None:
        self._syncing = True
        try:
            self.slider.max = max(self.slider.max, replicas)
            self.slider.value = replicas
        finally:
            self._syncing = False

    def scale(self, replicas: int) -> "CommandResult":
        """Scale the Deployment (what moving the slider does) and show endpoints and rules once they follow."""
        self._set_slider(replicas)
        return self._apply(replicas)

    def _apply(self, replicas: int) -> "CommandResult":
        self.slider.disabled = True
        try:
            result = self.lab.kubectl(["scale", f"deployment/{self.deployment}", f"--replicas={replicas}",
                                       *self._ns_args()])
            if result.ok:
                self.replicas = replicas
                self.message = result.stdout.strip()
                self._wait_until_followed(replicas)
            else:
                self.message = str(result)
                self._set_slider(self.replicas)
            self.refresh(keep_message=True)
            return result
        finally:
            self.slider.disabled = False

    # what kube-proxy and the endpoint controller did -------------------------------------------------------
    def ready_endpoints(self) -> set[str]:
        """`ip:port` of the Service's ready endpoints, from its EndpointSlices."""
        out: set[str] = set()
        for sl in self.lab.objects("EndpointSlice", self.namespace):
            if (_meta(sl).get("labels") or {}).get("kubernetes.io/service-name") != self.service:
                continue
            ports = [p.get("port") for p in sl.get("ports") or [] if p.get("port") is not None]
            for ep in sl.get("endpoints") or []:
                if (ep.get("conditions") or {}).get("ready", True) is False:
                    continue
                out.update(f"{a}:{p}" for a in ep.get("addresses") or [] for p in ports)
        return out

    def _wait_until_followed(self, replicas: int) -> None:
        """Wait (bounded by `settle` seconds) until the endpoints, then the node's rules, match the new scale."""
        if not self.service:
            return
        deadline = time.monotonic() + self.settle
        while True:
            ready = self.ready_endpoints()
            addresses = {e.rsplit(":", 1)[0] for e in ready}
            if len(addresses) == replicas or time.monotonic() >= deadline:
                break
            time.sleep(POLL_INTERVAL)
        while True:
            _command, lines = self._rules()
            if set(_DESTINATION.findall("\n".join(lines))) == ready or time.monotonic() >= deadline:
                break
            time.sleep(POLL_INTERVAL)

    def _rules(self) -> tuple[str, list[str]]:
        """The command run on the node and the lines of its output that concern the Service."""
        if not (self.service and self.node):
            return "", []
        if self.proxy_mode == "nftables":
            command = "nft list table ip kube-proxy"
            r = self.lab.node_exec(self.node, command)
            return command, nft_excerpt(r.stdout, self.namespace, self.service) if r.ok else str(r).splitlines()
        if self.proxy_mode == "ipvs":
            command = "ipvsadm -Ln"
            svc = next((s for s in self.lab.objects("Service", self.namespace)
                        if _meta(s).get("name") == self.service), {})
            addresses = [a for a in (svc.get("spec") or {}).get("clusterIPs") or [] if a != "None"]
            r = self.lab.node_exec(self.node, command)
            return command, ipvs_lines(r.stdout, addresses) if r.ok else str(r).splitlines()
        command = "iptables-save -t nat"
        r = self.lab.node_exec(self.node, command)
        return command, iptables_lines(r.stdout, self.namespace, self.service) if r.ok else str(r).splitlines()

    def refresh(self, keep_message: bool = False) -> None:
        """Read the Service's endpoints and the node's kube-proxy rules again, and show them."""
        if not keep_message:
            self.message = ""
        if self.service:
            args = ["get", "endpoints", self.service, *self._ns_args()]
            r = self.lab.kubectl(args)
            self.endpoints_text = f"$ kubectl {' '.join(args)}\n" + (r.stdout.rstrip("\n") if r.ok else str(r))
            command, lines = self._rules()
            head = _("kube-proxy rules ({mode}) for {service} on node {node}").format(
                mode=self.proxy_mode, service=f"{self.namespace}/{self.service}", node=self.node)
            body = "\n".join(lines) if lines else _("(no rule mentions this Service)")
            self.rules_text = f"# {head}\n$ {command}\n{body}"
        else:
            self.endpoints_text = _("No Service selects the pods of deployment/{name}.").format(name=self.deployment)
            self.rules_text = ""
        self.status_line.value = html.escape(self._headline())
        self.endpoints_view.value = _pre(self.endpoints_text)
        self.rules_view.value = _pre(self.rules_text) if self.rules_text else ""

    def _headline(self) -> str:
        line = f"deployment/{self.deployment} — " + _("replicas: {n}").format(n=self.replicas)
        return line + (f" ({self.message})" if self.message else "")

    def text(self) -> str:
        """The Deployment's scale, the Service's endpoints and the node's rules for it, as plain text."""
        parts = [self._headline(), self.endpoints_text]
        if self.rules_text:
            parts.append(self.rules_text)
        return "\n\n".join(parts)


def replica_slider(lab: "Lab", deployment: str, namespace: str = "default", service: str | None = None,
                   **options: Any) -> ReplicaSlider:
    """A slider that scales a Deployment and shows its Service's endpoints and kube-proxy rules following."""
    return ReplicaSlider(lab, deployment, namespace, service, **options)


# -- predict, then probe ----------------------------------------------------------------------------------

class PredictionGrid(LabWidget):
    """The learner predicts who may reach whom, then real probes fill in what the kernel and the evaluator say."""

    CYCLE = {"?": "allowed", "allowed": "denied", "denied": "?"}
    SYMBOL = {"?": "?", "allowed": ".", "denied": "X"}

    def __init__(self, lab: "Lab", namespaces: list[str], *, port: int = 80, protocol: str = "tcp",
                 timeout: float = 0.5) -> None:
        self.lab, self.namespaces, self.port, self.protocol, self.timeout = lab, namespaces, port, protocol, timeout
        self.pods = [f"{ns}/{p['metadata']['name']}" for ns in namespaces for p in lab.pods(ns)
                     if (p.get("status") or {}).get("podIP")]
        self.prediction: dict[tuple[str, str], str] = {(s, t): "?" for s in self.pods for t in self.pods if s != t}
        self.matrix = None
        self.buttons: dict[tuple[str, str], widgets.Button] = {}
        rows = [widgets.HBox([widgets.Label("", layout=widgets.Layout(width="14em"))]
                             + [widgets.Label(str(i), layout=widgets.Layout(width="3em")) for i in range(len(self.pods))])]
        for s in self.pods:
            cells = [widgets.Label(s, layout=widgets.Layout(width="14em"))]
            for t in self.pods:
                if s == t:
                    cells.append(widgets.Label("—", layout=widgets.Layout(width="3em")))
                    continue
                b = widgets.Button(description="?", layout=widgets.Layout(width="3em"))
                b.on_click(lambda _, key=(s, t): self._toggle(key))
                self.buttons[(s, t)] = b
                cells.append(b)
            rows.append(widgets.HBox(cells))
        self.run_button = widgets.Button(description=_("Probe"), button_style="primary")
        self.run_button.on_click(lambda _: self.run())
        self.output = widgets.HTML()
        legend = widgets.HTML(_pre(_("Click a cell to predict: ? → . (allowed) → X (denied). Then press “Probe”.")
                                   + "\n" + "  ".join(f"{i}={p}" for i, p in enumerate(self.pods))))
        self.box = widgets.VBox([legend, *rows, self.run_button, self.output])

    def _toggle(self, key: tuple[str, str]) -> None:
        self.predict({key: self.CYCLE[self.prediction[key]]})

    def predict(self, cells: dict[tuple[str, str], str]) -> "PredictionGrid":
        """Set predictions from code: {("ns/from", "ns/to"): "allowed" | "denied"}."""
        for key, value in cells.items():
            if key not in self.prediction or value not in self.SYMBOL:
                raise K8snetError(_("unknown cell {key} or value {value}").format(key=key, value=value))
            self.prediction[key] = value
            self.buttons[key].description = self.SYMBOL[value]
        return self

    def run(self) -> "PredictionGrid":
        """Probe every pair for real and compare the prediction, the evaluator and the kernel."""
        self.matrix = self.lab.matrix(self.namespaces, ports=[self.port], protocols=[self.protocol],
                                      timeout=self.timeout)
        for c in self.matrix.cells:
            key = (c.source, c.target)
            if key in self.buttons:
                guess = self.prediction[key]
                self.buttons[key].button_style = "" if guess == "?" else ("success" if guess == c.observed else "danger")
        self.output.value = _pre(self.text())
        return self

    @property
    def score(self) -> tuple[int, int]:
        """(right predictions, predicted cells) once probed."""
        if self.matrix is None:
            return 0, 0
        observed = {(c.source, c.target): c.observed for c in self.matrix.cells}
        made = [k for k, v in self.prediction.items() if v != "?"]
        return sum(self.prediction[k] == observed[k] for k in made), len(made)

    def text(self) -> str:
        """The grid as text: per cell, prediction / evaluator / kernel."""
        head = _("{proto}/{port}: prediction / policies / kernel (. allowed, X denied, ? no prediction)").format(
            proto=self.protocol.upper(), port=self.port)
        if self.matrix is None:
            made = sum(v != "?" for v in self.prediction.values())
            return head + "\n" + _("{made} of {total} cells predicted; not probed yet.").format(
                made=made, total=len(self.prediction))
        cells = {(c.source, c.target): c for c in self.matrix.cells}
        width = max(len(p) for p in self.pods)
        lines = [head, " " * (width + 1) + " ".join(f"{i:^5}" for i in range(len(self.pods)))]
        for s in self.pods:
            row = []
            for t in self.pods:
                if s == t:
                    row.append("  —  ")
                    continue
                c = cells[(s, t)]
                row.append(self.SYMBOL[self.prediction[(s, t)]] + "/" + self.SYMBOL[c.expected] + "/"
                           + self.SYMBOL[c.observed])
            lines.append(f"{s:<{width}} " + " ".join(row))
        right, made = self.score
        lines.append("  ".join(f"{i}={p}" for i, p in enumerate(self.pods)))
        lines.append(_("{right} of your {made} predictions match the kernel.").format(right=right, made=made))
        return "\n".join(lines)


def prediction_grid(lab: "Lab", namespaces: list[str] | str = "default", **options: Any) -> PredictionGrid:
    """Predict, then probe: a grid to fill in before real packets show who may reach whom."""
    return PredictionGrid(lab, [namespaces] if isinstance(namespaces, str) else list(namespaces), **options)
