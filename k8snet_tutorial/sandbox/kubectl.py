"""The sandbox's kubectl: kubectl's verbs, flags, output layouts and error texts over the in-memory API.

The control plane keeps plain API dicts; this module is the view a learner sees when typing
`k8snet kubectl get pods -o wide`. Tables follow kubectl's server-side printers
(k8s.io/kubernetes/pkg/printers/internalversion) and its tabwriter (minwidth 6, padding 3);
`describe` follows k8s.io/kubectl/pkg/describe (tabwriter padding 2); ages follow
k8s.io/apimachinery/pkg/util/duration.HumanDuration; label selectors follow
k8s.io/apimachinery/pkg/labels. What is not modelled raises NotModelledError naming the kind backend.
"""
from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any, Callable, Iterable, Protocol

import yaml

from ..errors import NotModelledError
from ..results import CommandResult
from ..labels import (SelectorError, format_label_selector, format_labels, parse_selector, selector_string,
                      validate_label_key, validate_label_value)

KIND_HINT = "the kind backend (K8SNET_BACKEND=kind) runs the real kubectl"


# --------------------------------------------------------------------------------------------
# The API surface the view needs
# --------------------------------------------------------------------------------------------


class ClusterAPI(Protocol):
    """What the sandbox's control plane offers the kubectl view (kinds are canonical: 'Pod', 'Service', ...)."""

    def list(self, kind: str, namespace: str | None = None, selector: str | None = None) -> list[dict]:
        """Objects of a kind (namespace None = all namespaces), filtered by a kubectl label selector string."""

    def get(self, kind: str, namespace: str | None, name: str) -> dict | None:
        """One object, or None when it does not exist."""

    def apply(self, objects: list[dict]) -> list[str]:
        """Create or update objects; lines like 'deployment.apps/web created'."""

    def delete(self, kind: str, namespace: str | None, name: str) -> str:
        """Delete one object; a line like 'pod "x" deleted'."""

    def scale(self, kind: str, namespace: str, name: str, replicas: int) -> str:
        """Set spec.replicas; a line like 'deployment.apps/web scaled'."""

    def patch(self, kind: str, namespace: str | None, name: str, patch: dict) -> str:
        """Apply a JSON merge patch; a line like 'service/x patched'."""

    def label(self, kind: str, namespace: str | None, name: str, labels: dict[str, str | None], overwrite: bool) -> str:
        """Set (or, with None, remove) labels; a line like 'pod/x labeled'."""

    def logs(self, namespace: str, pod: str, container: str | None, tail: int | None) -> str:
        """A container's log text."""

    def expose(self, kind: str, namespace: str, name: str, *, port: int, target_port: int | str | None,
               type: str, service_name: str | None, protocol: str) -> str:
        """Create a Service for an object; a line like 'service/x exposed'."""

    def now(self) -> float:
        """Epoch seconds, for AGE columns."""

    def load_manifests(self, paths: list[str]) -> list[dict]:
        """Objects read from manifest files, directories or URLs."""


class _KubectlError(Exception):
    """An error kubectl itself would print (returncode 1, text on stderr)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text if text.endswith("\n") else text + "\n"


def _not_modelled(what: str, extra: str = "") -> NotModelledError:
    """The error for a kubectl feature the sandbox does not answer."""
    msg = f"{what} is not modelled by the sandbox's kubectl"
    if extra:
        msg += f"; {extra}"
    return NotModelledError(f"{msg}; {KIND_HINT}.")


# --------------------------------------------------------------------------------------------
# Resource types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceType:
    """One API resource the sandbox answers for: its kind, names and group."""

    kind: str
    plural: str
    short: tuple[str, ...]
    group: str
    version: str
    namespaced: bool

    @property
    def singular(self) -> str:
        """The singular resource name (`pod`, `endpoints`)."""
        return self.kind.lower()

    @property
    def group_resource(self) -> str:
        """`pods` or `deployments.apps`, as in NotFound messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def group_kind(self) -> str:
        """`pod` or `deployment.apps`, as in `-o name` and kind-prefixed names."""
        return f"{self.singular}.{self.group}" if self.group else self.singular

    @property
    def api_version(self) -> str:
        """`v1` or `apps/v1`."""
        return f"{self.group}/{self.version}" if self.group else self.version


RESOURCES: tuple[ResourceType, ...] = (
    ResourceType("Pod", "pods", ("po",), "", "v1", True),
    ResourceType("Service", "services", ("svc",), "", "v1", True),
    ResourceType("Endpoints", "endpoints", ("ep",), "", "v1", True),
    ResourceType("EndpointSlice", "endpointslices", (), "discovery.k8s.io", "v1", True),
    ResourceType("Deployment", "deployments", ("deploy",), "apps", "v1", True),
    ResourceType("ReplicaSet", "replicasets", ("rs",), "apps", "v1", True),
    ResourceType("Node", "nodes", ("no",), "", "v1", False),
    ResourceType("Namespace", "namespaces", ("ns",), "", "v1", False),
    ResourceType("NetworkPolicy", "networkpolicies", ("netpol",), "networking.k8s.io", "v1", True),
    ResourceType("Ingress", "ingresses", ("ing",), "networking.k8s.io", "v1", True),
    ResourceType("ConfigMap", "configmaps", ("cm",), "", "v1", True),
)
_BY_KIND = {r.kind: r for r in RESOURCES}
_BY_NAME: dict[str, ResourceType] = {}
for _r in RESOURCES:
    for _n in (_r.plural, _r.singular, *_r.short):
        _BY_NAME[_n] = _r

# kubectl's `all` category, restricted to what exists in the sandbox (the rest cannot be created there).
_ALL_CATEGORY = ("Pod", "Service", "Deployment", "ReplicaSet")

# Real Kubernetes resources the sandbox does not model (names, singulars, short names).
_UNMODELLED_RESOURCES = {
    "secrets": "secrets", "secret": "secrets",
    "statefulsets": "statefulsets", "statefulset": "statefulsets", "sts": "statefulsets",
    "daemonsets": "daemonsets", "daemonset": "daemonsets", "ds": "daemonsets",
    "jobs": "jobs", "job": "jobs", "cronjobs": "cronjobs", "cronjob": "cronjobs", "cj": "cronjobs",
    "persistentvolumes": "persistentvolumes", "persistentvolume": "persistentvolumes", "pv": "persistentvolumes",
    "persistentvolumeclaims": "persistentvolumeclaims", "persistentvolumeclaim": "persistentvolumeclaims",
    "pvc": "persistentvolumeclaims",
    "serviceaccounts": "serviceaccounts", "serviceaccount": "serviceaccounts", "sa": "serviceaccounts",
    "events": "events", "event": "events", "ev": "events",
    "roles": "roles", "role": "roles", "rolebindings": "rolebindings", "rolebinding": "rolebindings",
    "clusterroles": "clusterroles", "clusterrole": "clusterroles",
    "clusterrolebindings": "clusterrolebindings", "clusterrolebinding": "clusterrolebindings",
    "horizontalpodautoscalers": "horizontalpodautoscalers", "horizontalpodautoscaler": "horizontalpodautoscalers",
    "hpa": "horizontalpodautoscalers",
    "ingressclasses": "ingressclasses", "ingressclass": "ingressclasses",
    "storageclasses": "storageclasses", "storageclass": "storageclasses", "sc": "storageclasses",
    "customresourcedefinitions": "customresourcedefinitions", "customresourcedefinition": "customresourcedefinitions",
    "crd": "customresourcedefinitions", "crds": "customresourcedefinitions",
    "poddisruptionbudgets": "poddisruptionbudgets", "poddisruptionbudget": "poddisruptionbudgets",
    "pdb": "poddisruptionbudgets",
    "limitranges": "limitranges", "limitrange": "limitranges", "limits": "limitranges",
    "resourcequotas": "resourcequotas", "resourcequota": "resourcequotas", "quota": "resourcequotas",
    "replicationcontrollers": "replicationcontrollers", "replicationcontroller": "replicationcontrollers",
    "rc": "replicationcontrollers",
    "leases": "leases", "lease": "leases",
    "priorityclasses": "priorityclasses", "priorityclass": "priorityclasses", "pc": "priorityclasses",
    "podtemplates": "podtemplates", "podtemplate": "podtemplates",
    "componentstatuses": "componentstatuses", "componentstatus": "componentstatuses", "cs": "componentstatuses",
    "controllerrevisions": "controllerrevisions", "controllerrevision": "controllerrevisions",
    "csidrivers": "csidrivers", "csinodes": "csinodes", "volumeattachments": "volumeattachments",
    "certificatesigningrequests": "certificatesigningrequests", "csr": "certificatesigningrequests",
    "mutatingwebhookconfigurations": "mutatingwebhookconfigurations",
    "validatingwebhookconfigurations": "validatingwebhookconfigurations",
    "apiservices": "apiservices", "runtimeclasses": "runtimeclasses",
    "gateways": "gateways", "gateway": "gateways", "gtw": "gateways",
    "httproutes": "httproutes", "httproute": "httproutes",
    "gatewayclasses": "gatewayclasses", "gatewayclass": "gatewayclasses",
    "servicecidrs": "servicecidrs", "ipaddresses": "ipaddresses",
}


def resource_for_kind(kind: str) -> ResourceType | None:
    """The resource type of a canonical kind ('Pod'), or None when the sandbox does not model it."""
    return _BY_KIND.get(kind)


def _lookup_resource(token: str) -> ResourceType:
    """Resolve `pods`, `po`, `Pod`, `deployments.apps`, `deploy.v1.apps`; kubectl's error otherwise."""
    low = token.lower()
    base, _, rest = low.partition(".")
    rtype = _BY_NAME.get(base)
    if rtype is not None and rest and rest not in (rtype.group, f"{rtype.version}.{rtype.group}"):
        rtype = None
    if rtype is not None:
        return rtype
    if base in _UNMODELLED_RESOURCES:
        raise _not_modelled(f"The resource type {_UNMODELLED_RESOURCES[base]!r}",
                            "the sandbox keeps only pods, services, endpoints, endpointslices, deployments, "
                            "replicasets, nodes, namespaces, networkpolicies, ingresses and configmaps")
    raise _KubectlError(f'error: the server doesn\'t have a resource type "{token}"')


# --------------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------------

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def parse_timestamp(value: str | None) -> float | None:
    """Epoch seconds of an RFC 3339 timestamp ('2024-05-01T10:00:00Z'), or None when absent or unreadable."""
    if not value:
        return None
    text = str(value).strip().replace("z", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def human_duration(seconds: float) -> str:
    """duration.HumanDuration: 45s, 119s, 2m3s, 10m, 3h4m, 10h, 2d, 5d3h, 400d, 2y, 3y10d."""
    secs = int(seconds)
    if secs < -1:
        return "<invalid>"
    if secs < 0:
        return "0s"
    if secs < 60 * 2:
        return f"{secs}s"
    minutes = secs // 60
    if minutes < 10:
        s = secs % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = secs // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def _since(ts: str | None, now: float) -> str:
    """translateTimestampSince: the age of a timestamp, `<unknown>` when it is missing."""
    when = parse_timestamp(ts)
    return "<unknown>" if when is None else human_duration(now - when)


def _rfc1123z(ts: str | None) -> str:
    """A timestamp as Go's time.RFC1123Z in UTC ('Mon, 02 Jan 2006 15:04:05 +0000')."""
    when = parse_timestamp(ts)
    if when is None:
        return "Mon, 01 Jan 0001 00:00:00 +0000"
    t = datetime.fromtimestamp(when, tz=timezone.utc)
    return f"{_WEEKDAYS[t.weekday()]}, {t.day:02d} {_MONTHS[t.month - 1]} {t.year:04d} {t:%H:%M:%S} +0000"


def _go_time_string(ts: str | None) -> str:
    """A timestamp as Go's time.Time.String() in UTC ('2006-01-02 15:04:05 +0000 UTC')."""
    when = parse_timestamp(ts)
    if when is None:
        return "0001-01-01 00:00:00 +0000 UTC"
    t = datetime.fromtimestamp(when, tz=timezone.utc)
    frac = f"{t.microsecond:06d}".rstrip("0")
    return f"{t:%Y-%m-%d %H:%M:%S}{'.' + frac if frac else ''} +0000 UTC"


# --------------------------------------------------------------------------------------------
# Go's text/tabwriter
# --------------------------------------------------------------------------------------------


def tabwrite(text: str, *, minwidth: int = 6, padding: int = 3) -> str:
    """Align tab-terminated cells the way Go's text/tabwriter does (elastic column blocks, left aligned)."""
    lines = [line.split("\t") for line in text.split("\n")]
    out: list[str] = []
    widths: list[int] = []

    def write_lines(line0: int, line1: int) -> None:
        """Emit lines with the column widths known so far."""
        for i in range(line0, line1):
            cells = lines[i]
            parts: list[str] = []
            for j, cell in enumerate(cells):
                parts.append(cell)
                if j < len(widths) and j < len(cells) - 1:
                    parts.append(" " * (widths[j] - len(cell)))
            out.append("".join(parts))

    def fmt(line0: int, line1: int) -> None:
        """Find the block of lines sharing the next column, size it, recurse (Writer.format)."""
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write_lines(line0, this)
            line0 = this
            width = minwidth
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + padding)
                this += 1
            widths.append(width)
            fmt(line0, this)
            widths.pop()
            line0 = this
        write_lines(line0, line1)

    fmt(0, len(lines))
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Small accessors
# --------------------------------------------------------------------------------------------


def _meta(obj: dict) -> dict:
    """An object's metadata (empty dict when absent)."""
    return obj.get("metadata") or {}


def _name(obj: dict) -> str:
    """metadata.name."""
    return str(_meta(obj).get("name", ""))


def _namespace(obj: dict) -> str:
    """metadata.namespace ('' for cluster-scoped objects)."""
    return str(_meta(obj).get("namespace") or "")


def _labels(obj: dict) -> dict[str, str]:
    """metadata.labels."""
    return dict(_meta(obj).get("labels") or {})


def _dig(obj: Any, *path: str | int, default: Any = None) -> Any:
    """obj[path[0]][path[1]]..., or default when any step is missing."""
    cur = obj
    for step in path:
        if isinstance(step, int):
            if not isinstance(cur, list) or not -len(cur) <= step < len(cur):
                return default
        elif not isinstance(cur, dict) or step not in cur:
            return default
        cur = cur[step]
    return default if cur is None else cur


def _sort_key(obj: dict) -> tuple[str, str]:
    """The API server's list order: namespace, then name."""
    return _namespace(obj), _name(obj)


def _go_bool(value: Any) -> str:
    """Go's %v of a bool."""
    return "true" if value else "false"


def _controller_ref(obj: dict) -> dict | None:
    """The ownerReference with controller: true."""
    for ref in _meta(obj).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def _owned_by(obj: dict, owner: dict, kind: str) -> bool:
    """Whether obj's controller is owner (by uid when both have one, else by kind and name)."""
    ref = _controller_ref(obj)
    if not ref or ref.get("kind") != kind:
        return False
    uid = _meta(owner).get("uid")
    if uid and ref.get("uid"):
        return ref["uid"] == uid
    return ref.get("name") == _name(owner)


# --------------------------------------------------------------------------------------------
# Resource quantities (enough of k8s.io/apimachinery/pkg/api/resource for describe)
# --------------------------------------------------------------------------------------------

_BINARY = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}
_DECIMAL = {"n": Fraction(1, 10 ** 9), "u": Fraction(1, 10 ** 6), "m": Fraction(1, 1000), "": Fraction(1),
            "k": Fraction(10 ** 3), "M": Fraction(10 ** 6), "G": Fraction(10 ** 9), "T": Fraction(10 ** 12),
            "P": Fraction(10 ** 15), "E": Fraction(10 ** 18)}


@dataclass(frozen=True)
class _Quantity:
    """A parsed resource quantity: its exact value and whether it was written with a binary suffix."""

    value: Fraction
    binary: bool = False

    @staticmethod
    def parse(text: Any) -> "_Quantity":
        """Parse '100m', '128Mi', '2', '1e3'."""
        s = str(text).strip()
        m = re.fullmatch(r"([+-]?[0-9.]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?", s)
        if not m:
            return _Quantity(Fraction(0))
        number, suffix = Fraction(m.group(1)), m.group(2) or ""
        if suffix in _BINARY:
            return _Quantity(number * _BINARY[suffix], True)
        if suffix[:1] in ("e", "E") and len(suffix) > 1:
            return _Quantity(number * Fraction(10) ** int(suffix[1:]))
        return _Quantity(number * _DECIMAL[suffix])

    def __add__(self, other: "_Quantity") -> "_Quantity":
        return _Quantity(self.value + other.value, self.binary if self.value else other.binary)

    def __str__(self) -> str:
        v = self.value
        if v == 0:
            return "0"
        if self.binary and v.denominator == 1:
            for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
                if v % _BINARY[suffix] == 0:
                    return f"{v // _BINARY[suffix]}{suffix}"
            return str(v.numerator)
        for suffix in ("E", "P", "T", "G", "M", "k", "", "m", "u", "n"):
            scaled = v / _DECIMAL[suffix]
            if scaled.denominator == 1:
                return f"{scaled.numerator}{suffix}"
        return f"{math.ceil(v * 10 ** 9)}n"


def _pod_requests_limits(pod: dict) -> tuple[dict[str, _Quantity], dict[str, _Quantity]]:
    """resourcehelper.PodRequestsAndLimits: containers summed, then the max with each init container."""
    reqs: dict[str, _Quantity] = {}
    limits: dict[str, _Quantity] = {}
    spec = pod.get("spec") or {}
    for c in spec.get("containers") or []:
        for target, key in ((reqs, "requests"), (limits, "limits")):
            for name, q in (_dig(c, "resources", key) or {}).items():
                target[name] = target.get(name, _Quantity(Fraction(0))) + _Quantity.parse(q)
    for c in spec.get("initContainers") or []:
        for target, key in ((reqs, "requests"), (limits, "limits")):
            for name, q in (_dig(c, "resources", key) or {}).items():
                qq = _Quantity.parse(q)
                if name not in target or qq.value > target[name].value:
                    target[name] = qq
    return reqs, limits


def _pod_qos(pod: dict) -> str:
    """qos.GetPodQOS: status.qosClass, else computed from requests and limits."""
    if _dig(pod, "status", "qosClass"):
        return pod["status"]["qosClass"]
    spec = pod.get("spec") or {}
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
    any_set = False
    guaranteed = True
    for c in containers:
        req = {k: _Quantity.parse(v).value for k, v in (_dig(c, "resources", "requests") or {}).items()
               if k in ("cpu", "memory")}
        lim = {k: _Quantity.parse(v).value for k, v in (_dig(c, "resources", "limits") or {}).items()
               if k in ("cpu", "memory")}
        if any(req.values()) or any(lim.values()):
            any_set = True
        if set(lim) != {"cpu", "memory"} or any(req.get(k, lim[k]) != lim[k] for k in lim):
            guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


# --------------------------------------------------------------------------------------------
# Table printers (pkg/printers/internalversion/printers.go)
# --------------------------------------------------------------------------------------------

_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Pod": (("Name", "Ready", "Status", "Restarts", "Age"), ("IP", "Node", "Nominated Node", "Readiness Gates")),
    "Service": (("Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"), ("Selector",)),
    "Endpoints": (("Name", "Endpoints", "Age"), ()),
    "EndpointSlice": (("Name", "AddressType", "Ports", "Endpoints", "Age"), ()),
    "Deployment": (("Name", "Ready", "Up-to-date", "Available", "Age"), ("Containers", "Images", "Selector")),
    "ReplicaSet": (("Name", "Desired", "Current", "Ready", "Age"), ("Containers", "Images", "Selector")),
    "Node": (("Name", "Status", "Roles", "Age", "Version"),
             ("Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime")),
    "Namespace": (("Name", "Status", "Age"), ()),
    "NetworkPolicy": (("Name", "Pod-Selector", "Age"), ()),
    "Ingress": (("Name", "Class", "Hosts", "Address", "Ports", "Age"), ()),
    "ConfigMap": (("Name", "Data", "Age"), ()),
}
_LOAD_BALANCER_WIDTH = 16


def _container_is_restartable_init(container: dict | None) -> bool:
    """A sidecar: an init container with restartPolicy Always."""
    return bool(container) and container.get("restartPolicy") == "Always"


def _pod_row(pod: dict, now: float, wide: bool) -> list[str]:
    """printPod: NAME READY STATUS RESTARTS AGE [IP NODE NOMINATED NODE READINESS GATES]."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    restarts = sidecar_restarts = 0
    total = len(spec.get("containers") or [])
    ready = 0
    last_restart: float | None = None
    last_sidecar_restart: float | None = None
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    conditions = status.get("conditions") or []
    for cond in conditions:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    inits = {c.get("name"): c for c in spec.get("initContainers") or []}
    total += sum(1 for c in inits.values() if _container_is_restartable_init(c))

    def later(current: float | None, cs: dict) -> float | None:
        """The later of current and this container's last termination."""
        when = parse_timestamp(_dig(cs, "lastState", "terminated", "finishedAt"))
        return when if when is not None and (current is None or when > current) else current

    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += int(cs.get("restartCount") or 0)
        last_restart = later(last_restart, cs)
        sidecar = _container_is_restartable_init(inits.get(cs.get("name")))
        if sidecar:
            sidecar_restarts += int(cs.get("restartCount") or 0)
            last_sidecar_restart = later(last_sidecar_restart, cs)
        term = _dig(cs, "state", "terminated")
        waiting = _dig(cs, "state", "waiting")
        if term is not None and int(term.get("exitCode") or 0) == 0:
            continue
        if sidecar and cs.get("started"):
            ready += 1 if cs.get("ready") else 0
            continue
        if term is not None:
            if not term.get("reason"):
                reason = (f"Init:Signal:{term['signal']}" if term.get("signal")
                          else f"Init:ExitCode:{int(term.get('exitCode') or 0)}")
            else:
                reason = "Init:" + term["reason"]
        elif waiting is not None and waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(spec.get('initContainers') or [])}"
        initializing = True
        break
    initialized = any(c.get("type") == "Initialized" and c.get("status") == "True" for c in conditions)
    if not initializing or initialized:
        restarts, last_restart = sidecar_restarts, last_sidecar_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            last_restart = later(last_restart, cs)
            waiting = _dig(cs, "state", "waiting")
            term = _dig(cs, "state", "terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif term is not None and term.get("reason"):
                reason = term["reason"]
            elif term is not None:
                reason = (f"Signal:{term['signal']}" if term.get("signal")
                          else f"ExitCode:{int(term.get('exitCode') or 0)}")
            elif cs.get("ready") and _dig(cs, "state", "running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            pod_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
            reason = "Running" if pod_ready else "NotReady"
    if _meta(pod).get("deletionTimestamp") and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif _meta(pod).get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    restarts_str = str(restarts)
    if restarts and last_restart is not None:
        restarts_str = f"{restarts} ({human_duration(now - last_restart)} ago)"
    row = [_name(pod), f"{ready}/{total}", reason, restarts_str, _since(_meta(pod).get("creationTimestamp"), now)]
    if wide:
        ips = status.get("podIPs") or []
        ip = (ips[0].get("ip") if ips else status.get("podIP")) or "<none>"
        gates = spec.get("readinessGates") or []
        gate_str = "<none>"
        if gates:
            true_count = 0
            for gate in gates:
                for cond in conditions:
                    if cond.get("type") == gate.get("conditionType"):
                        true_count += cond.get("status") == "True"
                        break
            gate_str = f"{true_count}/{len(gates)}"
        row += [ip, spec.get("nodeName") or "<none>", status.get("nominatedNodeName") or "<none>", gate_str]
    return row


def _lb_status_string(status: dict | None, wide: bool) -> str:
    """loadBalancerStatusStringer: sorted unique IPs/hostnames, clipped to 16 bytes unless wide."""
    found = sorted({i.get("ip") or i.get("hostname") for i in (status or {}).get("ingress") or []
                    if i.get("ip") or i.get("hostname")})
    text = ",".join(found)
    if not wide and len(text) > _LOAD_BALANCER_WIDTH:
        text = text[:_LOAD_BALANCER_WIDTH - 3] + "..."
    return text


def _service_external_ip(svc: dict, wide: bool) -> str:
    """getServiceExternalIP."""
    spec = svc.get("spec") or {}
    svc_type = spec.get("type") or "ClusterIP"
    external = list(spec.get("externalIPs") or [])
    if svc_type in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if svc_type == "LoadBalancer":
        lb = _lb_status_string(_dig(svc, "status", "loadBalancer"), wide)
        if external:
            return ",".join(([*lb.split(",")] if lb else []) + external)
        return lb or "<pending>"
    if svc_type == "ExternalName":
        return spec.get("externalName") or ""
    return "<unknown>"


def _service_ports(ports: list[dict]) -> str:
    """makePortString: 80/TCP, 80:30080/TCP."""
    pieces = []
    for p in ports:
        proto = p.get("protocol") or "TCP"
        piece = f"{p.get('port')}/{proto}"
        if p.get("nodePort"):
            piece = f"{p.get('port')}:{p['nodePort']}/{proto}"
        pieces.append(piece)
    return ",".join(pieces)


def _service_row(svc: dict, now: float, wide: bool) -> list[str]:
    """printService: NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE [SELECTOR]."""
    spec = svc.get("spec") or {}
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    row = [_name(svc), spec.get("type") or "ClusterIP", ips[0] if ips else "<none>", _service_external_ip(svc, wide),
           _service_ports(spec.get("ports") or []) or "<none>", _since(_meta(svc).get("creationTimestamp"), now)]
    if wide:
        row.append(format_labels(spec.get("selector")))
    return row


def _join_host_port(host: str, port: Any) -> str:
    """net.JoinHostPort: brackets around IPv6 addresses."""
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def format_endpoints(endpoints: dict, port_names: set[str] | None = None) -> str:
    """formatEndpoints: up to three ready ip:port pairs, then ' + N more...'; `<none>` when there are no subsets."""
    subsets = endpoints.get("subsets") or []
    if not subsets:
        return "<none>"
    shown: list[str] = []
    more = False
    count = 0
    for ss in subsets:
        addresses = ss.get("addresses") or []
        ports = ss.get("ports") or []
        if not ports:
            count += len(addresses)
            for a in addresses:
                if len(shown) == 3:
                    more = True
                    break
                shown.append(a.get("ip", ""))
            continue
        for p in ports:
            if port_names is None or (p.get("name") or "") in port_names:
                count += len(addresses)
                for a in addresses:
                    if len(shown) == 3:
                        more = True
                        break
                    shown.append(_join_host_port(a.get("ip", ""), p.get("port")))
    text = ",".join(shown)
    if more:
        return f"{text} + {count - 3} more..."
    return text or "<none>"


def _endpoints_row(ep: dict, now: float, wide: bool) -> list[str]:
    """printEndpoints: NAME ENDPOINTS AGE."""
    return [_name(ep), format_endpoints(ep), _since(_meta(ep).get("creationTimestamp"), now)]


def _list_with_more(items: list[str], more: bool, count: int) -> str:
    """listWithMoreString."""
    text = ",".join(items)
    if more:
        return f"{text} + {count - 3} more..."
    return text or "<unset>"


def _endpointslice_row(eps: dict, now: float, wide: bool) -> list[str]:
    """printEndpointSlice: NAME ADDRESSTYPE PORTS ENDPOINTS AGE."""
    ports: list[str] = []
    more_p = False
    for p in eps.get("ports") or []:
        if len(ports) < 3:
            ports.append(str(p["port"]) if p.get("port") is not None else (p.get("name") or "*")
                         if p.get("name") is not None else "*")
        else:
            more_p = True
    addrs: list[str] = []
    more_a = False
    count_a = 0
    for ep in eps.get("endpoints") or []:
        for addr in ep.get("addresses") or []:
            if len(addrs) < 3:
                addrs.append(addr)
            else:
                more_a = True
            count_a += 1
    return [_name(eps), eps.get("addressType") or "", _list_with_more(ports, more_p, len(eps.get("ports") or [])),
            _list_with_more(addrs, more_a, count_a), _since(_meta(eps).get("creationTimestamp"), now)]


def _containers_cells(containers: list[dict]) -> tuple[str, str]:
    """layoutContainerCells: comma-joined names and images."""
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)


def _deployment_row(d: dict, now: float, wide: bool) -> list[str]:
    """printDeployment: NAME READY UP-TO-DATE AVAILABLE AGE [CONTAINERS IMAGES SELECTOR]."""
    spec, status = d.get("spec") or {}, d.get("status") or {}
    desired = spec.get("replicas", 1)
    row = [_name(d), f"{int(status.get('readyReplicas') or 0)}/{int(desired or 0)}",
           str(int(status.get("updatedReplicas") or 0)), str(int(status.get("availableReplicas") or 0)),
           _since(_meta(d).get("creationTimestamp"), now)]
    if wide:
        names, images = _containers_cells(_dig(d, "spec", "template", "spec", "containers", default=[]))
        row += [names, images, selector_string(spec.get("selector"))]
    return row


def _replicaset_row(rs: dict, now: float, wide: bool) -> list[str]:
    """printReplicaSet: NAME DESIRED CURRENT READY AGE [CONTAINERS IMAGES SELECTOR]."""
    spec, status = rs.get("spec") or {}, rs.get("status") or {}
    row = [_name(rs), str(int(spec.get("replicas", 1) or 0)), str(int(status.get("replicas") or 0)),
           str(int(status.get("readyReplicas") or 0)), _since(_meta(rs).get("creationTimestamp"), now)]
    if wide:
        names, images = _containers_cells(_dig(rs, "spec", "template", "spec", "containers", default=[]))
        row += [names, images, format_label_selector(spec.get("selector"))]
    return row


def node_roles(node: dict) -> list[str]:
    """findNodeRoles: node-role.kubernetes.io/<role> labels and kubernetes.io/role=<role>, sorted."""
    roles = set()
    for key, value in _labels(node).items():
        if key.startswith("node-role.kubernetes.io/"):
            role = key[len("node-role.kubernetes.io/"):]
            if role:
                roles.add(role)
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return sorted(roles)


def _node_address(node: dict, kind: str) -> str:
    """The first address of a type, or `<none>`."""
    for addr in _dig(node, "status", "addresses", default=[]):
        if addr.get("type") == kind:
            return addr.get("address", "")
    return "<none>"


def _node_row(node: dict, now: float, wide: bool) -> list[str]:
    """printNode: NAME STATUS ROLES AGE VERSION [INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME]."""
    status: list[str] = []
    for cond in _dig(node, "status", "conditions", default=[]):
        if cond.get("type") == "Ready":
            status = ["Ready" if cond.get("status") == "True" else "NotReady"]
    if not status:
        status = ["Unknown"]
    if _dig(node, "spec", "unschedulable"):
        status.append("SchedulingDisabled")
    info = _dig(node, "status", "nodeInfo", default={})
    row = [_name(node), ",".join(status), ",".join(node_roles(node)) or "<none>",
           _since(_meta(node).get("creationTimestamp"), now), info.get("kubeletVersion", "")]
    if wide:
        row += [_node_address(node, "InternalIP"), _node_address(node, "ExternalIP"),
                info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
                info.get("containerRuntimeVersion") or "<unknown>"]
    return row


def _namespace_row(ns: dict, now: float, wide: bool) -> list[str]:
    """printNamespace: NAME STATUS AGE."""
    return [_name(ns), _dig(ns, "status", "phase", default=""), _since(_meta(ns).get("creationTimestamp"), now)]


def _networkpolicy_row(np_: dict, now: float, wide: bool) -> list[str]:
    """printNetworkPolicy: NAME POD-SELECTOR AGE."""
    return [_name(np_), format_label_selector(_dig(np_, "spec", "podSelector", default={})),
            _since(_meta(np_).get("creationTimestamp"), now)]


def _ingress_row(ing: dict, now: float, wide: bool) -> list[str]:
    """printIngress: NAME CLASS HOSTS ADDRESS PORTS AGE."""
    spec = ing.get("spec") or {}
    rules = spec.get("rules") or []
    hosts: list[str] = []
    more = False
    for rule in rules:
        if len(hosts) == 3:
            more = True
        if not more and rule.get("host"):
            hosts.append(rule["host"])
    host_str = "*" if not hosts else (f"{','.join(hosts)} + {len(rules) - 3} more..." if more else ",".join(hosts))
    ports = "80, 443" if spec.get("tls") else "80"
    return [_name(ing), spec.get("ingressClassName") or "<none>", host_str,
            _lb_status_string(_dig(ing, "status", "loadBalancer"), wide), ports,
            _since(_meta(ing).get("creationTimestamp"), now)]


def _configmap_row(cm: dict, now: float, wide: bool) -> list[str]:
    """printConfigMap: NAME DATA AGE."""
    count = len(cm.get("data") or {}) + len(cm.get("binaryData") or {})
    return [_name(cm), str(count), _since(_meta(cm).get("creationTimestamp"), now)]


_ROW_PRINTERS: dict[str, Callable[[dict, float, bool], list[str]]] = {
    "Pod": _pod_row, "Service": _service_row, "Endpoints": _endpoints_row, "EndpointSlice": _endpointslice_row,
    "Deployment": _deployment_row, "ReplicaSet": _replicaset_row, "Node": _node_row, "Namespace": _namespace_row,
    "NetworkPolicy": _networkpolicy_row, "Ingress": _ingress_row, "ConfigMap": _configmap_row,
}


@dataclass
class _TableOptions:
    """How `kubectl get` prints a table."""

    wide: bool = False
    no_headers: bool = False
    show_labels: bool = False
    with_namespace: bool = False
    with_kind: bool = False
    label_columns: list[str] = field(default_factory=list)


def _cell(text: str) -> str:
    """A cell as the table printer writes it: cut at the first line break, with '...' when cut."""
    m = re.search(r"[\f\n\r]", text)
    return text[:m.start()] + "..." if m else text


def render_table(rtype: ResourceType, objects: list[dict], now: float, opts: _TableOptions) -> str:
    """One kubectl table (header unless --no-headers), aligned like kubectl's tabwriter."""
    base, wide_cols = _COLUMNS[rtype.kind]
    header = [c.upper() for c in base + (wide_cols if opts.wide else ())]
    header += [c.split("/")[-1].upper() for c in opts.label_columns]
    if opts.show_labels:
        header.append("LABELS")
    if opts.with_namespace:
        header.insert(0, "NAMESPACE")
    lines = [] if opts.no_headers else ["\t".join(header)]
    for obj in objects:
        row = _ROW_PRINTERS[rtype.kind](obj, now, opts.wide)
        if opts.with_kind:
            row[0] = f"{rtype.group_kind}/{row[0]}"
        labels = _labels(obj)
        row += [labels.get(c, "") for c in opts.label_columns]
        if opts.show_labels:
            row.append(format_labels(labels))
        if opts.with_namespace:
            row.insert(0, _namespace(obj))
        lines.append("\t".join(_cell(c) for c in row))
    return tabwrite("\n".join(lines) + "\n", minwidth=6, padding=3)


# --------------------------------------------------------------------------------------------
# YAML and JSON as kubectl prints them (sigs.k8s.io/yaml and encoding/json)
# --------------------------------------------------------------------------------------------


class _GoYamlDumper(yaml.SafeDumper):
    """A dumper that quotes like go-yaml v2: double quotes for strings that would read back as another type."""

    def ignore_aliases(self, data: Any) -> bool:
        """Never write YAML anchors: kubectl repeats shared values."""
        return True


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    """go-yaml's string styles: literal for multi-line, double quotes when plain would change the type."""
    if "\n" in data:
        style = "|"
    elif dumper.resolve(yaml.ScalarNode, data, (True, False)) != "tag:yaml.org,2002:str":
        style = '"'
    else:
        style = None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_GoYamlDumper.add_representer(str, _represent_str)


def _plain(obj: Any) -> Any:
    """A JSON-ready copy: integral floats become ints, as the API server's unstructured objects have them."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, float) and obj.is_integer() and abs(obj) < 1e21:
        return int(obj)
    return obj


def to_yaml(obj: Any) -> str:
    """An object as `kubectl -o yaml` prints it (keys sorted, sequences not indented, go-yaml quoting)."""
    return yaml.dump(_plain(obj), Dumper=_GoYamlDumper, sort_keys=True, default_flow_style=False,
                     allow_unicode=True, width=80)


def _go_json_escape(text: str) -> str:
    """encoding/json's HTML-safe escaping of <, > and &, and of U+2028/U+2029."""
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def to_json(obj: Any, indent: int | None = 4) -> str:
    """An object as Go's json.MarshalIndent (indent 4) or json.Marshal (indent None) writes it."""
    if indent is None:
        text = json.dumps(_plain(obj), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    else:
        text = json.dumps(_plain(obj), sort_keys=True, ensure_ascii=False, indent=indent)
    return _go_json_escape(text)


def _strip_managed_fields(obj: dict) -> dict:
    """kubectl hides metadata.managedFields unless --show-managed-fields."""
    if "managedFields" not in _meta(obj):
        return obj
    copy = dict(obj)
    copy["metadata"] = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
    return copy


def _as_list(items: list[dict]) -> dict:
    """The List kubectl prints for several objects."""
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


# --------------------------------------------------------------------------------------------
# JSONPath (k8s.io/client-go/util/jsonpath)
# --------------------------------------------------------------------------------------------


class JSONPathError(ValueError):
    """A JSONPath template that does not parse or cannot be executed."""



@dataclass
class _JPNode:
    """One piece of a template: text, a literal, an expression, or a range with its body."""

    kind: str  # 'text' | 'expr' | 'range'
    text: str = ""
    steps: list[tuple] = field(default_factory=list)
    body: list["_JPNode"] = field(default_factory=list)


def _split_actions(template: str) -> list[tuple[str, str]]:
    """Split a template into ('text', ...) and ('action', ...) parts at braces outside quotes."""
    parts: list[tuple[str, str]] = []
    i = 0
    text_start = 0
    while i < len(template):
        if template[i] != "{":
            i += 1
            continue
        if i > text_start:
            parts.append(("text", template[text_start:i]))
        depth, j, quote = 0, i, ""
        while j < len(template):
            ch = template[j]
            if quote:
                if ch == "\\":
                    j += 1
                elif ch == quote:
                    quote = ""
            elif ch in "\"'":
                quote = ch
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        if j >= len(template):
            raise JSONPathError("unclosed action")
        parts.append(("action", template[i + 1:j]))
        i = text_start = j + 1
    if text_start < len(template):
        parts.append(("text", template[text_start:]))
    return parts


def _unquote(lit: str) -> str:
    """strconv.Unquote of a "..." or '...' literal."""
    if lit[0] == '"':
        try:
            return json.loads(lit, strict=False)
        except ValueError as exc:
            raise JSONPathError(f"invalid string literal {lit}") from exc
    return lit[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")


def parse_jsonpath(template: str) -> list[_JPNode]:
    """Parse a kubectl JSONPath template into nodes (text, expressions, range ... end)."""
    root: list[_JPNode] = []
    stack: list[list[_JPNode]] = [root]
    for kind, content in _split_actions(template):
        if kind == "text":
            stack[-1].append(_JPNode("text", text=content))
            continue
        action = content.strip()
        if action == "end":
            if len(stack) == 1:
                raise JSONPathError("not in range, nothing to end")
            stack.pop()
        elif action.startswith("range ") or action.startswith("range\t"):
            node = _JPNode("range", steps=_parse_path(action[5:].strip()))
            stack[-1].append(node)
            stack.append(node.body)
        elif action[:1] in ("\"", "'") and action[-1:] == action[:1] and len(action) >= 2:
            stack[-1].append(_JPNode("text", text=_unquote(action)))
        else:
            stack[-1].append(_JPNode("expr", steps=_parse_path(action)))
    return root


def _parse_path(expr: str) -> list[tuple]:
    """Steps of a path expression: ('root',), ('current',), ('field', name), ('recursive', name), ('wildcard',),
    ('subscript', spec)."""
    steps: list[tuple] = []
    i = 0
    n = len(expr)
    if expr.startswith("$"):
        steps.append(("root",))
        i = 1
    elif expr.startswith("@"):
        steps.append(("current",))
        i = 1
    while i < n:
        ch = expr[i]
        if ch.isspace():
            i += 1
        elif ch == ".":
            recursive = expr.startswith("..", i)
            i += 2 if recursive else 1
            name, i = _read_field(expr, i)
            if name == "*":
                steps.append(("recursive_wildcard",) if recursive else ("wildcard",))
            elif name:
                steps.append(("recursive", name) if recursive else ("field", name))
            elif not recursive and i >= n:
                pass  # a lone '.' is the current object
            elif not recursive and expr[i] == "[":
                pass
            else:
                raise JSONPathError(f"unrecognized character in action: {expr[i:]!r}")
        elif ch == "[":
            j = _matching_bracket(expr, i)
            steps.append(("subscript", _parse_subscript(expr[i + 1:j])))
            i = j + 1
        elif ch.isalpha() or ch == "_":
            name, i = _read_field(expr, i)
            steps.append(("field", name))
        else:
            raise JSONPathError(f"unrecognized character in action: {expr[i:]!r}")
    return steps


def _read_field(expr: str, i: int) -> tuple[str, int]:
    """A field name up to the next unescaped terminator; backslash escapes (`\\.`) are kept literally."""
    out = []
    while i < len(expr):
        ch = expr[i]
        if ch == "\\" and i + 1 < len(expr):
            out.append(expr[i + 1])
            i += 2
            continue
        if ch in " .,{}[]()=<>!\t":
            break
        out.append(ch)
        i += 1
    return "".join(out), i


def _matching_bracket(expr: str, i: int) -> int:
    """Index of the ']' closing the '[' at i (quotes and nested brackets respected)."""
    depth, quote = 0, ""
    for j in range(i, len(expr)):
        ch = expr[j]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return j
    raise JSONPathError("unclosed array expect ]")


def _parse_subscript(inner: str) -> tuple:
    """[*], [n], [a:b:c], ['name', 'other'], [?(@.x == "y")], [0,2]."""
    s = inner.strip()
    if s == "*":
        return ("all",)
    if s.startswith("?(") and s.endswith(")"):
        return ("filter",) + _parse_filter(s[2:-1])
    if s[:1] in ("'", '"'):
        names = [_unquote(p.strip()) for p in _split_top(s, ",")]
        return ("names", names)
    if ":" in s:
        parts = s.split(":")
        if len(parts) > 3:
            raise JSONPathError(f"invalid array index {s}")
        try:
            nums = [int(p) if p.strip() else None for p in parts] + [None] * (3 - len(parts))
        except ValueError as exc:
            raise JSONPathError(f"invalid array index {s}") from exc
        return ("slice", nums[0], nums[1], nums[2])
    try:
        idx = [int(p) for p in s.split(",")]
    except ValueError as exc:
        raise JSONPathError(f"invalid array index {s}") from exc
    return ("index", idx)


def _split_top(text: str, sep: str) -> list[str]:
    """Split on sep outside quotes."""
    parts, cur, quote = [], [], ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == sep:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return parts


_FILTER_OPS = ("==", "!=", "<=", ">=", "=~", "<", ">")


def _parse_filter(text: str) -> tuple:
    """`@.type=="Ready"` as (left, op, right); `@.x` alone as (left, 'exists', None)."""
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
            continue
        if ch in "\"'":
            quote = ch
            continue
        for op in _FILTER_OPS:
            if text.startswith(op, i):
                return (_filter_operand(text[:i]), op, _filter_operand(text[i + len(op):]))
    return (_filter_operand(text), "exists", None)


def _filter_operand(text: str) -> tuple:
    """('path', steps) or ('literal', value) for one side of a filter."""
    s = text.strip()
    if not s:
        raise JSONPathError("empty filter operand")
    if s[0] in "@$.":
        return ("path", _parse_path(s))
    if s[0] in "\"'" and s[-1] == s[0]:
        return ("literal", _unquote(s))
    if s in ("true", "false"):
        return ("literal", s == "true")
    try:
        return ("literal", int(s))
    except ValueError:
        pass
    try:
        return ("literal", float(s))
    except ValueError as exc:
        raise JSONPathError(f"unrecognized filter operand {s!r}") from exc


class _JPRunner:
    """Executes parsed JSONPath nodes against one object."""

    def __init__(self, root: Any, allow_missing: bool) -> None:
        self.root = root
        self.allow_missing = allow_missing

    def run(self, nodes: list[_JPNode], current: Any) -> list[list[Any]]:
        """Results of each text or expression node, in order (range bodies expanded)."""
        results: list[list[Any]] = []
        for node in nodes:
            if node.kind == "text":
                results.append([node.text])
            elif node.kind == "expr":
                results.append(self.eval(node.steps, current))
            else:
                for item in self.eval(node.steps, current):
                    results.extend(self.run(node.body, item))
        return results

    def eval(self, steps: list[tuple], current: Any) -> list[Any]:
        """The values a path yields from the current object."""
        values = [current]
        for step in steps:
            values = self._step(step, values)
        return values

    def _step(self, step: tuple, values: list[Any]) -> list[Any]:
        kind = step[0]
        if kind == "root":
            return [self.root]
        if kind == "current":
            return values
        if kind == "field":
            out = [v[step[1]] for v in values if isinstance(v, dict) and step[1] in v]
            if not out and values and not self.allow_missing:
                raise JSONPathError(f"{step[1]} is not found")
            return out
        if kind == "wildcard":
            out = []
            for v in values:
                if isinstance(v, dict):
                    out.extend(v[k] for k in sorted(v))
                elif isinstance(v, list):
                    out.extend(v)
            return out
        if kind in ("recursive", "recursive_wildcard"):
            nodes: list[Any] = []
            for v in values:
                _descend(v, nodes)
            if kind == "recursive_wildcard":
                return nodes
            return [n[step[1]] for n in nodes if isinstance(n, dict) and step[1] in n]
        return self._subscript(step[1], values)

    def _subscript(self, spec: tuple, values: list[Any]) -> list[Any]:
        out: list[Any] = []
        for v in values:
            if spec[0] == "names":
                if isinstance(v, dict):
                    for name in spec[1]:
                        if name in v:
                            out.append(v[name])
                        elif not self.allow_missing:
                            raise JSONPathError(f"{name} is not found")
                continue
            if not isinstance(v, list):
                raise JSONPathError(f"{_go_value_text(v)} is not array or slice and cannot be filtered"
                                    if spec[0] == "filter" else f"{_go_value_text(v)} is not array or slice")
            if spec[0] == "all":
                out.extend(v)
            elif spec[0] == "index":
                for idx in spec[1]:
                    real = idx + len(v) if idx < 0 else idx
                    if not 0 <= real < len(v):
                        raise JSONPathError(f"array index out of bounds: index {idx}, length {len(v)}")
                    out.append(v[real])
            elif spec[0] == "slice":
                out.extend(v[slice(spec[1], spec[2], spec[3])])
            else:
                out.extend(item for item in v if self._filter(spec[1:], item))
        return out

    def _filter(self, spec: tuple, item: Any) -> bool:
        left_spec, op, right_spec = spec
        lefts = self._operand(left_spec, item)
        if not lefts:
            return False
        if op == "exists":
            return True
        rights = self._operand(right_spec, item)
        if not rights:
            return False
        if len(lefts) > 1 or len(rights) > 1:
            raise JSONPathError("can only compare one element at a time")
        return _compare(lefts[0], op, rights[0])

    def _operand(self, spec: tuple, item: Any) -> list[Any]:
        if spec[0] == "literal":
            return [spec[1]]
        saved = self.allow_missing
        self.allow_missing = True
        try:
            return self.eval(spec[1], item)
        finally:
            self.allow_missing = saved


def _descend(value: Any, into: list[Any]) -> None:
    """Every node under value (value first), for '..'."""
    into.append(value)
    if isinstance(value, dict):
        for k in sorted(value):
            _descend(value[k], into)
    elif isinstance(value, list):
        for v in value:
            _descend(v, into)


def _compare(left: Any, op: str, right: Any) -> bool:
    """A filter comparison; values of different types never match."""
    if op == "=~":
        return isinstance(left, str) and isinstance(right, str) and re.search(right, left) is not None
    numeric = (int, float)
    if isinstance(left, bool) or isinstance(right, bool):
        same = isinstance(left, bool) and isinstance(right, bool)
    else:
        same = (isinstance(left, numeric) and isinstance(right, numeric)) or type(left) is type(right)
    if not same:
        return op == "!="
    try:
        return {"==": left == right, "!=": left != right, "<": left < right, ">": left > right,
                "<=": left <= right, ">=": left >= right}[op]
    except TypeError:
        return False


def _go_float(value: float) -> str:
    """Go's %v of a float64 (strconv 'g' with the shortest digits: %e from exponent 6 or below -4)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    digits = list(digit_tuple)
    while len(digits) > 1 and digits[-1] == 0:
        digits.pop()
        exponent += 1
    text = "".join(map(str, digits))
    point = len(digits) + int(exponent)
    exp10 = point - 1
    neg = "-" if sign else ""
    if exp10 < -4 or exp10 >= 6:
        frac = "." + text[1:] if len(text) > 1 else ""
        return f"{neg}{text[0]}{frac}e{'+' if exp10 >= 0 else '-'}{abs(exp10):02d}"
    if point <= 0:
        return f"{neg}0.{'0' * -point}{text}"
    if point >= len(text):
        return f"{neg}{text}{'0' * (point - len(text))}"
    return f"{neg}{text[:point]}.{text[point:]}"


def _go_value_text(value: Any) -> str:
    """Go's fmt %v of a decoded JSON value (maps as map[k:v], slices as [a b])."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return _go_bool(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_value_text(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_value_text(v) for v in value) + "]"
    return str(value)


def _jsonpath_text(value: Any) -> str:
    """How JSONPath prints one result: JSON for maps and lists, %v for the rest."""
    if isinstance(value, (dict, list)):
        return to_json(value, indent=None)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _go_value_text(value)


def execute_jsonpath(template: str, obj: Any, *, allow_missing: bool = True, as_json: bool = False) -> str:
    """Run a kubectl JSONPath template over an object and return what `-o jsonpath=...` prints."""
    nodes = parse_jsonpath(template)
    runner = _JPRunner(obj, allow_missing)
    out: list[str] = []
    for group in runner.run(nodes, obj):
        if as_json:
            out.append(to_json(group) + "\n")
        else:
            out.append(" ".join(_jsonpath_text(v) for v in group))
    return "".join(out)


def relaxed_jsonpath(expr: str) -> str:
    """RelaxedJSONPathExpression: 'a.b', '.a.b', '{a.b}' and '{.a.b}' all become '{.a.b}'."""
    if not expr:
        return expr
    m = re.fullmatch(r"\{\.?([^{}]+)\}|\.?([^{}]+)", expr)
    if not m:
        raise JSONPathError("unexpected path string, expected a 'name1.name2' or '.name1.name2' or "
                            "'{name1.name2}' or '{.name1.name2}'")
    return "{." + (m.group(1) or m.group(2)) + "}"


# --------------------------------------------------------------------------------------------
# describe (k8s.io/kubectl/pkg/describe)
# --------------------------------------------------------------------------------------------

_MAX_ANNOTATION_LEN = 140
_SKIP_ANNOTATIONS = {"kubectl.kubernetes.io/last-applied-configuration"}


class _Prefix:
    """describe's PrefixWriter: text at indentation levels of two spaces, aligned by a tabwriter (padding 2)."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def w(self, level: int, text: str) -> None:
        """Write text after `level` indentation steps."""
        self.parts.append("  " * level + text)

    def line(self, text: str) -> None:
        """WriteLine: text and a newline, no indentation."""
        self.parts.append(text + "\n")

    def render(self) -> str:
        """The aligned text."""
        return tabwrite("".join(self.parts), minwidth=0, padding=2)


def _labels_multiline(w: _Prefix, title: str, labels: dict[str, str] | None, initial: str = "",
                      inner: str = "\t") -> None:
    """printLabelsMultilineWithIndent: one `k=v` per line, sorted, `<none>` when empty."""
    w.w(0, f"{initial}{title}:{inner}")
    if not labels:
        w.line("<none>")
        return
    for i, key in enumerate(sorted(labels)):
        if i:
            w.w(0, initial)
            w.w(0, inner)
        w.w(0, f"{key}={labels[key]}\n")


def _annotations_multiline(w: _Prefix, title: str, annotations: dict[str, str] | None) -> None:
    """printAnnotationsMultiline: last-applied-configuration skipped, long values cut at 140 characters."""
    w.w(0, f"{title}:\t")
    keys = sorted(k for k in annotations or {} if k not in _SKIP_ANNOTATIONS)
    if not keys:
        w.line("<none>")
        return
    for i, key in enumerate(keys):
        if i:
            w.w(0, "\t")
        value = str(annotations[key]).removesuffix("\n")
        if len(value) + len(key) + 2 > _MAX_ANNOTATION_LEN or "\n" in value:
            w.w(0, f"{key}:\n")
            for part in value.split("\n"):
                short = part if len(part) <= _MAX_ANNOTATION_LEN - 2 else part[:_MAX_ANNOTATION_LEN - 2] + "..."
                w.w(0, f"\t  {short}\n")
        else:
            w.w(0, f"{key}: {value}\n")


def _tolerations_multiline(w: _Prefix, title: str, tolerations: list[dict] | None) -> None:
    """printTolerationsMultilineWithIndent."""
    w.w(0, f"{title}:\t")
    if not tolerations:
        w.line("<none>")
        return
    for i, t in enumerate(sorted(tolerations, key=lambda t: t.get("key") or "")):
        if i:
            w.w(0, "\t")
        text = t.get("key") or ""
        if t.get("value"):
            text += f"={t['value']}"
        if t.get("effect"):
            text += f":{t['effect']}"
        if t.get("operator") == "Exists" and not t.get("value"):
            text += " op=Exists" if (t.get("key") or t.get("effect")) else "op=Exists"
        if t.get("tolerationSeconds") is not None:
            text += f" for {t['tolerationSeconds']}s"
        w.w(0, text + "\n")


def _taint_string(t: dict) -> str:
    """Taint.ToString: key[=value]:effect."""
    key, value, effect = t.get("key") or "", t.get("value") or "", t.get("effect") or ""
    if not effect:
        return key if not value else f"{key}={value}:"
    return f"{key}:{effect}" if not value else f"{key}={value}:{effect}"


def _events(w: _Prefix, show: bool) -> None:
    """DescribeEvents: the sandbox records no events."""
    if show:
        w.w(0, "Events:\t<none>\n")


def _int_or_string(value: Any) -> str:
    """intstr.IntOrString.String()."""
    return "<nil>" if value is None else str(value)


def _describe_probe(probe: dict) -> str:
    """DescribeProbe: the probe's action and its timing attributes."""
    attrs = (f"delay={int(probe.get('initialDelaySeconds') or 0)}s timeout={int(probe.get('timeoutSeconds') or 1)}s "
             f"period={int(probe.get('periodSeconds') or 10)}s #success={int(probe.get('successThreshold') or 1)} "
             f"#failure={int(probe.get('failureThreshold') or 3)}")
    if probe.get("exec") is not None:
        return f"exec [{' '.join(probe['exec'].get('command') or [])}] {attrs}"
    if probe.get("httpGet") is not None:
        h = probe["httpGet"]
        port = "" if h.get("port") is None else str(h["port"])
        host = _join_host_port(h.get("host") or "", port) if port else (h.get("host") or "")
        return f"http-get {(h.get('scheme') or 'HTTP').lower()}://{host}{h.get('path') or ''} {attrs}"
    if probe.get("tcpSocket") is not None:
        t = probe["tcpSocket"]
        return f"tcp-socket {t.get('host') or ''}:{_int_or_string(t.get('port'))} {attrs}"
    if probe.get("grpc") is not None:
        g = probe["grpc"]
        return f"grpc <pod>:{g.get('port')} {g.get('service') or ''} {attrs}"
    return f"unknown {attrs}"


_FIELD_REF_RE = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


def _field_ref_value(pod: dict | None, path: str) -> str:
    """EnvValueRetriever: the value a downward-API fieldRef resolves to for this pod."""
    if pod is None:
        return ""
    m = _FIELD_REF_RE.match(path)
    if m:
        return str((_meta(pod).get(m.group(1)) or {}).get(m.group(2), ""))
    simple = {
        "metadata.name": ("metadata", "name"), "metadata.namespace": ("metadata", "namespace"),
        "metadata.uid": ("metadata", "uid"), "spec.nodeName": ("spec", "nodeName"),
        "spec.serviceAccountName": ("spec", "serviceAccountName"), "status.hostIP": ("status", "hostIP"),
        "status.podIP": ("status", "podIP"),
    }
    if path in simple:
        return str(_dig(pod, *simple[path], default=""))
    if path == "status.podIPs":
        return ",".join(i.get("ip", "") for i in _dig(pod, "status", "podIPs", default=[]))
    if path == "status.hostIPs":
        return ",".join(i.get("ip", "") for i in _dig(pod, "status", "hostIPs", default=[]))
    return ""


def _resource_field_value(container: dict, ref: dict) -> str:
    """ExtractContainerResourceValue for the common cases (cpu in whole cores rounded up, memory in bytes)."""
    resource = ref.get("resource", "")
    kind, _, name = resource.partition(".")
    raw = _dig(container, "resources", kind, name)
    if raw is None:
        return "node allocatable" if resource in ("limits.cpu", "limits.memory") else "0"
    value = _Quantity.parse(raw).value / _Quantity.parse(ref.get("divisor") or "1").value
    return str(math.ceil(value))


def _describe_containers(w: _Prefix, label: str, containers: list[dict], statuses: list[dict] | None,
                         pod: dict | None, space: str) -> None:
    """describeContainers: one block per container, with its state when statuses are given."""
    by_name = {s.get("name"): s for s in statuses or []}
    w.w(0, f"{space}{label}:{'' if containers else ' <none>'}\n")
    for c in containers:
        status = by_name.get(c.get("name")) if statuses is not None else None
        w.w(1, f"{' ' if space else ''}{c.get('name', '')}:\n")
        if status is not None:
            w.w(2, f"Container ID:\t{status.get('containerID') or ''}\n")
        w.w(2, f"Image:\t{c.get('image') or ''}\n")
        if status is not None:
            w.w(2, f"Image ID:\t{status.get('imageID') or ''}\n")
        ports = ", ".join(f"{p.get('containerPort')}/{p.get('protocol') or 'TCP'}" for p in c.get("ports") or [])
        host_ports = ", ".join(f"{p.get('hostPort') or 0}/{p.get('protocol') or 'TCP'}" for p in c.get("ports") or [])
        w.w(2, f"Ports:\t{ports}\n" if "," in ports else f"Port:\t{ports or '<none>'}\n")
        w.w(2, f"Host Ports:\t{host_ports}\n" if "," in host_ports else f"Host Port:\t{host_ports or '<none>'}\n")
        _describe_command(w, c)
        if status is not None:
            _describe_state(w, "State", status.get("state") or {})
            if _dig(status, "lastState", "terminated") is not None:
                _describe_state(w, "Last State", status["lastState"])
            w.w(2, f"Ready:\t{'True' if status.get('ready') else 'False'}\n")
            w.w(2, f"Restart Count:\t{int(status.get('restartCount') or 0)}\n")
        _describe_resources(w, c.get("resources") or {}, 2)
        for title, key in (("Liveness", "livenessProbe"), ("Readiness", "readinessProbe"), ("Startup", "startupProbe")):
            if c.get(key) is not None:
                w.w(2, f"{title}:\t{_describe_probe(c[key])}\n")
        if c.get("envFrom"):
            _describe_env_from(w, c["envFrom"])
        _describe_env(w, c, pod)
        _describe_mounts(w, c)


def _describe_command(w: _Prefix, c: dict) -> None:
    """describeContainerCommand."""
    for title, key in (("Command", "command"), ("Args", "args")):
        if c.get(key):
            w.w(2, f"{title}:\n")
            for item in c[key]:
                for part in str(item).split("\n"):
                    w.w(3, f"{part}\n")


def _describe_state(w: _Prefix, title: str, state: dict) -> None:
    """describeStatus."""
    if state.get("running") is not None:
        w.w(2, f"{title}:\tRunning\n")
        w.w(3, f"Started:\t{_rfc1123z(state['running'].get('startedAt'))}\n")
    elif state.get("waiting") is not None:
        w.w(2, f"{title}:\tWaiting\n")
        if state["waiting"].get("reason"):
            w.w(3, f"Reason:\t{state['waiting']['reason']}\n")
    elif state.get("terminated") is not None:
        t = state["terminated"]
        w.w(2, f"{title}:\tTerminated\n")
        if t.get("reason"):
            w.w(3, f"Reason:\t{t['reason']}\n")
        if t.get("message"):
            w.w(3, f"Message:\t{t['message']}\n")
        w.w(3, f"Exit Code:\t{int(t.get('exitCode') or 0)}\n")
        if t.get("signal"):
            w.w(3, f"Signal:\t{t['signal']}\n")
        w.w(3, f"Started:\t{_rfc1123z(t.get('startedAt'))}\n")
        w.w(3, f"Finished:\t{_rfc1123z(t.get('finishedAt'))}\n")
    else:
        w.w(2, f"{title}:\tWaiting\n")


def _describe_resources(w: _Prefix, resources: dict, level: int) -> None:
    """describeResources: Limits then Requests, names sorted."""
    for title, key in (("Limits", "limits"), ("Requests", "requests")):
        values = resources.get(key) or {}
        if values:
            w.w(level, f"{title}:\n")
        for name in sorted(values):
            parsed = _Quantity.parse(values[name])
            w.w(level + 1, f"{name}:\t{parsed if parsed.value else values[name]}\n")


def _describe_env_from(w: _Prefix, env_from: list[dict]) -> None:
    """describeContainerEnvFrom."""
    w.w(2, "Environment Variables from:\n")
    for e in env_from:
        if e.get("configMapRef"):
            ref, source = e["configMapRef"], "ConfigMap"
        else:
            ref, source = e.get("secretRef") or {}, "Secret"
        optional = _go_bool(ref.get("optional"))
        if e.get("prefix"):
            w.w(3, f"{ref.get('name', '')}\t{source} with prefix '{e['prefix']}'\tOptional: {optional}\n")
        else:
            w.w(3, f"{ref.get('name', '')}\t{source}\tOptional: {optional}\n")


def _describe_env(w: _Prefix, c: dict, pod: dict | None) -> None:
    """describeContainerEnvVars."""
    env = c.get("env") or []
    w.w(2, "Environment:" + ("" if env else "\t<none>") + "\n")
    for e in env:
        src = e.get("valueFrom")
        if src is None:
            for i, part in enumerate(str(e.get("value", "")).split("\n")):
                w.w(3, f"{e.get('name')}:\t{part}\n" if i == 0 else f"\t{part}\n")
        elif src.get("fieldRef") is not None:
            ref = src["fieldRef"]
            value = _field_ref_value(pod, ref.get("fieldPath", ""))
            w.w(3, f"{e.get('name')}:\t{value} ({ref.get('apiVersion') or 'v1'}:{ref.get('fieldPath', '')})\n")
        elif src.get("resourceFieldRef") is not None:
            ref = src["resourceFieldRef"]
            w.w(3, f"{e.get('name')}:\t{_resource_field_value(c, ref)} ({ref.get('resource', '')})\n")
        elif src.get("secretKeyRef") is not None:
            ref = src["secretKeyRef"]
            w.w(3, f"{e.get('name')}:\t<set to the key '{ref.get('key')}' in secret '{ref.get('name')}'>\t"
                   f"Optional: {_go_bool(ref.get('optional'))}\n")
        elif src.get("configMapKeyRef") is not None:
            ref = src["configMapKeyRef"]
            w.w(3, f"{e.get('name')}:\t<set to the key '{ref.get('key')}' of config map '{ref.get('name')}'>\t"
                   f"Optional: {_go_bool(ref.get('optional'))}\n")


def _describe_mounts(w: _Prefix, c: dict) -> None:
    """describeContainerVolumes."""
    mounts = sorted(c.get("volumeMounts") or [], key=lambda m: m.get("mountPath", ""))
    w.w(2, "Mounts:" + ("" if mounts else "\t<none>") + "\n")
    for m in mounts:
        flags = ["ro" if m.get("readOnly") else "rw"]
        if m.get("subPath"):
            flags.append(f'path="{m["subPath"]}"')
        w.w(3, f"{m.get('mountPath')} from {m.get('name')} ({','.join(flags)})\n")


def _describe_volumes(w: _Prefix, volumes: list[dict] | None, space: str) -> None:
    """describeVolumes for the common sources (emptyDir, hostPath, configMap, secret, projected, downwardAPI, PVC)."""
    if not volumes:
        w.w(0, f"{space}Volumes:\t<none>\n")
        return
    w.w(0, f"{space}Volumes:\n")
    for v in volumes:
        w.w(1, f"{' ' if space else ''}{v.get('name')}:\n")
        if v.get("hostPath") is not None:
            w.w(2, "Type:\tHostPath (bare host directory volume)\n"
                   f"    Path:\t{v['hostPath'].get('path', '')}\n"
                   f"    HostPathType:\t{v['hostPath'].get('type') or '<none>'}\n")
        elif v.get("emptyDir") is not None:
            limit = v["emptyDir"].get("sizeLimit")
            w.w(2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n"
                   f"    Medium:\t{v['emptyDir'].get('medium') or ''}\n"
                   f"    SizeLimit:\t{limit if limit and _Quantity.parse(limit).value > 0 else '<unset>'}\n")
        elif v.get("secret") is not None:
            w.w(2, "Type:\tSecret (a volume populated by a Secret)\n"
                   f"    SecretName:\t{v['secret'].get('secretName', '')}\n"
                   f"    Optional:\t{_go_bool(v['secret'].get('optional'))}\n")
        elif v.get("configMap") is not None:
            w.w(2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n"
                   f"    Name:\t{v['configMap'].get('name', '')}\n"
                   f"    Optional:\t{_go_bool(v['configMap'].get('optional'))}\n")
        elif v.get("persistentVolumeClaim") is not None:
            w.w(2, "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n"
                   f"    ClaimName:\t{v['persistentVolumeClaim'].get('claimName', '')}\n"
                   f"    ReadOnly:\t{_go_bool(v['persistentVolumeClaim'].get('readOnly'))}\n")
        elif v.get("downwardAPI") is not None:
            w.w(2, "Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n")
            for item in v["downwardAPI"].get("items") or []:
                if item.get("fieldRef"):
                    w.w(3, f"{item['fieldRef'].get('fieldPath')} -> {item.get('path')}\n")
                if item.get("resourceFieldRef"):
                    w.w(3, f"{item['resourceFieldRef'].get('resource')} -> {item.get('path')}\n")
        elif v.get("projected") is not None:
            _describe_projected(w, v["projected"])
        else:
            w.w(1, "<unknown>\n")


def _describe_projected(w: _Prefix, projected: dict) -> None:
    """printProjectedVolumeSource."""
    w.w(2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n")
    for source in projected.get("sources") or []:
        if source.get("secret") is not None:
            w.w(2, f"SecretName:\t{source['secret'].get('name', '')}\n"
                   f"    Optional:\t{_go_bool(source['secret'].get('optional'))}\n")
        elif source.get("downwardAPI") is not None:
            w.w(2, "DownwardAPI:\ttrue\n")
        elif source.get("configMap") is not None:
            w.w(2, f"ConfigMapName:\t{source['configMap'].get('name', '')}\n"
                   f"    Optional:\t{_go_bool(source['configMap'].get('optional'))}\n")
        elif source.get("serviceAccountToken") is not None:
            w.w(2, f"TokenExpirationSeconds:\t{source['serviceAccountToken'].get('expirationSeconds', 3600)}\n")


def _describe_pod_template(w: _Prefix, template: dict | None) -> None:
    """DescribePodTemplate."""
    w.w(0, "Pod Template:\n")
    if template is None:
        w.w(1, "<unset>")
        return
    tmeta, tspec = template.get("metadata") or {}, template.get("spec") or {}
    _labels_multiline(w, "  Labels", tmeta.get("labels"))
    if tmeta.get("annotations"):
        _annotations_multiline(w, "  Annotations", tmeta["annotations"])
    if tspec.get("serviceAccountName"):
        w.w(1, f"Service Account:\t{tspec['serviceAccountName']}\n")
    if tspec.get("initContainers"):
        _describe_containers(w, "Init Containers", tspec["initContainers"], None, None, "  ")
    _describe_containers(w, "Containers", tspec.get("containers") or [], None, None, "  ")
    _describe_volumes(w, tspec.get("volumes"), "  ")
    if tspec.get("priorityClassName"):
        w.w(1, f"Priority Class Name:\t{tspec['priorityClassName']}\n")
    _labels_multiline(w, "  Node-Selectors", tspec.get("nodeSelector"))
    _tolerations_multiline(w, "  Tolerations", tspec.get("tolerations"))


@dataclass
class _DescribeContext:
    """What describers may look up besides the object itself."""

    api: ClusterAPI
    now: float
    show_events: bool = True


def describe_pod(pod: dict, ctx: _DescribeContext) -> str:
    """describePod."""
    w = _Prefix()
    meta, spec, status = _meta(pod), pod.get("spec") or {}, pod.get("status") or {}
    w.w(0, f"Name:\t{_name(pod)}\n")
    w.w(0, f"Namespace:\t{_namespace(pod)}\n")
    if spec.get("priority") is not None:
        w.w(0, f"Priority:\t{spec['priority']}\n")
    if spec.get("priorityClassName"):
        w.w(0, f"Priority Class Name:\t{spec['priorityClassName']}\n")
    if spec.get("runtimeClassName"):
        w.w(0, f"Runtime Class Name:\t{spec['runtimeClassName']}\n")
    if spec.get("serviceAccountName"):
        w.w(0, f"Service Account:\t{spec['serviceAccountName']}\n")
    if spec.get("nodeName"):
        w.w(0, f"Node:\t{spec['nodeName']}/{status.get('hostIP') or ''}\n")
    else:
        w.w(0, "Node:\t<none>\n")
    if status.get("startTime"):
        w.w(0, f"Start Time:\t{_rfc1123z(status['startTime'])}\n")
    _labels_multiline(w, "Labels", meta.get("labels"))
    _annotations_multiline(w, "Annotations", meta.get("annotations"))
    if meta.get("deletionTimestamp") and status.get("phase") not in ("Failed", "Succeeded"):
        w.w(0, f"Status:\tTerminating (lasts {_since(meta['deletionTimestamp'], ctx.now)})\n")
        w.w(0, f"Termination Grace Period:\t{int(meta.get('deletionGracePeriodSeconds') or 0)}s\n")
    else:
        w.w(0, f"Status:\t{status.get('phase') or ''}\n")
    if status.get("reason"):
        w.w(0, f"Reason:\t{status['reason']}\n")
    if status.get("message"):
        w.w(0, f"Message:\t{status['message']}\n")
    w.w(0, f"IP:\t{status.get('podIP') or ''}\n")
    ips = status.get("podIPs") or []
    if ips:
        w.w(0, "IPs:\n")
        for ip in ips:
            w.w(1, f"IP:\t{ip.get('ip', '')}\n")
    else:
        w.w(0, "IPs:\t<none>\n")
    ref = _controller_ref(pod)
    if ref:
        w.w(0, f"Controlled By:\t{ref.get('kind')}/{ref.get('name')}\n")
    if status.get("nominatedNodeName"):
        w.w(0, f"NominatedNodeName:\t{status['nominatedNodeName']}\n")
    if spec.get("initContainers"):
        _describe_containers(w, "Init Containers", spec["initContainers"], status.get("initContainerStatuses") or [],
                             pod, "")
    _describe_containers(w, "Containers", spec.get("containers") or [], status.get("containerStatuses") or [], pod, "")
    conditions = status.get("conditions") or []
    if spec.get("readinessGates"):
        w.w(0, "Readiness Gates:\n  Type\tStatus\n")
        for gate in spec["readinessGates"]:
            found = next((c.get("status") for c in conditions if c.get("type") == gate.get("conditionType")), "<none>")
            w.w(1, f"{gate.get('conditionType')} \t{found} \n")
    if conditions:
        w.w(0, "Conditions:\n  Type\tStatus\n")
        for c in conditions:
            w.w(1, f"{c.get('type')} \t{c.get('status')} \n")
    _describe_volumes(w, spec.get("volumes"), "")
    w.w(0, f"QoS Class:\t{_pod_qos(pod)}\n")
    _labels_multiline(w, "Node-Selectors", spec.get("nodeSelector"))
    _tolerations_multiline(w, "Tolerations", spec.get("tolerations"))
    _events(w, ctx.show_events)
    return w.render()


def _format_endpoint_slices(slices: list[dict], port_name: str | None) -> str:
    """formatEndpointSlices: ready endpoints of the slices for one service port name."""
    if not slices:
        return "<none>"
    shown: list[str] = []
    more = False
    count = 0
    for eps in slices:
        endpoints = eps.get("endpoints") or []
        ports = eps.get("ports") or []
        pairs: list[tuple[dict, Any]] = []
        if not ports:
            pairs = [(ep, None) for ep in endpoints]
        else:
            for p in ports:
                if port_name is None or (p.get("name") or "") == port_name:
                    pairs.extend((ep, p.get("port")) for ep in endpoints)
        for ep, port in pairs:
            if len(shown) == 3:
                more = True
            ready = _dig(ep, "conditions", "ready")
            if ready is False or not ep.get("addresses"):
                continue
            if not more:
                addr = ep["addresses"][0]
                shown.append(addr if port is None else _join_host_port(addr, port))
            count += 1
    text = ",".join(shown)
    return f"{text} + {count - 3} more..." if more else text


def _service_slices(svc: dict, ctx: _DescribeContext) -> list[dict]:
    """The service's EndpointSlices; its Endpoints recast as one slice when the API keeps no slices."""
    ns = _namespace(svc)
    slices = ctx.api.list("EndpointSlice", ns, f"kubernetes.io/service-name={_name(svc)}")
    if slices:
        return sorted(slices, key=_name)
    ep = ctx.api.get("Endpoints", ns, _name(svc))
    if not ep:
        return []
    out = []
    for ss in ep.get("subsets") or []:
        endpoints = [{"addresses": [a.get("ip")], "conditions": {"ready": True}} for a in ss.get("addresses") or []]
        endpoints += [{"addresses": [a.get("ip")], "conditions": {"ready": False}}
                      for a in ss.get("notReadyAddresses") or []]
        out.append({"endpoints": endpoints, "ports": ss.get("ports") or []})
    return out


def describe_service(svc: dict, ctx: _DescribeContext) -> str:
    """describeService."""
    w = _Prefix()
    spec = svc.get("spec") or {}
    w.w(0, f"Name:\t{_name(svc)}\n")
    w.w(0, f"Namespace:\t{_namespace(svc)}\n")
    _labels_multiline(w, "Labels", _meta(svc).get("labels"))
    _annotations_multiline(w, "Annotations", _meta(svc).get("annotations"))
    w.w(0, f"Selector:\t{format_labels(spec.get('selector'))}\n")
    w.w(0, f"Type:\t{spec.get('type') or 'ClusterIP'}\n")
    if spec.get("ipFamilyPolicy"):
        w.w(0, f"IP Family Policy:\t{spec['ipFamilyPolicy']}\n")
    w.w(0, f"IP Families:\t{','.join(spec.get('ipFamilies') or []) or '<none>'}\n")
    w.w(0, f"IP:\t{spec.get('clusterIP') or ''}\n")
    w.w(0, f"IPs:\t{','.join(spec.get('clusterIPs') or []) or '<none>'}\n")
    if spec.get("externalIPs"):
        w.w(0, f"External IPs:\t{','.join(spec['externalIPs'])}\n")
    if spec.get("loadBalancerIP"):
        w.w(0, f"Desired LoadBalancer IP:\t{spec['loadBalancerIP']}\n")
    if spec.get("externalName"):
        w.w(0, f"External Name:\t{spec['externalName']}\n")
    lb_ingress = _dig(svc, "status", "loadBalancer", "ingress", default=[])
    if lb_ingress:
        parts = [(i["ip"] + (f" ({i['ipMode']})" if i.get("ipMode") else "")) if i.get("ip") else i.get("hostname", "")
                 for i in lb_ingress]
        w.w(0, f"LoadBalancer Ingress:\t{', '.join(parts)}\n")
    slices = _service_slices(svc, ctx) if spec.get("ports") else []
    for p in spec.get("ports") or []:
        name = p.get("name") or "<unset>"
        proto = p.get("protocol") or "TCP"
        w.w(0, f"Port:\t{name}\t{p.get('port')}/{proto}\n")
        target = p.get("targetPort", p.get("port"))
        w.w(0, f"TargetPort:\t{target}/{proto}\n")
        if p.get("nodePort"):
            w.w(0, f"NodePort:\t{name}\t{p['nodePort']}/{proto}\n")
        w.w(0, f"Endpoints:\t{_format_endpoint_slices(slices, p.get('name') or '')}\n")
    w.w(0, f"Session Affinity:\t{spec.get('sessionAffinity') or 'None'}\n")
    timeout = _dig(spec, "sessionAffinityConfig", "clientIP", "timeoutSeconds")
    if spec.get("sessionAffinity") == "ClientIP" and timeout is not None:
        w.w(0, f"Session Affinity Timeout:\t{timeout}\n")
    if spec.get("externalTrafficPolicy"):
        w.w(0, f"External Traffic Policy:\t{spec['externalTrafficPolicy']}\n")
    if spec.get("internalTrafficPolicy"):
        w.w(0, f"Internal Traffic Policy:\t{spec['internalTrafficPolicy']}\n")
    if spec.get("healthCheckNodePort"):
        w.w(0, f"HealthCheck NodePort:\t{spec['healthCheckNodePort']}\n")
    if spec.get("loadBalancerSourceRanges"):
        w.w(0, f"LoadBalancer Source Ranges:\t{','.join(spec['loadBalancerSourceRanges'])}\n")
    if spec.get("trafficDistribution"):
        w.w(0, f"Traffic Distribution:\t{spec['trafficDistribution']}\n")
    _events(w, ctx.show_events)
    return w.render()


def describe_endpoints(ep: dict, ctx: _DescribeContext) -> str:
    """describeEndpoints."""
    w = _Prefix()
    w.w(0, f"Name:\t{_name(ep)}\n")
    w.w(0, f"Namespace:\t{_namespace(ep)}\n")
    _labels_multiline(w, "Labels", _meta(ep).get("labels"))
    _annotations_multiline(w, "Annotations", _meta(ep).get("annotations"))
    w.w(0, "Subsets:\n")
    for ss in ep.get("subsets") or []:
        w.w(1, f"Addresses:\t{','.join(a.get('ip', '') for a in ss.get('addresses') or []) or '<none>'}\n")
        not_ready = ",".join(a.get("ip", "") for a in ss.get("notReadyAddresses") or [])
        w.w(1, f"NotReadyAddresses:\t{not_ready or '<none>'}\n")
        if ss.get("ports"):
            w.w(1, "Ports:\n")
            w.w(2, "Name\tPort\tProtocol\n")
            w.w(2, "----\t----\t--------\n")
            for p in ss["ports"]:
                w.w(2, f"{p.get('name') or '<unset>'}\t{p.get('port')}\t{p.get('protocol') or 'TCP'}\n")
        w.w(0, "\n")
    _events(w, ctx.show_events)
    return w.render()


def describe_endpointslice(eps: dict, ctx: _DescribeContext) -> str:
    """describeEndpointSliceV1."""
    w = _Prefix()
    w.w(0, f"Name:\t{_name(eps)}\n")
    w.w(0, f"Namespace:\t{_namespace(eps)}\n")
    _labels_multiline(w, "Labels", _meta(eps).get("labels"))
    _annotations_multiline(w, "Annotations", _meta(eps).get("annotations"))
    w.w(0, f"AddressType:\t{eps.get('addressType') or ''}\n")
    if not eps.get("ports"):
        w.w(0, "Ports: <unset>\n")
    else:
        w.w(0, "Ports:\n")
        w.w(1, "Name\tPort\tProtocol\n")
        w.w(1, "----\t----\t--------\n")
        for p in eps["ports"]:
            port = "<unset>" if p.get("port") is None else str(p["port"])
            w.w(1, f"{p.get('name') or '<unset>'}\t{port}\t{p.get('protocol') or 'TCP'}\n")
    if not eps.get("endpoints"):
        w.w(0, "Endpoints: <none>\n")
    else:
        w.w(0, "Endpoints:\n")
        for ep in eps["endpoints"]:
            w.w(1, f"- Addresses:\t{', '.join(ep.get('addresses') or []) or '<none>'}\n")
            w.w(2, "Conditions:\n")
            ready = _dig(ep, "conditions", "ready")
            w.w(3, f"Ready:\t{'<unset>' if ready is None else _go_bool(ready)}\n")
            w.w(2, f"Hostname:\t{ep.get('hostname') if ep.get('hostname') is not None else '<unset>'}\n")
            if ep.get("targetRef"):
                w.w(2, f"TargetRef:\t{ep['targetRef'].get('kind')}/{ep['targetRef'].get('name')}\n")
            w.w(2, f"NodeName:\t{ep.get('nodeName') if ep.get('nodeName') is not None else '<unset>'}\n")
            w.w(2, f"Zone:\t{ep.get('zone') if ep.get('zone') is not None else '<unset>'}\n")
    _events(w, ctx.show_events)
    return w.render()


def _owned_replicasets(d: dict, ctx: _DescribeContext) -> tuple[list[dict], dict | None]:
    """deploymentutil.GetAllReplicaSets: (all old ReplicaSets, the new one) owned by a Deployment."""
    owned = [rs for rs in ctx.api.list("ReplicaSet", _namespace(d)) if _owned_by(rs, d, "Deployment")]
    owned.sort(key=lambda rs: (parse_timestamp(_meta(rs).get("creationTimestamp")) or 0, _name(rs)))
    template = _template_without_hash(_dig(d, "spec", "template", default={}))
    new = next((rs for rs in owned if _template_without_hash(_dig(rs, "spec", "template", default={})) == template),
               None)
    return [rs for rs in owned if rs is not new], new


def _template_without_hash(template: dict) -> dict:
    """A pod template without its pod-template-hash label (EqualIgnoreHash)."""
    t = json.loads(json.dumps(template))
    labels = _dig(t, "metadata", "labels")
    if isinstance(labels, dict):
        labels.pop("pod-template-hash", None)
    return t


def _rs_created(rs: dict) -> str:
    """printReplicaSetsByLabels entry."""
    created = int(_dig(rs, "status", "replicas", default=0))
    return f"{_name(rs)} ({created}/{int(_dig(rs, 'spec', 'replicas', default=1))} replicas created)"


def describe_deployment(d: dict, ctx: _DescribeContext) -> str:
    """describeDeployment."""
    w = _Prefix()
    spec, status = d.get("spec") or {}, d.get("status") or {}
    w.w(0, f"Name:\t{_name(d)}\n")
    w.w(0, f"Namespace:\t{_namespace(d)}\n")
    w.w(0, f"CreationTimestamp:\t{_rfc1123z(_meta(d).get('creationTimestamp'))}\n")
    _labels_multiline(w, "Labels", _meta(d).get("labels"))
    _annotations_multiline(w, "Annotations", _meta(d).get("annotations"))
    w.w(0, f"Selector:\t{selector_string(spec.get('selector'))}\n")
    w.w(0, f"Replicas:\t{int(spec.get('replicas', 1))} desired | {int(status.get('updatedReplicas') or 0)} updated | "
           f"{int(status.get('replicas') or 0)} total | {int(status.get('availableReplicas') or 0)} available | "
           f"{int(status.get('unavailableReplicas') or 0)} unavailable\n")
    strategy = spec.get("strategy") or {}
    w.w(0, f"StrategyType:\t{strategy.get('type') or ''}\n")
    w.w(0, f"MinReadySeconds:\t{int(spec.get('minReadySeconds') or 0)}\n")
    if strategy.get("rollingUpdate") is not None:
        ru = strategy["rollingUpdate"]
        w.w(0, f"RollingUpdateStrategy:\t{_int_or_string(ru.get('maxUnavailable'))} max unavailable, "
               f"{_int_or_string(ru.get('maxSurge'))} max surge\n")
    _describe_pod_template(w, spec.get("template"))
    if status.get("conditions"):
        w.w(0, "Conditions:\n  Type\tStatus\tReason\n")
        w.w(1, "----\t------\t------\n")
        for c in status["conditions"]:
            w.w(1, f"{c.get('type')} \t{c.get('status')}\t{c.get('reason') or ''}\n")
    old, new = _owned_replicasets(d, ctx)
    if old or new:
        w.w(0, f"OldReplicaSets:\t{', '.join(_rs_created(rs) for rs in old) or '<none>'}\n")
        w.w(0, f"NewReplicaSet:\t{_rs_created(new) if new else '<none>'}\n")
    _events(w, ctx.show_events)
    return w.render()


def describe_replicaset(rs: dict, ctx: _DescribeContext) -> str:
    """describeReplicaSet."""
    w = _Prefix()
    spec = rs.get("spec") or {}
    w.w(0, f"Name:\t{_name(rs)}\n")
    w.w(0, f"Namespace:\t{_namespace(rs)}\n")
    w.w(0, f"Selector:\t{format_label_selector(spec.get('selector'))}\n")
    _labels_multiline(w, "Labels", _meta(rs).get("labels"))
    _annotations_multiline(w, "Annotations", _meta(rs).get("annotations"))
    ref = _controller_ref(rs)
    if ref:
        w.w(0, f"Controlled By:\t{ref.get('kind')}/{ref.get('name')}\n")
    current = int(_dig(rs, "status", "replicas", default=0))
    w.w(0, f"Replicas:\t{current} current / {int(spec.get('replicas', 1))} desired\n")
    counts = {"Running": 0, "Pending": 0, "Succeeded": 0, "Failed": 0}
    for pod in ctx.api.list("Pod", _namespace(rs), selector_string(spec.get("selector")) or None):
        if _owned_by(pod, rs, "ReplicaSet"):
            phase = _dig(pod, "status", "phase", default="")
            if phase in counts:
                counts[phase] += 1
    w.w(0, f"Pods Status:\t{counts['Running']} Running / {counts['Pending']} Waiting / {counts['Succeeded']} "
           f"Succeeded / {counts['Failed']} Failed\n")
    _describe_pod_template(w, spec.get("template"))
    if _dig(rs, "status", "conditions"):
        w.w(0, "Conditions:\n  Type\tStatus\tReason\n")
        w.w(1, "----\t------\t------\n")
        for c in rs["status"]["conditions"]:
            w.w(1, f"{c.get('type')} \t{c.get('status')}\t{c.get('reason') or ''}\n")
    _events(w, ctx.show_events)
    return w.render()


def describe_node(node: dict, ctx: _DescribeContext) -> str:
    """describeNode, with the non-terminated pods and their requests."""
    w = _Prefix()
    spec, status = node.get("spec") or {}, node.get("status") or {}
    w.w(0, f"Name:\t{_name(node)}\n")
    w.w(0, f"Roles:\t{','.join(node_roles(node)) or '<none>'}\n")
    _labels_multiline(w, "Labels", _meta(node).get("labels"))
    _annotations_multiline(w, "Annotations", _meta(node).get("annotations"))
    w.w(0, f"CreationTimestamp:\t{_rfc1123z(_meta(node).get('creationTimestamp'))}\n")
    taints = sorted(spec.get("taints") or [], key=lambda t: f"{t.get('effect') or ''},{t.get('key') or ''}")
    w.w(0, "Taints:\t")
    if not taints:
        w.line("<none>")
    for i, t in enumerate(taints):
        w.w(0, ("\t" if i else "") + _taint_string(t) + "\n")
    w.w(0, f"Unschedulable:\t{_go_bool(spec.get('unschedulable'))}\n")
    conditions = status.get("conditions") or []
    heartbeat = next((c.get("lastHeartbeatTime") for c in conditions if c.get("type") == "Ready"), None)
    w.w(0, "Lease:\n")
    w.w(1, f"HolderIdentity:\t{_name(node)}\n")
    w.w(1, "AcquireTime:\t<unset>\n")
    w.w(1, f"RenewTime:\t{_rfc1123z(heartbeat) if heartbeat else '<unset>'}\n")
    if conditions:
        w.w(0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n")
        w.w(1, "----\t------\t-----------------\t------------------\t------\t-------\n")
        for c in conditions:
            w.w(1, f"{c.get('type')} \t{c.get('status')} \t{_rfc1123z(c.get('lastHeartbeatTime'))} \t"
                   f"{_rfc1123z(c.get('lastTransitionTime'))} \t{c.get('reason') or ''} \t{c.get('message') or ''}\n")
    w.w(0, "Addresses:\n")
    for addr in status.get("addresses") or []:
        w.w(1, f"{addr.get('type')}:\t{addr.get('address')}\n")
    for title, key in (("Capacity", "capacity"), ("Allocatable", "allocatable")):
        if status.get(key):
            w.w(0, f"{title}:\n")
            for res in sorted(status[key]):
                w.w(0, f"  {res}:\t{status[key][res]}\n")
    info = status.get("nodeInfo") or {}
    w.w(0, "System Info:\n")
    for title, key in (("Machine ID", "machineID"), ("System UUID", "systemUUID"), ("Boot ID", "bootID"),
                       ("Kernel Version", "kernelVersion"), ("OS Image", "osImage"),
                       ("Operating System", "operatingSystem"), ("Architecture", "architecture"),
                       ("Container Runtime Version", "containerRuntimeVersion"),
                       ("Kubelet Version", "kubeletVersion"), ("Kube-Proxy Version", "kubeProxyVersion")):
        w.w(0, f"  {title}:\t{info.get(key) or ''}\n")
    if spec.get("podCIDR"):
        w.w(0, f"PodCIDR:\t{spec['podCIDR']}\n")
    if spec.get("podCIDRs"):
        w.w(0, f"PodCIDRs:\t{','.join(spec['podCIDRs'])}\n")
    if spec.get("providerID"):
        w.w(0, f"ProviderID:\t{spec['providerID']}\n")
    pods = [p for p in sorted(ctx.api.list("Pod", None), key=_sort_key)
            if _dig(p, "spec", "nodeName") == _name(node) and _dig(p, "status", "phase") not in ("Succeeded", "Failed")]
    _describe_node_resources(w, node, pods, ctx.now)
    _events(w, ctx.show_events)
    return w.render()


def _percent(part: _Quantity, whole: _Quantity) -> int:
    """int64(part / whole * 100), 0 when the whole is unknown."""
    return int(part.value / whole.value * 100) if whole.value else 0


def _describe_node_resources(w: _Prefix, node: dict, pods: list[dict], now: float) -> None:
    """describeNodeResource."""
    status = node.get("status") or {}
    alloc = status.get("allocatable") or status.get("capacity") or {}
    cpu_alloc, mem_alloc = _Quantity.parse(alloc.get("cpu", 0)), _Quantity.parse(alloc.get("memory", 0))
    eph_alloc = _Quantity.parse(alloc.get("ephemeral-storage", 0))
    zero = _Quantity(Fraction(0))
    w.w(0, f"Non-terminated Pods:\t({len(pods)} in total)\n")
    w.w(1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n")
    w.w(1, "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n")
    totals_req: dict[str, _Quantity] = {}
    totals_lim: dict[str, _Quantity] = {}
    for pod in pods:
        req, lim = _pod_requests_limits(pod)
        cr, cl = req.get("cpu", zero), lim.get("cpu", zero)
        mr, ml = req.get("memory", zero), lim.get("memory", zero)
        w.w(1, f"{_namespace(pod)}\t{_name(pod)}\t\t"
               f"{cr} ({_percent(cr, cpu_alloc)}%)\t{cl} ({_percent(cl, cpu_alloc)}%)\t"
               f"{mr} ({_percent(mr, mem_alloc)}%)\t{ml} ({_percent(ml, mem_alloc)}%)\t"
               f"{_since(_meta(pod).get('creationTimestamp'), now)}\n")
        for name, q in req.items():
            totals_req[name] = totals_req.get(name, zero) + q
        for name, q in lim.items():
            totals_lim[name] = totals_lim.get(name, zero) + q
    w.w(0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n")
    w.w(1, "Resource\tRequests\tLimits\n")
    w.w(1, "--------\t--------\t------\n")
    for res, whole in (("cpu", cpu_alloc), ("memory", mem_alloc), ("ephemeral-storage", eph_alloc)):
        r, l_ = totals_req.get(res, zero), totals_lim.get(res, zero)
        w.w(1, f"{res}\t{r} ({_percent(r, whole)}%)\t{l_} ({_percent(l_, whole)}%)\n")
    standard = {"cpu", "memory", "ephemeral-storage", "pods", "storage"}
    for res in sorted(k for k in alloc if k.startswith("hugepages-")):
        r, l_, whole = totals_req.get(res, zero), totals_lim.get(res, zero), _Quantity.parse(alloc[res])
        w.w(1, f"{res}\t{r} ({_percent(r, whole)}%)\t{l_} ({_percent(l_, whole)}%)\n")
    for res in sorted(k for k in alloc if k not in standard and not k.startswith("hugepages-")):
        w.w(1, f"{res}\t{totals_req.get(res, zero)}\t{totals_lim.get(res, zero)}\n")


def describe_namespace(ns: dict, ctx: _DescribeContext) -> str:
    """describeNamespace (the sandbox has no quotas or limit ranges)."""
    w = _Prefix()
    w.w(0, f"Name:\t{_name(ns)}\n")
    _labels_multiline(w, "Labels", _meta(ns).get("labels"))
    _annotations_multiline(w, "Annotations", _meta(ns).get("annotations"))
    w.w(0, f"Status:\t{_dig(ns, 'status', 'phase', default='')}\n")
    w.w(0, "\n")
    w.w(0, "No resource quota.\n")
    w.w(0, "\n")
    w.w(0, "No LimitRange resource.\n")
    return w.render()


def describe_configmap(cm: dict, ctx: _DescribeContext) -> str:
    """The ConfigMap describer (keys sorted, where Go's map order is random)."""
    w = _Prefix()
    w.w(0, f"Name:\t{_name(cm)}\n")
    w.w(0, f"Namespace:\t{_namespace(cm)}\n")
    _labels_multiline(w, "Labels", _meta(cm).get("labels"))
    _annotations_multiline(w, "Annotations", _meta(cm).get("annotations"))
    w.w(0, "\nData\n====\n")
    for key in sorted(cm.get("data") or {}):
        w.w(0, f"{key}:\n----\n")
        w.w(0, f"{cm['data'][key]}\n")
        w.w(0, "\n")
    w.w(0, "\nBinaryData\n====\n")
    for key in sorted(cm.get("binaryData") or {}):
        w.w(0, f"{key}: {len(cm['binaryData'][key])} bytes\n")
    w.w(0, "\n")
    _events(w, ctx.show_events)
    return w.render()


def _policy_peers(w: _Prefix, peers: list[dict], title: str, indent: str) -> None:
    """The From:/To: peers of one NetworkPolicy rule."""
    for peer in peers:
        w.w(0, f"{indent}{title}:\n")
        if peer.get("podSelector") is not None and peer.get("namespaceSelector") is not None:
            w.w(1, f"{indent}NamespaceSelector: {format_label_selector(peer['namespaceSelector'])}\n")
            w.w(1, f"{indent}PodSelector: {format_label_selector(peer['podSelector'])}\n")
        elif peer.get("podSelector") is not None:
            w.w(1, f"{indent}PodSelector: {format_label_selector(peer['podSelector'])}\n")
        elif peer.get("namespaceSelector") is not None:
            w.w(1, f"{indent}NamespaceSelector: {format_label_selector(peer['namespaceSelector'])}\n")
        elif peer.get("ipBlock") is not None:
            w.w(1, f"{indent}IPBlock:\n")
            w.w(2, f"{indent}CIDR: {peer['ipBlock'].get('cidr', '')}\n")
            w.w(2, f"{indent}Except: {', '.join(peer['ipBlock'].get('except') or [])}\n")


def _policy_rules(w: _Prefix, rules: list[dict], peer_key: str, peer_title: str, isolated: str, any_peer: str) -> None:
    """printNetworkPolicySpecIngressFrom / printNetworkPolicySpecEgressTo."""
    indent = "    "
    if not rules:
        w.w(0, f"{indent}{isolated}\n")
        return
    for i, rule in enumerate(rules):
        if not rule.get("ports"):
            w.w(0, f"{indent}To Port: <any> (traffic allowed to all ports)\n")
        for port in rule.get("ports") or []:
            proto = port.get("protocol") or "TCP"
            if port.get("endPort") is None:
                w.w(0, f"{indent}To Port: {_int_or_string(port.get('port'))}/{proto}\n")
            else:
                w.w(0, f"{indent}To Port Range: {_int_or_string(port.get('port'))}-{port['endPort']}/{proto}\n")
        if not rule.get(peer_key):
            w.w(0, f"{indent}{any_peer}\n")
        else:
            _policy_peers(w, rule[peer_key], peer_title, indent)
        if i != len(rules) - 1:
            w.w(0, f"{indent}----------\n")


def describe_networkpolicy(np_: dict, ctx: _DescribeContext) -> str:
    """describeNetworkPolicy (policyTypes defaulted as the API server does)."""
    w = _Prefix()
    spec = np_.get("spec") or {}
    w.w(0, f"Name:\t{_name(np_)}\n")
    w.w(0, f"Namespace:\t{_namespace(np_)}\n")
    w.w(0, f"Created on:\t{_go_time_string(_meta(np_).get('creationTimestamp'))}\n")
    _labels_multiline(w, "Labels", _meta(np_).get("labels"))
    _annotations_multiline(w, "Annotations", _meta(np_).get("annotations"))
    w.w(0, "Spec:\n")
    w.w(1, "PodSelector: ")
    selector = spec.get("podSelector") or {}
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        w.w(2, "<none> (Allowing the specific traffic to all pods in this namespace)\n")
    else:
        w.w(2, f"{format_label_selector(selector)}\n")
    types = spec.get("policyTypes")
    if types is None:
        types = ["Ingress"] + (["Egress"] if spec.get("egress") else [])
    if "Ingress" in types:
        w.w(1, "Allowing ingress traffic:\n")
        _policy_rules(w, spec.get("ingress") or [], "from", "From",
                      "<none> (Selected pods are isolated for ingress connectivity)",
                      "From: <any> (traffic not restricted by source)")
    else:
        w.w(1, "Not affecting ingress traffic\n")
    if "Egress" in types:
        w.w(1, "Allowing egress traffic:\n")
        _policy_rules(w, spec.get("egress") or [], "to", "To",
                      "<none> (Selected pods are isolated for egress connectivity)",
                      "To: <any> (traffic not restricted by destination)")
    else:
        w.w(1, "Not affecting egress traffic\n")
    w.w(1, f"Policy Types: {', '.join(types)}\n")
    return w.render()


_DESCRIBERS: dict[str, Callable[[dict, _DescribeContext], str]] = {
    "Pod": describe_pod, "Service": describe_service, "Endpoints": describe_endpoints,
    "EndpointSlice": describe_endpointslice, "Deployment": describe_deployment, "ReplicaSet": describe_replicaset,
    "Node": describe_node, "Namespace": describe_namespace, "ConfigMap": describe_configmap,
    "NetworkPolicy": describe_networkpolicy,
}


# --------------------------------------------------------------------------------------------
# Flags (spf13/pflag semantics)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Flag:
    """One command-line flag: its names, value kind and whether the sandbox answers it."""

    name: str
    short: str | None = None
    kind: str = "bool"  # bool | str | int | list
    modelled: bool = True
    note: str = ""


def _unmodelled(name: str, short: str | None = None, kind: str = "str", note: str = "") -> _Flag:
    """A real kubectl flag the sandbox refuses with NotModelledError."""
    return _Flag(name, short, kind, modelled=False, note=note)


_GLOBAL_FLAGS = (
    _Flag("namespace", "n", "str"),
    _unmodelled("context", note="the sandbox has a single cluster"),
    _unmodelled("kubeconfig", note="the sandbox has a single cluster"),
    _unmodelled("cluster"), _unmodelled("user"), _unmodelled("server", "s"), _unmodelled("token"),
    _unmodelled("as"), _unmodelled("as-group", kind="list"), _unmodelled("as-uid"),
    _unmodelled("request-timeout"), _unmodelled("v", "v"), _unmodelled("insecure-skip-tls-verify", kind="bool"),
    _unmodelled("certificate-authority"), _unmodelled("client-certificate"), _unmodelled("client-key"),
    _unmodelled("username"), _unmodelled("password"), _unmodelled("tls-server-name"), _unmodelled("cache-dir"),
    _unmodelled("match-server-version", kind="bool"), _unmodelled("profile"), _unmodelled("profile-output"),
    _unmodelled("warnings-as-errors", kind="bool"), _unmodelled("disable-compression", kind="bool"),
    _unmodelled("log-flush-frequency"), _unmodelled("help", "h", kind="bool", note="help texts are kubectl's own"),
)

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def _flag_label(flag: _Flag) -> str:
    """How pflag names a flag in 'invalid argument' errors."""
    return f"-{flag.short}, --{flag.name}" if flag.short else f"--{flag.name}"


def _parse_flags(args: list[str], specs: Iterable[_Flag], verb: str) -> tuple[dict[str, Any], list[str]]:
    """Split args into flag values and positional arguments, pflag style (flags may come anywhere)."""
    specs = list(specs) + list(_GLOBAL_FLAGS)
    by_long = {f.name: f for f in specs}
    by_short = {f.short: f for f in specs if f.short}
    values: dict[str, Any] = {}
    positional: list[str] = []
    usage = f"\nSee 'kubectl {verb} --help' for usage."
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            positional.extend(args[i + 1:])
            break
        if arg.startswith("--") and len(arg) > 2:
            name, eq, value = arg[2:].partition("=")
            flag = by_long.get(name)
            if flag is None:
                raise _KubectlError(f"error: unknown flag: --{name}{usage}")
            if flag.kind != "bool" and not eq:
                if i + 1 >= len(args):
                    raise _KubectlError(f"error: flag needs an argument: --{name}{usage}")
                i += 1
                value = args[i]
            _store_flag(values, flag, value if (eq or flag.kind != "bool") else None)
        elif arg.startswith("-") and len(arg) > 1:
            j = 1
            while j < len(arg):
                flag = by_short.get(arg[j])
                if flag is None:
                    raise _KubectlError(f"error: unknown shorthand flag: '{arg[j]}' in {arg}{usage}")
                rest = arg[j + 1:]
                if flag.kind == "bool":
                    if rest.startswith("="):
                        _store_flag(values, flag, rest[1:])
                        break
                    _store_flag(values, flag, None)
                    j += 1
                    continue
                if rest.startswith("="):
                    value = rest[1:]
                elif rest:
                    value = rest
                else:
                    if i + 1 >= len(args):
                        raise _KubectlError(f"error: flag needs an argument: '{arg[j]}' in {arg}{usage}")
                    i += 1
                    value = args[i]
                _store_flag(values, flag, value)
                break
        else:
            positional.append(arg)
        i += 1
    for name, value in values.items():
        flag = by_long[name]
        if not flag.modelled and value is not False:
            shown = f"--{flag.name}" if name != "v" else "-v"
            raise _not_modelled(f"The flag {shown} of `kubectl {verb}`", flag.note)
    return values, positional


def _store_flag(values: dict[str, Any], flag: _Flag, raw: str | None) -> None:
    """Convert and record one flag value (bool, int, string or repeatable list)."""
    if flag.kind == "bool":
        if raw is None or raw in _TRUE:
            values[flag.name] = True
        elif raw in _FALSE:
            values[flag.name] = False
        else:
            raise _KubectlError(f'error: invalid argument "{raw}" for "{_flag_label(flag)}" flag: '
                                f'strconv.ParseBool: parsing "{raw}": invalid syntax')
    elif flag.kind == "int":
        if not re.fullmatch(r"[+-]?\d+", raw or ""):
            raise _KubectlError(f'error: invalid argument "{raw}" for "{_flag_label(flag)}" flag: '
                                f'strconv.ParseInt: parsing "{raw}": invalid syntax')
        values[flag.name] = int(raw)
    elif flag.kind == "list":
        values.setdefault(flag.name, []).append(raw or "")
    else:
        values[flag.name] = raw or ""


# --------------------------------------------------------------------------------------------
# Shared pieces of the verbs
# --------------------------------------------------------------------------------------------


@dataclass
class _Out:
    """What a verb printed and its exit status."""

    stdout: str = ""
    stderr: str = ""
    returncode: int = 0


@dataclass
class _Inv:
    """One kubectl invocation: the API, the verb, its flags and positional arguments."""

    api: ClusterAPI
    verb: str
    flags: dict[str, Any]
    pos: list[str]

    @property
    def namespace(self) -> str:
        """The namespace from -n, else `default`."""
        return self.flags.get("namespace") or "default"

    def ns_for(self, rtype: ResourceType, all_namespaces: bool = False) -> str | None:
        """The namespace to ask the API for (None for cluster-scoped kinds or -A)."""
        if not rtype.namespaced or all_namespaces:
            return None
        return self.namespace


def _not_found(rtype: ResourceType, name: str) -> str:
    """The API server's NotFound error as kubectl prints it."""
    return f'Error from server (NotFound): {rtype.group_resource} "{name}" not found'


def _gvr(rtype: ResourceType) -> str:
    """A GroupVersionResource as the API server's messages print it ('/v1, Resource=pods')."""
    return f"{rtype.group}/{rtype.version}, Resource={rtype.plural}"


def _dedupe(items: Iterable[Any]) -> list[Any]:
    """Items in order, first occurrence only."""
    return list(dict.fromkeys(items))


_NO_RESOURCE = ('You must specify the type of resource to {verb}. Use "kubectl api-resources" for a complete list '
                'of supported resources.\n\nerror: Required resource not specified.\nUse "kubectl explain <resource>" '
                "for a detailed description of that resource (e.g. kubectl explain pods).\n"
                "See 'kubectl {verb} -h' for help and examples")


@dataclass
class _Targets:
    """Resource types and names named on the command line."""

    groups: list[tuple[ResourceType, list[str]]]
    named: bool
    multiple_types: bool
    single_item: bool


def _parse_targets(pos: list[str], verb: str) -> _Targets:
    """`TYPE`, `TYPE NAME...`, `TYPE1,TYPE2`, `TYPE/NAME...` as (resource type, names) groups."""
    if not pos:
        raise _KubectlError(_NO_RESOURCE.format(verb=verb))
    if any("/" in p for p in pos):
        if not all("/" in p for p in pos):
            raise _KubectlError("error: there is no need to specify a resource type as a separate argument when "
                                "passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' "
                                "instead of 'kubectl get resource resource/<resource_name>'")
        groups: list[tuple[ResourceType, list[str]]] = []
        for p in pos:
            type_part, _, name = p.partition("/")
            if not type_part or not name or "/" in name:
                raise _KubectlError("error: arguments in resource/name form must have a single resource and name")
            rtype = _lookup_resource(type_part)
            if groups and groups[-1][0] == rtype:
                groups[-1][1].append(name)
            else:
                groups.append((rtype, [name]))
        kinds = {p.partition("/")[0] for p in pos}
        return _Targets(groups, True, len(kinds) > 1, len(pos) == 1)
    types = [t for t in _dedupe(pos[0].split(",")) if t]
    if not types:
        raise _KubectlError(_NO_RESOURCE.format(verb=verb))
    rtypes: list[ResourceType] = []
    for t in types:
        if t.lower() == "all":
            rtypes.extend(_BY_KIND[k] for k in _ALL_CATEGORY)
        else:
            rtypes.append(_lookup_resource(t))
    names = pos[1:]
    multiple = any(t.lower() == "all" for t in types) or len(types) > 1
    groups = [(r, list(names)) for r in _dedupe(rtypes)]
    return _Targets(groups, bool(names), multiple, len(names) == 1 and len(groups) == 1 and not multiple)


def _check_selector(selector: str | None, rtype: ResourceType, field_selector: str = "") -> str | None:
    """Validate a -l selector the way the API server does; kubectl's BadRequest text otherwise."""
    if selector is None:
        return None
    try:
        parse_selector(selector)
    except SelectorError as exc:
        raise _KubectlError(f'Error from server (BadRequest): Unable to find "{_gvr(rtype)}" that match label '
                            f'selector "{selector}", field selector "{field_selector}": {exc}') from exc
    return selector


_FIELDS: dict[str, dict[str, Callable[[dict], str]]] = {
    "Pod": {
        "spec.nodeName": lambda o: str(_dig(o, "spec", "nodeName", default="")),
        "spec.restartPolicy": lambda o: str(_dig(o, "spec", "restartPolicy", default="")),
        "spec.schedulerName": lambda o: str(_dig(o, "spec", "schedulerName", default="")),
        "spec.serviceAccountName": lambda o: str(_dig(o, "spec", "serviceAccountName", default="")),
        "spec.hostNetwork": lambda o: _go_bool(_dig(o, "spec", "hostNetwork", default=False)),
        "status.phase": lambda o: str(_dig(o, "status", "phase", default="")),
        "status.podIP": lambda o: str(_dig(o, "status", "podIP", default="")),
        "status.nominatedNodeName": lambda o: str(_dig(o, "status", "nominatedNodeName", default="")),
    },
    "Service": {"spec.clusterIP": lambda o: str(_dig(o, "spec", "clusterIP", default="")),
                "spec.type": lambda o: str(_dig(o, "spec", "type", default=""))},
    "Node": {"spec.unschedulable": lambda o: _go_bool(_dig(o, "spec", "unschedulable", default=False))},
    "Namespace": {"status.phase": lambda o: str(_dig(o, "status", "phase", default=""))},
    "ReplicaSet": {"status.replicas": lambda o: str(_dig(o, "status", "replicas", default=0))},
}


def _field_filter(expr: str | None, rtype: ResourceType, label_selector: str | None) -> Callable[[dict], bool]:
    """A --field-selector as a predicate (metadata.name, metadata.namespace and each kind's indexed fields)."""
    if not expr:
        return lambda obj: True
    getters: dict[str, Callable[[dict], str]] = {"metadata.name": _name, "metadata.namespace": _namespace}
    getters.update(_FIELDS.get(rtype.kind, {}))
    terms: list[tuple[Callable[[dict], str], bool, str]] = []
    for term in expr.split(","):
        m = re.fullmatch(r"\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*", term)
        if not m:
            raise _KubectlError(f'Error from server (BadRequest): Unable to find "{_gvr(rtype)}" that match label '
                                f'selector "{label_selector or ""}", field selector "{expr}": invalid selector: '
                                f"'{expr}'; can't understand '{term}'")
        key, op, value = m.groups()
        if key not in getters:
            raise _KubectlError(f'Error from server (BadRequest): Unable to find "{_gvr(rtype)}" that match label '
                                f'selector "{label_selector or ""}", field selector "{expr}": field label not '
                                f"supported: {key}")
        terms.append((getters[key], op != "!=", value))
    return lambda obj: all((get(obj) == value) == eq for get, eq, value in terms)


def _list_objects(inv: _Inv, rtype: ResourceType, all_namespaces: bool, selector: str | None,
                  field_selector: str | None = None) -> list[dict]:
    """Objects of a type as the API server lists them (sorted by namespace and name), selectors applied."""
    _check_selector(selector, rtype, field_selector or "")
    keep = _field_filter(field_selector, rtype, selector)
    objs = inv.api.list(rtype.kind, inv.ns_for(rtype, all_namespaces), selector)
    return sorted((o for o in objs if keep(o)), key=_sort_key)


def _no_resources(inv: _Inv, rtypes: Iterable[ResourceType], all_namespaces: bool) -> str:
    """kubectl's message for an empty result."""
    if not all_namespaces and all(r.namespaced for r in rtypes):
        return f"No resources found in {inv.namespace} namespace.\n"
    return "No resources found\n"


def _collect(inv: _Inv, targets: _Targets, *, all_namespaces: bool, selector: str | None,
             field_selector: str | None = None, ignore_not_found: bool = False, select_all: bool = True,
             ) -> tuple[list[tuple[ResourceType, dict]], list[str]]:
    """Fetch what the targets name: (resource type, object) pairs and NotFound errors."""
    if targets.named and (selector or field_selector):
        raise _KubectlError("error: name cannot be provided when a selector is specified")
    if targets.named and all_namespaces:
        raise _KubectlError("error: a resource cannot be retrieved by name across all namespaces")
    items: list[tuple[ResourceType, dict]] = []
    errors: list[str] = []
    for rtype, names in targets.groups:
        if names:
            for name in names:
                obj = inv.api.get(rtype.kind, inv.ns_for(rtype), name)
                if obj is not None:
                    items.append((rtype, obj))
                elif not ignore_not_found:
                    errors.append(_not_found(rtype, name))
        elif select_all:
            items.extend((rtype, o) for o in _list_objects(inv, rtype, all_namespaces, selector, field_selector))
    return items, errors


# --------------------------------------------------------------------------------------------
# get
# --------------------------------------------------------------------------------------------

_GET_FLAGS = (
    _Flag("all-namespaces", "A"), _Flag("selector", "l", "str"), _Flag("output", "o", "str"),
    _Flag("show-labels"), _Flag("no-headers"), _Flag("label-columns", "L", "list"),
    _Flag("field-selector", kind="str"), _Flag("ignore-not-found"), _Flag("show-kind"),
    _Flag("sort-by", kind="str"), _Flag("show-managed-fields"), _Flag("chunk-size", kind="str"),
    _Flag("allow-missing-template-keys"), _Flag("server-print"),
    _unmodelled("watch", "w", "bool", "the sandbox's objects are read once; run the command again to see changes"),
    _unmodelled("watch-only", kind="bool"), _unmodelled("output-watch-events", kind="bool"),
    _unmodelled("filename", "f", "list"), _unmodelled("recursive", "R", "bool"), _unmodelled("kustomize", "k"),
    _unmodelled("raw"), _unmodelled("template"), _unmodelled("subresource"),
)

_OUTPUT_FORMATS = ("custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,"
                   "jsonpath-file,name,template,templatefile,wide,yaml")


@dataclass(frozen=True)
class _OutputFormat:
    """A parsed -o value."""

    kind: str  # table | wide | yaml | json | name | jsonpath | jsonpath-as-json | custom-columns
    template: str = ""

    @staticmethod
    def parse(value: str | None) -> "_OutputFormat":
        """Parse -o, with kubectl's errors for unknown or empty formats."""
        if value is None or value == "":
            return _OutputFormat("table")
        if value in ("wide", "yaml", "json", "name"):
            return _OutputFormat(value)
        name, eq, template = value.partition("=")
        if name in ("jsonpath", "jsonpath-as-json", "custom-columns"):
            if not template:
                if name == "custom-columns":
                    raise _KubectlError("error: custom-columns format specified but no custom columns given")
                raise _KubectlError("error: template format specified but no template given")
            return _OutputFormat(name, template)
        if name in ("go-template", "go-template-file", "template", "templatefile", "jsonpath-file",
                    "custom-columns-file"):
            raise _not_modelled(f"The output format -o {name}", "-o jsonpath=..., -o custom-columns=..., -o yaml, "
                                "-o json, -o name and -o wide are answered")
        raise _KubectlError(f'error: unable to match a printer suitable for the output format "{value}", allowed '
                            f"formats are: {_OUTPUT_FORMATS}")


def _cmd_get(inv: _Inv) -> _Out:
    """kubectl get."""
    flags = inv.flags
    out_fmt = _OutputFormat.parse(flags.get("output"))
    all_ns = bool(flags.get("all-namespaces"))
    targets = _parse_targets(inv.pos, "get")
    items, errors = _collect(inv, targets, all_namespaces=all_ns, selector=flags.get("selector"),
                             field_selector=flags.get("field-selector"),
                             ignore_not_found=bool(flags.get("ignore-not-found")))
    if flags.get("sort-by"):
        items = _sort_items(items, flags["sort-by"])
    if not flags.get("show-managed-fields"):
        items = [(r, _strip_managed_fields(o)) for r, o in items]
    stderr = "".join(e + "\n" for e in errors)
    if out_fmt.kind in ("table", "wide"):
        stdout = _get_tables(inv, items, out_fmt.kind == "wide", all_ns, targets)
        if not items and not errors and not flags.get("ignore-not-found"):
            stderr += _no_resources(inv, [r for r, _ in targets.groups], all_ns)
    else:
        if errors and targets.single_item:
            return _Out("", stderr, 1)
        stdout, err = _get_generic(out_fmt, items, targets.single_item, flags)
        stderr += err
        if err:
            return _Out(stdout, stderr, 1)
    return _Out(stdout, stderr, 1 if errors else 0)


def _get_tables(inv: _Inv, items: list[tuple[ResourceType, dict]], wide: bool, all_ns: bool,
                targets: _Targets) -> str:
    """Tables for each run of objects of one type, separated by blank lines."""
    flags = inv.flags
    label_columns = [c for spec in flags.get("label-columns") or [] for c in spec.split(",") if c]
    with_kind = bool(flags.get("show-kind")) or targets.multiple_types or len({r for r, _ in items}) > 1
    blocks: list[str] = []
    i = 0
    now = inv.api.now()
    while i < len(items):
        rtype = items[i][0]
        j = i
        while j < len(items) and items[j][0] == rtype:
            j += 1
        opts = _TableOptions(wide=wide, no_headers=bool(flags.get("no-headers")),
                             show_labels=bool(flags.get("show-labels")), with_namespace=all_ns and rtype.namespaced,
                             with_kind=with_kind, label_columns=label_columns)
        blocks.append(render_table(rtype, [o for _, o in items[i:j]], now, opts))
        i = j
    return ("" if flags.get("no-headers") else "\n").join(blocks)


def _get_generic(fmt: _OutputFormat, items: list[tuple[ResourceType, dict]], single: bool,
                 flags: dict[str, Any]) -> tuple[str, str]:
    """-o yaml, json, name, jsonpath and custom-columns: (stdout, stderr)."""
    objs = [o for _, o in items]
    if fmt.kind == "name":
        return "".join(f"{r.group_kind}/{_name(o)}\n" for r, o in items), ""
    if fmt.kind == "custom-columns":
        return _custom_columns(fmt.template, objs, bool(flags.get("no-headers"))), ""
    target = objs[0] if single and len(objs) == 1 else _as_list(objs)
    if fmt.kind == "yaml":
        return to_yaml(target), ""
    if fmt.kind == "json":
        return to_json(target) + "\n", ""
    allow_missing = flags.get("allow-missing-template-keys", True)
    try:
        parse_jsonpath(fmt.template)
    except JSONPathError as exc:
        return "", f"error: error parsing jsonpath {fmt.template}, {exc}\n"
    try:
        return execute_jsonpath(fmt.template, target, allow_missing=allow_missing,
                                as_json=fmt.kind == "jsonpath-as-json"), ""
    except JSONPathError as exc:
        return "", (f'error: error executing jsonpath "{fmt.template}": Error executing template: {exc}. Printing '
                    f"more information for debugging the template:\n\ttemplate was:\n\t\t{fmt.template}\n")


def _custom_columns(spec: str, objs: list[dict], no_headers: bool) -> str:
    """-o custom-columns=HEADER:.path,...: one row per object, `<none>` for missing values."""
    columns: list[tuple[str, list[_JPNode]]] = []
    for part in spec.split(","):
        header, colon, path = part.partition(":")
        if not colon:
            raise _KubectlError(f"error: unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>")
        try:
            columns.append((header, parse_jsonpath(relaxed_jsonpath(path))))
        except JSONPathError as exc:
            raise _KubectlError(f"error: {exc}") from exc
    lines = [] if no_headers else ["\t".join(h for h, _ in columns)]
    for obj in objs:
        cells = []
        for _, nodes in columns:
            groups = _JPRunner(obj, True).run(nodes, obj)
            values = [v for g in groups for v in g]
            cells.append(",".join(_go_value_text(v) for v in values) if values else "<none>")
        lines.append("\t".join(cells))
    return tabwrite("\n".join(lines) + "\n", minwidth=6, padding=3)


def _sort_items(items: list[tuple[ResourceType, dict]], expr: str) -> list[tuple[ResourceType, dict]]:
    """--sort-by: order by the first value a relaxed JSONPath yields (objects without it first)."""
    try:
        nodes = parse_jsonpath(relaxed_jsonpath(expr))
    except JSONPathError as exc:
        raise _KubectlError(f"error: {exc}") from exc

    def key(item: tuple[ResourceType, dict]) -> tuple:
        """Missing values first, then numbers and timestamps, then text."""
        values = [v for g in _JPRunner(item[1], True).run(nodes, item[1]) for v in g]
        if not values:
            return (0, 0, "")
        v = values[0]
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return (1, v, "")
        if isinstance(v, str) and (t := parse_timestamp(v)) is not None and re.match(r"\d{4}-\d\d-\d\dT", v):
            return (1, t, "")
        return (2, 0, _go_value_text(v))

    return sorted(items, key=key)


# --------------------------------------------------------------------------------------------
# describe
# --------------------------------------------------------------------------------------------

_DESCRIBE_FLAGS = (
    _Flag("all-namespaces", "A"), _Flag("selector", "l", "str"), _Flag("show-events"), _Flag("chunk-size", kind="str"),
    _unmodelled("filename", "f", "list"), _unmodelled("recursive", "R", "bool"), _unmodelled("kustomize", "k"),
)


def _cmd_describe(inv: _Inv) -> _Out:
    """kubectl describe (with kubectl's name-prefix matching for `describe TYPE NAME`)."""
    all_ns = bool(inv.flags.get("all-namespaces"))
    targets = _parse_targets(inv.pos, "describe")
    for rtype, _ in targets.groups:
        if rtype.kind not in _DESCRIBERS:
            raise _not_modelled(f"`kubectl describe {rtype.plural}`", f"`kubectl get {rtype.plural} -o yaml` shows "
                                "the whole object")
    ctx = _DescribeContext(inv.api, inv.api.now(), inv.flags.get("show-events", True))
    items, errors = _collect(inv, targets, all_namespaces=all_ns, selector=inv.flags.get("selector"))
    if errors and len(inv.pos) == 2 and "/" not in inv.pos[0] and len(targets.groups) == 1:
        rtype, names = targets.groups[0]
        matches = [o for o in _list_objects(inv, rtype, False, None) if _name(o).startswith(names[0])]
        if matches:
            items, errors = [(rtype, o) for o in matches], []
    texts = [_DESCRIBERS[r.kind](o, ctx) for r, o in items]
    stderr = "".join(e + "\n" for e in errors)
    if not items and not errors:
        stderr += _no_resources(inv, [r for r, _ in targets.groups], all_ns)
    return _Out("\n\n".join(texts), stderr, 1 if errors else 0)


# --------------------------------------------------------------------------------------------
# logs
# --------------------------------------------------------------------------------------------

_LOGS_FLAGS = (
    _Flag("container", "c", "str"), _Flag("tail", kind="int"), _Flag("selector", "l", "str"),
    _Flag("all-containers"), _Flag("prefix"), _Flag("ignore-errors"), _Flag("max-log-requests", kind="str"),
    _Flag("pod-running-timeout", kind="str"),
    _unmodelled("follow", "f", "bool", "logs are read once; run the command again for newer lines"),
    _unmodelled("previous", "p", "bool", "the sandbox keeps no logs of terminated containers"),
    _unmodelled("timestamps", kind="bool"), _unmodelled("since"), _unmodelled("since-time"),
    _unmodelled("limit-bytes"), _unmodelled("insecure-skip-tls-verify-backend", kind="bool"),
)


def _logging_order(pod: dict) -> tuple:
    """podutils.ByLogging: scheduled, Running, ready (longest ready first), most restarts, then oldest."""
    status = pod.get("status") or {}
    phase_rank = {"Unknown": 1, "Pending": 2}.get(status.get("phase") or "", 0)
    ready_cond = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    ready = bool(ready_cond and ready_cond.get("status") == "True")
    ready_since = parse_timestamp(ready_cond.get("lastTransitionTime")) if ready else None
    restarts = max((int(c.get("restartCount") or 0) for c in status.get("containerStatuses") or []), default=0)
    created = parse_timestamp(_meta(pod).get("creationTimestamp"))
    return (not _dig(pod, "spec", "nodeName"), phase_rank, not ready,
            ready_since if ready_since is not None else float("inf"), -restarts,
            created if created is not None else float("inf"))


def _pod_for_logs(inv: _Inv, target: str) -> tuple[dict, str]:
    """The pod a `logs` target names (POD, pod/NAME, deploy/NAME, rs/NAME, svc/NAME) and a stderr note."""
    if "/" not in target:
        pod = inv.api.get("Pod", inv.namespace, target)
        if pod is None:
            raise _KubectlError(_not_found(_BY_KIND["Pod"], target))
        return pod, ""
    type_part, _, name = target.partition("/")
    rtype = _lookup_resource(type_part)
    obj = inv.api.get(rtype.kind, inv.ns_for(rtype), name)
    if obj is None:
        raise _KubectlError(_not_found(rtype, name))
    if rtype.kind == "Pod":
        return obj, ""
    if rtype.kind in ("Deployment", "ReplicaSet"):
        selector = selector_string(_dig(obj, "spec", "selector"))
    elif rtype.kind == "Service":
        selector = ",".join(f"{k}={v}" for k, v in sorted((_dig(obj, "spec", "selector") or {}).items()))
    else:
        raise _KubectlError(f"error: cannot get the logs from {rtype.group_kind}: selector for "
                            f"{rtype.group_kind}/{name} not implemented")
    pods = sorted(inv.api.list("Pod", inv.namespace, selector) if selector else [], key=_logging_order)
    if not pods:
        raise _KubectlError("error: timed out waiting for the condition")
    note = f"Found {len(pods)} pods, using pod/{_name(pods[0])}\n" if len(pods) > 1 else ""
    return pods[0], note


def _container_names(pod: dict) -> list[str]:
    """Containers then init containers, as kubectl lists them in its 'Defaulted container' note."""
    spec = pod.get("spec") or {}
    return ([c.get("name", "") for c in spec.get("containers") or []]
            + [f"{c.get('name', '')} (init)" for c in spec.get("initContainers") or []])


def _pick_container(pod: dict, wanted: str | None) -> tuple[str, str]:
    """The container to read and kubectl's 'Defaulted container' note when it chose one itself."""
    spec = pod.get("spec") or {}
    names = [c.get("name", "") for c in spec.get("containers") or []]
    inits = [c.get("name", "") for c in spec.get("initContainers") or []]
    if wanted is not None:
        if wanted not in names and wanted not in inits:
            raise _KubectlError(f"error: container {wanted} is not valid for pod {_name(pod)}")
        return wanted, ""
    default = _meta(pod).get("annotations", {}).get("kubectl.kubernetes.io/default-container") \
        if _meta(pod).get("annotations") else None
    chosen = default if default in names else (names[0] if names else "")
    note = ""
    if len(names) + len(inits) > 1:
        note = f'Defaulted container "{chosen}" out of: {", ".join(_container_names(pod))}\n'
    return chosen, note


def _check_started(pod: dict, container: str) -> None:
    """The API server refuses logs of a container that has not started yet."""
    statuses = (_dig(pod, "status", "containerStatuses", default=[])
                + _dig(pod, "status", "initContainerStatuses", default=[]))
    cs = next((s for s in statuses if s.get("name") == container), None)
    waiting = _dig(cs, "state", "waiting") if cs else None
    if cs is None or (waiting is not None and _dig(cs, "lastState", "terminated") is None):
        reason = (waiting or {}).get("reason") or "ContainerCreating"
        raise _KubectlError(f'Error from server (BadRequest): container "{container}" in pod "{_name(pod)}" is '
                            f"waiting to start: {reason}")


def _cmd_logs(inv: _Inv) -> _Out:
    """kubectl logs POD [-c CONTAINER] [--tail N], also TYPE/NAME and -l."""
    flags = inv.flags
    tail = flags.get("tail")
    if flags.get("selector") is not None:
        if inv.pos:
            raise _KubectlError("error: only one of -l or a pod name may be given")
        pods = _list_objects(inv, _BY_KIND["Pod"], False, flags["selector"])
        if not pods:
            return _Out("", _no_resources(inv, [_BY_KIND["Pod"]], False))
        chunks = [_pod_logs(inv, pod, flags, 10 if tail is None else tail) for pod in pods]
        return _Out("".join(c for c, _ in chunks), "".join(n for _, n in chunks))
    if not inv.pos or len(inv.pos) > 2:
        raise _KubectlError("error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\n"
                            "POD or TYPE/NAME is a required argument for the logs command\n"
                            "See 'kubectl logs -h' for help and examples")
    pod, note = _pod_for_logs(inv, inv.pos[0])
    if len(inv.pos) == 2:
        if flags.get("container") is not None:
            raise _KubectlError("error: only one of -c or an inline [CONTAINER] arg is allowed")
        flags = {**flags, "container": inv.pos[1]}
    text, more = _pod_logs(inv, pod, flags, tail)
    return _Out(text, note + more)


def _pod_logs(inv: _Inv, pod: dict, flags: dict[str, Any], tail: int | None) -> tuple[str, str]:
    """One pod's log text (all containers with --all-containers), with --prefix when asked."""
    if flags.get("all-containers"):
        containers = [c.get("name", "") for c in _dig(pod, "spec", "initContainers", default=[])]
        containers += [c.get("name", "") for c in _dig(pod, "spec", "containers", default=[])]
        note = ""
    else:
        container, note = _pick_container(pod, flags.get("container"))
        containers = [container]
    out = []
    for container in containers:
        _check_started(pod, container)
        text = inv.api.logs(_namespace(pod) or inv.namespace, _name(pod), container,
                            None if tail is None or tail < 0 else tail)
        if flags.get("prefix"):
            prefix = f"[pod/{_name(pod)}/{container}] "
            text = "".join(prefix + line for line in text.splitlines(keepends=True))
        out.append(text)
    return "".join(out), note


# --------------------------------------------------------------------------------------------
# delete
# --------------------------------------------------------------------------------------------

_DELETE_FLAGS = (
    _Flag("filename", "f", "list"), _Flag("selector", "l", "str"), _Flag("all"), _Flag("all-namespaces", "A"),
    _Flag("ignore-not-found"), _Flag("grace-period", kind="int"), _Flag("force"), _Flag("now"), _Flag("wait"),
    _Flag("timeout", kind="str"), _Flag("cascade", kind="str"), _Flag("field-selector", kind="str"),
    _unmodelled("recursive", "R", "bool"), _unmodelled("kustomize", "k"), _unmodelled("dry-run"),
    _unmodelled("output", "o"), _unmodelled("raw"), _unmodelled("interactive", "i", "bool"),
)

_FORCE_WARNING = ("Warning: Immediate deletion does not wait for confirmation that the running resource has been "
                  "terminated. The resource may continue to run on the cluster indefinitely.\n")


def _cmd_delete(inv: _Inv) -> _Out:
    """kubectl delete TYPE NAME..., TYPE -l SEL, TYPE --all, -f PATH."""
    flags = inv.flags
    if flags.get("cascade") not in (None, "background", "foreground", "true"):
        raise _not_modelled(f"`kubectl delete --cascade={flags['cascade']}`", "deleting a controller always "
                            "deletes what it owns in the sandbox")
    out = _Out(stderr=_FORCE_WARNING if flags.get("force") else "")
    lines: list[str] = []
    errors: list[str] = []
    if flags.get("filename"):
        if inv.pos:
            raise _KubectlError("error: Unexpected args: " + str(inv.pos).replace("'", "").replace(",", "") +
                                "\nSee 'kubectl delete -h' for help and examples")
        for path in flags["filename"]:
            _check_path(path)
            for obj in inv.api.load_manifests([path]):
                rtype = _manifest_type(obj)
                ns = (_namespace(obj) or inv.namespace) if rtype.namespaced else None
                if inv.api.get(rtype.kind, ns, _name(obj)) is None:
                    if not flags.get("ignore-not-found"):
                        errors.append(f'Error from server (NotFound): error when deleting "{path}": '
                                      f'{rtype.group_resource} "{_name(obj)}" not found')
                    continue
                lines.append(inv.api.delete(rtype.kind, ns, _name(obj)))
    else:
        if not inv.pos:
            raise _KubectlError("error: You must provide one or more resources by argument or filename.\n"
                                "Example resource specifications include:\n   '-f rsrc.yaml'\n"
                                "   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'")
        targets = _parse_targets(inv.pos, "delete")
        selecting = flags.get("selector") is not None or flags.get("all") or flags.get("field-selector")
        if not targets.named and not selecting:
            raise _KubectlError("error: resource(s) were provided, but no name was specified")
        all_ns = bool(flags.get("all-namespaces"))
        items, errors = _collect(inv, targets, all_namespaces=all_ns, selector=flags.get("selector"),
                                 field_selector=flags.get("field-selector"),
                                 ignore_not_found=bool(flags.get("ignore-not-found")))
        if not items and not errors and not targets.named:
            return _Out("No resources found\n", out.stderr)
        for rtype, obj in items:
            lines.append(inv.api.delete(rtype.kind, _namespace(obj) or None, _name(obj)))
    if flags.get("force"):
        lines = [re.sub(r" deleted( from .*)?$", r" force deleted\1", line) for line in lines]
    out.stdout = "".join(line.rstrip("\n") + "\n" for line in lines)
    out.stderr += "".join(e + "\n" for e in errors)
    out.returncode = 1 if errors else 0
    return out


def _check_path(path: str) -> None:
    """kubectl's error for a missing local manifest path."""
    if path != "-" and "://" not in path and not os.path.exists(path):
        raise _KubectlError(f'error: the path "{path}" does not exist')
    if path == "-":
        raise _not_modelled("Reading manifests from standard input (-f -)", "write them to a file and pass its path")


def _manifest_type(obj: dict) -> ResourceType:
    """The resource type of an object read from a manifest."""
    rtype = _BY_KIND.get(str(obj.get("kind", "")))
    if rtype is None:
        raise _not_modelled(f"The kind {obj.get('kind')!r}", "the sandbox keeps only "
                            + ", ".join(r.kind for r in RESOURCES))
    return rtype


# --------------------------------------------------------------------------------------------
# scale
# --------------------------------------------------------------------------------------------

_SCALE_FLAGS = (
    _Flag("replicas", kind="int"), _Flag("current-replicas", kind="int"), _Flag("selector", "l", "str"),
    _Flag("all"), _Flag("timeout", kind="str"),
    _unmodelled("filename", "f", "list"), _unmodelled("recursive", "R", "bool"), _unmodelled("kustomize", "k"),
    _unmodelled("resource-version"), _unmodelled("output", "o"), _unmodelled("dry-run"),
)


def _cmd_scale(inv: _Inv) -> _Out:
    """kubectl scale TYPE/NAME --replicas=N (also TYPE NAME, TYPE -l SEL)."""
    flags = inv.flags
    if "replicas" not in flags:
        raise _KubectlError('error: required flag(s) "replicas" not set')
    replicas = flags["replicas"]
    if replicas < 0:
        raise _KubectlError("error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal "
                            "to 0")
    targets = _parse_targets(inv.pos, "scale")
    if not targets.named and flags.get("selector") is None and not flags.get("all"):
        raise _KubectlError("error: resource(s) were provided, but no name was specified")
    items, errors = _collect(inv, targets, all_namespaces=False, selector=flags.get("selector"))
    lines: list[str] = []
    for rtype, obj in items:
        if rtype.kind not in ("Deployment", "ReplicaSet"):
            errors.append("Error from server (NotFound): the server could not find the requested resource")
            continue
        current = int(_dig(obj, "spec", "replicas", default=1))
        expected = flags.get("current-replicas")
        if expected is not None and expected != current:
            errors.append(f"error: Expected replicas to be {expected}, was {current}")
            continue
        lines.append(inv.api.scale(rtype.kind, _namespace(obj), _name(obj), replicas))
    if not items and not errors:
        return _Out("", "error: no objects passed to scale\n", 1)
    return _Out("".join(line.rstrip("\n") + "\n" for line in lines), "".join(e + "\n" for e in errors),
                1 if errors else 0)


# --------------------------------------------------------------------------------------------
# label
# --------------------------------------------------------------------------------------------

_LABEL_FLAGS = (
    _Flag("overwrite"), _Flag("selector", "l", "str"), _Flag("all"), _Flag("all-namespaces", "A"), _Flag("list"),
    _Flag("field-selector", kind="str"),
    _unmodelled("filename", "f", "list"), _unmodelled("recursive", "R", "bool"), _unmodelled("kustomize", "k"),
    _unmodelled("resource-version"), _unmodelled("output", "o"), _unmodelled("dry-run"),
    _unmodelled("local", kind="bool"),
)


def _parse_label_changes(pairs: list[str]) -> tuple[dict[str, str], list[str]]:
    """`k=v` and `k-` arguments as (labels to set, keys to remove), with kubectl's validation errors."""
    add: dict[str, str] = {}
    remove: list[str] = []
    for pair in pairs:
        if "=" in pair:
            parts = pair.split("=")
            if len(parts) != 2:
                raise _KubectlError(f"error: invalid label spec: {pair}")
            key, value = parts
            why = validate_label_key(key)
            if why:
                raise _KubectlError(f"error: invalid label spec: {pair}, {why}")
            why = validate_label_value(value)
            if why:
                raise _KubectlError(f'error: invalid label value: "{pair}": {why}')
            add[key] = value
        else:
            remove.append(pair[:-1])
    for key in remove:
        if key in add:
            raise _KubectlError("error: can not both modify and remove a label in the same command")
    return add, remove


def _cmd_label(inv: _Inv) -> _Out:
    """kubectl label TYPE NAME k=v k2- [--overwrite]."""
    flags = inv.flags
    resources: list[str] = []
    pairs: list[str] = []
    for arg in inv.pos:
        if "=" in arg or arg.endswith("-"):
            pairs.append(arg)
        elif pairs:
            raise _KubectlError(f"error: all resources must be specified before label changes: {arg}")
        else:
            resources.append(arg)
    add, remove = _parse_label_changes(pairs)
    if not add and not remove and not flags.get("list"):
        raise _KubectlError("error: at least one label update is required")
    if not resources:
        raise _KubectlError("error: one or more resources must be specified as <resource> <name> or "
                            "<resource>/<name>")
    targets = _parse_targets(resources, "label")
    if not targets.named and flags.get("selector") is None and not flags.get("all"):
        raise _KubectlError("error: resource(s) were provided, but no name was specified")
    items, errors = _collect(inv, targets, all_namespaces=bool(flags.get("all-namespaces")),
                             selector=flags.get("selector"), field_selector=flags.get("field-selector"))
    stdout: list[str] = []
    for rtype, obj in items:
        current = _labels(obj)
        if flags.get("list"):
            stdout.extend(f"{k}={current[k]}\n" for k in sorted(current))
            continue
        if not flags.get("overwrite"):
            conflicts = [f"'{k}' already has a value ({current[k]}), and --overwrite is false"
                         for k, v in add.items() if k in current and current[k] != v]
            if conflicts:
                errors.append("error: " + (conflicts[0] if len(conflicts) == 1 else "[" + ", ".join(conflicts) + "]"))
                continue
        stdout.extend(f'label "{k}" not found.\n' for k in remove if k not in current)
        changes: dict[str, str | None] = {**add, **{k: None for k in remove}}
        line = inv.api.label(rtype.kind, _namespace(obj) or None, _name(obj), changes, bool(flags.get("overwrite")))
        stdout.append(line.rstrip("\n") + "\n")
    return _Out("".join(stdout), "".join(e + "\n" for e in errors), 1 if errors else 0)


# --------------------------------------------------------------------------------------------
# patch
# --------------------------------------------------------------------------------------------

_PATCH_FLAGS = (
    _Flag("patch", "p", "str"), _Flag("type", kind="str"),
    _unmodelled("patch-file"), _unmodelled("filename", "f", "list"), _unmodelled("recursive", "R", "bool"),
    _unmodelled("kustomize", "k"), _unmodelled("local", kind="bool"), _unmodelled("dry-run"),
    _unmodelled("output", "o"), _unmodelled("subresource"),
)

# patchMergeKey of the list fields a learner is likely to patch (from the API's x-kubernetes-patch-merge-key).
_MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
    "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath", "imagePullSecrets": "name",
    "hostAliases": "ip", "conditions": "type", "ownerReferences": "uid", "topologySpreadConstraints": "topologyKey",
}
_MERGE_PRIMITIVE_LISTS = {"finalizers"}


def _merge_key(path: tuple[str, ...], kind: str) -> str | None:
    """The merge key of the list at path, or None when the list is replaced whole."""
    name = path[-1]
    if name == "ports":
        if any(p in ("containers", "initContainers", "ephemeralContainers") for p in path):
            return "containerPort"
        if kind == "Service" and path == ("spec", "ports"):
            return "port"
        return None
    return _MERGE_KEYS.get(name)


def _check_directives(patch: Any) -> None:
    """Strategic-merge directives ($patch, $retainKeys, ...) are not modelled."""
    if isinstance(patch, dict):
        for key, value in patch.items():
            if str(key).startswith("$"):
                raise _not_modelled(f"The strategic merge patch directive {key}", "use --type merge")
            _check_directives(value)
    elif isinstance(patch, list):
        for value in patch:
            _check_directives(value)


def _strategic_merge(orig: Any, patch: Any, path: tuple[str, ...], kind: str) -> Any:
    """Apply a strategic merge patch: maps merge, keyed lists merge by their merge key, other lists are replaced."""
    if not isinstance(patch, dict) or not isinstance(orig, dict):
        return patch
    out = dict(orig)
    for key, value in patch.items():
        sub = path + (key,)
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict):
            out[key] = _strategic_merge(orig.get(key) if isinstance(orig.get(key), dict) else {}, value, sub, kind)
        elif isinstance(value, list) and isinstance(orig.get(key), list):
            merge_key = _merge_key(sub, kind)
            if merge_key:
                out[key] = _merge_keyed_list(orig[key], value, merge_key, sub, kind)
            elif key in _MERGE_PRIMITIVE_LISTS:
                out[key] = _dedupe(list(orig[key]) + list(value))
            else:
                out[key] = value
        else:
            out[key] = value
    return out


def _merge_keyed_list(orig: list, patch: list, merge_key: str, path: tuple[str, ...], kind: str) -> list:
    """Merge list elements that share the merge key; append new ones."""
    merged = list(orig)
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            merged.append(item)
            continue
        for i, existing in enumerate(merged):
            if isinstance(existing, dict) and existing.get(merge_key) == item[merge_key]:
                merged[i] = _strategic_merge(existing, item, path, kind)
                break
        else:
            merged.append(item)
    return merged


def _as_merge_patch(patch: dict, merged: dict) -> dict:
    """The JSON merge patch that has the strategic patch's effect: merged lists are sent whole."""
    out: dict = {}
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            out[key] = _as_merge_patch(value, merged[key])
        elif value is None or key not in merged:
            out[key] = value
        else:
            out[key] = merged[key]
    return out


def _cmd_patch(inv: _Inv) -> _Out:
    """kubectl patch TYPE NAME -p PATCH [--type merge|strategic]."""
    flags = inv.flags
    ptype = flags.get("type") or "strategic"
    if ptype == "json":
        raise _not_modelled("`kubectl patch --type json` (JSON patch operations)", "use --type merge or strategic")
    if ptype not in ("merge", "strategic"):
        raise _KubectlError(f'error: --type must be one of [json merge strategic], not "{ptype}"')
    if flags.get("patch") is None:
        raise _KubectlError("error: must specify --patch or --patch-file containing the contents of the patch")
    try:
        patch = yaml.safe_load(flags["patch"])
    except yaml.YAMLError as exc:
        raise _KubectlError(f'error: unable to parse "{flags["patch"]}": {str(exc).splitlines()[0]}') from exc
    if not isinstance(patch, dict):
        raise _KubectlError(f'error: unable to parse "{flags["patch"]}": the patch is not a JSON object')
    targets = _parse_targets(inv.pos, "patch")
    if not targets.named:
        raise _KubectlError("error: resource(s) were provided, but no name was specified")
    items, errors = _collect(inv, targets, all_namespaces=False, selector=None)
    lines = []
    for rtype, obj in items:
        body = patch
        if ptype == "strategic":
            _check_directives(patch)
            body = _as_merge_patch(patch, _strategic_merge(obj, patch, (), rtype.kind))
        lines.append(inv.api.patch(rtype.kind, _namespace(obj) or None, _name(obj), body).rstrip("\n") + "\n")
    return _Out("".join(lines), "".join(e + "\n" for e in errors), 1 if errors else 0)


# --------------------------------------------------------------------------------------------
# apply
# --------------------------------------------------------------------------------------------

_APPLY_FLAGS = (
    _Flag("filename", "f", "list"), _Flag("validate", kind="str"), _Flag("field-manager", kind="str"),
    _Flag("record"), _Flag("overwrite"),
    _unmodelled("recursive", "R", "bool"), _unmodelled("kustomize", "k"), _unmodelled("server-side", kind="bool"),
    _unmodelled("dry-run"), _unmodelled("prune", kind="bool"), _unmodelled("force", kind="bool"),
    _unmodelled("output", "o"), _unmodelled("wait", kind="bool"), _unmodelled("selector", "l"),
    _unmodelled("force-conflicts", kind="bool"), _unmodelled("grace-period"), _unmodelled("timeout"),
)


def _cmd_apply(inv: _Inv) -> _Out:
    """kubectl apply -f PATH... (objects read by the control plane's manifest loader)."""
    if inv.pos and inv.pos[0] in ("edit-last-applied", "set-last-applied", "view-last-applied"):
        raise _not_modelled(f"`kubectl apply {inv.pos[0]}`")
    if inv.pos:
        raise _KubectlError(f"error: Unexpected args: [{' '.join(inv.pos)}]\n"
                            "See 'kubectl apply -h' for help and examples")
    paths = inv.flags.get("filename") or []
    if not paths:
        raise _KubectlError("error: must specify one of -f and -k")
    lines: list[str] = []
    for path in paths:
        _check_path(path)
        objects = inv.api.load_manifests([path])
        for obj in objects:
            _apply_namespace(inv, obj)
        lines.extend(inv.api.apply(objects))
    return _Out("".join(line.rstrip("\n") + "\n" for line in lines))


def _apply_namespace(inv: _Inv, obj: dict) -> None:
    """-n fills in a missing namespace; a different one is kubectl's error."""
    if "namespace" not in inv.flags:
        return
    rtype = _BY_KIND.get(str(obj.get("kind", "")))
    if rtype is not None and not rtype.namespaced:
        return
    meta = obj.setdefault("metadata", {})
    have = meta.get("namespace")
    if have and have != inv.namespace:
        raise _KubectlError(f'error: the namespace from the provided object "{have}" does not match the namespace '
                            f'"{inv.namespace}". You must pass \'--namespace={have}\' to perform this operation.')
    meta["namespace"] = inv.namespace


# --------------------------------------------------------------------------------------------
# expose
# --------------------------------------------------------------------------------------------

_EXPOSE_FLAGS = (
    _Flag("port", kind="str"), _Flag("target-port", kind="str"), _Flag("type", kind="str"), _Flag("name", kind="str"),
    _Flag("protocol", kind="str"),
    _unmodelled("selector"), _unmodelled("external-ip"), _unmodelled("cluster-ip"), _unmodelled("load-balancer-ip"),
    _unmodelled("session-affinity"), _unmodelled("labels", "l"), _unmodelled("dry-run"), _unmodelled("output", "o"),
    _unmodelled("override-type"), _unmodelled("overrides"), _unmodelled("filename", "f", "list"),
    _unmodelled("recursive", "R", "bool"), _unmodelled("kustomize", "k"), _unmodelled("container-port"),
    _unmodelled("generator"), _unmodelled("save-config", kind="bool"),
)
_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")


def _introspect_ports(rtype: ResourceType, obj: dict) -> list[int]:
    """The ports kubectl expose finds on an object when --port is not given."""
    if rtype.kind == "Service":
        return [int(p["port"]) for p in _dig(obj, "spec", "ports", default=[]) if "port" in p]
    spec = obj.get("spec") or {}
    pod_spec = spec if rtype.kind == "Pod" else _dig(spec, "template", "spec", default={})
    return [int(p["containerPort"]) for c in pod_spec.get("containers") or [] for p in c.get("ports") or []
            if "containerPort" in p]


def _cmd_expose(inv: _Inv) -> _Out:
    """kubectl expose TYPE NAME --port N [--target-port X] [--type T] [--name N] [--protocol P]."""
    flags = inv.flags
    targets = _parse_targets(inv.pos, "expose")
    if not targets.named:
        raise _KubectlError("error: resource(s) were provided, but no name was specified")
    items, errors = _collect(inv, targets, all_namespaces=False, selector=None)
    if errors:
        return _Out("", "".join(e + "\n" for e in errors), 1)
    svc_type = flags.get("type") or "ClusterIP"
    protocol = flags.get("protocol") or "TCP"
    if protocol not in ("TCP", "UDP", "SCTP"):
        raise _KubectlError(f'error: The Service "{flags.get("name") or _name(items[0][1])}" is invalid: '
                            f'spec.ports[0].protocol: Unsupported value: "{protocol}": supported values: "SCTP", '
                            '"TCP", "UDP"')
    lines = []
    for rtype, obj in items:
        if rtype.kind not in ("Pod", "Service", "Deployment", "ReplicaSet"):
            raise _KubectlError(f"error: cannot expose a {rtype.kind}")
        service_name = flags.get("name") or _name(obj)
        if svc_type not in _SERVICE_TYPES:
            raise _KubectlError(f'error: The Service "{service_name}" is invalid: spec.type: Unsupported value: '
                                f'"{svc_type}": supported values: "ClusterIP", "ExternalName", "LoadBalancer", '
                                '"NodePort"')
        if svc_type == "ExternalName":
            raise _not_modelled("`kubectl expose --type=ExternalName`", "write an ExternalName Service manifest")
        if rtype.kind == "Pod" and not _labels(obj):
            raise _KubectlError("error: couldn't retrieve selectors via --selector flag or introspection: the pod "
                                "has no labels and cannot be exposed")
        port = _expose_port(rtype, obj, flags.get("port"))
        target = flags.get("target-port")
        target_port: int | str | None = int(target) if target and target.isdigit() else (target or None)
        lines.append(inv.api.expose(rtype.kind, _namespace(obj), _name(obj), port=port, target_port=target_port,
                                    type=svc_type, service_name=flags.get("name"), protocol=protocol))
    return _Out("".join(line.rstrip("\n") + "\n" for line in lines))


def _expose_port(rtype: ResourceType, obj: dict, given: str | None) -> int:
    """The service port: --port, else the single port found on the object."""
    if given is not None:
        if not given.isdigit():
            raise _KubectlError(f'error: invalid argument "{given}" for "--port" flag: strconv.ParseInt: parsing '
                                f'"{given}": invalid syntax')
        return int(given)
    ports = _introspect_ports(rtype, obj)
    if not ports:
        raise _KubectlError("error: couldn't find port via --port flag or introspection\n"
                            "See 'kubectl expose -h' for help and examples")
    if len(_dedupe(ports)) > 1:
        raise _not_modelled("Exposing several ports at once", "pass --port to choose one")
    return ports[0]


# --------------------------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------------------------

_VERBS: dict[str, tuple[Callable[[_Inv], _Out], tuple[_Flag, ...]]] = {
    "get": (_cmd_get, _GET_FLAGS), "describe": (_cmd_describe, _DESCRIBE_FLAGS), "logs": (_cmd_logs, _LOGS_FLAGS),
    "delete": (_cmd_delete, _DELETE_FLAGS), "scale": (_cmd_scale, _SCALE_FLAGS), "label": (_cmd_label, _LABEL_FLAGS),
    "patch": (_cmd_patch, _PATCH_FLAGS), "apply": (_cmd_apply, _APPLY_FLAGS), "expose": (_cmd_expose, _EXPOSE_FLAGS),
}

# kubectl's other commands: real, but not answered by the sandbox's view.
_OTHER_VERBS = {
    "exec": "in the sandbox a command runs in a pod's namespaces with `k8snet exec POD -- CMD` "
            "(lab.exec(...) in a notebook)",
    "port-forward": "the sandbox's pods are reached from inside the lab; use `k8snet probe` or `k8snet exec`",
    "top": "the sandbox runs no metrics-server", "version": "", "cluster-info": "", "debug": "",
    "cp": "", "attach": "", "proxy": "", "create": "write a manifest and use `kubectl apply -f`",
    "run": "write a manifest and use `kubectl apply -f`", "set": "", "explain": "", "edit": "use `kubectl patch`",
    "rollout": "", "autoscale": "", "certificate": "", "cordon": "", "uncordon": "", "drain": "", "taint": "",
    "auth": "", "events": "", "diff": "", "replace": "use `kubectl apply -f`", "wait": "", "kustomize": "",
    "annotate": "use `kubectl patch` on metadata.annotations", "completion": "", "alpha": "",
    "api-resources": "", "api-versions": "", "config": "the sandbox has a single cluster and context", "plugin": "",
    "options": "", "help": "",
}


def _levenshtein(a: str, b: str) -> int:
    """Edit distance, as cobra computes it for command suggestions."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _unknown_command(verb: str) -> str:
    """cobra's error for an unknown command, with its 'Did you mean this?' suggestions."""
    typed = verb.lower()
    suggestions = [c for c in sorted({*_VERBS, *_OTHER_VERBS})
                   if _levenshtein(typed, c) <= 2 or c.startswith(typed)]
    text = f'error: unknown command "{verb}" for "kubectl"'
    if suggestions:
        text += "\n\nDid you mean this?\n" + "".join(f"\t{c}\n" for c in suggestions)
    return text if text.endswith("\n") else text + "\n"


def _split_verb(argv: list[str]) -> tuple[str | None, list[str]]:
    """The command name (the first positional argument, global flags skipped) and the other arguments."""
    takes_value = {f"--{f.name}" for f in _GLOBAL_FLAGS if f.kind != "bool"}
    takes_value |= {f"-{f.short}" for f in _GLOBAL_FLAGS if f.short and f.kind != "bool"}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            break
        if arg.startswith("-") and len(arg) > 1:
            i += 2 if arg in takes_value else 1
            continue
        return arg, argv[:i] + argv[i + 1:]
    return None, list(argv)


def run_kubectl(args: list[str], api: ClusterAPI) -> CommandResult:
    """Answer a kubectl command over the sandbox's API: kubectl's output and error texts (returncode 1 on error)."""
    if isinstance(args, str):
        raise TypeError("run_kubectl takes a list of arguments; split a command line with shlex.split first")
    argv = [str(a) for a in args]
    if argv and argv[0] == "kubectl":
        argv = argv[1:]
    command = ["kubectl", *argv]
    verb, rest = _split_verb(argv)
    if verb is None:
        if any(a in ("-h", "--help") for a in argv) or not argv:
            raise _not_modelled("kubectl's help text")
        return CommandResult(command, 1, "", _KubectlError(f"error: unknown flag: {argv[0]}").text)
    if verb not in _VERBS:
        if verb in _OTHER_VERBS:
            raise _not_modelled(f"`kubectl {verb}`", _OTHER_VERBS[verb])
        return CommandResult(command, 1, "", _unknown_command(verb))
    handler, specs = _VERBS[verb]
    try:
        flags, positional = _parse_flags(rest, specs, verb)
        result = handler(_Inv(api, verb, flags, positional))
    except _KubectlError as exc:
        return CommandResult(command, 1, "", exc.text)
    return CommandResult(command, result.returncode, result.stdout, result.stderr)
